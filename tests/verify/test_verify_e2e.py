"""``envlock verify`` end to end: real TensorFlow (tensorflow-cpu 2.21.0 from PyPI in cached
venvs, see verify_support), real probe processes, the real CLI in a subprocess.  Fake
interpreters stand in for crashing/hanging environments (those tests need no TensorFlow)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.verify_support")

from tests.verify_support import (  # noqa: E402
    TF_VERSION,
    fake_prefix,
    view,
    view_with_startup_module,
    write_profile,
)

pytest_plugins = ["tests.verify_support"]  # fixtures: project, tf_venv, tf_keras_venv


def envlock(project_root: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", "from envlock.cli import main; main()", "verify", "--project", str(project_root), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def checks_of(doc: dict) -> dict[str, dict]:
    return {c["name"]: c for c in doc["checks"]}


def installed_keras(venv: Path) -> str:
    out = subprocess.run([str(venv / "bin" / "python"), "-I", "-c", "import importlib.metadata as m; print(m.version('keras'))"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.mark.e2e
@pytest.mark.network
def test_keras3_profile_passes_with_benchmark_record_and_report(project, tf_venv, tmp_path):
    write_profile(project.root, "cpu", verify={"cpu_features": ["avx"], "min_gflops": 1})
    report = tmp_path / "verify.md"
    t0 = time.perf_counter()
    r = envlock(project.root, "--profile", "cpu", "--prefix", str(tf_venv), "--json", "--report", str(report))
    elapsed = time.perf_counter() - t0
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    # the document the issue specifies
    assert set(doc) >= {"ok", "profile", "checks", "tensorflow", "keras", "benchmarks"}
    assert doc["ok"] is True and doc["profile"] == "cpu"
    assert all(set(c) == {"name", "ok", "expected", "actual", "message"} for c in doc["checks"])
    checks = checks_of(doc)
    for name in ("probe", "python", "tensorflow.import", "tensorflow.version", "keras.resolves", "keras.version",
                 "keras.packages", "cpu.features", "cpu.gflops", "bench.CPU:0.matmul.float32", "bench.CPU:0.conv2d.float32"):
        assert checks[name]["ok"], checks[name]
    assert doc["tensorflow"]["version"] == TF_VERSION
    assert doc["keras"]["resolves_to"] == "keras3"
    assert doc["keras"]["version"] == installed_keras(tf_venv)
    benches = {(b["op"], b["dtype"]): b for b in doc["benchmarks"]}
    assert set(benches) == {("matmul", "float32"), ("conv2d", "float32")}
    for b in benches.values():
        assert b["device"] == "/device:CPU:0" and b["gflops"] > 1
        assert 0 <= b["max_abs_error"] < 1e-2  # against NumPy on the same inputs (values are O(10-100))
    # timing split is reported and the CPU run stays within import + ~10 s
    assert doc["timings"]["tensorflow_import_s"] > 0
    assert doc["timings"]["benchmarks_s"] < 10
    assert elapsed < 60
    # verification record next to the (absent) lock
    rec = json.loads((project.locks_dir / "cpu" / f"verified-{doc['platform']}.json").read_text())
    assert rec["tensorflow"] == TF_VERSION and rec["lock_hash"] is None
    assert {b["op"] for b in rec["benchmarks"]} == {"matmul", "conv2d"}
    assert rec["hardware"]["logical_cpus"] >= 1 and rec["hardware"]["cpu_flags"]
    md = report.read_text()
    assert "PASSED" in md and "| keras.version | ✅ |" in md


@pytest.mark.e2e
@pytest.mark.network
def test_other_keras_minor_fails_naming_both_versions(project, tf_venv):
    have = installed_keras(tf_venv)
    minor = int(have.split(".")[1])
    other = f"3.{minor - 1 if minor > 12 else minor + 1}.*"  # TF 2.21 needs keras >= 3.12
    write_profile(project.root, "pinned", keras=other)
    r = envlock(project.root, "--profile", "pinned", "--prefix", str(tf_venv), "--json", "--no-bench")
    assert r.returncode == 1, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["ok"] is False and doc["benchmarks"] == []
    kv = checks_of(doc)["keras.version"]
    assert not kv["ok"] and kv["expected"] == other and kv["actual"] == have
    assert have in kv["message"] and other in kv["message"]
    assert checks_of(doc)["keras.resolves"]["ok"]  # it is Keras 3, just not that minor
    assert not (project.locks_dir / "pinned").exists()  # a failed verify writes no record


@pytest.mark.e2e
@pytest.mark.network
def test_tf_keras_with_legacy_variable_passes_keras2_profile(project, tf_keras_venv, tmp_path):
    prefix = view(tf_keras_venv, tmp_path / "legacy", {"TF_USE_LEGACY_KERAS": "1"})
    write_profile(project.root, "keras2", keras="2.*")
    r = envlock(project.root, "--profile", "keras2", "--prefix", str(prefix), "--json", "--no-bench", "--no-record")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["keras"]["resolves_to"] == "tf_keras"
    assert doc["keras"]["version"].startswith("2.21.")
    assert checks_of(doc)["keras.packages"]["ok"]
    assert not (project.locks_dir / "keras2").exists()  # --no-record


@pytest.mark.e2e
@pytest.mark.network
def test_legacy_variable_without_tf_keras_fails_with_cause(project, tf_venv, tmp_path):
    prefix = view(tf_venv, tmp_path / "broken", {"TF_USE_LEGACY_KERAS": "1"})
    write_profile(project.root, "keras2", keras="2.*")
    r = envlock(project.root, "--profile", "keras2", "--prefix", str(prefix), "--json", "--no-bench")
    assert r.returncode == 1, r.stdout + r.stderr
    check = checks_of(json.loads(r.stdout))["keras.resolves"]
    assert not check["ok"]
    assert "Keras cannot be imported" in check["actual"]
    assert "TF_USE_LEGACY_KERAS=1" in check["message"] and "conda-meta/state" in check["message"]
    assert "tf-keras" in check["message"]


# Loaded through a .pth at interpreter start: once TensorFlow's tf.config module executes,
# its list_physical_devices raises (a driver or plugin that breaks device enumeration).
BREAK_DEVICE_LISTING = """
import sys

