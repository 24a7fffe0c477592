"""py-rattler's package cache (``<cache>/pkgs``) as the linkers see it: which extracted
package belongs to which archive, whether an extraction was edited in place since (through a
hard link in some environment), and moving such extractions out of the way."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from envlock.core.child import die_with_parent
from envlock.create.cache import CachedArchive
from envlock.lockfile import LockedPackage


def entry_of(pkgs_cache: Path, pkg: LockedPackage) -> Path:
    return pkgs_cache / f"{pkg.name}-{pkg.version}-{pkg.build}"


def entry_stamp_path(entry: Path) -> Path:
    """The entry's ``.lock``: rattler writes it when it extracts, with the archive's sha256."""
    return entry.with_name(entry.name + ".lock")


def extracted_ns(entry: Path) -> int | None:
    try:
        return entry_stamp_path(entry).stat().st_mtime_ns
    except OSError:
        return None


def entry_stamp(entry: Path) -> list[int] | None:
    """Size and mtime of the entry's ``.lock``; None: not extracted.  A plan set keeps the stamp
    of each ``.lock`` whose content was read: while it matches, the ``.lock`` is only stat-ed.
    Why: their inodes sit side by side on disk, their contents do not.  Not the inode: a restored cache has new ones."""
    try:
        st = entry_stamp_path(entry).stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def start_modified_scan(packages: Sequence[LockedPackage], pkgs_cache: Path) -> subprocess.Popen | None:
    """Look, with one ``find`` running alongside the linking, for files of extracted packages
    written after their extraction (extraction keeps the archives' old mtimes, so an in-place
    edit through a hard link in some environment stands out).  ``envlock check``'s size+mtime
    fast path relies on the linked copies having been clean."""
    if not sys.platform.startswith("linux"):
        return None
    entries = [(e, t) for p in packages if (t := extracted_ns(e := entry_of(pkgs_cache, p))) is not None]
    if not entries:
        return None
    oldest = min(t for _e, t in entries) // 1_000_000_000
    cmd = ["find", *(str(e) for e, _t in entries), "-type", "f", "-newermt", f"@{oldest}", "-print0"]
    try:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent())
    except FileNotFoundError:  # no find(1): the scan is skipped, as on other systems
        return None


def finish_modified_scan(proc: subprocess.Popen | None, archives: Sequence[CachedArchive],
                         pkgs_cache: Path) -> list[CachedArchive]:
    if proc is None:
        return []
    out, _ = proc.communicate()
    by_entry = {entry_of(pkgs_cache, a.package).name: a for a in archives}
    found: dict[str, CachedArchive] = {}
    base = str(pkgs_cache) + os.sep
    for raw in out.split(b"\0"):
        path = os.fsdecode(raw)
        if not path.startswith(base):
            continue
        name, _, rel = path[len(base):].partition(os.sep)
        item = by_entry.get(name)
        if item is None or name in found or rel.startswith("info" + os.sep):
            continue  # info/ (rattler's own records) is never linked into environments
        extracted = extracted_ns(pkgs_cache / name)
        try:
            if extracted is None or os.lstat(path).st_mtime_ns > extracted:
                found[name] = item
        except OSError:
            continue
    return list(found.values())


def evict(items: Sequence[CachedArchive], pkgs_cache: Path) -> list[str]:
    """Move extracted packages out of rattler's cache so they are extracted again from the
    verified archives (a rename: a concurrent create still linking from them fails cleanly)."""
    return evict_packages([item.package for item in items], pkgs_cache)


def evict_packages(packages: Sequence[LockedPackage], pkgs_cache: Path) -> list[str]:
    """``evict`` by package."""
    import shutil

    graveyard = pkgs_cache / ".evicted"
    names = []
    for pkg in packages:
        entry = entry_of(pkgs_cache, pkg)
        graveyard.mkdir(exist_ok=True)
        try:
            os.rename(entry, graveyard / f"{entry.name}-{os.getpid()}-{os.urandom(4).hex()}")
        except OSError:
            continue
        entry_stamp_path(entry).unlink(missing_ok=True)
        names.append(pkg.name)
    shutil.rmtree(graveyard, ignore_errors=True)
    return names


def rattler_has_package(pkg: LockedPackage, pkgs_cache: Path, *, check_info: bool = True) -> bool:
    """py-rattler's cache entry ``<name>-<version>-<build>`` is valid for this sha256
    (its ``.lock`` file is an 8-byte revision followed by the 32-byte sha256).  ``check_info``
    False: its ``info/`` is not looked at (the fast linker, once a link plan is cached, reads
    nothing there: a payload file gone fails its link, and rattler then checks the entry)."""
    if not pkg.sha256:
        return False
    stem = entry_of(pkgs_cache, pkg)
    try:
        with open(entry_stamp_path(stem), "rb") as f:
            head = f.read(40)
    except OSError:
        return False
    return (len(head) == 40 and head[8:] == bytes.fromhex(pkg.sha256)
            and (not check_info or (stem / "info" / "index.json").is_file()))
