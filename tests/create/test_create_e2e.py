"""End to end: a real conda prefix from the local channel (venv-shaped python) with
tensorflow-cpu 2.21 installed from PyPI by the lock's pip entries, then verified."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from create_support import env_prefix, envlock

pytest_plugins = ["create_support"]

# conda archives of the test channel are tiny; wheels stay in uv's own cache between runs
TEST_CACHE = Path(os.environ.get("ENVLOCK_TEST_CACHE", Path.home() / ".cache" / "envlock-tests"))


@pytest.mark.e2e
@pytest.mark.network
def test_pip_tensorflow_in_conda_prefix(tmp_path: Path, tf_channel: Path) -> None:
    from conftest import profile_doc, write_project

    doc = profile_doc("tf", tf_channel, tensorflow={"version": "2.21.*", "source": "pip", "variant": "cpu"},
                      keras="3.*", env_vars={"TF_CPP_MIN_LOG_LEVEL": "2"})
    project = write_project(tmp_path / "project", {"tf": doc})
    r = envlock(project, "lock", "--profile", "tf", cache=TEST_CACHE, offline=False)
    assert r.returncode == 0, r.stderr
    r = envlock(project, "create", "--profile", "tf", "--frozen", "--json", cache=TEST_CACHE, offline=False)
    assert r.returncode == 0, r.stdout + r.stderr
    s = json.loads(r.stdout)
    assert s["action"] == "created" and s["pip_packages"] >= 20
    assert s["verification"] == "verifier" and s["verification_ok"] is True
    prefix = env_prefix(project, "tf")
    assert (prefix / "conda-meta").is_dir() and (prefix / "pyvenv.cfg").is_file()
    out = subprocess.run([str(prefix / "bin" / "python"), "-c",
                          "import tensorflow as tf, sys; print(tf.__version__); print(sys.prefix)"],
                         capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["2.21.0", str(prefix)]
    # entry points written by uv in the staging dir point at the final interpreter
    script = (prefix / "bin" / "saved_model_cli").read_text().splitlines()[0]
    assert script == f"#!{prefix}/bin/python"
    # no-op, check and run on the real environment
    r = envlock(project, "create", "--profile", "tf", "--frozen", "--json", cache=TEST_CACHE)
    assert r.returncode == 0 and json.loads(r.stdout)["action"] == "up-to-date"
    t = time.perf_counter()
    r = envlock(project, "check", "--profile", "tf", "--json", cache=TEST_CACHE)
    check_s = time.perf_counter() - t
    assert r.returncode == 0, r.stdout
    assert json.loads(r.stdout)["files_checked"] >= 15000  # the pip packages' files too, not only conda's
    # Its speed (< 1 s) is measured in benchmarks/, not here; what makes it fast must hold: an
    # unchanged environment is checked by stat alone, nothing hashed.
    assert json.loads(r.stdout)["files_hashed"] == 0
    print(f"check on the TensorFlow environment: {check_s:.3f} s, {json.loads(r.stdout)['files_checked']} files")
    # an edit through a hard link (into uv's cache) is seen, and --reinstall brings the locked bytes back
    sp = next((prefix / "lib").glob("python*/site-packages"))
    victim = sp / "tensorflow" / "__init__.py"
    [record] = list(sp.glob("tensorflow_cpu-*.dist-info/RECORD"))
    [locked_hash] = [ln.split(",")[1] for ln in record.read_text().splitlines() if ln.startswith("tensorflow/__init__.py,")]
    with open(victim, "r+b") as f:
        f.write(b"#EDIT")
    r = envlock(project, "check", "--profile", "tf", "--json", cache=TEST_CACHE)
    assert r.returncode == 1 and json.loads(r.stdout)["fix"] == "envlock create --profile tf --reinstall"
    # uv's cache copy of tensorflow-cpu holds the edit: it is dropped and downloaded again
    r = envlock(project, "create", "--profile", "tf", "--reinstall", "--no-verify", "--json", cache=TEST_CACHE,
                offline=False)
    assert r.returncode == 0 and json.loads(r.stdout)["action"] == "reinstalled", r.stdout + r.stderr
    assert "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(victim.read_bytes()).digest()).rstrip(b"=").decode() == locked_hash
    t = time.perf_counter()
    r = envlock(project, "create", "--profile", "tf", "--reinstall", "--no-verify", "--json", cache=TEST_CACHE,
                offline=False)
    print(f"warm create --reinstall of the TensorFlow environment: {time.perf_counter() - t:.2f} s")
    assert r.returncode == 0, r.stdout + r.stderr
    r = envlock(project, "run", "--profile", "tf", "--", "python", "-c",
                "import os, keras; print(keras.__version__.split('.')[0], os.environ['TF_CPP_MIN_LOG_LEVEL'])",
                cache=TEST_CACHE)
    assert r.returncode == 0 and r.stdout.split() == ["3", "2"], r.stderr[-2000:]
    # pip drift is seen: remove a wheel's dist-info behind envlock's back
    sp = next((prefix / "lib").glob("python*/site-packages"))
    [dist] = list(sp.glob("absl_py-*.dist-info"))
    subprocess.run(["rm", "-rf", str(dist)], check=True)
    r = envlock(project, "check", "--profile", "tf", "--json", cache=TEST_CACHE)
    assert r.returncode == 1
    assert {(p["manager"], p["name"], p["kind"]) for p in json.loads(r.stdout)["packages"]} == {("pip", "absl-py", "removed")}
