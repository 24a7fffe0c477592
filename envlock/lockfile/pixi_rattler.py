"""pixi.lock read with py-rattler's lock-file API (``rattler.LockFile.from_path``).

The full reader: rattler parses every lock format version pixi writes.  ``read_lockfile``
uses the faster scanner in ``pixi``; this reader is the reference the scanner is tested
identical to, and the fallback for text the scanner does not read.
"""

from __future__ import annotations

from pathlib import Path

from envlock.core.errors import InputError
from envlock.lockfile.model import LockedPackage, Lockfile
from envlock.lockfile.pixi import (
    _lockfile,
    check_version,
    conda_depends,
    conda_package,
    pypi_depends,
    pypi_package,
    source_package,
)


def _hex(value: object) -> str | None:
    if value is None:
        return None
    return value.hex() if isinstance(value, bytes) else str(value)


def read_with_rattler(path: Path, text: str) -> Lockfile:
    from rattler import LockFile

    head = text.split("\n", 1)[0]
    version = check_version(path, head.split(":", 1)[1] if head.startswith("version:") else "")
    try:
        lock = LockFile.from_path(path)
    except Exception as exc:  # rattler raises its own exception types; all mean "unreadable"
        raise InputError(f"{path}: is not a readable pixi.lock ({str(exc).splitlines()[0]}); re-lock with "
                         "`pixi lock`.") from None
    packages: list[LockedPackage] = []
    env_platforms: dict[str, list[str]] = {}
    channels: dict[str, list[str]] = {}
    for env_name, env in lock.environments():
        channels[env_name] = [str(c.url) if hasattr(c, "url") else str(c) for c in env.channels()]
        plats = env.packages_by_platform()
        env_platforms[env_name] = [_platform(p) for p in plats]
        for platform, locked in plats.items():
            plat = _platform(platform)
            for pkg in locked:
                packages.append(_convert(env_name, plat, pkg))
    return _lockfile(path, version, env_platforms, packages, channels)


def _platform(platform: object) -> str:
    subdir = getattr(platform, "subdir", None)
    return str(subdir if subdir is not None else getattr(platform, "name", platform))


def _convert(env: str, platform: str, pkg: object) -> LockedPackage:
    url = str(pkg.location)  # type: ignore[attr-defined]
    if type(pkg).__name__ == "CondaLockedSourcePackage":
        record = pkg.package_record  # type: ignore[attr-defined]
        return source_package(env, platform, url, str(pkg.name), str(record.version) if record else "", {})  # type: ignore[attr-defined]
    if hasattr(pkg, "package_record"):
        record = pkg.package_record
        return conda_package(env, platform, url, name=str(record.name.source), version=str(record.version),
                             build=str(record.build), sha256=_hex(record.sha256), md5=_hex(record.md5),
                             depends=conda_depends(list(record.depends)))
    hashes = pkg.hashes  # type: ignore[attr-defined]
    sha = _hex(getattr(hashes, "sha256", None)) if hashes is not None else None
    return pypi_package(env, platform, url, name=str(pkg.name), version=str(pkg.version),  # type: ignore[attr-defined]
                        sha256=sha, depends=pypi_depends(list(pkg.requires_dist or [])))  # type: ignore[attr-defined]
