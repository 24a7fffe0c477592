"""GPU (CUDA) and Metal paths of the verifier, driven by hand-constructed probe documents.

No NVIDIA GPU or Mac exists on developer machines or CI, and nobody has recorded the probe on
one yet, so the probe's JSON comes from tests/verify_fixtures/constructed-*.json: written by
hand in the exact shape probe.py prints (each file's ``_sources`` says which TensorFlow API
every field comes from), not output of a real machine.  Replace them with recordings made with
``envlock verify --save-probe FILE`` on such machines.  What is mocked, and only because it
cannot exist here: the probe process itself (``run_probe`` returns the constructed document), the host's NVIDIA driver as rattler would detect
it (``host_cuda_version``), and the platform name for the Metal case.  Everything else — the
checks, compatibility data, lock comparison, record, report — is the real code.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.verify_support")

from envlock.lockfile import read_lockfile  # noqa: E402
from envlock.profiles.load import load_profile  # noqa: E402
from envlock.verify import hardware, verifier  # noqa: E402
from envlock.verify.model import ProbeDoc, ProbeRun  # noqa: E402
from envlock.verify.report import markdown  # noqa: E402
from tests.verify_support import probe_fixture, write_profile  # noqa: E402

pytest_plugins = ["tests.verify_support"]
pytestmark = pytest.mark.constructed


def fake_probe(monkeypatch, doc: dict, driver_cuda: str | None, platform: str) -> None:
    run = ProbeRun(ok=True, command=["python", "-I", "probe"], returncode=0, seconds=21.9, doc=ProbeDoc.model_validate(doc))
    monkeypatch.setattr(verifier, "run_probe", lambda prefix, config, timeout_s: run)
    monkeypatch.setattr(hardware, "host_cuda_version", lambda: driver_cuda)
    monkeypatch.setattr(hardware, "current_platform", lambda: platform)


def checks(report) -> dict:
    return {c.name: c for c in report.checks}


@pytest.fixture
def cuda_env(project, tmp_path):
    write_profile(project.root, "cuda12", tensorflow={"variant": "cuda"}, verify={"device": "gpu"})
    prefix = tmp_path / "env"
    prefix.mkdir()
    return load_profile(project, "cuda12"), prefix, probe_fixture("constructed-cuda-linux-x86_64.json", prefix)


def write_lock(project, name: str, pkgs: list[tuple[str, str, str]]) -> Path:
    """A minimal conda-lock v1 file holding (manager, name, version) for linux-64."""
    path = project.unified_lock_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = [{"name": n, "version": v, "manager": m, "platform": "linux-64", "dependencies": {},
                "url": f"https://example.invalid/{n}-{v}", "hash": {"sha256": "0" * 64}, "category": "main", "optional": False}
               for m, n, v in pkgs]
    path.write_text(json.dumps({"version": 1, "metadata": {"platforms": ["linux-64"], "content_hash": {}, "channels": [], "sources": []},
                                "package": entries}))
    return path


def test_cuda_environment_passes_every_gpu_check(monkeypatch, project, cuda_env):
    profile, prefix, doc = cuda_env
    fake_probe(monkeypatch, doc, "12.8", "linux-64")
    r = verifier.verify_environment(project, profile, prefix)
    c = checks(r)
    assert r.ok, [x for x in r.checks if not x.ok]
    assert c["cuda.build"].ok and c["cuda.version"].actual == "12.5.1" and c["cuda.version"].expected == "12.5"
    assert c["cudnn.version"].expected == "9.x" and c["cudnn.version"].ok
    assert c["cuda.driver"].ok and "12.8" in c["cuda.driver"].actual and "550.54.15" in c["cuda.driver"].actual
    assert c["gpu.visible"].ok and "H100" in c["gpu.visible"].actual
    assert c["gpu.benchmark"].ok
    assert {n for n in c if n.startswith("bench.GPU:0.")} == {
        "bench.GPU:0.matmul.float32", "bench.GPU:0.matmul.bfloat16", "bench.GPU:0.matmul.float16", "bench.GPU:0.conv2d.float32"}
    assert c["libraries.origin"].ok and "5 loaded" in c["libraries.origin"].actual
    rec = json.loads(Path(r.record_path).read_text())
    assert rec["hardware"]["gpus"] == ["NVIDIA H100 80GB HBM3"] and rec["hardware"]["driver_cuda"] == "12.8"


def test_cpu_only_build_fails_the_cuda_profile(monkeypatch, project, cuda_env):
    profile, prefix, doc = cuda_env
    doc["measurements"]["build_info"]["value"] = {"is_cuda_build": False, "is_rocm_build": False, "is_tensorrt_build": False}
    fake_probe(monkeypatch, doc, "12.8", "linux-64")
    r = verifier.verify_environment(project, profile, prefix, record=False)
    c = checks(r)
    assert not r.ok and not c["cuda.build"].ok and "CPU-only build" in c["cuda.build"].message
    assert "cuda.version" not in c  # nothing more to compare on a CPU build


@pytest.mark.parametrize(("driver", "ok", "words"), [
    (None, False, "no NVIDIA driver"),
    ("11.8", False, "upgrade the NVIDIA driver"),
    ("12.4", True, "minor-version compatibility"),
])
def test_driver_against_the_build_cuda(monkeypatch, project, cuda_env, driver, ok, words):
    profile, prefix, doc = cuda_env
    fake_probe(monkeypatch, doc, driver, "linux-64")
    c = checks(verifier.verify_environment(project, profile, prefix, record=False))["cuda.driver"]
    assert c.ok is ok and words in c.message


def test_wrong_cuda_line_fails_with_compat_data(monkeypatch, project, cuda_env):
    profile, prefix, doc = cuda_env
    doc["measurements"]["build_info"]["value"].update(cuda_version="12.3", cudnn_version="8")
    fake_probe(monkeypatch, doc, "12.8", "linux-64")
    c = checks(verifier.verify_environment(project, profile, prefix, record=False))
    assert not c["cuda.version"].ok and "12.5" in c["cuda.version"].message and "12.3" in c["cuda.version"].message
    assert not c["cudnn.version"].ok and c["cudnn.version"].actual == "8"


def test_no_visible_gpu_and_cpu_fallback_fail(monkeypatch, project, cuda_env):
    profile, prefix, doc = cuda_env
    doc["measurements"]["devices"]["value"]["physical"] = doc["measurements"]["devices"]["value"]["physical"][:1]
    for b in doc["measurements"]["benchmarks"]["value"]["results"]:
        b["placed_on"] = "/job:localhost/replica:0/task:0/device:CPU:0"
    fake_probe(monkeypatch, doc, "12.8", "linux-64")
    run = verifier.run_probe(prefix, {}, timeout_s=1)
    run.stderr = "W cuda_dnn.cc] Cannot dlopen some GPU libraries. Please make sure the missing libraries ..."
    c = checks(verifier.verify_environment(project, profile, prefix, record=False))
    assert not c["gpu.visible"].ok and "Cannot dlopen" not in c["gpu.visible"].message
    assert "could not load the environment's CUDA/cuDNN libraries" in c["gpu.visible"].message
    assert not c["gpu.benchmark"].ok and "CPU fallback" in c["gpu.benchmark"].message


def test_wrong_numbers_fail_even_when_fast(monkeypatch, project, cuda_env):
    profile, prefix, doc = cuda_env
    bf16 = doc["measurements"]["benchmarks"]["value"]["results"][3]
    bf16["max_abs_error"] = 80.0  # e.g. a kernel that returned garbage
    fake_probe(monkeypatch, doc, "12.8", "linux-64")
    r = verifier.verify_environment(project, profile, prefix, record=False)
    c = checks(r)["bench.GPU:0.matmul.bfloat16"]
    assert not r.ok and not c.ok and "wrong numbers" in c.message
    assert checks(r)["bench.GPU:0.matmul.float16"].ok


def test_cuda_library_from_outside_the_environment_fails(monkeypatch, project, cuda_env):
    profile, prefix, doc = cuda_env
    lib = doc["measurements"]["libraries"]["value"]["loaded"][4]
    assert lib["family"] == "cudnn"
    lib.update(path="/usr/local/cuda/lib64/libcudnn.so.9", realpath="/usr/local/cuda/lib64/libcudnn.so.9.1.0")
    del lib["owner"]
    fake_probe(monkeypatch, doc, "12.8", "linux-64")
    c = checks(verifier.verify_environment(project, profile, prefix, record=False))["libraries.origin"]
    assert not c.ok and "/usr/local/cuda/lib64/libcudnn.so.9" in c.actual and "unset LD_LIBRARY_PATH" in c.message
    assert "no LD_LIBRARY_PATH is set" in c.message
    doc["measurements"]["environment"]["value"]["LD_LIBRARY_PATH"] = "/usr/local/cuda/lib64"
    fake_probe(monkeypatch, doc, "12.8", "linux-64")
    c = checks(verifier.verify_environment(project, profile, prefix, record=False))["libraries.origin"]
    assert "LD_LIBRARY_PATH=/usr/local/cuda/lib64 is set" in c.message


def test_loaded_library_versions_against_the_lock(monkeypatch, project, cuda_env):
    profile, prefix, doc = cuda_env
    fake_probe(monkeypatch, copy.deepcopy(doc), "12.8", "linux-64")
    good = [("pip", "nvidia-cudnn-cu12", "9.3.0.75"), ("pip", "nvidia-cublas-cu12", "12.5.3.2"), ("pip", "tensorflow", "2.21.0")]
    path = write_lock(project, "cuda12", good)
    r = verifier.verify_environment(project, profile, prefix)
    assert checks(r)["libraries.lock"].ok, checks(r)["libraries.lock"]
    rec = json.loads(Path(r.record_path).read_text())
    assert rec["lock_hash"] == read_lockfile(path).digest("linux-64")
    write_lock(project, "cuda12", [("pip", "nvidia-cudnn-cu12", "9.1.0.70")] + good[1:])
    c = checks(verifier.verify_environment(project, profile, prefix, record=False))["libraries.lock"]
    assert not c.ok and "libcudnn.so.9 from nvidia-cudnn-cu12 9.3.0.75 (lock: 9.1.0.70)" in c.actual


def test_conda_owned_library_is_compared_too(monkeypatch, project, cuda_env):
    profile, prefix, doc = cuda_env
    (prefix / "conda-meta").mkdir()
    (prefix / "conda-meta" / "cudnn-9.3.0.75-h0.json").write_text(json.dumps(
        {"name": "cudnn", "version": "9.3.0.75", "files": ["lib/libcudnn.so.9.3.0", "lib/libcudnn.so.9"]}))
    libs = doc["measurements"]["libraries"]["value"]["loaded"]
    libs[4] = {"family": "cudnn", "path": f"{prefix}/lib/libcudnn.so.9", "realpath": f"{prefix}/lib/libcudnn.so.9.3.0", "file_version": "9.3.0"}
    fake_probe(monkeypatch, doc, "12.8", "linux-64")
    write_lock(project, "cuda12", [("conda", "cudnn", "9.10.1.4")])
    c = checks(verifier.verify_environment(project, profile, prefix, record=False))["libraries.lock"]
    assert not c.ok and "from cudnn 9.3.0.75 (lock: 9.10.1.4)" in c.actual


@pytest.fixture
def metal_env(project, tmp_path):
    write_profile(project.root, "mac", platforms=["osx-arm64"], tensorflow={"version": "2.19.*", "variant": "metal"},
                  verify={"device": "metal"})
    prefix = tmp_path / "env"
    prefix.mkdir()
    return load_profile(project, "mac"), prefix, probe_fixture("constructed-metal-macos-arm64.json", prefix)


def test_metal_environment_passes(monkeypatch, project, metal_env):
    profile, prefix, doc = metal_env
    fake_probe(monkeypatch, doc, None, "osx-arm64")
    r = verifier.verify_environment(project, profile, prefix)
    c = checks(r)
    assert r.ok, [x for x in r.checks if not x.ok]
    assert c["metal.plugin"].expected == "tensorflow-metal 1.2.*" and c["metal.plugin"].ok
    assert c["metal.device"].ok and c["metal.benchmark"].ok
    assert "cuda.build" not in c and "libraries.lock" not in c
    assert Path(r.record_path).name == "verified-osx-arm64.json"
    assert "metal.device" in markdown(r)


def test_metal_plugin_missing_fails_both_checks(monkeypatch, project, metal_env):
    profile, prefix, doc = metal_env
    del doc["measurements"]["packages"]["value"]["tensorflow-metal"]
    doc["measurements"]["devices"]["value"]["physical"] = doc["measurements"]["devices"]["value"]["physical"][:1]
    fake_probe(monkeypatch, doc, None, "osx-arm64")
    c = checks(verifier.verify_environment(project, profile, prefix, record=False))
    assert not c["metal.plugin"].ok and "install tensorflow-metal 1.2.*" in c["metal.plugin"].message
    assert not c["metal.device"].ok and "tensorflow-metal did not load" in c["metal.device"].message
