"""``envlock diff`` of multi-environment locks (pixi.lock): one ``LockDiff`` per environment.

Two pixi.lock files are compared environment by environment (an environment on one side only
is compared with nothing: all added or all removed); a pixi.lock and a single-environment lock
(conda-lock, explicit, export) compare every pixi environment with that one lock.
"""

from __future__ import annotations

from pydantic import BaseModel

from envlock.audit.diff import LockDiff, diff_lockfiles
from envlock.lockfile import Lockfile


class EnvironmentDiff(BaseModel):
    environment: str
    in_old: bool
    in_new: bool
    diff: LockDiff


def _side(lock: Lockfile, env: str) -> tuple[Lockfile, bool]:
    if not lock.environments:
        return lock, True
    if env in lock.environments:
        return lock.environment(env), True
    empty = Lockfile(path=lock.path, format=lock.format, platforms=[], packages=[])
    return empty, False


def diff_by_environment(old: Lockfile, new: Lockfile) -> list[EnvironmentDiff] | None:
    """Per-environment diffs, or None when neither lock has environments (use ``diff_lockfiles``)."""
    if not old.environments and not new.environments:
        return None
    names = sorted(set(old.environments) | set(new.environments))
    out = []
    for env in names:
        (before, in_old), (after, in_new) = _side(old, env), _side(new, env)
        out.append(EnvironmentDiff(environment=env, in_old=in_old, in_new=in_new, diff=diff_lockfiles(before, after)))
    return out
