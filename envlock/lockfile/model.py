"""The one typed model every reader produces: a ``Lockfile`` of ``LockedPackage``s.

Plain dataclasses, not pydantic models: importing pydantic and building the first model
class costs ~75 ms per process, and ``envlock create`` reads a lock on every run.  The
readers check field types themselves (``unified``) or produce only strings (``explicit``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from envlock.core.digests import sha256
from envlock.lockfile.urls import conda_build, conda_channel

Manager = Literal["conda", "pip"]

# Hosts whose channel paths are shown by name (``conda-forge``, ``pkgs/main``), not by URL.
_WELL_KNOWN_HOSTS = ("https://conda.anaconda.org/", "https://repo.anaconda.com/", "http://conda.anaconda.org/",
                     "http://repo.anaconda.com/", "https://repo.continuum.io/", "http://repo.continuum.io/")


@dataclass(slots=True, kw_only=True)
class LockedPackage:
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
    optional: bool = False
    depends: dict[str, str] = field(default_factory=dict)
    environment: str = ""  # a pixi.lock environment; "" in single-environment formats

    @classmethod
    def from_entry(cls, *, name: str, version: str, manager: Manager, platform: str, url: str,
                   sha256: str | None, md5: str | None, category: str = "main", optional: bool = False,
                   depends: dict[str, str] | None = None) -> LockedPackage:
        """One entry of a conda-lock file (either reader's): build and channel come from the URL."""
        is_conda = manager == "conda"
        return cls(name=name, version=version, manager=manager, platform=platform, url=url,
                   sha256=sha256, md5=md5, build=conda_build(url) if is_conda else "",
                   channel=conda_channel(url) if is_conda else "pypi",
                   category=category, optional=optional, depends=dict(depends or {}))

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1].split("#", 1)[0]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.manager, self.platform, self.name)

    @property
    def channel_name(self) -> str:
        """``conda-forge`` for ``https://conda.anaconda.org/conda-forge``; ``pypi`` for pip."""
        for host in _WELL_KNOWN_HOSTS:
            if self.channel.startswith(host):
                return self.channel[len(host):]
        return self.channel

    def label(self) -> str:
        """``tensorflow 2.16.2 cuda120py312h02ad488_0`` — how findings and diffs name a package."""
        pip = " (pip)" if self.manager == "pip" else ""
        return " ".join(p for p in (self.name, self.version, self.build) if p) + pip


@dataclass(slots=True, kw_only=True)
class Lockfile:
    path: str
    format: str
    platforms: list[str]
    packages: list[LockedPackage]
    content_hash: dict[str, str] = field(default_factory=dict)
    channels: list[str] = field(default_factory=list)
    # pixi.lock: environment -> its platforms; empty for single-environment formats.
    environments: dict[str, list[str]] = field(default_factory=dict)

    def environment(self, name: str) -> Lockfile:
        """One environment of a multi-environment lock, as a lock of its own."""
        return Lockfile(path=self.path, format=self.format, platforms=list(self.environments.get(name, [])),
                        packages=[p for p in self.packages if p.environment == name],
                        content_hash=self.content_hash, channels=self.channels)

    def for_platform(self, platform: str) -> list[LockedPackage]:
        return [p for p in self.packages if p.platform == platform]

    def by_platform(self) -> dict[str, list[LockedPackage]]:
        """Every declared platform (even an empty one), then any platform only packages name."""
        groups: dict[str, list[LockedPackage]] = {p: [] for p in self.platforms}
        for pkg in self.packages:
            groups.setdefault(pkg.platform, []).append(pkg)
        return groups

    def digest(self, platform: str | None = None) -> str:
        """A stable hash of what would be installed (per platform, or all)."""
        h = sha256()
        pkgs = self.for_platform(platform) if platform else self.packages
        for p in sorted(pkgs, key=lambda p: (p.platform, p.manager, p.name, p.url)):
            h.update(f"{p.platform}|{p.manager}|{p.name}|{p.version}|{p.build}|{p.url}|{p.sha256}|{p.md5}\n".encode())
        return h.hexdigest()
