"""Dependencies the lock itself records (conda-lock keeps each package's ``dependencies``):
when TensorFlow's own packages pin a member of the stack, that pin is the best judge."""

from __future__ import annotations

from collections.abc import Iterator

from envlock.audit.findings import Finding
from envlock.audit.registry import finding
from envlock.audit.stack import PlatformStack
from envlock.core.names import canonical_name
from envlock.lockfile import LockedPackage
from envlock.lockfile.versions import satisfies, spec_build


def unmet(stack: PlatformStack, name: str) -> Iterator[tuple[LockedPackage, LockedPackage, str]]:
    """(requirer, locked, spec) for each recorded dependency on ``name`` the lock breaks."""
    locked = stack.get(name)
    if locked is None:
        return
    for requirer, spec in stack.recorded_requirements(name):
        ok = satisfies(locked.version, spec)
        build = spec_build(spec)
        if ok is False or (ok and build is not None and locked.build and build != locked.build):
            yield requirer, locked, spec


def unmet_findings(rule: str, stack: PlatformStack, name: str, skip: set[str]) -> Iterator[Finding]:
    if canonical_name(name) in skip:
        return
    for requirer, locked, spec in unmet(stack, name):
        yield finding(rule, stack.platform,
                      f"{requirer.name} {requirer.version} requires {name} {spec} but {locked.label()} is "
                      f"locked; re-lock so the solver picks a matching {name}.", [requirer, locked])
