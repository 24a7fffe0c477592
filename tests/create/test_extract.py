"""Cold packages extracted by envlock (``envlock.create.link.extract``), ``.tar.bz2`` and
``.conda``: the same files as rattler's own extraction, a cache entry rattler and the fast linker take as theirs,
nothing left behind when an extraction fails; end to end, a cold create from a ``.tar.bz2``
channel is linked by the fast linker and equals a create linked by rattler alone."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
from pathlib import Path

import pytest
from channel_factory import PREFIX_PLACEHOLDER, PackageSpec, build_channel, payload
from conftest import profile_doc, tf_channel_specs, write_project
from create_support import env_prefix, envlock, extra_specs, records, summary, tree

from envlock.create.cache import CachedArchive
from envlock.create.link import extract
from envlock.create.link.rattler_cache import entry_of, rattler_has_package
from envlock.lockfile import LockedPackage

pytest_plugins = ["create_support"]


def spec(fmt: str = "tar.bz2") -> PackageSpec:
    return PackageSpec("bzpkg", "1.0", "h0_0", fmt=fmt, files={
        "bin/tool": b"#!/bin/sh\necho tool\n", "etc/conf": f"root={PREFIX_PLACEHOLDER}\n".encode(),
        **payload(25, 3000, "bzpkg")}, symlinks={"bin/tool-link": "tool"}, text_prefix_files=["etc/conf"])


def archive_item(channel: Path, root: Path, fmt: str = "tar.bz2") -> CachedArchive:
    path = channel / "linux-64" / spec(fmt).filename
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    pkg = LockedPackage(name="bzpkg", version="1.0", build="h0_0", platform="linux-64", url=path.as_uri(),
                        sha256=digest, channel=channel.as_uri())
    return CachedArchive(pkg, path, root / "index.json", False, path.stat().st_size)


def files_of(root: Path) -> dict[str, tuple]:
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            full = Path(dirpath, name)
            st = full.lstat()
            rel = str(full.relative_to(root))
            if full.is_symlink():
                out[rel] = ("link", os.readlink(full))
            elif full.is_file():
                out[rel] = ("file", st.st_mode & 0o7777, full.read_bytes(), st.st_mtime_ns // 10**9)
            else:
                out[rel] = ("dir",)
    return out


@pytest.mark.parametrize("fmt", ["tar.bz2", "conda"])
def test_extraction_equals_rattlers_and_is_taken_as_its_own(tmp_path: Path, fmt: str) -> None:
    import rattler.package_streaming as ps

    channel = build_channel(tmp_path / "channel", [spec(fmt)])
    pkgs = tmp_path / "pkgs"
    item = archive_item(channel, tmp_path, fmt)
    assert extract.to_extract([item], pkgs) == [item]
    assert extract.extract_all([item], pkgs) == [item]
    entry = entry_of(pkgs, item.package)
    ps.extract(item.path, tmp_path / "by-rattler")
    assert files_of(entry) == files_of(tmp_path / "by-rattler")  # contents, modes, symlinks, mtimes
    head = (entry.with_name(entry.name + ".lock")).read_bytes()
    assert head[:8] == (1).to_bytes(8, "big") and head[8:] == bytes.fromhex(item.package.sha256)
    assert rattler_has_package(item.package, pkgs)
    assert extract.to_extract([item], pkgs) == []  # there now: never extracted twice
    assert not list((pkgs / ".extracting").iterdir())


@pytest.mark.parametrize("fmt", ["tar.bz2", "conda"])
def test_failed_extraction_leaves_nothing(tmp_path: Path, fmt: str) -> None:
    channel = build_channel(tmp_path / "channel", [spec(fmt)])
    item = archive_item(channel, tmp_path, fmt)
    broken = tmp_path / f"broken.{fmt}"
    broken.write_bytes(item.path.read_bytes()[: item.size // 3])  # truncated: the decoder fails
    bad = dataclasses.replace(item, path=broken)
    pkgs = tmp_path / "pkgs"
    with pytest.raises(extract.EnvlockError, match=rf"broken\.{fmt}: extracting bzpkg 1\.0-h0_0 failed"):
        extract.extract_all([bad], pkgs)
    assert not os.path.lexists(entry_of(pkgs, item.package))
    assert not list((pkgs / ".extracting").iterdir())
    assert not rattler_has_package(item.package, pkgs)


def test_leftovers_of_a_killed_run_are_removed(tmp_path: Path) -> None:
    channel = build_channel(tmp_path / "channel", [spec()])
    pkgs = tmp_path / "pkgs"
    import subprocess
    import time

    killed = subprocess.Popen(["true"])  # exits at once and stays unreaped: a zombie, as a run killed
    while Path(f"/proc/{killed.pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z":
        time.sleep(0.01)  # before its parent noticed
    dead = pkgs / ".extracting" / "bzpkg-1.0-h0_0-999999999-abcd1234"  # no such process
    zombie = pkgs / ".extracting" / f"bzpkg-1.0-h0_0-{killed.pid}-abcd1234"
    alive = pkgs / ".extracting" / f"bzpkg-1.0-h0_0-{os.getpid()}-abcd1234"  # a concurrent run's
    for d in (dead, zombie, alive):
        (d / "info").mkdir(parents=True)
    extract.extract_all([archive_item(channel, tmp_path)], pkgs)
    killed.wait()
    assert not dead.exists() and not zombie.exists() and alive.exists()


@pytest.fixture(scope="module")
def bz2_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Profile ``t`` over channels whose every package is a ``.tar.bz2`` archive."""
    specs = [dataclasses.replace(s, fmt="tar.bz2") for s in tf_channel_specs()]
    tf = build_channel(tmp_path_factory.mktemp("bz2-channel"), specs)
    extra = build_channel(tmp_path_factory.mktemp("bz2-extra"), [dataclasses.replace(s, fmt="tar.bz2") for s in extra_specs()])
    root = tmp_path_factory.mktemp("bz2") / "project"
    doc = profile_doc("t", tf, conda=["ptool", "pdata"])
    doc["channels"] = [tf.as_uri(), extra.as_uri()]
    write_project(root, {"t": doc})
    r = envlock(root, "lock", "--profile", "t", cache=root / "unused-cache")
    assert r.returncode == 0, r.stderr
    return root


