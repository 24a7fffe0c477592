"""Stable locks: a fresh lock is left alone, a stale one moves only what the edit forces,
``--update PKG`` moves the named package, ``--update-all`` re-solves from scratch, and every
lock that changes says what moved.  Real conda-lock + py-rattler against a local channel."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from channel_factory import PackageSpec, index_channel, write_package
from conftest import profile_doc, write_project

from tests.lock.test_lock import envlock, lock_of, pkg


def _snapshot(project: Path) -> dict[Path, tuple[bytes, int]]:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (project / "locks").rglob("*") if p.is_file()}


def _add_libfoo(channel: Path, version: str) -> None:
    write_package(channel, PackageSpec("libfoo", version, "h0_0", files={"lib/libfoo.txt": version.encode()}))
    index_channel(channel)


def test_fresh_lock_kept_stale_moves_only_what_it_must_update_moves_named(tf_channel: Path, tmp_path: Path) -> None:
    channel = tmp_path / "channel"
    shutil.copytree(tf_channel, channel)
    _add_libfoo(channel, "1.0")
    project = write_project(tmp_path / "p", {"a": profile_doc("a", channel, conda=["libfoo"])})
    assert envlock(project, "lock").returncode == 0
    assert pkg(lock_of(project, "a"), "libfoo")["version"] == "1.0"
    _add_libfoo(channel, "1.1")  # a newer libfoo appears in the channel

    # fresh lock: nothing solved, nothing written, and --json says so
    before = _snapshot(project)
    r = envlock(project, "lock", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["ok"] is True and doc["profiles"][0]["written"] is False and doc["profiles"][0]["changes"] == {}
    assert _snapshot(project) == before
    r = envlock(project, "lock")
    assert r.returncode == 0 and "up to date" in r.stdout
    assert _snapshot(project) == before

    # stale lock (another spec edited): re-solved preferring what is locked
    prof = project / "profiles" / "a.yml"
    doc = yaml.safe_load(prof.read_text())
    doc["keras"] = "3.5.*"
    prof.write_text(yaml.safe_dump(doc))
    r = envlock(project, "lock", "--json")
    assert r.returncode == 0, r.stderr
    [res] = json.loads(r.stdout)["profiles"]
    assert res["written"] is True
    assert [(c["name"], c["kind"]) for c in res["changes"]["linux-64"]] == [("keras", "downgraded")]
    lock = lock_of(project, "a")
    assert pkg(lock, "libfoo")["version"] == "1.0" and pkg(lock, "keras")["version"] == "3.5.0"

    # --update libfoo moves it, and says so
    r = envlock(project, "lock", "--profile", "a", "--update", "libfoo")
    assert r.returncode == 0, r.stderr
    assert "libfoo 1.0 → 1.1" in r.stdout
    lock = lock_of(project, "a")
    assert pkg(lock, "libfoo")["version"] == "1.1" and pkg(lock, "keras")["version"] == "3.5.0"

    # --update-all: from scratch (keras stays where the profile pins it; libfoo to the newest)
    _add_libfoo(channel, "1.2")
    assert pkg(lock_of(project, "a"), "libfoo")["version"] == "1.1"
    r = envlock(project, "lock", "--update-all", "--json")
    assert r.returncode == 0, r.stderr
    [res] = json.loads(r.stdout)["profiles"]
    [change] = res["changes"]["linux-64"]
    assert change["name"] == "libfoo" and change["old"].startswith("1.1") and change["new"].startswith("1.2")
    assert pkg(lock_of(project, "a"), "libfoo")["version"] == "1.2"


def test_update_and_update_all_exclude_each_other(make_project) -> None:
    project = make_project({"a": {}})
    r = envlock(project, "lock", "--profile", "a", "--update", "numpy", "--update-all", "--json")
    assert r.returncode == 2
    doc = json.loads(r.stdout)
    assert doc["ok"] is False and "--update-all" in doc["error"]


def test_lock_broken_by_hand_is_solved_again(make_project) -> None:
    """A lockfile edited into nonsense holds no versions to prefer: the lock is solved afresh
    instead of failing on it."""
    project = make_project({"a": {}})
    assert envlock(project, "lock").returncode == 0
    lockfile = project / "locks" / "a.conda-lock.yml"
    lockfile.write_text("version: 1\nmetadata: {}\npackage:\n- name: 7\n")
    meta = project / "locks" / "a" / "envlock-meta.json"
    meta.write_text("{not json")
    r = envlock(project, "lock", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["profiles"][0]["written"] is True
    assert pkg(lock_of(project, "a"), "tensorflow")["version"] == "2.19.0"
    assert envlock(project, "lock", "--check").returncode == 0
