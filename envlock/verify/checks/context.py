"""What every check sees: the profile, the probe's document, the host's driver, the lock."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from envlock.compat import table as compat
from envlock.lockfile import LockedPackage
from envlock.profiles.model import Profile
from envlock.verify.model import ProbeDoc


def version_matches(spec: str, version: str) -> bool:
    """conda-style match: a bare version ("3.11") means that version line, like ``=3.11``."""
    from rattler import Version, VersionSpec

    spec = spec.strip()
    if re.fullmatch(r"\d+(\.\d+)*", spec):
        spec = f"{spec}.*"
    try:
        return VersionSpec(spec).matches(Version(version))
    except Exception:
        return False


@dataclass
class Context:
    profile: Profile
    doc: ProbeDoc
    prefix: Path
    stderr: str = ""
    driver_cuda: str | None = None
    locked: list[LockedPackage] | None = None
    platform: str = ""  # the conda platform the probe ran on
    bench: bool = True  # the benchmark was asked for
    notes: list[str] = field(default_factory=list)

    @property
    def release(self) -> compat.Release:
        return self.profile.release

    def hint(self) -> str:
        found = [h.cause for h in compat.table().log_hints if h.pattern in self.stderr]
        return f" Likely cause from TensorFlow's log: {found[0]}." if found else ""


def minor(version: str | None) -> str:
    return compat.minor_of(version) if version else "?"
