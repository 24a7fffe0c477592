"""Loaded shared libraries: who installed them (pip RECORD, from the probe; conda-meta, here)
and whether they are the ones the lock holds and live inside the environment."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from envlock.core.names import canonical_name
from envlock.lockfile import LockedPackage

# Families whose origin matters: a CUDA/cuDNN library from outside the environment means a
# system LD_LIBRARY_PATH (or ldconfig) shadowed the locked one.  The driver (libcuda,
# libnvidia-*) always comes from the system and is exempt.
MUST_BE_INSIDE = ("cuda", "cudnn", "nccl")


def add_conda_owners(prefix: Path, libs: list[dict[str, Any]]) -> None:
    """Fill ``owner`` from ``conda-meta/*.json`` for libraries a conda package installed."""
    meta = prefix / "conda-meta"
    if not meta.is_dir():
        return
    root = os.path.realpath(prefix)
    wanted = {}
    for lib in libs:
        if "owner" in lib:
            continue
        for key in ("path", "realpath"):
            rel = os.path.relpath(lib[key], root)
            if not rel.startswith(".."):
                wanted[rel] = lib
    if not wanted:
        return
    for rec in sorted(meta.glob("*.json")):
        try:
            data = json.loads(rec.read_text())
        except (OSError, ValueError):
            continue
        for f in data.get("files", []) if isinstance(data, dict) else []:
            lib = wanted.get(f)
            if lib is not None and "owner" not in lib:
                lib["owner"] = {"manager": "conda", "name": data.get("name"), "version": str(data.get("version"))}


def inside(prefix: Path, path: str) -> bool:
    root = os.path.realpath(prefix)
    return os.path.realpath(path).startswith(root + os.sep)


def outside_env(prefix: Path, libs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [lib for lib in libs if lib.get("family") in MUST_BE_INSIDE and not inside(prefix, lib["path"])]


def lock_mismatches(libs: list[dict[str, Any]], locked: list[LockedPackage]) -> list[tuple[dict[str, Any], LockedPackage]]:
    """Loaded libraries whose owning package is in the lock at a different version."""
    by_name = {(p.manager, canonical_name(p.name)): p for p in locked}
    out = []
    seen = set()
    for lib in libs:
        owner = lib.get("owner")
        if not owner:
            continue
        key = (owner["manager"], canonical_name(owner["name"]))
        pkg = by_name.get(key)
        if pkg is not None and pkg.version != owner["version"] and (key, lib["path"]) not in seen:
            seen.add((key, lib["path"]))
            out.append((lib, pkg))
    return out
