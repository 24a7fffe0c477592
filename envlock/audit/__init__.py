"""``envlock audit``: static checks of a lock's TensorFlow stack, per platform.

``audit_lockfile`` runs every registered rule (``rules_*`` modules; ``rules_profile``
only with a profile) over a ``Lockfile``; ``audit_path`` also turns an unreadable file into a
finding, so one bad file never hides the others.
"""

from __future__ import annotations

from pathlib import Path

from envlock.audit import (  # noqa: F401  (importing a rule module registers its rules)
    rules_cuda,
    rules_cudnn,
    rules_file,
    rules_history,
    rules_metal,
    rules_profile,
    rules_stack,
)
from envlock.audit.findings import FileReport, Finding, sort_findings
from envlock.audit.registry import FILE_RULES, PLATFORM_RULES, PROFILE_RULES
from envlock.audit.stack import stacks_of
from envlock.core.errors import InputError
from envlock.lockfile import Lockfile, read_lockfile
from envlock.profiles.model import Profile

__all__ = ["FileReport", "Finding", "audit_lockfile", "audit_path", "UNREADABLE"]

UNREADABLE = "lockfile-unreadable"
NO_TENSORFLOW = "no-tensorflow"


def audit_lockfile(lock: Lockfile, profiles: list[Profile] | None = None) -> list[Finding]:
    """Findings per platform; in a multi-environment lock (pixi.lock), per environment, each
    environment's platforms compared only with each other."""
    if not lock.environments:
        return _audit_one(lock, profiles)
    found = []
    for env in lock.environments:
        for f in _audit_one(lock.environment(env), profiles):
            f.environment = env
            found.append(f)
    # Environments without TensorFlow (lint, docs, test) are normal beside one that has it.
    bare = {f.environment for f in found if f.rule == NO_TENSORFLOW}
    if bare and bare != set(lock.environments):
        found = [f for f in found if f.rule != NO_TENSORFLOW]
    elif bare:
        found = [f for f in found if f.rule != NO_TENSORFLOW] + [next(f for f in found if f.rule == NO_TENSORFLOW)]
        found[-1].environment = None
    return sort_findings(found)


def _audit_one(lock: Lockfile, profiles: list[Profile] | None) -> list[Finding]:
    stacks = stacks_of(lock.by_platform())
    found: list[Finding] = []
    for stack in stacks.values():
        for rule in PLATFORM_RULES.values():
            found.extend(rule.check(stack))
    for rule in FILE_RULES.values():
        found.extend(rule.check(stacks))
    for profile in profiles or []:
        for rule in PROFILE_RULES.values():
            found.extend(rule.check(stacks, profile))
    return sort_findings(found)


def audit_path(path: Path, profiles: list[Profile] | None = None) -> FileReport:
    try:
        lock = read_lockfile(path)
    except InputError as exc:
        bad = Finding(rule=UNREADABLE, severity="error", platform=None, message=str(exc), packages=[])
        return FileReport(path=str(path), format="unknown", platforms=[], findings=[bad])
    return FileReport(path=str(path), format=lock.format, platforms=lock.platforms,
                      environments=list(lock.environments), findings=audit_lockfile(lock, profiles))
