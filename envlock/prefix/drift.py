"""``envlock check``: an installed prefix against its lock.

Packages: conda (``conda-meta/*.json``) and pip (``*.dist-info`` not owned by a conda package)
added (foreign: not in the lock), removed, or at another version/build.  Files: every file of
every locked conda package, against the sha256 (``sha256_in_prefix`` where the prefix was
embedded) in its record's ``paths_data``, and every hashed file of every locked pip package,
against its ``RECORD`` — only files whose size differs or whose mtime is not older than the moment the
environment was finished are hashed, so an unchanged 30,000-file environment costs one
``lstat`` per file.  ``full=True`` hashes everything (catches a change that restored the mtime).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from envlock.core.digests import hash_file
from envlock.core.names import canonical_name
from envlock.lockfile import LockedPackage
from envlock.prefix.activation import read_env_vars
from envlock.prefix.pip_files import read_record, site_packages
from envlock.prefix.stamp import read_stamp
from envlock.prefix.startup_hook import HOOK_PACKAGE, hook_problems


class PackageDrift(BaseModel):
    manager: Literal["conda", "pip"]
    name: str
    kind: Literal["added", "removed", "changed"]
    locked: str | None = None
    installed: str | None = None


class FileDrift(BaseModel):
    package: str
    path: str
    kind: Literal["modified", "deleted"]


class VarDrift(BaseModel):
    name: str
    locked: str | None
    installed: str | None


class DriftReport(BaseModel):
    prefix: str
    platform: str
    packages: list[PackageDrift] = []
    files: list[FileDrift] = []
    env_vars: list[VarDrift] = []
    files_checked: int = 0
    files_hashed: int = 0
    fix: str | None = None  # the command that rebuilds the environment from its lock, when it drifted

    @property
    def clean(self) -> bool:
        return not (self.packages or self.files or self.env_vars)

    def summary(self) -> str:
        if self.clean:
            return f"{self.prefix}: matches its lock ({self.files_checked} files checked)"
        parts = []
        if self.packages:
            parts.append(f"{len(self.packages)} package difference(s)")
        if self.files:
            parts.append(f"{len(self.files)} modified/deleted file(s)")
        if self.env_vars:
            parts.append(f"{len(self.env_vars)} activation variable difference(s)")
        return f"{self.prefix}: drift from its lock — " + ", ".join(parts)

    def fix_line(self) -> str:
        return f"fix: {self.fix}  (rebuilds it from the lock)" if self.fix else ""


def _conda_records(prefix: Path) -> list[dict]:
    meta = prefix / "conda-meta"
    out = []
    try:
        names = sorted(os.listdir(meta))
    except OSError:
        return out
    for n in names:
        if n.endswith(".json"):
            try:
                with open(meta / n, "rb") as f:
                    out.append(json.load(f))
            except (OSError, ValueError):
                out.append({"name": n[:-5], "version": "?", "build": "unreadable"})
    return out


def pip_dists(prefix: Path, conda_owned: set[str]) -> dict[str, tuple[str, str, str]]:
    """normalized name -> (version, site-packages dir, dist-info dir) of the dist-info
    directories not installed by conda."""
    out: dict[str, tuple[str, str, str]] = {}
    for sp_rel in site_packages(prefix):
        try:
            entries = os.listdir(prefix / sp_rel)
        except OSError:
            continue
        for e in entries:
            if not e.endswith(".dist-info"):
                continue
            rel = f"{sp_rel}/{e}"
            if f"{rel}/METADATA" in conda_owned or f"{rel}/RECORD" in conda_owned:
                continue
            stem = e[: -len(".dist-info")]
            name, _, version = stem.partition("-")
            out[canonical_name(name)] = (version, sp_rel, e)
    return out


def check_prefix(
    prefix: Path, platform: str, locked: Sequence[LockedPackage], *,
    env_vars: dict[str, str] | None = None, full: bool = False,
) -> DriftReport:
    report = DriftReport(prefix=str(prefix), platform=platform)
    stamp = read_stamp(prefix)
    trusted_before = 0 if (full or stamp is None) else stamp.finished_ns
    records = _conda_records(prefix)
    installed = {canonical_name(r.get("name", "")): r for r in records}
    lock_conda = {canonical_name(p.name): p for p in locked if p.manager == "conda"}
    lock_pip = {canonical_name(p.name): p for p in locked if p.manager == "pip"}

    for name, p in sorted(lock_conda.items()):
        r = installed.get(name)
        want = f"{p.version} {p.build}"
        if r is None:
            report.packages.append(PackageDrift(manager="conda", name=p.name, kind="removed", locked=want))
            continue
        have = f"{r.get('version')} {r.get('build')}"
        if have != want:
            report.packages.append(PackageDrift(manager="conda", name=p.name, kind="changed", locked=want, installed=have))
    for name, r in sorted(installed.items()):
        if name not in lock_conda:
            report.packages.append(PackageDrift(manager="conda", name=r.get("name", name), kind="added",
                                                installed=f"{r.get('version')} {r.get('build')}"))

    conda_owned = {f for r in records for f in r.get("files", [])}
    pips = pip_dists(prefix, conda_owned)
    for name, p in sorted(lock_pip.items()):
        have = pips[name][0] if name in pips else None
        if have is None:
            report.packages.append(PackageDrift(manager="pip", name=p.name, kind="removed", locked=p.version))
        elif have != p.version:
            report.packages.append(PackageDrift(manager="pip", name=p.name, kind="changed", locked=p.version, installed=have))
    for name, (version, _sp, _dist) in sorted(pips.items()):
        if name not in lock_pip:
            report.packages.append(PackageDrift(manager="pip", name=name, kind="added", installed=version))

    # files of locked, matching conda and pip packages: (package, rel, kind, expected sha256, size)
    candidates: list[tuple[str, str, str, str | None, int | None]] = []
    for name, p in lock_conda.items():
        r = installed.get(name)
        if r is None:
            continue
        for entry in (r.get("paths_data") or {}).get("paths", []):
            rel = entry.get("_path")
            kind = entry.get("path_type", "hardlink")
            if rel and kind != "directory":
                candidates.append((p.name, rel, kind, entry.get("sha256_in_prefix") or entry.get("sha256"),
                                   entry.get("size_in_bytes")))
    for name, p in lock_pip.items():
        if name in pips and pips[name][0] == p.version:
            _version, sp_rel, dist = pips[name]
            candidates.extend((p.name, e.path, "hardlink", e.sha256, e.size) for e in read_record(prefix, sp_rel, dist))
    to_hash = _stat_files(prefix, candidates, trusted_before, report)
    report.files_checked = len(candidates)
    report.files_hashed = len(to_hash)
    if to_hash:
        base = str(prefix) + os.sep
        with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 2) * 2)) as pool:
            digests = list(pool.map(lambda t: _safe_hash(base + t[1]), to_hash))
        for (pkg, rel, expected), got in zip(to_hash, digests, strict=True):
            if got != expected:
                report.files.append(FileDrift(package=pkg, path=rel, kind="modified" if got else "deleted"))
    report.files.sort(key=lambda f: (f.package, f.path))

    if env_vars is not None:
        have_vars = read_env_vars(prefix)
        for k in sorted(set(env_vars) | set(have_vars)):
            if env_vars.get(k) != have_vars.get(k):
                report.env_vars.append(VarDrift(name=k, locked=env_vars.get(k), installed=have_vars.get(k)))
        report.files += hook_drift(prefix, env_vars)  # the startup hook carrying them
    return report


def _stat_files(prefix: Path, candidates: list[tuple[str, str, str, str | None, int | None]], trusted_before: int,
                report: DriftReport) -> list[tuple[str, str, str]]:
    """Deleted files and files of another size go into ``report``; returns the files to hash
    (changed since ``trusted_before``): (package, rel, expected sha256)."""
    to_hash: list[tuple[str, str, str]] = []
    base = str(prefix) + os.sep
    lstat = os.lstat
    for pkg, rel, kind, expected, size in candidates:
        try:
            st = lstat(base + rel)
        except OSError:
            report.files.append(FileDrift(package=pkg, path=rel, kind="deleted"))
            continue
        if kind == "softlink":
            continue
        if size is not None and st.st_size != size:
            report.files.append(FileDrift(package=pkg, path=rel, kind="modified"))
        elif st.st_mtime_ns >= trusted_before and expected:
            to_hash.append((pkg, rel, expected))
    return to_hash


def _safe_hash(path: str) -> str:
    try:
        return hash_file(path)
    except OSError:
        return ""


def hook_drift(prefix: Path, env_vars: dict[str, str]) -> list:
    """``hook_problems`` as ``check``'s file differences."""
    return [FileDrift(package=HOOK_PACKAGE, path=path, kind=kind) for path, kind in hook_problems(prefix, env_vars)]
