"""The locked CUDA runtime against the driver (the profile's ``__cuda`` or the host's).

conda-forge's ``cuda-version`` bounds only the driver's major (``__cuda >=12``), so a lock can
hold CUDA 12.8 for a machine whose driver supports 12.4.  CUDA minor-version compatibility runs
most code, but PTX compiled at run time (XLA) for the newer CUDA fails on the older driver with
CUDA_ERROR_UNSUPPORTED_PTX_VERSION; a newer major does not load at all.  Which packages carry
the runtime's version is data (``audit.cuda_runtime`` in data/tensorflow.yml).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from envlock.compat import table as compat
from envlock.core.names import canonical_name
from envlock.lockfile import LockedPackage
from envlock.lockfile.versions import major, minor_line


@dataclass(frozen=True)
class DriverGap:
    severity: Literal["warning", "error"]
    package: LockedPackage
    runtime: str  # the locked CUDA major.minor
    driver: str  # the driver's CUDA major.minor
    message: str


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", version)[:2])


def locked_runtime(packages: list[LockedPackage]) -> LockedPackage | None:
    """The runtime package with the newest CUDA line in ``packages`` (None: no CUDA locked)."""
    audit = compat.table().audit
    names = {canonical_name(n) for n in (audit.cuda_runtime if audit else {})}
    runtimes = [p for p in packages if canonical_name(p.name) in names and _key(p.version)]
    return max(runtimes, key=lambda p: _key(p.version), default=None)


def driver_gap(packages: list[LockedPackage], driver: str | None, whose: str) -> DriverGap | None:
    """How the locked CUDA runtime exceeds ``driver`` (``whose``: "the profile's __cuda" ...)."""
    pkg = locked_runtime(packages)
    if pkg is None or not driver or not _key(driver):
        return None
    runs, drv = minor_line(pkg.version), minor_line(driver)
    if major(runs) is None or major(drv) is None or _key(runs) <= _key(drv):
        return None
    if major(runs) > major(drv):  # type: ignore[operator]
        return DriverGap("error", pkg, runs, drv,
                         f"{pkg.label()} is CUDA {runs} but {whose} supports CUDA {drv}: a driver of an older CUDA major "
                         f"cannot run it — upgrade the NVIDIA driver to a CUDA {major(runs)} one, or lock CUDA {major(drv)}.")
    return DriverGap("warning", pkg, runs, drv,
                     f"{pkg.label()} is CUDA {runs}, newer than the CUDA {drv} {whose} supports: it runs through CUDA "
                     f"minor-version compatibility, but PTX compiled at run time (XLA) can fail with "
                     f"CUDA_ERROR_UNSUPPORTED_PTX_VERSION — pin cuda-version <={drv} in the profile, or use a driver for "
                     f"CUDA >= {runs}.")
