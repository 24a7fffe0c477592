"""The record a created environment carries about itself: ``conda-meta/envlock.stamp``.

It holds the lock's content hashes, the platform, the activation variables, the time (on the
file system's own clock) the environment was finished, and a cheap fingerprint: the mtimes of
the directories and files that any install/uninstall/config change touches.  A no-op ``create``
trusts the stamp only when the lock's hash *and* the fingerprint still match; ``check`` uses
the finish time for its size+mtime fast path.  (No ``.json`` suffix: conda reads every
``conda-meta/*.json`` as a package record.)
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from envlock.core import records
from envlock.core.digests import blake2b

STAMP_NAME = "envlock.stamp"
STAMP_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class EnvStamp:
    version: int = STAMP_VERSION
    profile: str
    platform: str
    lock_path: str
    lock_file_sha256: str
    lock_digest: str
    env_vars: dict[str, str]
    finished_ns: int = 0
    fingerprint: dict[str, int] = field(default_factory=dict)


def stamp_path(prefix: Path) -> Path:
    return prefix / "conda-meta" / STAMP_NAME


def _listing_hash(path: Path) -> int:
    """A hash of a directory's entry names, ignoring __pycache__ (which merely importing adds)."""
    try:
        names = sorted(n for n in os.listdir(path) if n != "__pycache__")
    except OSError:
        return -1
    return int.from_bytes(blake2b("\0".join(names).encode(), digest_size=8).digest(), "big")


def fingerprint(prefix: Path) -> dict[str, int]:
    """mtime_ns of conda-meta/, conda-meta/state and bin/, and the entry names of every
    site-packages directory; keys relative to ``prefix`` so they survive the staging rename.
    Any conda or pip install/uninstall and any ``conda env config vars`` change alters it."""
    out: dict[str, int] = {}
    for rel in ("conda-meta", "conda-meta/state", "bin", "lib"):
        try:
            out[rel] = os.stat(prefix / rel).st_mtime_ns
        except OSError:
            out[rel] = -1
    lib = prefix / "lib"
    try:
        pys = sorted(n for n in os.listdir(lib) if n.startswith("python"))
    except OSError:
        pys = []
    for name in pys:
        out[f"lib/{name}/site-packages"] = _listing_hash(lib / name / "site-packages")
    return out


def write_stamp(prefix: Path, stamp: EnvStamp) -> EnvStamp:
    """Write twice: the first write creates the file (changing conda-meta/'s mtime) and gives the
    file system's current time; the second, in place, records that time and the fingerprint."""
    path = stamp_path(prefix)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(records.to_json(stamp))
    finished = os.stat(path).st_mtime_ns
    final = dataclasses.replace(stamp, finished_ns=finished, fingerprint=fingerprint(prefix))
    with open(path, "r+") as f:  # rewrite in place: no new directory entry, conda-meta/ mtime kept
        f.truncate(0)
        f.write(records.to_json(final, indent=1))
    return final


def read_stamp(prefix: Path) -> EnvStamp | None:
    try:
        return records.from_json(EnvStamp, stamp_path(prefix).read_bytes())
    except (OSError, ValueError):
        return None


def is_current(prefix: Path, stamp: EnvStamp | None, *, lock_file_sha256: str, platform: str,
               env_vars: dict[str, str]) -> bool:
    return (
        stamp is not None and stamp.version == STAMP_VERSION and stamp.platform == platform
        and stamp.lock_file_sha256 == lock_file_sha256 and stamp.env_vars == env_vars
        and stamp.fingerprint == fingerprint(prefix)
    )
