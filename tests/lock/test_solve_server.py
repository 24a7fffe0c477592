"""One warm solve server answers all of a lock's conda solves (both platforms, one process,
one rattler Gateway), the locks it writes are the ones the per-call adapter writes, and the
launcher still answers when the server is unreachable.  Real conda-lock + py-rattler against
a local channel."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from envlock.lock.conda.adapter import TRACE_FILE_VAR
from envlock.lock.conda.conda_lock_run import write_launcher
from envlock.lock.conda.server_proc import OFF_VAR, SOCKET_VAR
from tests.lock.test_lock import ENVLOCK, OFFLINE, lock_of

TWO = {"platforms": ["linux-64", "osx-arm64"],
       "virtual_packages": {"linux-64": {"__glibc": "2.28"}, "osx-arm64": {"__osx": "14.0"}}}


def _lock(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*ENVLOCK, "lock", *args, "--project", str(project)], capture_output=True, text=True,
                          env={**os.environ, **OFFLINE, **env})


def _trace(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _packages(project: Path) -> list:
    return lock_of(project, "both")["package"]


def test_both_platforms_solved_in_one_server_process(make_project, tmp_path: Path) -> None:
    project = make_project({"both": TWO})
    trace = tmp_path / "trace.jsonl"
    r = _lock(project, **{TRACE_FILE_VAR: str(trace)})
    assert r.returncode == 0, r.stderr
    calls = _trace(trace)
    assert sorted(c["platform"] for c in calls) == ["linux-64", "osx-arm64"]
    assert {c["cmd"] for c in calls} == {"create"}
    assert len({c["pid"] for c in calls}) == 1, f"each solve ran in its own process: {calls}"

    # --update takes the same way: the fake-prefix-free preference solve, in the server
    trace.unlink()
    r = _lock(project, "--profile", "both", "--update", "keras", **{TRACE_FILE_VAR: str(trace)})
    assert r.returncode == 0, r.stderr
    calls = _trace(trace)
    assert len(calls) == 2 and len({c["pid"] for c in calls}) == 1


def test_server_writes_the_lock_the_per_call_adapter_writes(make_project, tmp_path: Path) -> None:
    project = make_project({"both": TWO})
    trace = tmp_path / "trace.jsonl"
    assert _lock(project, **{OFF_VAR: "1", TRACE_FILE_VAR: str(trace)}).returncode == 0
    assert len({c["pid"] for c in _trace(trace)}) == 2  # the switch really took the other way
    without = _packages(project)
    assert _lock(project, "--update-all").returncode == 0
    assert _packages(project) == without

    # an --update over the same previous lock, each way
    saved = {p: p.read_bytes() for p in (project / "locks").rglob("*") if p.is_file()}
    assert _lock(project, "--profile", "both", "--update", "tensorflow").returncode == 0
    with_server = _packages(project)
    for p, data in saved.items():
        p.write_bytes(data)
    assert _lock(project, "--profile", "both", "--update", "tensorflow", **{OFF_VAR: "1"}).returncode == 0
    assert _packages(project) == with_server


def test_launcher_answers_itself_when_the_server_is_unreachable(tmp_path: Path) -> None:
    exe = write_launcher(tmp_path / "conda")
    prefix = tmp_path / "prefix" / "conda-meta"
    prefix.mkdir(parents=True)
    (prefix / "zlib-1.3-h0_0.json").write_text(json.dumps({"name": "zlib", "version": "1.3", "build": "h0_0"}))
    env = {**os.environ, SOCKET_VAR: str(tmp_path / "no-such.sock")}
    r = subprocess.run([str(exe), "list", "-p", str(prefix.parent), "--json"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert [d["name"] for d in json.loads(r.stdout)] == ["zlib"]
    r = subprocess.run([str(exe), "--version"], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and r.stdout.startswith("conda ")
