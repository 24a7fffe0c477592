"""``envlock create --reinstall``: what a rebuild must distrust before it links.

An environment's files are hard links into the package caches (rattler's extracted packages for
conda, uv's unpacked wheels for pip), so an edit made in place in the environment is an edit of
the cache too, and relinking from it would bring the edit back.  Before linking, every extracted
conda package is checked against its own ``info/paths.json`` (the archive's per-file sha256):
files missing, of another size, written after the extraction, or found modified in the old
environment are hashed, and a package with any mismatch is extracted again from its
(hash-checked) archive.  After uv installed the pip part, the files of the pip packages found
modified in the old environment are hashed against their RECORD; a mismatch means uv's cache
holds the edit: those wheels are dropped from uv's cache and installed again."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from envlock.core.digests import hash_file
from envlock.core.names import canonical_name
from envlock.create.link.rattler_cache import (
    entry_of,
    evict_packages,
    extracted_ns,
    rattler_has_package,
)
from envlock.lockfile import LockedPackage
from envlock.prefix.drift import DriftReport


def old_environment_drift(prefix: Path, platform: str, locked: Sequence[LockedPackage], *,
                          full: bool = False) -> DriftReport | None:
    """The drift check of the environment being replaced (None: there is none to check);
    ``full``: every file hashed (an edit that restored its mtime)."""
    if not (prefix / "conda-meta").is_dir():
        return None
    from envlock.prefix.drift import check_prefix

    return check_prefix(prefix, platform, locked, full=full)


def modified_files(report: DriftReport | None) -> dict[str, set[str]]:
    """normalized package name -> paths (relative to the prefix) found modified."""
    out: dict[str, set[str]] = {}
    for f in report.files if report is not None else ():
        if f.kind == "modified":
            out.setdefault(canonical_name(f.package), set()).add(f.path)
    return out


def _entry_damaged(entry: Path, suspects: set[str], full: bool) -> bool:
    """Whether an extracted package differs from its archive's ``info/paths.json``."""
    try:
        with open(entry / "info" / "paths.json", "rb") as f:
            paths = json.load(f).get("paths", [])
    except (OSError, ValueError, AttributeError):
        return True
    extracted = extracted_ns(entry) or 0
    base = str(entry) + os.sep
    to_hash: list[tuple[str, str]] = []
    for e in paths:
        rel = e.get("_path") if isinstance(e, dict) else None
        if not rel or e.get("path_type", "hardlink") != "hardlink":
            continue
        try:
            st = os.lstat(base + rel)
        except OSError:
            return True
        size, digest = e.get("size_in_bytes"), e.get("sha256")
        if size is not None and st.st_size != size:
            return True
        if digest and (full or rel in suspects or st.st_mtime_ns > extracted):
            to_hash.append((base + rel, digest))
    return any(hash_file(path) != digest for path, digest in to_hash)


def damaged_cache_entries(packages: Sequence[LockedPackage], pkgs_cache: Path,
                          modified: dict[str, set[str]], *, full: bool = False) -> list[LockedPackage]:
    """The locked conda packages whose extraction in the cache is not what their archive holds
    (``full``: every file hashed, else those whose size or mtime changed or found modified)."""
    extracted = [p for p in packages if rattler_has_package(p, pkgs_cache)]
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 2) * 2)) as pool:
        flags = list(pool.map(lambda p: _entry_damaged(entry_of(pkgs_cache, p), modified.get(canonical_name(p.name), set()),
                                                       full), extracted))
    return [p for p, bad in zip(extracted, flags, strict=True) if bad]


def distrust_conda_cache(packages: Sequence[LockedPackage], pkgs_cache: Path, modified: dict[str, set[str]], *,
                         full: bool = False) -> list[str]:
    """Evict damaged extractions (the linking then extracts them again); their names."""
    return evict_packages(damaged_cache_entries(packages, pkgs_cache, modified, full=full), pkgs_cache)


def pip_packages_to_repair(staging: Path, packages: Sequence[LockedPackage], modified: dict[str, set[str]]) -> list[LockedPackage]:
    """pip packages installed in ``staging`` whose files, among those found modified in the old
    environment, still differ from their RECORD (uv linked them from a damaged cache entry)."""
    from envlock.prefix.drift import pip_dists
    from envlock.prefix.pip_files import read_record

    suspects = {canonical_name(p.name): p for p in packages if canonical_name(p.name) in modified}
    if not suspects:
        return []
    dists = pip_dists(staging, set())
    out = []
    for name, pkg in suspects.items():
        if name not in dists:
            continue
        _version, sp_rel, dist = dists[name]
        for e in read_record(staging, sp_rel, dist):
            if e.path in modified[name]:
                try:
                    same = hash_file(str(staging / e.path)) == e.sha256
                except OSError:
                    same = False
                if not same:
                    out.append(pkg)
                    break
    return out