def test_cold_bz2_create_is_fast_linked_and_equals_rattlers(bz2_project: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(bz2_project, project)
    prefix = env_prefix(project)

    def create(cache: Path, **env: str) -> dict:
        r = envlock(project, "create", "--profile", "t", "--json", "--no-verify", cache=cache, extra_env=env or None)
        assert r.returncode == 0, r.stderr
        return summary(r)

    assert create(tmp_path / "cache-rattler", ENVLOCK_LINKER="rattler")["linker"] == "rattler"
    want_tree, want_meta = tree(prefix), records(prefix)
    shutil.rmtree(prefix)
    cache = tmp_path / "cache"
    assert create(cache)["linker"].startswith("fast")  # cold, yet every package extracted by envlock
    stamps = {p.name: p.read_bytes()[:8] for p in (cache / "pkgs").glob("*.lock") if p.name != ".cache.lock"}
    assert len(stamps) == 7 and set(stamps.values()) == {(1).to_bytes(8, "big")}  # rattler extracted none again
    got_meta = {k: v.replace(str(cache), str(tmp_path / "cache-rattler")) for k, v in records(prefix).items()}
    for name, text in want_meta.items():
        assert got_meta.get(name) == text, (name, got_meta.get(name), text)
    assert tree(prefix).keys() == want_tree.keys()
    assert [k for k in want_tree if not k.startswith("conda-meta") and tree(prefix)[k] != want_tree[k]] == []
    assert envlock(project, "check", "--profile", "t", cache=cache).returncode == 0
    shutil.rmtree(prefix)
    assert create(cache)["linker"].startswith("fast")  # warm, from those extractions
    assert {k: v.replace(str(cache), str(tmp_path / "cache-rattler")) for k, v in records(prefix).items()} == want_meta


def test_archive_left_to_its_extraction_is_still_hashed_before_the_swap(tmp_path: Path) -> None:
    """A cold local archive is not hashed up front (its extraction hashes it, in the same read);
    if nothing extracts it, ``wait_checks`` (before the swap) hashes it: a changed archive fails."""
    from envlock.core.errors import CheckFailed
    from envlock.create.link.prepare import PreparedArchives

    channel = build_channel(tmp_path / "channel", [spec("conda")])
    item = archive_item(channel, tmp_path, "conda")
    data = item.path.read_bytes()
    item.path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # changed after the lock was made
    with PreparedArchives(tmp_path / "cache", [item.package], "linux-64", jobs=2) as prepared:
        [left] = prepared.archives
        assert not left.verified
        with pytest.raises(CheckFailed, match="sha256 mismatch for bzpkg 1.0-h0_0"):
            prepared.wait_checks()
    item.path.write_bytes(data)
    with PreparedArchives(tmp_path / "cache", [item.package], "linux-64", jobs=2) as prepared:
        prepared.wait_checks()
        assert prepared.verified(prepared.archives[0]).verified


def test_without_a_bzip2_decoder_only_the_conda_archives_are_extracted(tmp_path: Path, monkeypatch) -> None:
    """A ``.tar.bz2`` with no decoder on the machine is left to rattler: it is not among those
    returned as extracted (whose records the caller then reads from the extraction)."""
    bz2 = build_channel(tmp_path / "bz2", [spec("tar.bz2")])
    conda = build_channel(tmp_path / "conda", [dataclasses.replace(spec("conda"), name="czpkg")])
    bz2_item = archive_item(bz2, tmp_path)
    path = conda / "linux-64" / dataclasses.replace(spec("conda"), name="czpkg").filename
    conda_item = CachedArchive(dataclasses.replace(bz2_item.package, name="czpkg", url=path.as_uri(),
                                                   sha256=hashlib.sha256(path.read_bytes()).hexdigest()),
                               path, tmp_path / "cz.json", False, path.stat().st_size)
    monkeypatch.setattr(extract, "decoder", lambda threads: None)
    pkgs = tmp_path / "pkgs"
    assert extract.extract_all([bz2_item, conda_item], pkgs) == [conda_item]
    assert not os.path.lexists(entry_of(pkgs, bz2_item.package)) and rattler_has_package(conda_item.package, pkgs)
