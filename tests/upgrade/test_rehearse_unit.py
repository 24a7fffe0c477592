"""envlock rehearse without TensorFlow: bad input, verdict rules, and an interpreter that
crashes or hangs (a shell-script "python", since a real segfaulting TensorFlow cannot be had)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from envlock.cli.group import main
from envlock.upgrade.rehearse import ModelSpec, model_specs
from envlock.upgrade.rehearse_run import Side, run_phase
from envlock.upgrade.rehearse_verdict import config_changes, fix_for, judge
from tests.verify_support import fake_prefix

OLD = {"ok": True, "architecture": {"params": 10, "layers": [{"class": "LSTM", "config": {"units": 4, "time_major": False, "a": {"b": 1}}}]},
       "train": {"loss": 1.0, "loss_after": 0.9}, "seconds": 0.01}


def _row(**over: object) -> dict:
    row = {"loaded": True, "loader": "load_model", "problem": None, "seconds": 0.02,
           "outputs": {"shapes_match": True, "identical": True, "max_abs": 0.0, "max_rel": 0.0, "within": True},
           "architecture": {"params": 10, "layers": [{"class": "LSTM", "config": {"units": 4, "a": {"b": 2}, "new_key": 3}}]},
           "train": {"loss": 1.0, "loss_after": 0.9}}
    row.update(over)
    return row


def test_verdicts_follow_the_numbers() -> None:
    assert judge("m", "h5", OLD, _row(), 1e-5, 1e-6).verdict == "identical"
    close = _row(outputs={"shapes_match": True, "identical": False, "max_abs": 1e-7, "max_rel": 1e-6, "within": True})
    assert judge("m", "h5", OLD, close, 1e-5, 1e-6).verdict == "equal within tolerance"
    far = _row(outputs={"shapes_match": True, "identical": False, "max_abs": 0.5, "max_rel": 0.7, "within": False})
    v = judge("m", "h5", OLD, far, 1e-5, 1e-6)
    assert v.verdict == "different" and "0.5" in (v.cause or "") and v.failing
    loss = judge("m", "h5", OLD, _row(train={"loss": 1.2, "loss_after": 0.9}), 1e-5, 1e-6)
    assert loss.verdict == "different" and "1 -> 1.2" in (loss.cause or "")
    assert judge("m", "h5", OLD, _row(architecture={"params": 11, "layers": []}), 1e-5, 1e-6).verdict == "different"


def test_unknown_is_never_ok() -> None:
    assert judge("m", "h5", OLD, None, 1e-5, 1e-6).verdict == "error"
    missing_loss = judge("m", "h5", OLD, _row(train={}), 1e-5, 1e-6)
    assert missing_loss.verdict == "different"
    assert judge("m", "h5", OLD, _row(outputs={"error": "boom"}), 1e-5, 1e-6).verdict == "different"


def test_a_fallback_load_is_does_not_load_with_the_fix_verified() -> None:
    problem = "ValueError: Could not deserialize 'keras.metrics.mse' because it is not a KerasSaveable subclass"
    v = judge("m", "h5", OLD, _row(loader="load_model(path, compile=False)", problem=problem), 1e-5, 1e-6)
    assert v.verdict == "does not load" and v.fix_id == "keras3-h5-compile-config"
    assert v.with_fix == "load_model(path, compile=False): identical"
    no = judge("m", "keras", OLD, {"loaded": False, "error": "TypeError: something new"}, 1e-5, 1e-6)
    assert no.verdict == "does not load" and no.fix == "no known fix: see the cause"


def test_fix_table_matches_the_real_messages() -> None:
    assert fix_for("ValueError: Unrecognized keyword arguments passed to LSTM: {'time_major': False}").id == "keras3-rnn-time-major"
    assert fix_for("TypeError: Could not deserialize class 'Functional' because its parent module "
                   "keras.src.engine.functional cannot be imported.").id == "keras3-keras2-zip"
    assert fix_for("all fine") is None


def test_config_changes_name_changed_added_dropped_renamed() -> None:
    old = {"layers": [{"class": "Dense", "config": {"units": 4, "kernel_init": "glorot", "gone": 1, "x": {"y": 1}}}]}
    new = {"layers": [{"class": "Dense", "config": {"units": 4, "kernel_initializer": "glorot", "x": {"y": 2}, "quantization": None}}]}
    kinds = {(c.key, c.kind) for c in config_changes(old, new)}
    assert kinds == {("kernel_init -> kernel_initializer", "renamed"), ("gone", "dropped"), ("quantization", "added"), ("x.y", "changed")}


def test_crashing_and_hanging_interpreters_become_rows(tmp_path: Path) -> None:
    # "python" crashes with SIGSEGV on model b, hangs on model c, and reports a and d
    script = r'''
cfg="$3"; res=$(printf '%s' "$cfg" | sed 's/.*"results": "\([^"]*\)".*/\1/')
case "$cfg" in
  *'"skip": ["a", "b", "c"]'*) echo '[envlock-probe] begin model d' >&2; echo '{"key": "d", "ok": true}' >> "$res";;
  *'"skip": ["a", "b"]'*) echo '[envlock-probe] begin model c' >&2; sleep 30;;
  *) echo '{"key": "a", "ok": true}' >> "$res"; echo '[envlock-probe] begin model b' >&2; kill -SEGV $$;;
esac
'''
    side = Side(label="old", prefix=fake_prefix(tmp_path / "env", script))
    run = run_phase(side, {"phase": "old", "models": []}, ["a", "b", "c", "d"], timeout_s=3)
    assert run.results["a"]["ok"] and run.results["d"]["ok"]
    assert run.results["b"]["crashed"] and "SIGSEGV" in run.results["b"]["error"]
    assert run.results["c"]["crashed"] and "killed after 3 s" in run.results["c"]["error"]
    assert run.starts == 3


def test_missing_interpreter_is_a_row_for_every_model(tmp_path: Path) -> None:
    run = run_phase(Side(label="new", prefix=tmp_path), {}, ["a"], timeout_s=5)
    assert run.results["a"]["ok"] is False and "does not exist" in run.results["a"]["error"]


def test_specs_default_to_the_suite_and_reject_bad_input(tmp_path: Path) -> None:
    assert [s.name for s in model_specs([], [])][:2] == ["dense", "conv2d"]
    assert model_specs([], ["pkg.mod:build"]) == [ModelSpec(name="pkg.mod.build", kind="build", ref="pkg.mod:build")]


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["rehearse", *args])
    return result.exit_code, result.output


def test_bad_input_exits_2_with_one_line(tmp_path: Path) -> None:
    env = fake_prefix(tmp_path / "env", "exit 0")
    code, text = _cli("--from-prefix", str(tmp_path / "nope"), "--to-prefix", str(env))
    assert code == 2 and "--from-prefix: no such directory" in text and "Traceback" not in text
    code, text = _cli("--from-prefix", str(env), "--to-prefix", str(env), "--build", "not a ref")
    assert code == 2 and "expected MODULE:FUNCTION" in text
    code, text = _cli("--from-prefix", str(env), "--to-prefix", str(env), "--model", str(tmp_path / "missing.h5"))
    assert code == 2 and "missing.h5: --model: no such file" in text
    answer = CliRunner().invoke(main, ["rehearse", "--from-prefix", str(env), "--to-prefix", str(env), "--to-env", "NOEQUALS", "--json"])
    assert answer.exit_code == 2 and json.loads(answer.stdout) == {
        "ok": False, "error": "--to-env 'NOEQUALS': expected KEY=VALUE (e.g. TF_USE_LEGACY_KERAS=1).", "error_kind": "usage", "exit_code": 2}
    code, text = _cli("--to-prefix", str(env))
    assert code == 2 and "--from: give a profile name or --from-prefix" in text


def test_code_scan_between_the_probed_versions(tmp_path: Path) -> None:
    from envlock.upgrade.rehearse_extras import scan_code

    assert scan_code([], None, None) is None
    (tmp_path / "train.py").write_text("import tensorflow as tf\nest = tf.estimator.Estimator\n")
    result = scan_code([str(tmp_path)], {"tensorflow": "2.15.1"}, {"tensorflow": "2.21.0"})
    assert result is not None and (result["from"], result["to"]) == ("2.15", "2.21")
    assert result["available"] is True and result["ok"] is False
    assert any(f["severity"] == "error" and "estimator" in f["message"].lower() for f in result["findings"])
    unknown = scan_code([str(tmp_path)], {"tensorflow": "2.15.1"}, None)  # the new side never reported
    assert unknown is not None and unknown["ok"] is False and "not scanned" in unknown["note"]


def test_lock_diff_needs_two_profiles(tmp_path: Path) -> None:
    from envlock.upgrade.rehearse_extras import lock_diff

    side = Side(label="old", prefix=tmp_path)
    assert lock_diff(None, side, side) == (None, "no lock diff: both sides must be profiles (--from/--to) with locks")
