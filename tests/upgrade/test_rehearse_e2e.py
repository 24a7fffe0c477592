"""envlock rehearse between real environments from PyPI wheels: TensorFlow 2.15 (Keras 2) →
2.21 (Keras 3) and → 2.21 with tf-keras and TF_USE_LEGACY_KERAS=1 (a view whose activation
variables set it, as ``envlock create`` does for a legacy profile).  The expectations are what
the real packages did when rehearsed here (discovered by running, then pinned)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from envlock.cli.group import main
from tests.verify_support import cached_venv, tf_keras_venv, tf_venv, view  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.network]

OLD_TF = "2.15.1"
SUITE = ("dense", "conv2d", "lstm", "gru", "batchnorm", "dropout", "embedding", "normalization", "custom")
RNN = ("lstm", "gru")


@pytest.fixture(scope="session")
def tf215_venv() -> Path:
    return cached_venv(f"tf-{OLD_TF}-cpu", [f"tensorflow-cpu=={OLD_TF}"])


@pytest.fixture(scope="session")
def legacy_view(tf_keras_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    return view(tf_keras_venv, tmp_path_factory.mktemp("legacy") / "env", {"TF_USE_LEGACY_KERAS": "1"})


def _rehearse(*args: str, report: Path | None = None) -> tuple[int, dict]:
    extra = ["--report", str(report)] if report else []
    result = CliRunner().invoke(main, ["rehearse", *args, "--json", *extra])
    return result.exit_code, json.loads(result.stdout)


def _table(doc: dict) -> dict[tuple[str, str], dict]:
    return {(v["model"], v["format"]): v for v in doc["verdicts"]}


@pytest.fixture(scope="module")
def to_keras3(tf215_venv: Path, tf_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict, Path]:  # noqa: F811
    report = tmp_path_factory.mktemp("r") / "rehearse.md"
    code, doc = _rehearse("--from-prefix", str(tf215_venv), "--to-prefix", str(tf_venv), report=report)
    return code, doc, report


@pytest.fixture(scope="module")
def to_legacy(tf215_venv: Path, legacy_view: Path) -> tuple[int, dict]:
    return _rehearse("--from-prefix", str(tf215_venv), "--to-prefix", str(legacy_view))


def test_suite_to_keras3_pins_what_breaks(to_keras3: tuple[int, dict, Path]) -> None:
    code, doc, report = to_keras3
    assert code == 1 and doc["ok"] is False
    assert doc["old"]["versions"]["tensorflow"] == OLD_TF and doc["old"]["versions"]["keras"].startswith("2.15")
    assert doc["new"]["versions"]["keras"].startswith("3.") and doc["new"]["versions"]["keras_module"] == "keras._tf_keras.keras"
    t = _table(doc)
    assert set(t) == {(m, f) for m in SUITE for f in ("keras", "h5", "savedmodel", "weights", "rebuild")}
    for m in SUITE:
        # Keras 2's .keras zip names keras.src.engine classes: Keras 3 cannot load it at all
        assert (t[m, "keras"]["verdict"], t[m, "keras"]["fix_id"]) == ("does not load", "keras3-keras2-zip")
        # a SavedModel directory: load_model refuses it; TFSMLayer serves it with the same outputs
        sm = t[m, "savedmodel"]
        assert (sm["verdict"], sm["fix_id"]) == ("does not load", "keras3-legacy-savedmodel")
        assert sm["with_fix"].startswith("keras.layers.TFSMLayer(path, call_endpoint='serving_default'): ")
        assert sm["with_fix"].endswith("equal within tolerance" if m in RNN else "identical")
        h5 = t[m, "h5"]
        assert h5["verdict"] == "does not load"
        if m in RNN:  # the saved config's time_major is an unknown argument in Keras 3
            assert h5["fix_id"] == "keras3-rnn-time-major" and h5["with_fix"] is None
        else:  # the compile config does not deserialize; compile=False loads it
            assert h5["fix_id"] == "keras3-h5-compile-config"
            assert h5["with_fix"].startswith("load_model(path, compile=False): " + ("different" if m == "dropout" else "identical"))
    for m in ("dense", "conv2d", "batchnorm", "embedding", "custom"):
        assert t[m, "weights"]["verdict"] == t[m, "rebuild"]["verdict"] == "identical"
    for m in RNN:  # recurrent kernels differ in the last bits
        for f in ("weights", "rebuild"):
            assert t[m, f]["verdict"] == "equal within tolerance" and 0 < t[m, f]["max_abs"] < 1e-6
    assert t["normalization", "weights"]["verdict"] == "identical"
    assert t["normalization", "rebuild"]["verdict"] == "equal within tolerance"
    # same seed, same weights, same outputs: but Keras 3 draws other dropout masks in training
    for f in ("weights", "rebuild"):
        d = t["dropout", f]
        assert d["verdict"] == "different" and d["max_abs"] == 0.0 and "training-step loss" in d["cause"]
        assert abs(d["loss_new"] - d["loss_old"]) > 0.1
    # Keras 3 rewrites the serialized configs (dtype policies, dropped/renamed keys)
    assert all(t[m, "rebuild"]["config_changes"] for m in SUITE)
    text = report.read_text()
    assert "| dense | keras | does not load |" in text and "[keras3-rnn-time-major]" in text


def test_suite_to_legacy_keras_survives(to_legacy: tuple[int, dict]) -> None:
    code, doc = to_legacy
    versions = doc["new"]["versions"]
    assert versions["keras_module"].startswith("tf_keras") and versions["legacy_keras_var"] == "1"
    t = _table(doc)
    assert set(t) == {(m, f) for m in SUITE for f in ("keras", "h5", "savedmodel", "weights", "rebuild")}
    # every artifact loads with its plain loader; only the recurrent layers move in the last bits
    assert {k: v["verdict"] for k, v in t.items()} == {
        (m, f): "equal within tolerance" if m in RNN else "identical" for m, f in t}
    assert all(v["loader"] in ("load_model", "load_weights", "builder + set_weights") for v in t.values())
    assert code == 0 and doc["ok"] is True


def _save_in_old(python: Path, where: Path) -> None:
    script = f"""
