"""Is a profile's lock fresh?  Decided without solving and without importing conda-lock.

A lock is *fresh* when the hash of its inputs (the rendered profile+template spec, the
compatibility data, envlock's lock format) equals the one recorded when it was written, and
the lockfile itself is byte-identical to what was written (a hand edit makes it stale).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from envlock import __version__, compat
from envlock.errors import InputError
from envlock.profiles import LockSpec, Profile, load_profile, render
from envlock.project import Project

LOCK_FORMAT = 1
State = Literal["fresh", "stale", "missing"]


class LockMeta(BaseModel):
    """``locks/<name>/envlock-meta.json``: what a lock was computed from."""

    lock_format: int = LOCK_FORMAT
    envlock_version: str = __version__
    profile: str
    input_hash: str
    lock_sha256: str
    platforms: list[str]
    env_vars: dict[str, str] = {}
    locked_at: str = ""


@dataclass(frozen=True)
class LockState:
    profile: str
    state: State
    reason: str


def input_hash(spec: LockSpec) -> str:
    h = hashlib.sha256()
    h.update(f"envlock-lock-format-{LOCK_FORMAT}\n".encode())
    h.update(json.dumps(spec.model_dump(), sort_keys=True).encode())
    h.update(compat.data_bytes())
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_meta(project: Project, name: str) -> LockMeta | None:
    path = project.lock_meta_path(name)
    try:
        return LockMeta.model_validate_json(path.read_text())
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise InputError(f"{path}: envlock's lock record is corrupt ({exc.__class__.__name__}); delete it and run `envlock lock --profile {name}`.") from None


def new_meta(profile: Profile, spec: LockSpec, lock_bytes: bytes) -> LockMeta:
    return LockMeta(
        profile=profile.name, input_hash=input_hash(spec),
        lock_sha256=hashlib.sha256(lock_bytes).hexdigest(), platforms=spec.platforms,
        env_vars=spec.env_vars, locked_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def lock_state(project: Project, name: str, profile: Profile | None = None) -> LockState:
    profile = profile or load_profile(project, name)
    lock = project.unified_lock_path(name)
    meta = read_meta(project, name)
    if not lock.is_file() or meta is None:
        return LockState(name, "missing", f"no lock at {lock.relative_to(project.root)}")
    if meta.input_hash != input_hash(render(project, profile)):
        return LockState(name, "stale", "profile, template or compatibility data changed since the lock was written")
    if file_sha256(lock) != meta.lock_sha256:
        return LockState(name, "stale", f"{lock.name} was modified after envlock wrote it")
    for plat in meta.platforms:
        if not project.platform_lock_path(name, plat).is_file():
            return LockState(name, "stale", f"per-platform lock {plat}.lock is missing")
    return LockState(name, "fresh", f"locked {meta.locked_at}")
