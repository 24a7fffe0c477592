"""``envlock lock``: profile -> spec -> conda part (conda-lock + rattler) -> pip part (uv)
-> lockfiles.  One function per step; ``lock_profile`` strings them together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import yaml

from envlock.errors import InputError
from envlock.lock_state import input_hash, new_meta, source_sha256
from envlock.lock_write import dump_lock, explicit_text, pip_entries, write_lock
from envlock.pip_lock import PipPin, canonical, lock_pip
from envlock.profiles import LockSpec, load_profile, render
from envlock.project import Project
from envlock.solver.conda_lock_run import solve_conda, virtual_packages
from envlock.yaml_load import safe_load


@dataclass
class LockResult:
    profile: str
    platforms: list[str]
    conda_packages: dict[str, int] = field(default_factory=dict)
    pip_packages: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _previous(project: Project, name: str) -> dict | None:
    path = project.unified_lock_path(name)
    if not path.is_file():
        return None
    try:
        data = safe_load(path.read_text())
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) and "package" in data else None


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
    project: Project, name: str, *, update: list[str] = (), conda_exe: str | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> LockResult:
    import time

    t0 = time.perf_counter()
    source_hash = source_sha256(project, name)  # before reading the profile: see new_meta
    profile = load_profile(project, name)
    spec: LockSpec = render(project, profile)
    source = project.profile_path(name)
    previous = _previous(project, name) if update else None
    if update and previous is None:
        raise InputError(f"{project.unified_lock_path(name)}: --update needs an existing lock; run `envlock lock --profile {name}` first.")
    update_names = {canonical(u) for u in update}
    if previous is not None:
        locked_names = {canonical(p["name"]) for p in previous["package"]}
        unknown = sorted(u for u in update if canonical(u) not in locked_names)
        if unknown:
            raise InputError(f"{project.unified_lock_path(name)}: --update {' '.join(unknown)}: not in this lock; name packages the lock holds.")
    progress(f"{name}: solving conda packages for {', '.join(spec.platforms)}")
    lock = solve_conda(spec, previous_lock=previous, update=list(update), conda_exe=conda_exe, source=source)
    result = LockResult(profile=name, platforms=spec.platforms)
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
        result.conda_packages[plat] = sum(1 for p in lock["package"] if p["platform"] == plat and p.get("manager", "conda") == "conda")
        result.pip_packages[plat] = len(pins)
    # Name the real inputs, not the temporary environment.yml conda-lock was handed.
    lock["metadata"]["sources"] = [source.relative_to(project.root).as_posix(), "environment.template.yml"]
    ih = input_hash(spec)
    lock_bytes = dump_lock(lock)
    explicit = {plat: explicit_text(name, plat, lock, ih) for plat in spec.platforms}
    write_lock(project, name, lock_bytes, explicit, new_meta(profile, spec, lock_bytes, source_hash))
    result.seconds = time.perf_counter() - t0
    return result


def lock_profiles(
    project: Project, names: list[str], *, update: list[str] = (), conda_exe: str | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> list[LockResult]:
    """Lock several profiles in turn (what ``envlock lock`` and a stale ``create`` call)."""
    return [lock_profile(project, n, update=update, conda_exe=conda_exe, progress=progress) for n in names]
