"""No child outlives a killed envlock, and the next run removes what the killed one left: a
create killed with SIGKILL while uv downloads the pip part (from a real wheel index that
stalls) takes its uv with it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ENVLOCK, OFFLINE
from create_support import env_prefix, envlock
from wheel_index import WheelIndex, pip_env

pytest_plugins = ["create_support", "wheel_index"]  # fixtures: tf_channel; wheel_index, pip_project

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; PR_SET_PDEATHSIG is Linux's")


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
            out += kids
            todo += kids
    return out


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """Running (a zombie waiting for whoever adopted it to reap it is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def siblings(project: Path) -> list[str]:
    return sorted(n for n in os.listdir(project / ".envs") if ".t." in n and not n.endswith(".envlock-lock"))


def test_kill_9_in_pip_phase_takes_uv_along_and_next_run_cleans(pip_project: Path, wheel_index: WheelIndex,
                                                               tmp_path: Path) -> None:
    project, cache = pip_project, tmp_path / "cache"
    uv_env = pip_env(wheel_index, tmp_path / "uv-create")  # an empty uv cache: the wheel must be downloaded
    wheel_index.stall()
    env = {**os.environ, **OFFLINE, "ENVLOCK_CACHE_DIR": str(cache), **uv_env}
    env.pop("ENVLOCK_TEST_FAULT", None)
    proc = subprocess.Popen([*ENVLOCK, "create", "--profile", "t", "--no-verify", "--project", str(project)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    uv: list[int] = []
    try:
        assert wheel_index.requested.wait(120), "uv never asked for the wheel"
        uv = [p for p in descendants(proc.pid) if comm(p) == "uv"]
        assert uv, "no uv child while the pip part downloads"
        left = siblings(project)
        assert any(n.startswith("..t.staging-") and n.endswith(".requirements.txt") for n in left), left
        proc.kill()
        proc.wait(10)
        deadline = time.monotonic() + 10
        while any(alive(p) for p in uv) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(p) for p in uv), "uv outlived the killed envlock"
    finally:
        proc.kill()
        wheel_index.release()
        for p in uv:  # on failure: leave no stray uv behind the test either
            if alive(p):
                os.kill(p, 9)
    left = siblings(project)
    assert any(".staging-" in n and n.endswith(".requirements.txt") for n in left)
    assert any(n.startswith(".t.staging-") for n in left)
    r = envlock(project, "create", "--profile", "t", "--no-verify", cache=cache, extra_env=uv_env)
    assert r.returncode == 0, r.stderr
    assert siblings(project) == []
    assert (env_prefix(project) / "conda-meta").is_dir()
