"""``envlock scan``: TensorFlow/Keras APIs in the code that break in a move between versions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from envlock.cli._common import handles_errors, json_option, out, print_json, project_option
from envlock.core.errors import EXIT_CHECK_FAILED, EXIT_OK, InputError

if TYPE_CHECKING:
    from envlock.upgrade.scan import ScanReport

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


@click.command("scan")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--to", "to_profile", metavar="PROFILE", default=None, help="Target: the profile the code moves to.")
@click.option("--tensorflow", "to_tf", metavar="X.Y", default=None, help="Target: a TensorFlow line (instead of --to).")
@click.option("--from", "from_profile", metavar="PROFILE", default=None, help="Source: the profile the code runs on now.")
@click.option("--from-tensorflow", "from_tf", metavar="X.Y", default=None,
              help="Source: a TensorFlow line [default: any older one, so every change up to the target counts].")
@click.option("--sarif", "sarif_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the findings as SARIF 2.1.0 to this file (GitHub code scanning).")
@json_option
@project_option
@handles_errors
def command(paths: tuple[Path, ...], to_profile: str | None, to_tf: str | None, from_profile: str | None,
            from_tf: str | None, sarif_file: Path | None, as_json: bool, project_dir: str | None) -> None:
    """Check .py files and notebooks under PATH(s) [default: .] for TensorFlow/Keras APIs removed,
    renamed or changed between the source and the target version.

    Exit 0 when no finding is an error, 1 when one is, 2 on bad input."""
    try:
        report = _scan(list(paths) or [Path(".")], project_dir, to_profile, to_tf, from_profile, from_tf, sarif_file)
    except (Exception, KeyboardInterrupt) as exc:
        if not as_json:
            raise
        from envlock.cli.json_answer import answer_error

        answer_error(exc)
    if as_json:
        print_json(report.to_json())
    else:
        _render(report)
    sys.exit(EXIT_OK if report.ok else EXIT_CHECK_FAILED)


def _scan(paths: list[Path], project_dir: str | None, to_profile: str | None, to_tf: str | None,
          from_profile: str | None, from_tf: str | None, sarif_file: Path | None) -> ScanReport:
    from envlock.upgrade.scan import scan_paths
    from envlock.upgrade.scan_target import resolve_sides

    old, new = resolve_sides(project_dir, to_profile, to_tf, from_profile, from_tf)
    report = scan_paths(paths, old, new)
    if sarif_file is not None:
        from envlock.upgrade.scan_sarif import sarif

        try:
            sarif_file.write_text(json.dumps(sarif(report), indent=1) + "\n")
        except OSError as exc:
            raise InputError(f"{sarif_file}: cannot write it ({exc.strerror}); pick a writable path for --sarif.") from None
    return report


def _render(report: ScanReport) -> None:
    from rich.table import Table
    from rich.text import Text

    out.print(Text.assemble(("from ", "dim"), report.old.label, ("  to ", "dim"), report.new.label))
    if report.findings:
        table = Table(box=None, padding=(0, 1), header_style="bold")
        for column in ("where", "rule", "severity", "symbol", "message", "fix"):
            table.add_column(column, overflow="fold")
        for f in report.findings:
            where = f"{f.file}:{f.line}:{f.column}" if f.cell is None else f"{f.file} cell {f.cell}:{f.line}:{f.column}"
            table.add_row(where, f.rule_id, Text(f.severity, style=_STYLE[f.severity]), f.symbol, f.message, f.fix)
        out.print(table)
    counts = report.counts()
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    verdict = Text("ok", style="green") if report.ok else Text("errors found", style="bold red")
    out.print(Text.assemble(f"{report.files} files, {len(report.rules)} rules: {summary} — ", verdict))
