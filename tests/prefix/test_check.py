"""``envlock check``: every kind of drift, for conda and pip packages, files and variables."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from create_support import (
    envlock,
)

pytest_plugins = ["create_support"]  # fixtures: project, cache, env, locked_template, extra_channel




def check(project: Path, cache: Path, *extra: str) -> tuple[int, dict]:
    r = envlock(project, "check", "--profile", "t", "--json", *extra, cache=cache)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, json.loads(r.stdout)


def meta_file(prefix: Path, name: str) -> Path:
    [path] = list((prefix / "conda-meta").glob(f"{name}-*.json"))
    return path


def test_clean_environment_hashes_nothing(env) -> None:
    project, prefix, cache = env
    rc, rep = check(project, cache)
    assert rc == 0 and rep["clean"] is True
    assert rep["files_checked"] >= 70 and rep["files_hashed"] == 0  # size+mtime fast path
    rc, rep = check(project, cache, "--full")
    links = sum(1 for m in (prefix / "conda-meta").glob("*.json")
                for e in json.loads(m.read_text())["paths_data"]["paths"] if e["path_type"] == "softlink")
    assert links >= 1
    assert rc == 0 and rep["files_hashed"] == rep["files_checked"] - links  # every file but the symlinks


def test_modified_file_same_size(env) -> None:
    project, prefix, cache = env
    target = prefix / "share" / "pdata" / "f00007.dat"
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.unlink()  # break the hard link first, as an editor would; the cache stays intact
    target.write_bytes(bytes(data))
    rc, rep = check(project, cache)
    assert rc == 1
    assert rep["files"] == [{"package": "pdata", "path": "share/pdata/f00007.dat", "kind": "modified"}]
    r = envlock(project, "check", "--profile", "t", cache=cache)
    assert r.returncode == 1 and "share/pdata/f00007.dat" in r.stdout and "modified" in r.stdout


def test_modified_file_other_size_and_deleted_file(env) -> None:
    project, prefix, cache = env
    (prefix / "etc" / "ptool.conf").write_text("root=/elsewhere\n")
    (prefix / "share" / "ptool" / "f00003.dat").unlink()
    (prefix / "bin" / "ptool-link").unlink()
    rc, rep = check(project, cache)
    assert rc == 1
    kinds = {(f["path"], f["kind"]) for f in rep["files"]}
    assert kinds == {("etc/ptool.conf", "modified"), ("share/ptool/f00003.dat", "deleted"), ("bin/ptool-link", "deleted")}


def test_change_with_restored_mtime_needs_full(env) -> None:
    project, prefix, cache = env
    target = prefix / "share" / "ptool" / "f00001.dat"
    st = target.stat()
    data = bytearray(target.read_bytes())
    data[0] ^= 1
    target.unlink()
    target.write_bytes(bytes(data))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    rc, rep = check(project, cache, "--full")
    assert rc == 1 and [f["path"] for f in rep["files"]] == ["share/ptool/f00001.dat"]


def test_conda_package_removed_added_changed(env) -> None:
    project, prefix, cache = env
    meta_file(prefix, "pdata").unlink()
    tool = meta_file(prefix, "ptool")
    doc = json.loads(tool.read_text())
    doc["version"] = "1.1"
    tool.write_text(json.dumps(doc))
    extra = json.loads(meta_file(prefix, "numpy").read_text())
    extra.update(name="stowaway", version="0.1", build="x_0", files=[], paths_data={"paths": []})
    (prefix / "conda-meta" / "stowaway-0.1-x_0.json").write_text(json.dumps(extra))
    rc, rep = check(project, cache)
    assert rc == 1
    got = {(p["manager"], p["name"], p["kind"], p["locked"], p["installed"]) for p in rep["packages"]}
    assert got == {
        ("conda", "pdata", "removed", "2.0 h0_0", None),
        ("conda", "ptool", "changed", "1.0 h0_0", "1.1 h0_0"),
        ("conda", "stowaway", "added", None, "0.1 x_0"),
    }


def test_pip_package_added(env) -> None:
    project, prefix, cache = env
    sp = next((prefix / "lib").glob("python*/site-packages"))
    dist = sp / "Left_Pad-1.2.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Name: left-pad\nVersion: 1.2\n")
    rc, rep = check(project, cache)
    assert rc == 1
    assert rep["packages"] == [{"manager": "pip", "name": "left-pad", "kind": "added", "locked": None, "installed": "1.2"}]


def test_activation_variable_drift(env) -> None:
    project, prefix, cache = env
    state = prefix / "conda-meta" / "state"
    doc = json.loads(state.read_text())
    doc["env_vars"]["FOO"] = "other"
    state.write_text(json.dumps(doc))
    rc, rep = check(project, cache)
    assert rc == 1
    assert rep["env_vars"] == [{"name": "FOO", "locked": "bar baz", "installed": "other"}]


def test_check_on_missing_environment(project: Path, cache: Path) -> None:
    r = envlock(project, "check", "--profile", "t", cache=cache)
    assert r.returncode == 2 and "is not a conda environment" in r.stderr


def test_check_pip_removed_and_changed(env) -> None:
    """pip packages of the lock: fake a pip entry in the lock by hand (unit-level, offline)."""
    from envlock.lockfile import LockedPackage
    from envlock.prefix.drift import check_prefix

    project, prefix, cache = env
    sp = next((prefix / "lib").glob("python*/site-packages"))
    (sp / "six-1.16.0.dist-info").mkdir()
    locked = [LockedPackage(name="six", version="1.17.0", manager="pip", platform="linux-64", url="https://x/six.whl"),
              LockedPackage(name="attrs", version="24.1.0", manager="pip", platform="linux-64", url="https://x/a.whl")]
    rep = check_prefix(prefix, "linux-64", locked)
    got = {(p.name, p.kind, p.locked, p.installed) for p in rep.packages if p.manager == "pip"}
    assert got == {("six", "changed", "1.17.0", "1.16.0"), ("attrs", "removed", "24.1.0", None)}
    shutil.rmtree(sp / "six-1.16.0.dist-info")
