"""``envlock check``: drift between an environment and its lock (exit 1 on any difference)."""

from __future__ import annotations

from pathlib import Path

import click

from envlock.cli._common import (
    handles_errors,
    json_option,
    open_project,
    out,
    prefix_option,
    print_json,
    profile_option,
    project_option,
)


@click.command("check")
@profile_option
@prefix_option
@click.option("--platform", default=None, help="Platform of the lock to compare with [default: this machine's].")
@click.option("--full", is_flag=True, help="Hash every file (default: only files whose size or mtime changed).")
@project_option
@json_option
@handles_errors
def command(name: str, prefix: Path | None, platform: str | None, full: bool, project_dir: str, as_json: bool) -> None:
    """Compare an environment with its lock: conda and pip packages added (foreign), removed or
    changed, files of locked conda and pip packages modified or deleted, activation variables
    changed.  On drift, ends with the command that rebuilds it (create --reinstall)."""
    from envlock.prefix.check import run_check

    try:
        project = open_project(project_dir)
        report = run_check(project, name, prefix=prefix, platform=platform, full=full)
    except (Exception, KeyboardInterrupt) as exc:
        if not as_json:
            raise
        from envlock.cli.json_answer import answer_error

        answer_error(exc, profile=name, clean=None)
    from envlock.verify import last

    verified = last.read(Path(report.prefix))
    if as_json:
        print_json({"ok": report.clean, **report.model_dump(), "clean": report.clean, "last_verification": verified})
    else:
        out.print(last.summary(verified), highlight=False)
        render_report(report)  # last: its final line is the command that fixes the drift
    if not report.clean:
        raise SystemExit(1)


def render_report(report) -> None:  # noqa: ANN001
    if report.clean:
        out.print(report.summary(), highlight=False)
        return
    from rich.table import Table

    table = Table(title=report.summary(), title_justify="left")
    for col in ("what", "name", "difference", "lock", "environment"):
        table.add_column(col)
    for p in report.packages:
        kind = "added (not in the lock)" if p.kind == "added" else p.kind
        table.add_row(f"{p.manager} package", p.name, kind, p.locked or "—", p.installed or "—")
    for f in report.files:
        table.add_row("file", f.path, f.kind, f"({f.package})", "missing" if f.kind == "deleted" else "content differs")
    for v in report.env_vars:
        table.add_row("variable", v.name, "changed", v.locked or "—", v.installed or "—")
    out.print(table)
    if report.fix:
        out.print(report.fix_line(), highlight=False, markup=False)
