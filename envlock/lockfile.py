"""Read lockfiles into one typed model (``Lockfile`` of ``LockedPackage``).

This module is the single reader every command uses (create, check, audit, diff).
Formats: conda-lock unified files (v1), which is what envlock writes.  Other formats in the
wild (explicit ``@EXPLICIT`` files, older/newer conda-lock versions) are added here too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel

from envlock.errors import InputError

Manager = Literal["conda", "pip"]


class LockedPackage(BaseModel):
    name: str
    version: str
    build: str = ""
    manager: Manager = "conda"
    platform: str
    url: str = ""
    sha256: str | None = None
    md5: str | None = None
    channel: str = ""
    category: str = "main"
    depends: dict[str, str] = {}

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1].split("#", 1)[0]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.manager, self.platform, self.name)


class Lockfile(BaseModel):
    path: str
    format: str
    platforms: list[str]
    packages: list[LockedPackage]
    content_hash: dict[str, str] = {}

    def for_platform(self, platform: str) -> list[LockedPackage]:
        return [p for p in self.packages if p.platform == platform]

    def digest(self, platform: str | None = None) -> str:
        """A stable hash of what would be installed (per platform, or all)."""
        h = hashlib.sha256()
        pkgs = self.for_platform(platform) if platform else self.packages
        for p in sorted(pkgs, key=lambda p: (p.platform, p.manager, p.name, p.url)):
            h.update(f"{p.platform}|{p.manager}|{p.name}|{p.version}|{p.build}|{p.url}|{p.sha256}|{p.md5}\n".encode())
        return h.hexdigest()


def _channel_of(url: str) -> str:
    parts = url.split("/")
    return "/".join(parts[:-2]) if len(parts) > 2 else ""


def parse_conda_lock_v1(path: Path, data: dict) -> Lockfile:
    meta = data.get("metadata") or {}
    pkgs: list[LockedPackage] = []
    for i, entry in enumerate(data.get("package") or []):
        try:
            manager = entry.get("manager", "conda")
            url = entry["url"]
            hashes = entry.get("hash") or {}
            pkgs.append(LockedPackage(
                name=entry["name"], version=str(entry["version"]), manager=manager,
                platform=entry["platform"], url=url, sha256=hashes.get("sha256"), md5=hashes.get("md5"),
                build=entry.get("build", "") or "" if manager == "conda" else "",
                channel=_channel_of(url) if manager == "conda" else "pypi",
                category=entry.get("category", "main"),
                depends={str(k): str(v) for k, v in (entry.get("dependencies") or {}).items()},
            ))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: field 'package[{i}]' is malformed ({exc}); regenerate the lock with `envlock lock`.") from None
    return Lockfile(
        path=str(path), format="conda-lock-v1", platforms=list(meta.get("platforms") or sorted({p.platform for p in pkgs})),
        packages=pkgs, content_hash=dict(meta.get("content_hash") or {}),
    )


def read_lockfile(path: Path) -> Lockfile:
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"{path}: cannot read lockfile ({exc.strerror}).") from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict) and "package" in data and "metadata" in data:
        return parse_conda_lock_v1(path, data)
    raise InputError(f"{path}: is not a conda-lock file (expected 'metadata' and 'package' fields). Point envlock at a conda-lock.yml or regenerate it with `envlock lock`.")
