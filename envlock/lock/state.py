"""Is a profile's lock fresh?  Decided without solving and without importing conda-lock.

A lock is *fresh* when the hash of its inputs (the rendered profile+template spec, the
compatibility data, envlock's lock format) equals the one recorded when it was written, and
the lockfile itself is byte-identical to what was written (a hand edit makes it stale).

The rendered spec is semantic (a comment in the profile does not make the lock stale) but
costs parsing and validating the profile.  So the record also holds a hash of the raw input
files (``source_sha256``); when they are byte-identical, the lock is fresh without parsing
anything, and its platforms and activation variables come from the record (``quick_meta``:
what ``create``, ``check`` and ``run`` use on their fast paths).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import envlock.compat.data
from envlock import __version__
from envlock.core import records
from envlock.core.digests import sha256
from envlock.core.errors import InputError
from envlock.core.host import host_platform
from envlock.core.messages import shown
from envlock.core.names import is_platform_name
from envlock.core.project import Project

if TYPE_CHECKING:
    from envlock.lockfile import Lockfile
    from envlock.profiles.model import LockSpec, Profile

LOCK_FORMAT = 1
State = Literal["fresh", "stale", "missing", "invalid"]


@dataclass(frozen=True, kw_only=True)
class LockMeta:
    """``locks/<name>/envlock-meta.json``: what a lock was computed from."""

    lock_format: int = LOCK_FORMAT
    envlock_version: str = __version__
    profile: str
    input_hash: str
    lock_sha256: str
    platforms: list[str]
    env_vars: dict[str, str] = field(default_factory=dict)
    locked_at: str = ""
    source_sha256: str = ""  # the raw input files (see source_sha256()); "" in records of older versions


@dataclass(frozen=True)
class LockState:
    profile: str
    state: State
    reason: str


def input_hash(spec: LockSpec) -> str:
    h = sha256()
    h.update(f"envlock-lock-format-{LOCK_FORMAT}\n".encode())
    h.update(json.dumps(spec.model_dump(), sort_keys=True).encode())
    h.update(envlock.compat.data.compat_data_bytes())
    return h.hexdigest()


def source_sha256(project: Project, name: str) -> str:
    """A hash of the raw bytes the lock's inputs are rendered from (and of envlock's version,
    since the rendering is its code); "" when the profile cannot be read."""
    h = sha256(f"envlock {__version__} lock-format-{LOCK_FORMAT}\n".encode())
    for path in (project.profile_path(name), project.template_path):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = None
        except OSError:
            return ""
        h.update(b"-\n" if data is None else f"{len(data)}\n".encode() + data)
    h.update(envlock.compat.data.compat_data_bytes())
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    return sha256(path.read_bytes()).hexdigest()


def read_meta(project: Project, name: str) -> LockMeta | None:
    path = project.lock_meta_path(name)
    try:
        meta = records.from_json(LockMeta, path.read_bytes())
        if bad := next((p for p in meta.platforms if not is_platform_name(p)), None):
            raise records.RecordError(f"field 'platforms' holds {shown(bad)!r}, which is not a conda platform")
        return meta
    except FileNotFoundError:
        return None
    except (OSError, records.RecordError) as exc:
        raise InputError(f"{path}: envlock's lock record is unreadable ({exc}); delete it and run `envlock lock --profile {name}`.") from None


def new_meta(profile: Profile, spec: LockSpec, lock_bytes: bytes, source: str = "") -> LockMeta:
    """``source``: ``source_sha256`` taken *before* the profile was read, so a profile edited
    while locking never passes for the one that was locked."""
    return LockMeta(
        profile=profile.name, input_hash=input_hash(spec),
        lock_sha256=sha256(lock_bytes).hexdigest(), platforms=spec.platforms,
        env_vars=spec.env_vars, locked_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        source_sha256=source,
    )


def _lock_files_state(project: Project, name: str, meta: LockMeta) -> LockState | None:
    """Stale when the lock files are not what envlock wrote; None when they are."""
    lock = project.unified_lock_path(name)
    if file_sha256(lock) != meta.lock_sha256:
        return LockState(name, "stale", f"{lock.name} was modified after envlock wrote it")
    for plat in meta.platforms:
        if not project.platform_lock_path(name, plat).is_file():
            return LockState(name, "stale", f"per-platform lock {plat}.lock is missing")
    return None


def quick_meta(project: Project, name: str) -> LockMeta | None:
    """The lock's record when the lock is fresh by its raw inputs alone (no profile parsing);
    None when that cannot be told this way (then ``lock_state`` decides)."""
    try:
        meta = read_meta(project, name)
    except InputError:
        return None
    if meta is None or not meta.source_sha256 or not project.unified_lock_path(name).is_file():
        return None
    if meta.source_sha256 != source_sha256(project, name) or _lock_files_state(project, name, meta) is not None:
        return None
    return meta


def _state_of(project: Project, name: str, spec: LockSpec) -> LockState:
    lock = project.unified_lock_path(name)
    meta = read_meta(project, name)
    if not lock.is_file() or meta is None:
        return LockState(name, "missing", f"no lock at {lock.relative_to(project.root)}")
    if meta.input_hash != input_hash(spec):
        return LockState(name, "stale", "profile, template or compatibility data changed since the lock was written")
    return _lock_files_state(project, name, meta) or LockState(name, "fresh", f"locked {meta.locked_at}")


def lock_state(project: Project, name: str, profile: Profile | None = None) -> LockState:
    if profile is None and (meta := quick_meta(project, name)) is not None:
        return LockState(name, "fresh", f"locked {meta.locked_at}")
    from envlock.profiles.load import load_profile
    from envlock.profiles.render import render

    return _state_of(project, name, render(project, profile or load_profile(project, name)))


@dataclass(frozen=True)
class LockFacts:
    """What create and check need of a profile's lock, with its freshness decided once."""

    platforms: list[str]
    env_vars: dict[str, str]
    state: LockState
    profile: Profile | None = None  # parsed only when the raw inputs alone did not prove the lock fresh


