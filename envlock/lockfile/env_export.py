"""``conda env export`` YAML, which users commit as "the lock".

Every conda package is ``name=version=build`` (optionally ``channel::name=version=build``),
pip packages sit under ``- pip:`` as ``name==version``.  The file names no platform and no
URLs: the platform is read from packages only one platform has (the C runtime packages) and
is ``unknown`` otherwise; a package's channel is known only when the file lists a single
channel or prefixes the package with ``channel::``.  Unknown stays unknown: rules that need
it do not guess.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from envlock.core.errors import InputError
from envlock.lockfile.model import LockedPackage, Lockfile

FORMAT = "conda-env-export"
_EXACT = re.compile(r"^(?:(?P<channel>[^:\s]+)::)?(?P<name>[A-Za-z0-9_.-]+)=(?P<version>[^=\s]+)=(?P<build>[^=\s]+)$")
_PIP = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*==\s*(?P<version>\S+)$")
# Packages that exist on one platform only (the platform's C runtime); an export names no platform.
_PLATFORM_OF = {
    "_libgcc_mutex": "linux-64", "ld_impl_linux-64": "linux-64", "ld_impl_linux-aarch64": "linux-aarch64",
    "vc": "win-64", "vs2015_runtime": "win-64", "vc14_runtime": "win-64", "ucrt": "win-64",
}
_CHANNEL_URLS = {"defaults": "https://repo.anaconda.com/pkgs/main", "conda-forge": "https://conda.anaconda.org/conda-forge"}


def looks_env_export(data: Any) -> bool:
    """An environment file whose every conda dependency is an exact ``name=version=build``."""
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        return False
    conda = [d for d in data["dependencies"] if isinstance(d, str)]
    return bool(conda) and all(_EXACT.match(d.strip()) for d in conda)


def _channel(name: str) -> str:
    if "://" in name:
        return name.rstrip("/")
    return _CHANNEL_URLS.get(name, f"https://conda.anaconda.org/{name}")


def parse_env_export(path: Path, data: dict) -> Lockfile:
    deps = data["dependencies"]
    conda = [_EXACT.match(d.strip()) for d in deps if isinstance(d, str)]
    names = {m.group("name") for m in conda if m}
    platforms = {_PLATFORM_OF[n] for n in names if n in _PLATFORM_OF}
    platform = platforms.pop() if len(platforms) == 1 else "unknown"
    channels = [str(c) for c in data.get("channels") or []]
    only = _channel(channels[0]) if len(channels) == 1 else ""
    packages = [
        LockedPackage(name=m.group("name"), version=m.group("version"), build=m.group("build"), manager="conda",
                      platform=platform, channel=_channel(m.group("channel")) if m.group("channel") else only)
        for m in conda if m
    ]
    for index, dep in enumerate(deps):
        if isinstance(dep, dict) and "pip" in dep:
            packages += _pip(path, index, dep["pip"], platform)
        elif not isinstance(dep, str):
            raise InputError(f"{path}: 'dependencies[{index}]' is {dep!r}, neither 'name=version=build' nor a "
                             "'pip:' list; fix that entry or re-export with `conda env export`.")
    return Lockfile(path=str(path), format=FORMAT, platforms=[platform], packages=packages,
                    channels=[_channel(c) for c in channels])


def _pip(path: Path, index: int, entries: Any, platform: str) -> list[LockedPackage]:
    if not isinstance(entries, list):
        raise InputError(f"{path}: 'dependencies[{index}].pip' must be a list of 'name==version'; re-export "
                         "with `conda env export`.")
    out = []
    for entry in entries:
        m = _PIP.match(str(entry).strip())
        if m is None:  # a URL, a path or a range: no exact version is recorded, so it is not locked
            raise InputError(f"{path}: pip entry {entry!r} in 'dependencies[{index}].pip' is not 'name==version', "
                             "so the export does not lock it; pin it or re-export with `conda env export`.")
        out.append(LockedPackage(name=m.group("name").lower().replace("_", "-"), version=m.group("version"),
                                 manager="pip", platform=platform, channel="pypi"))
    return out
