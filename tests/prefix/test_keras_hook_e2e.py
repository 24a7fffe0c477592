"""End to end (issue 17): a real legacy environment — TensorFlow 2.21 + tf-keras from PyPI in a
conda prefix from the local channel — keeps Keras 2 however its interpreter is started: bare
(``env -i``), through ``envlock run``, and as a Jupyter kernel; and ``verify`` fails once the
startup hook is gone.

Stand-in: the channel's ``ipykernel`` is a conda package holding only an
``ipykernel_launcher.py`` (the real one would pull about fifteen more wheels from PyPI); the
kernel's interpreter is started with exactly the spec's argv[0] and env, running ``-c``."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from channel_factory import PackageSpec, build_channel
from create_support import env_prefix, envlock

from envlock.prefix.startup_hook import PTH_NAME

pytest_plugins = ["create_support"]

TEST_CACHE = Path(os.environ.get("ENVLOCK_TEST_CACHE", Path.home() / ".cache" / "envlock-tests"))
KERAS_OF_TF = "import tensorflow as tf; print(tf.keras.__name__)"


def started_clean(python: str, env: dict[str, str], code: str) -> str:
    """``env -i`` + ``env`` + ``python -c code``: the last stdout line."""
    r = subprocess.run(["env", "-i", *(f"{k}={v}" for k, v in env.items()), python, "-c", code],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout.strip().splitlines()[-1]


@pytest.mark.e2e
@pytest.mark.network
def test_legacy_environment_keeps_keras2_however_started(tmp_path: Path, tf_channel: Path) -> None:
    from conftest import profile_doc, write_project

    kernel_channel = build_channel(tmp_path / "kernel-channel", [PackageSpec(
        "ipykernel", "6.29.5", "pyh_0", noarch="python", depends=["python >=3.9"],
        files={"site-packages/ipykernel_launcher.py": b"raise SystemExit('stand-in for ipykernel')\n"})])
    doc = profile_doc("legacy", tf_channel, tensorflow={"version": "2.21.*", "source": "pip", "variant": "cpu"},
                      keras="2.*", conda=["ipykernel"])
    doc["channels"] = [tf_channel.as_uri(), kernel_channel.as_uri()]
    project = write_project(tmp_path / "project", {"legacy": doc})
    r = envlock(project, "lock", "--profile", "legacy", cache=TEST_CACHE, offline=False)
    assert r.returncode == 0, r.stderr
    r = envlock(project, "create", "--profile", "legacy", "--frozen", "--json", cache=TEST_CACHE, offline=False)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert json.loads(r.stdout)["verification_ok"] is True  # the bare-start check included
    prefix = env_prefix(project, "legacy")
    python = str(prefix / "bin" / "python")
    home = os.environ.get("HOME", "/")

    # bare: no activation, only PATH and HOME
    assert started_clean(python, {"PATH": "/usr/bin:/bin", "HOME": home}, KERAS_OF_TF).startswith("tf_keras.")
    # the caller's explicit choice still wins over the hook
    assert started_clean(python, {"PATH": "/usr/bin:/bin", "HOME": home, "TF_USE_LEGACY_KERAS": "0"},
                         KERAS_OF_TF).startswith("keras.")
    # envlock run
    r = envlock(project, "run", "--profile", "legacy", "--", "python", "-c", KERAS_OF_TF, cache=TEST_CACHE)
    assert r.returncode == 0 and r.stdout.split()[-1].startswith("tf_keras."), r.stderr[-3000:]
    # a Jupyter kernel: the spec's interpreter with the spec's env
    data = tmp_path / "jupyter-data"
    r = envlock(project, "kernel", "--profile", "legacy", "--json", cache=TEST_CACHE,
                extra_env={"JUPYTER_DATA_DIR": str(data)})
    assert r.returncode == 0, r.stdout + r.stderr
    spec = json.loads((data / "kernels" / "envlock-legacy" / "kernel.json").read_text())
    assert spec["env"]["TF_USE_LEGACY_KERAS"] == "1"
    assert spec["argv"][1:3] == ["-m", "ipykernel_launcher"]
    assert started_clean(spec["argv"][0], {"PATH": "/usr/bin:/bin", "HOME": home, **spec["env"]},
                         KERAS_OF_TF).startswith("tf_keras.")

    # the hook removed: a bare start is Keras 3 again, and verify and check say so
    [pth] = list(prefix.glob(f"lib/python*/site-packages/{PTH_NAME}"))
    pth.unlink()
    assert started_clean(python, {"PATH": "/usr/bin:/bin", "HOME": home}, KERAS_OF_TF).startswith("keras.")
    r = envlock(project, "verify", "--profile", "legacy", "--no-bench", "--no-record", "--json", cache=TEST_CACHE)
    assert r.returncode == 1, r.stdout + r.stderr[-3000:]
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    assert checks["keras.resolves"]["ok"]  # activated, it is still Keras 2
    bare = checks["keras.bare_start"]
    assert not bare["ok"] and "Keras 3" in bare["actual"] and PTH_NAME in bare["message"], bare
    r = envlock(project, "check", "--profile", "legacy", "--json", cache=TEST_CACHE)
    assert r.returncode == 1 and any(f["path"].endswith(PTH_NAME) for f in json.loads(r.stdout)["files"]), r.stdout
