"""Write a profile's lock files together: the unified conda-lock file, one explicit file per
platform, and envlock's record — each to a temp file first, then renamed, so a lock written
halfway never replaces a good one.  What each file holds is its format module's business
(``lockfile.unified``, ``lockfile.explicit``)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from envlock.core import records
from envlock.core.project import Project
from envlock.lock.state import LockMeta


def _stage(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return Path(tmp)


def write_lock(project: Project, name: str, lock_bytes: bytes, explicit: dict[str, str], meta: LockMeta) -> None:
    files: list[tuple[Path, bytes]] = [
        *((project.platform_lock_path(name, plat), text.encode()) for plat, text in explicit.items()),
        (project.unified_lock_path(name), lock_bytes),
        (project.lock_meta_path(name), records.to_json(meta, indent=2).encode() + b"\n"),
    ]
    staged: list[tuple[Path, Path]] = []
    try:
        for final, data in files:
            staged.append((_stage(final, data), final))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    # The record goes last: until it is replaced, a half-renamed set reads as stale.
    for tmp, final in staged:
        os.replace(tmp, final)
    stale = project.locks_dir / name
    for old in stale.glob("*.lock"):
        if old.stem not in explicit:
            old.unlink()
