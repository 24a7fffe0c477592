"""Drift you can repair: ``check`` names the fix, ``create --reinstall`` rebuilds from the lock
(deleted and modified files back, foreign packages gone), also when the edit went through a hard
link into the package caches; the pip part checked file by file against RECORD.  pip packages
come from a real wheel index served over HTTP by the test (PyPI is not used offline)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from create_support import env_prefix, envlock, leftovers, summary
from wheel_index import WheelIndex, pip_env

pytest_plugins = ["create_support", "wheel_index"]  # fixtures: project, cache, env; wheel_index, pip_project


def check(project: Path, cache: Path, *extra: str, extra_env: dict | None = None) -> tuple[int, dict]:
    r = envlock(project, "check", "--profile", "t", "--json", *extra, cache=cache, extra_env=extra_env)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, json.loads(r.stdout)


def test_check_names_the_fix_and_reinstall_repairs(env) -> None:
    project, prefix, cache = env
    (prefix / "etc" / "ptool.conf").write_text("root=/elsewhere\n")
    (prefix / "share" / "pdata" / "f00003.dat").unlink()
    rc, rep = check(project, cache)
    assert rc == 1 and rep["ok"] is False and rep["clean"] is False
    assert rep["fix"] == "envlock create --profile t --reinstall"
    r = envlock(project, "check", "--profile", "t", cache=cache)
    assert r.returncode == 1 and r.stdout.rstrip().splitlines()[-1].startswith("fix: envlock create --profile t --reinstall")
    r = envlock(project, "create", "--profile", "t", "--no-verify", "--json", cache=cache)
    assert r.returncode == 0 and summary(r)["action"] == "up-to-date"  # plain create stays a no-op

    record = json.loads(next((prefix / "conda-meta").glob("numpy-*.json")).read_text())
    record.update(name="stowaway", version="0.1", build="x_0", files=[], paths_data={"paths": []})
    (prefix / "conda-meta" / "stowaway-0.1-x_0.json").write_text(json.dumps(record))
    sp = next((prefix / "lib").glob("python*/site-packages"))
    (sp / "left_pad-1.2.dist-info").mkdir()
    rc, rep = check(project, cache)
    assert rc == 1 and {(p["name"], p["kind"]) for p in rep["packages"]} == {("stowaway", "added"), ("left-pad", "added")}

    r = envlock(project, "create", "--profile", "t", "--no-verify", "--reinstall", "--json", cache=cache)
    assert r.returncode == 0, r.stderr
    s = summary(r)
    assert s["ok"] is True and s["action"] == "reinstalled"
    assert (prefix / "etc" / "ptool.conf").read_text() == f"root={prefix}\n"
    assert (prefix / "share" / "pdata" / "f00003.dat").is_file()
    assert not (prefix / "conda-meta" / "stowaway-0.1-x_0.json").exists() and not (sp / "left_pad-1.2.dist-info").exists()
    assert check(project, cache, "--full")[0] == 0
    assert leftovers(project) == []


def test_reinstall_restores_bytes_edited_through_a_hard_link(env) -> None:
    project, prefix, cache = env
    victim = prefix / "share" / "ptool" / "f00005.dat"
    original = victim.read_bytes()
    assert victim.stat().st_nlink >= 2  # the cache's extracted copy is the same inode
    with open(victim, "r+b") as f:
        f.write(b"EDITED")
    r = envlock(project, "create", "--profile", "t", "--no-verify", "--reinstall", cache=cache)
    assert r.returncode == 0, r.stderr
    assert "ptool" in r.stderr and "extracting them again" in r.stderr
    assert victim.read_bytes() == original
    assert check(project, cache, "--full")[0] == 0


def test_reinstall_full_restores_an_edit_that_kept_size_and_mtime(env) -> None:
    project, prefix, cache = env
    victim = prefix / "share" / "pdata" / "f00002.dat"
    original, st = victim.read_bytes(), victim.stat()
    with open(victim, "r+b") as f:  # through the hard link, then the mtime put back
        f.write(b"X" * 16)
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert check(project, cache)[0] == 0  # size+mtime cannot see it
    rc, rep = check(project, cache, "--full")
    assert rc == 1 and rep["fix"] == "envlock create --profile t --reinstall --full"
    r = envlock(project, "create", "--profile", "t", "--no-verify", "--reinstall", "--full", cache=cache)
    assert r.returncode == 0, r.stderr
    assert victim.read_bytes() == original
    assert check(project, cache, "--full")[0] == 0
    r = envlock(project, "create", "--profile", "t", "--full", cache=cache)
    assert r.returncode == 2 and "--reinstall" in r.stderr


def test_json_answers_every_error(project: Path, cache: Path) -> None:
    for args in (["check", "--profile", "t"], ["check", "--profile", "nope"], ["create", "--profile", "nope"],
                 ["create", "--profile", "t", "--frozen", "--no-verify"]):
        if args[0] == "create" and "--frozen" in args:
            (project / "locks" / "t.conda-lock.yml").unlink()
        r = envlock(project, *args, "--json", cache=cache)
        assert r.returncode in (1, 2), (args, r.stdout, r.stderr)
        doc = json.loads(r.stdout)  # exactly one object, nothing else
        assert doc["ok"] is False and doc["exit_code"] == r.returncode and doc["error"], args
        assert "Traceback" not in r.stderr


# --- the pip part ---------------------------------------------------------------------------

def test_check_covers_pip_files_and_reinstall_restores_them(pip_project: Path, wheel_index: WheelIndex, tmp_path: Path) -> None:
    project, cache, uv_env = pip_project, tmp_path / "cache", pip_env(wheel_index, tmp_path / "uv")
    r = envlock(project, "create", "--profile", "t", "--no-verify", cache=cache, extra_env=uv_env)
    assert r.returncode == 0, r.stderr
    prefix = env_prefix(project)
    rc, rep = check(project, cache, "--full", extra_env=uv_env)
    assert rc == 0, rep  # the entry-point script uv wrote (then pointed at the final prefix) agrees with RECORD
    pkg = next((prefix / "lib").glob("python*/site-packages")) / "tinypkg"
    (pkg / "__init__.py").unlink()
    data = pkg / "data.txt"
    assert data.stat().st_nlink >= 2  # uv linked it from its cache (same file system)
    with open(data, "r+b") as f:  # in place: through the hard link, so uv's cache holds the edit too
        f.write(b"EDITED")
    rc, rep = check(project, cache)
    assert rc == 1
    got = {(f["package"], Path(f["path"]).name, f["kind"]) for f in rep["files"]}
    assert got == {("tinypkg", "__init__.py", "deleted"), ("tinypkg", "data.txt", "modified")}
    r = envlock(project, "create", "--profile", "t", "--no-verify", "--reinstall", cache=cache, extra_env=uv_env)
    assert r.returncode == 0, r.stderr
    assert "uv's cache: tinypkg were modified" in r.stderr
    assert (pkg / "__init__.py").read_text() == "VALUE = 42\n" and data.read_text() == "x" * 5000
    assert check(project, cache, "--full", extra_env=uv_env)[0] == 0
