"""``envlock lock``: profile -> spec -> conda part (conda-lock + rattler) -> pip part (uv)
-> lockfiles.  One function per step; ``lock_profile`` strings them together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import yaml

from envlock.core.errors import InputError
from envlock.core.names import canonical_name
from envlock.core.project import Project
from envlock.core.yaml_load import safe_load
from envlock.lock.changes import changes_json, lock_changes
from envlock.lock.conda.conda_lock_run import solve_conda, virtual_packages
from envlock.lock.pip import PipPin, lock_pip
from envlock.lock.secrets import scrub, solver_channels
from envlock.lock.state import input_hash, lock_state, new_meta, source_sha256
from envlock.lock.write import write_lock
from envlock.lockfile.explicit import explicit_text
from envlock.lockfile.unified import dump_lock, parse_unified, pip_entries
from envlock.profiles.load import load_profile
from envlock.profiles.model import LockSpec, Profile
from envlock.profiles.render import render

if TYPE_CHECKING:
    from envlock.audit.diff import Change


@dataclass
class LockResult:
    profile: str
    platforms: list[str]
    conda_packages: dict[str, int] = field(default_factory=dict)
    pip_packages: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    written: bool = False  # False: the lock was fresh and nothing was solved or written
    changes: dict[str, list[Change]] = field(default_factory=dict)  # per platform: what moved
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"profile": self.profile, "platforms": self.platforms, "written": self.written,
                "conda_packages": self.conda_packages, "pip_packages": self.pip_packages,
                "seconds": round(self.seconds, 3), "changes": changes_json(self.changes), "warnings": self.warnings}


def _counts(result: LockResult, lock: dict) -> None:
    for plat in result.platforms:
        entries = [p for p in lock["package"] if p["platform"] == plat]
        result.conda_packages[plat] = sum(1 for p in entries if p.get("manager", "conda") == "conda")
        result.pip_packages[plat] = sum(1 for p in entries if p.get("manager") == "pip")


def _previous(project: Project, name: str) -> dict | None:
    path = project.unified_lock_path(name)
    if not path.is_file():
        return None
    try:
        data = safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("package"), list):
        return None
    try:  # a lock broken by hand holds no versions worth keeping: solve as if there were none
        parse_unified(path, data)
    except InputError:
        return None
    return data


def _is_fresh(project: Project, name: str, profile: Profile) -> bool:
    try:
        return lock_state(project, name, profile).state == "fresh"
    except InputError:  # an unreadable lock record: re-lock, which rewrites it
        return False


def _python_version(lock: dict, platform: str, where: str) -> str:
    for p in lock["package"]:
        if p["platform"] == platform and p["name"] == "python" and p.get("manager", "conda") == "conda":
            return str(p["version"])
    raise InputError(f"{where}: the conda part for {platform} has no python; the template or profile must ask for python.")


def _conda_python_packages(lock: dict, platform: str) -> dict[str, str]:
    """Conda packages that are Python distributions (they depend on python): pip must not
    install them again, and must agree with their versions."""
    return {
        p["name"]: str(p["version"]) for p in lock["package"]
        if p["platform"] == platform and p.get("manager", "conda") == "conda"
        and "python" in (p.get("dependencies") or {}) and p["name"] != "python"
    }


def _previous_pins(previous: dict | None, platform: str) -> list[PipPin]:
    if not previous:
        return []
    return [PipPin(name=p["name"], version=str(p["version"]), url=p["url"], sha256=(p.get("hash") or {}).get("sha256", ""))
            for p in previous["package"] if p.get("manager") == "pip" and p["platform"] == platform]


def lock_profile(
    project: Project, name: str, *, update: list[str] = (), update_all: bool = False,
    conda_exe: str | None = None, progress: Callable[[str], None] = lambda _msg: None,
) -> LockResult:
    """Lock one profile.  A fresh lock is left alone (nothing solved or written) unless
    ``update`` names packages to move or ``update_all`` asks for a solve from scratch; a
    stale one is re-solved preferring the versions it holds."""
    import time

    t0 = time.perf_counter()
    source_hash = source_sha256(project, name)  # before reading the profile: see new_meta
    profile = load_profile(project, name)
    spec: LockSpec = render(project, profile)
    source = project.profile_path(name)
    old = _previous(project, name)
    if not update and not update_all and old is not None and _is_fresh(project, name, profile):
        result = LockResult(profile=name, platforms=spec.platforms)
        _counts(result, old)
        result.seconds = time.perf_counter() - t0
        return result
    previous = None if update_all else old
    if update and previous is None:
        raise InputError(f"{project.unified_lock_path(name)}: --update needs an existing lock; run `envlock lock --profile {name}` first.")
    update_names = {canonical_name(u) for u in update}
    if previous is not None:
        locked_names = {canonical_name(p["name"]) for p in previous["package"]}
        unknown = sorted(u for u in update if canonical_name(u) not in locked_names)
        if unknown:
            raise InputError(f"{project.unified_lock_path(name)}: --update {' '.join(unknown)}: not in this lock; name packages the lock holds.")
    channels = solver_channels(spec.channels, str(source))
    progress(f"{name}: solving conda packages for {', '.join(spec.platforms)}")
    lock = solve_conda(spec, previous_lock=previous, update=list(update), conda_exe=conda_exe, source=source,
                       channels=channels.urls)
    result = LockResult(profile=name, platforms=spec.platforms, warnings=channels.warnings)
    for plat in spec.platforms:
        reqs = spec.pip_specs.get(plat, [])
        pins: list[PipPin] = []
        if reqs:
            progress(f"{name}: locking pip packages for {plat}")
            pins = lock_pip(
                reqs, platform=plat, python_version=_python_version(lock, plat, str(source)),
                virtual=virtual_packages(spec, plat), conda_pins=_conda_python_packages(lock, plat),
                excludes=spec.pip_excludes.get(plat, []),
                previous=_previous_pins(previous, plat), update=update_names,
                what=f"{source} ({plat})",
            )
        lock["package"].extend(pip_entries(plat, pins))
    # Name the real inputs, not the temporary environment.yml conda-lock was handed.
    lock["metadata"]["sources"] = [source.relative_to(project.root).as_posix(), "environment.template.yml"]
    lock = scrub(lock, channels.written)
    _counts(result, lock)
    result.changes = lock_changes(old, lock) if old else {}
    ih = input_hash(spec)
    lock_bytes = dump_lock(lock)
    explicit = {plat: explicit_text(name, plat, lock, ih) for plat in spec.platforms}
    write_lock(project, name, lock_bytes, explicit, new_meta(profile, spec, lock_bytes, source_hash))
    result.written = True
    result.seconds = time.perf_counter() - t0
    return result
