"""``envlock check`` glue: locate lock + prefix, then ``drift.check_prefix``."""

from __future__ import annotations

from pathlib import Path

from envlock.core.errors import InputError
from envlock.core.project import Project
from envlock.prefix.drift import DriftReport, check_prefix


def run_check(project: Project, name: str, *, prefix: Path | None = None, platform: str | None = None,
              full: bool = False) -> DriftReport:
    from envlock.lock.state import lock_facts, read_platform_lock, resolve_platform

    facts = lock_facts(project, name)
    env_vars = facts.env_vars
    plat = resolve_platform(facts.platforms, platform, project.profile_path(name))
    target = project.prefix(name, prefix)
    if not (target / "conda-meta").is_dir():
        raise InputError(f"{target}: is not a conda environment (no conda-meta/). Create it with "
                         f"`envlock create --profile {name}` or pass its --prefix.")
    lock = read_platform_lock(project.unified_lock_path(name), plat, name)
    report = check_prefix(target, plat, lock.for_platform(plat), env_vars=env_vars, full=full)
    if not report.clean:
        report.fix = fix_command(name, prefix, platform, full=full)
    return report


def fix_command(name: str, prefix: Path | None, platform: str | None, *, full: bool = False) -> str:
    """The command that rebuilds the environment from its lock (``create --reinstall``; with
    ``--full`` when only a full check sees the drift)."""
    import shlex

    words = ["envlock", "create", "--profile", name]
    if prefix is not None:
        words += ["--prefix", str(prefix)]
    if platform is not None:
        words += ["--platform", platform]
    return shlex.join([*words, "--reinstall", *(["--full"] if full else [])])
