"""verify's bare-start Keras check without TensorFlow: the real verifier and checks; the probe
process is replaced by the recorded CPU probe document (tests/verify_fixtures), once as the
activated start and once, edited, as the bare start."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.verify_support")

from envlock.core.project import Project  # noqa: E402
from envlock.prefix.activation import bare_environ, write_env_vars  # noqa: E402
from envlock.prefix.startup_hook import PTH_NAME, write_hook  # noqa: E402
from envlock.profiles.load import load_profile  # noqa: E402
from envlock.verify import hardware, verifier  # noqa: E402
from envlock.verify.model import ProbeDoc, ProbeRun  # noqa: E402
from envlock.verify.runner import run_probe  # noqa: E402
from tests.verify_support import probe_fixture, write_profile  # noqa: E402

# no pytest_plugins here: registering tests.verify_support this early in collection would let
# create_support's `project` fixture (registered later) shadow its one for the verify tests


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "proj"
    root.mkdir()
    return Project(root)


def legacy_doc(prefix: Path, resolves_to: str) -> dict:
    doc = probe_fixture("cpu-linux-x86_64.json", prefix)
    doc["measurements"]["packages"]["value"]["tf-keras"] = "2.21.0"
    module = "tf_keras.api._v2.keras" if resolves_to == "tf_keras" else "keras._tf_keras.keras"
    version = "2.21.0" if resolves_to == "tf_keras" else "3.15.1"
    doc["measurements"]["keras"]["value"] = {"module": module, "version": version, "resolves_to": resolves_to}
    return doc


def fake_probes(monkeypatch, activated: dict, bare: dict | None) -> list[dict]:
    configs: list[dict] = []

    def fake(prefix, config, timeout_s):
        configs.append(config)
        doc = bare if config.get("bare") else activated
        if doc is None:
            return ProbeRun(ok=False, command=["python"], problem="the probe crashed with SIGSEGV during 'tensorflow'")
        return ProbeRun(ok=True, command=["python"], returncode=0, seconds=4.0, doc=ProbeDoc.model_validate(doc))

    monkeypatch.setattr(verifier, "run_probe", fake)
    monkeypatch.setattr(hardware, "current_platform", lambda: "linux-64")
    return configs


@pytest.fixture
def legacy(project, tmp_path):
    write_profile(project.root, "legacy", keras="2.*")
    prefix = tmp_path / "env"
    (prefix / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    write_env_vars(prefix, {"TF_USE_LEGACY_KERAS": "1"})
    write_hook(prefix, {"TF_USE_LEGACY_KERAS": "1"})
    return load_profile(project, "legacy"), prefix


def test_bare_start_with_the_profile_keras_passes(monkeypatch, project, legacy):
    profile, prefix = legacy
    configs = fake_probes(monkeypatch, legacy_doc(prefix, "tf_keras"), legacy_doc(prefix, "tf_keras"))
    r = verifier.verify_environment(project, profile, prefix, record=False)
    assert r.ok, [c for c in r.checks if not c.ok]
    [check] = [c for c in r.checks if c.name == "keras.bare_start"]
    assert check.ok and "tf_keras" in check.actual
    assert [c.get("bare", False) for c in configs] == [False, True]
    assert configs[1]["measurements"] == ["environment", "tensorflow", "keras"] and configs[1]["bench"] is False


def test_bare_start_on_keras3_fails_naming_the_missing_hook(monkeypatch, project, legacy):
    profile, prefix = legacy
    [pth] = list(prefix.glob(f"lib/python*/site-packages/{PTH_NAME}"))
    pth.unlink()
    fake_probes(monkeypatch, legacy_doc(prefix, "tf_keras"), legacy_doc(prefix, "keras3"))
    r = verifier.verify_environment(project, profile, prefix, record=False)
    assert not r.ok
    bad = {c.name: c for c in r.checks if not c.ok}
    assert list(bad) == ["keras.bare_start"]
    assert "Keras 3" in bad["keras.bare_start"].actual
    assert f"{PTH_NAME} deleted" in bad["keras.bare_start"].message and "envlock create" in bad["keras.bare_start"].message


def test_bare_probe_that_cannot_report_is_a_failed_check(monkeypatch, project, legacy):
    profile, prefix = legacy
    fake_probes(monkeypatch, legacy_doc(prefix, "tf_keras"), None)
    r = verifier.verify_environment(project, profile, prefix, record=False)
    [check] = [c for c in r.checks if c.name == "keras.bare_start"]
    assert not r.ok and not check.ok and "SIGSEGV" in check.actual


def test_runner_clears_the_environment_for_a_bare_start(tmp_path, monkeypatch):
    """A real probe process (a stand-in interpreter printing its environment as the probe's JSON)."""
    prefix = tmp_path / "env"
    (prefix / "bin").mkdir(parents=True)
    py = prefix / "bin" / "python"
    py.write_text(f"#!{sys.executable}\nimport json, os\n"
                  "print(json.dumps({'measurements': {'environment': {'status': 'ok', 'value': dict(os.environ)}}}))\n")
    py.chmod(0o755)
    write_env_vars(prefix, {"TF_USE_LEGACY_KERAS": "1"})
    monkeypatch.setenv("SOMETHING_OF_THE_CALLER", "x")
    activated = run_probe(prefix, {}, timeout_s=30).doc.value("environment")
    assert activated["TF_USE_LEGACY_KERAS"] == "1" and activated["SOMETHING_OF_THE_CALLER"] == "x"
    env = run_probe(prefix, {"bare": True}, timeout_s=30).doc.value("environment")
    assert set(env) - {"TF_CPP_MIN_LOG_LEVEL", "LC_CTYPE"} == set(bare_environ()) == {"PATH", "HOME"}
