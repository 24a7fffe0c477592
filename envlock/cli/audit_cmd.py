"""``envlock audit``: static checks of lockfiles' TensorFlow stacks (a pure read)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from envlock.audit.findings import FileReport
from envlock.cli._common import (
    handles_errors,
    json_option,
    open_project,
    out,
    print_json,
    project_option,
)
from envlock.core.errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK, InputError
from envlock.core.project import Project

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_LOCK_SUFFIX = ".conda-lock.yml"
PIXI_LOCK = "pixi.lock"


@click.command("audit")
@click.argument("lockfiles", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--profile", "profile_names", multiple=True, metavar="NAME",
              help="Also check that the lock delivers what profile NAME asks for (repeatable).")
@json_option
@project_option
@handles_errors
def command(lockfiles: tuple[Path, ...], profile_names: tuple[str, ...], as_json: bool, project_dir: str) -> None:
    """Find inconsistencies in the TensorFlow stack of LOCKFILE(s) (default: every lock of the project).

    Exit 0 when clean, 1 when a finding is an error, 2 when a file cannot be read."""
    from envlock.audit import UNREADABLE, audit_path
    from envlock.lockfile.urls import mask_credentials
    from envlock.profiles.load import load_profile

    # Named lockfiles alone need no project.
    if not lockfiles and not profile_names and not project_dir and Path(PIXI_LOCK).is_file():
        project = _project_or_here()  # a pixi project need not be an envlock project
    else:
        project = open_project(project_dir) if profile_names or not lockfiles else Project.at(".")
    profiles = [load_profile(project, n) for n in profile_names]
    targets = _targets(project, list(lockfiles), profile_names)
    reports = []
    for path, names in targets:
        pinned = profiles or [load_profile(project, n) for n in names]
        report = audit_path(path, pinned)
        reports.append(FileReport.model_validate_json(mask_credentials(report.model_dump_json())))
    if as_json:
        print_json({"files": [r.model_dump() for r in reports]})
    else:
        for report in reports:
            _render(report)
        _summary(reports)
    if any(f.rule == UNREADABLE for r in reports for f in r.findings):
        sys.exit(EXIT_BAD_INPUT)
    sys.exit(EXIT_CHECK_FAILED if any(r.has_errors for r in reports) else EXIT_OK)


def _targets(project: Project, lockfiles: list[Path], profile_names: tuple[str, ...]) -> list[tuple[Path, list[str]]]:
    """(lockfile, profiles to check it against).  A project lock is checked against its own
    profile when profiles/<name>.yml exists."""
    if lockfiles:
        return [(p, []) for p in lockfiles]
    if profile_names:
        return [(project.unified_lock_path(n), []) for n in profile_names]
    locks = sorted(project.locks_dir.glob(f"*{_LOCK_SUFFIX}"))
    pixi = [project.root / PIXI_LOCK] if (project.root / PIXI_LOCK).is_file() else []
    if not locks and not pixi:
        raise InputError(
            f"{project.locks_dir}: no *{_LOCK_SUFFIX} files (and no {PIXI_LOCK}) to audit; run `envlock lock` "
            "first or name a lockfile: `envlock audit path/to/conda-lock.yml`."
        )
    known = set(project.profile_names()) if project.profiles_dir.is_dir() else set()
    return [(p, [n] if (n := p.name[: -len(_LOCK_SUFFIX)]) in known else []) for p in locks] + [(p, []) for p in pixi]


def _project_or_here() -> Project:
    try:
        return Project.find()
    except InputError:
        return Project.at(".")


def _render(report: FileReport) -> None:
    plats = ", ".join(report.platforms) or "no platforms"
    if report.environments:
        plats += f"; environments {', '.join(report.environments)}"
    out.print(Text.assemble((report.path, "bold"), f"  ({report.format}; {plats})"))
    if not report.findings:
        out.print(Text("  no findings", style="green"))
        return
    table = Table(show_header=True, header_style="bold", box=None, padding=(0, 1), expand=False)
    for column in ("severity", "rule", "platform", "finding"):
        table.add_column(column, overflow="fold")
    for f in report.findings:
        where = f"{f.environment}/{f.platform or 'all'}" if f.environment else f.platform or "all"
        table.add_row(Text(f.severity, style=_STYLE[f.severity]), f.rule, where, Text(f.message))
    out.print(table)


def _summary(reports: list[FileReport]) -> None:
    counts = {s: sum(1 for r in reports for f in r.findings if f.severity == s) for s in _STYLE}
    text = ", ".join(f"{n} {s}{'s' if n != 1 and s != 'info' else ''}" for s, n in counts.items())
    out.print(Text(f"{len(reports)} file(s): {text}", style="bold red" if counts["error"] else "bold"))