def lock_facts(project: Project, name: str, *, use_lock_record: bool = True) -> LockFacts:
    """From the lock's record when the raw inputs prove the lock fresh (no profile parsing);
    else from the profile, rendered once, with the lock's state against it."""
    if use_lock_record and (meta := quick_meta(project, name)) is not None:
        return LockFacts(meta.platforms, meta.env_vars, LockState(name, "fresh", f"locked {meta.locked_at}"))
    from envlock.profiles.load import load_profile
    from envlock.profiles.render import render

    profile = load_profile(project, name)
    spec = render(project, profile)
    return LockFacts(profile.platforms, spec.env_vars, _state_of(project, name, spec), profile)


def read_platform_lock(path: Path, platform: str, profile: str) -> Lockfile:
    """The lockfile at ``path``, checked to hold packages for ``platform``."""
    from envlock.lockfile import read_lockfile

    if not path.is_file():
        raise InputError(f"{path}: no lock for profile {profile}; run `envlock lock --profile {profile}` and commit it.")
    lock = read_lockfile(path)
    if platform not in lock.platforms or not lock.for_platform(platform):
        raise InputError(
            f"{path}: this lock covers {', '.join(lock.platforms) or 'no platform'}, not {platform}; pass --platform "
            f"with one of those, or add {platform} to profiles/{profile}.yml and re-lock (`envlock lock --profile {profile}`)."
        )
    return lock


def lock_state_or_invalid(project: Project, name: str) -> LockState:
    """``lock_state``, or state "invalid" with the reason when the profile cannot be read."""
    try:
        return lock_state(project, name)
    except InputError as exc:
        return LockState(name, "invalid", str(exc))


def resolve_platform(profile_platforms: list[str], platform: str | None, profile_path: Path) -> str:
    plat = platform or host_platform()
    if plat not in profile_platforms:
        how = "this machine's platform" if platform is None else "--platform"
        raise InputError(f"{profile_path}: the profile covers {', '.join(profile_platforms)}, not {plat} ({how}). "
                         f"Add {plat} to its 'platforms' and re-lock, or pass --platform with one of those.")
    return plat
