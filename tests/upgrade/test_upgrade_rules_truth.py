"""Every scan rule checked against the real packages (envlock/upgrade/data/api_rules.yml).

Three cached venvs from PyPI: tensorflow-cpu 2.15.1 (Keras 2, the last line before the switch),
tensorflow-cpu 2.21.0 (Keras 3) and 2.21.0 + tf-keras run with TF_USE_LEGACY_KERAS=1.  A probe
(tests/upgrade_truth_probe.py) resolves each rule's symbols and runs its named probe in each.
What each rule's data claims is then asserted:
  removed_in 2.0   absent from the 2.x API (2.15), its replacement present (TF 1.x has no wheel
                   for Python 3.11, so "present before" is the tf.compat.v1 copy where one exists)
  removed_in 2.16  present in 2.15, absent in 2.21
  keras3           present/working in 2.15 (both tf.keras and keras), gone/failing in 2.21, and
                   working again through tf.keras in the tf-keras route
  wheel_api        the tf.keras API file ships in the `old` keras wheel and not in the `new` one
The 2.16 boundary itself is the compatibility table's first Keras 3 line; the venvs bracket it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from envlock.compat import table as compat
from envlock.upgrade.rules import Rule, load_rules
from tests.verify_support import cache_dir, cached_venv

pytestmark = [pytest.mark.e2e, pytest.mark.network]

PROBE = Path(__file__).parents[1] / "upgrade_truth_probe.py"
RULES = load_rules().rules
ENVS = {
    "2.15": ("tf-2.15.1-cpu", ["tensorflow-cpu==2.15.1"], {}),
    "2.21": ("tf-2.21.0-cpu", ["tensorflow-cpu==2.21.0"], {}),
    "2.21-legacy": ("tf-2.21.0-cpu-tfkeras", ["tensorflow-cpu==2.21.0", "tf-keras==2.21.0"], {"TF_USE_LEGACY_KERAS": "1"}),
}


def _names(rule: Rule) -> list[str]:
    if rule.kind == "method":
        return [f"{rule.receiver}.{m}" for m in rule.symbols]
    return list(rule.symbols)


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    names = sorted({n for r in RULES if r.verify == "attr"
                    for n in [*_names(r), *(r.replacements.values() if r.kind != "method" else ())]})
    probes = sorted({r.probe for r in RULES if r.probe})
    # the 2.15 venv (probed first) writes the SavedModel directories the others load
    shared = tmp_path_factory.mktemp("saved-by-2.15")
    request = json.dumps({"names": names, "probes": probes, "shared_dir": str(shared)})
    results = {}
    for key, (name, packages, env_vars) in ENVS.items():
        venv = cached_venv(name, packages)
        env = {**os.environ, **env_vars}
        if not env_vars:
            env.pop("TF_USE_LEGACY_KERAS", None)
        proc = subprocess.run([str(venv / "bin" / "python"), str(PROBE)], input=request, capture_output=True,
                              text=True, env=env, timeout=600)
        marker = proc.stdout.rfind("@@RESULT@@")
        assert proc.returncode == 0 and marker >= 0, f"probe failed in {key}: {proc.stderr[-3000:]}"
        results[key] = json.loads(proc.stdout[marker + len("@@RESULT@@"):])
    return results


def _resolved(facts: dict, env: str, name: str) -> dict[str, bool]:
    return facts[env]["names"][name]


def test_the_venvs_bracket_the_keras3_switch(facts: dict) -> None:
    assert compat.table().first_keras3_line() == "2.16"
    assert facts["2.15"]["tensorflow"].startswith("2.15.") and facts["2.15"]["keras"].startswith("2.15")
    assert facts["2.21"]["tf_keras_module"] == "keras._tf_keras.keras" and facts["2.21"]["keras"].startswith("3.")
    assert facts["2.21-legacy"]["tf_keras_module"].startswith("tf_keras")


def _check_attr(rule: Rule, facts: dict) -> None:
    names = _names(rule)
    if rule.removed_in == "2.0":
        for name in names:
            assert not any(_resolved(facts, "2.15", name).values()), f"{name} still resolves in TensorFlow 2.15"
        for name in rule.replacements.values():
            if rule.kind != "method":
                assert all(_resolved(facts, "2.15", name).values()), f"replacement {name} missing in 2.15"
        return
    for name in names:
        old, new = _resolved(facts, "2.15", name), _resolved(facts, "2.21", name)
        assert all(old.values()), f"{name} does not resolve in 2.15 (the last version claimed to have it): {old}"
        assert not any(new.values()), f"{name} still resolves in 2.21: {new}"
        if rule.keras3:  # the tf-keras route keeps it under tf.keras (tf.compat.v1.keras included)
            legacy = _resolved(facts, "2.21-legacy", name)
            root = "tf.keras" if name.startswith("keras.") else "tf"
            assert legacy[root], f"{name} missing under the tf-keras route: {legacy}"
    assert rule.removed_in == "2.16" or rule.keras3, f"{rule.id}: no venv pair for removed_in {rule.removed_in}"


_PROBE_EXPECT: dict[str, tuple[object, object, object]] = {
    # probe: (2.15 on both roots, 2.21 on both roots, tf.keras under the tf-keras route)
    "legacy_optimizer": ("ok", "ImportError", "ok"),
    "fit_workers": ("ok", "TypeError", "ok"),
    "save_directory": ("ok", "ValueError", "ok"),
    "load_savedmodel": ({"load_model": "ok", "tfsm_layer": "AttributeError"},
                        {"load_model": "ValueError", "tfsm_layer": "ok"},
                        {"load_model": "ok", "tfsm_layer": "AttributeError"}),
    "save_weights_suffix": ({"ckpt": "ok", "weights_h5": "ok"}, {"ckpt": "ValueError", "weights_h5": "ok"},
                            {"ckpt": "ok", "weights_h5": "ok"}),
    "sequence_is_pydataset": ({"has_pydataset": False, "sequence_is_pydataset": False},
                              {"has_pydataset": True, "sequence_is_pydataset": True}, None),
}


def _check_probe(rule: Rule, facts: dict) -> None:
    got = {env: facts[env]["probes"][rule.probe] for env in ENVS}
    if rule.probe == "legacy_route":
        assert [got["2.15"][r]["keras_major"] for r in ("tf.keras", "keras")] == [2, 2]
        assert got["2.21"]["tf.keras"]["module"] == "keras._tf_keras.keras"
        assert got["2.21-legacy"]["tf.keras"]["module"].startswith("tf_keras")
        assert got["2.21-legacy"]["tf.keras"]["keras_major"] == 2
        assert got["2.21-legacy"]["keras"]["standalone_keras"].startswith("3."), "standalone keras stays Keras 3"
        return
    old, new, legacy = _PROBE_EXPECT[rule.probe]
    for root in ("tf.keras", "keras"):
        assert got["2.15"][root] == old, f"{rule.probe} in 2.15 via {root}: {got['2.15'][root]}"
        assert got["2.21"][root] == new, f"{rule.probe} in 2.21 via {root}: {got['2.21'][root]}"
    if legacy is not None:
        assert got["2.21-legacy"]["tf.keras"] == legacy, f"{rule.probe} via the tf-keras route: {got['2.21-legacy']}"


def _wheel(requirement: str) -> Path:
    where = cache_dir() / "wheels"
    where.mkdir(parents=True, exist_ok=True)
    name, version = requirement.split("==")
    found = list(where.glob(f"{name}-{version}-*.whl"))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", requirement, "-d", str(where)],
                       check=True, capture_output=True, text=True)
        found = list(where.glob(f"{name}-{version}-*.whl"))
    assert found, f"no wheel for {requirement}"
    return found[0]


def _check_wheel_api(rule: Rule) -> None:
    for symbol in rule.symbols:
        assert symbol.startswith("keras."), "wheel_api checks tf.keras API files of Keras 2 wheels"
        api_file = "keras/api/_v2/" + symbol.replace(".", "/") + "/__init__.py"
        old = zipfile.ZipFile(_wheel(rule.wheels["old"])).namelist()
        new = zipfile.ZipFile(_wheel(rule.wheels["new"])).namelist()
        assert api_file in old, f"{api_file} missing from {rule.wheels['old']}"
        assert api_file not in new, f"{api_file} still in {rule.wheels['new']}"
    # the wheels are the ones TensorFlow pins on both sides of removed_in
    new_line = compat.minor_of(rule.wheels["new"].split("==")[1])
    assert new_line == rule.removed_in
    assert compat.table().release(rule.removed_in).keras.requirement.startswith(">=" + rule.wheels["new"].split("==")[1])


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_is_true(rule: Rule, facts: dict) -> None:
    if rule.verify == "attr":
        _check_attr(rule, facts)
    elif rule.verify == "probe":
        _check_probe(rule, facts)
    else:
        _check_wheel_api(rule)
