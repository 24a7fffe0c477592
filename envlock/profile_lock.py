"""A profile's lock for one platform, or a clear error saying why there is none."""

from __future__ import annotations

from pathlib import Path

from envlock.errors import InputError
from envlock.lockfile import Lockfile, read_lockfile


def read_platform_lock(path: Path, platform: str, profile: str) -> Lockfile:
    """The lockfile at ``path``, checked to hold packages for ``platform``."""
    if not path.is_file():
        raise InputError(f"{path}: no lock for profile {profile}; run `envlock lock --profile {profile}` and commit it.")
    lock = read_lockfile(path)
    if platform not in lock.platforms or not lock.for_platform(platform):
        raise InputError(
            f"{path}: this lock covers {', '.join(lock.platforms) or 'no platform'}, not {platform}; pass --platform "
            f"with one of those, or add {platform} to profiles/{profile}.yml and re-lock (`envlock lock --profile {profile}`)."
        )
    return lock