import tensorflow as tf
tf.keras.utils.set_random_seed(7)
m = tf.keras.Sequential([tf.keras.Input(shape=(5,)), tf.keras.layers.Dense(3, activation="tanh"), tf.keras.layers.Dense(1)])
m.compile(optimizer="adam", loss="mse")
m.save({str(where / "user.h5")!r})
m.save({str(where / "user_savedmodel")!r})
"""
    subprocess.run([str(python), "-c", script], check=True, capture_output=True, timeout=300)


def test_model_saved_in_old_to_keras3_and_legacy(tf215_venv: Path, tf_venv: Path, legacy_view: Path, tmp_path: Path) -> None:  # noqa: F811
    _save_in_old(tf215_venv / "bin" / "python", tmp_path)
    models = ["--model", str(tmp_path / "user.h5"), "--model", str(tmp_path / "user_savedmodel")]
    code, doc = _rehearse("--from-prefix", str(tf215_venv), "--to-prefix", str(tf_venv), *models)
    t = _table(doc)
    assert code == 1
    assert (t["user.h5", "original"]["verdict"], t["user.h5", "original"]["fix_id"]) == ("does not load", "keras3-h5-compile-config")
    # tanh differs in the last bits between the two TensorFlows
    assert t["user.h5", "original"]["with_fix"] == "load_model(path, compile=False): equal within tolerance"
    sm = t["user_savedmodel", "original"]
    assert (sm["verdict"], sm["fix_id"]) == ("does not load", "keras3-legacy-savedmodel")
    assert sm["with_fix"] == "keras.layers.TFSMLayer(path, call_endpoint='serving_default'): equal within tolerance"
    assert {f for (m, f) in t if m == "user.h5"} == {"original", "keras", "h5", "savedmodel"}
    # re-saved by 2.15 as .keras: the Keras 2 adam config is what Keras 3 refuses; compile=False loads it
    assert (t["user.h5", "keras"]["fix_id"], t["user.h5", "keras"]["with_fix"]) == (
        "keras3-keras2-optimizer-config", "load_model(path, compile=False): equal within tolerance")
    code, doc = _rehearse("--from-prefix", str(tf215_venv), "--to-prefix", str(legacy_view), *models)
    assert {(k, v["verdict"]) for k, v in _table(doc).items() if v["verdict"] not in ("identical", "equal within tolerance")} == set()
    assert code == 0 and doc["ok"] is True