class _BreakDeviceListing:
    def find_spec(self, name, path, target=None):
        if name != "tensorflow._api.v2.config":
            return None
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    break
        else:
            return None
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)

            def list_physical_devices(device_type=None):
                raise RuntimeError("injected: device enumeration failed")

            module.list_physical_devices = list_physical_devices

        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, _BreakDeviceListing())
"""


@pytest.mark.e2e
@pytest.mark.network
def test_tensorflow_call_that_raises_fails_a_cpu_profile(project, tf_venv, tmp_path):
    prefix = view_with_startup_module(tf_venv, tmp_path / "broken-devices", "envlock_test_break_devices", BREAK_DEVICE_LISTING)
    write_profile(project.root, "cpu")
    r = envlock(project.root, "--profile", "cpu", "--prefix", str(prefix), "--json", "--no-bench")
    assert r.returncode == 1, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    checks = checks_of(doc)
    assert checks["tensorflow.import"]["ok"]  # TensorFlow itself imports: only the device listing raises
    devices = checks["probe.devices"]
    assert not devices["ok"] and devices["actual"] == "RuntimeError: injected: device enumeration failed"
    assert doc["ok"] is False and not (project.locks_dir / "cpu").exists()


@pytest.mark.e2e
def test_environment_without_tensorflow_fails_cleanly(project, tmp_path):
    env = tmp_path / "empty"
    subprocess.run([sys.executable, "-m", "uv", "venv", "-q", "-p", sys.executable, str(env)], check=True)
    write_profile(project.root, "cpu")
    r = envlock(project.root, "--profile", "cpu", "--prefix", str(env))
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "tensorflow.import" in r.stdout and "not installed" in r.stdout.replace("\n", " ")
    r = envlock(project.root, "--profile", "cpu", "--prefix", str(env), "--json")
    check = checks_of(json.loads(r.stdout))["tensorflow.import"]
    assert not check["ok"] and "ModuleNotFoundError" in check["actual"]


def test_segfaulting_interpreter_is_a_failed_check(project, tmp_path):
    prefix = fake_prefix(tmp_path / "segv", 'echo "[envlock-probe] begin tensorflow" >&2\necho "Fatal Python error: Segmentation fault" >&2\nkill -SEGV $$')
    write_profile(project.root, "cpu")
    r = envlock(project.root, "--profile", "cpu", "--prefix", str(prefix), "--json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    probe = checks_of(doc)["probe"]
    assert not probe["ok"] and "SIGSEGV" in probe["actual"] and "'tensorflow'" in probe["actual"]
    assert doc["tensorflow"] == {"version": None} and doc["keras"]["resolves_to"] is None
    assert "native library" in probe["message"]
    r = envlock(project.root, "--profile", "cpu", "--prefix", str(prefix))
    assert r.returncode == 1 and "Segmentation fault" in r.stdout and "Traceback" not in r.stderr


def test_crash_at_exit_after_reporting_keeps_the_measurements(project, tmp_path):
    recorded = Path(__file__).parents[1] / "verify_fixtures" / "cpu-linux-x86_64.json"
    prefix = fake_prefix(tmp_path / "exitcrash", f'tr -d "\\n" < "{recorded}"; echo; kill -SEGV $$')
    write_profile(project.root, "cpu")
    r = envlock(project.root, "--profile", "cpu", "--prefix", str(prefix), "--json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    checks = checks_of(doc)
    assert not checks["probe"]["ok"] and "crashed with SIGSEGV while the interpreter exited" in checks["probe"]["actual"]
    assert checks["tensorflow.version"]["ok"] and checks["keras.resolves"]["ok"]  # the report is still used
    assert doc["tensorflow"]["version"] == "2.21.0" and len(doc["benchmarks"]) == 2
    assert not (project.locks_dir / "cpu").exists()


def test_hanging_interpreter_is_killed_and_fails(project, tmp_path):
    prefix = fake_prefix(tmp_path / "hang", 'echo "[envlock-probe] begin devices" >&2\nsleep 600')
    write_profile(project.root, "cpu", verify={"timeout_s": 2})
    t0 = time.perf_counter()
    r = envlock(project.root, "--profile", "cpu", "--prefix", str(prefix), "--json", timeout=60)
    assert time.perf_counter() - t0 < 30
    assert r.returncode == 1
    probe = checks_of(json.loads(r.stdout))["probe"]
    assert not probe["ok"] and "hung during 'devices'" in probe["actual"] and "2 s" in probe["actual"]


def test_missing_prefix_is_bad_input(project, tmp_path):
    write_profile(project.root, "cpu")
    r = envlock(project.root, "--profile", "cpu", "--prefix", str(tmp_path / "nope"))
    assert r.returncode == 2
    assert "no environment there" in r.stderr and "Traceback" not in r.stderr
    r = envlock(project.root, "--profile", "cpu")
    assert r.returncode == 2 and "envlock create --profile cpu" in r.stderr


def test_prefix_without_python_fails_the_probe_check(project, tmp_path):
    (tmp_path / "nopy").mkdir()
    write_profile(project.root, "cpu")
    r = envlock(project.root, "--profile", "cpu", "--prefix", str(tmp_path / "nopy"), "--json")
    assert r.returncode == 1
    probe = checks_of(json.loads(r.stdout))["probe"]
    assert not probe["ok"] and "bin/python" in probe["actual"]


def test_json_answers_bad_input_with_one_object(project, tmp_path):
    write_profile(project.root, "cpu")
    r = envlock(project.root, "--profile", "cpu", "--prefix", str(tmp_path / "nope"), "--json")
    assert r.returncode == 2 and "no environment there" in r.stderr
    doc = json.loads(r.stdout)  # exactly one JSON document, nothing else on stdout
    assert doc["ok"] is False and "no environment there" in doc["error"] and doc["exit_code"] == 2
    r = envlock(project.root, "--profile", "absent", "--json")
    assert r.returncode == 2 and json.loads(r.stdout)["ok"] is False
    r = envlock(tmp_path / "not-a-project", "--profile", "cpu", "--json")
    assert r.returncode == 2 and json.loads(r.stdout)["ok"] is False


def test_save_probe_writes_the_raw_document(project, tmp_path):
    recorded = Path(__file__).parents[1] / "verify_fixtures" / "cpu-linux-x86_64.json"
    raw = json.loads(recorded.read_text().replace("{prefix}", str(tmp_path / "env")))
    del raw["_recorded"]  # as the probe prints it
    raw["probe_extra"] = {"kept": True}  # a field this envlock does not know survives the recording
    (tmp_path / "doc.json").write_text(json.dumps(raw))
    prefix = fake_prefix(tmp_path / "env", f'cat "{tmp_path / "doc.json"}"')
    write_profile(project.root, "cpu")
    saved = tmp_path / "recording.json"
    r = envlock(project.root, "--profile", "cpu", "--prefix", str(prefix), "--save-probe", str(saved), "--no-record")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(saved.read_text())
    assert doc.pop("_recorded").startswith("Real output of envlock's probe, saved by `envlock verify --save-probe`")
    assert doc == raw
    # an environment whose probe prints nothing: nothing written, the verdict still answers
    crash = fake_prefix(tmp_path / "crash", "kill -SEGV $$")
    r = envlock(project.root, "--profile", "cpu", "--prefix", str(crash), "--save-probe", str(tmp_path / "none.json"), "--json")
    assert r.returncode == 1 and not (tmp_path / "none.json").exists()
    assert any("--save-probe" in w for w in json.loads(r.stdout)["warnings"])
