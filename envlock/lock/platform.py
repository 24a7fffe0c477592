"""A profile's lock for one platform, or a clear error saying why there is none."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from envlock.core.errors import InputError
from envlock.core.project import Project
from envlock.lockfile import Lockfile, read_lockfile

if TYPE_CHECKING:
    from envlock.profiles.model import Profile


def profile_facts(project: Project, name: str, *, use_lock_record: bool = True,
                  ) -> tuple[list[str], dict[str, str], Profile | None]:
    """The profile's platforms and activation variables, and the profile when it was parsed:
    from the lock's record when the lock is fresh by its raw inputs (no profile parsing, profile
    None), else from the profile itself."""
    from envlock.lock.state import quick_meta

    if use_lock_record and (meta := quick_meta(project, name)) is not None:
        return meta.platforms, meta.env_vars, None
    from envlock.profiles.load import load_profile
    from envlock.profiles.render import render

    profile = load_profile(project, name)
    return profile.platforms, render(project, profile).env_vars, profile


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
