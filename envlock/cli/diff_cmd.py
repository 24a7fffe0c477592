"""``envlock diff``: what changes between two lockfiles, TensorFlow highlights first (a pure read)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from envlock.audit.diff import LockDiff
from envlock.cli._common import handles_errors, json_option, out, print_json, project_option

_KIND_STYLE = {"upgraded": "green", "downgraded": "red", "rebuilt": "yellow", "added": "cyan", "removed": "magenta"}


@click.command("diff")
@click.argument("old", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--summary", is_flag=True, help="Only highlights and per-platform counts, not every package.")
@json_option
@project_option
@handles_errors
def command(old: Path, new: Path, summary: bool, as_json: bool, project_dir: str) -> None:
    """Compare two lockfiles of any format (conda-lock, explicit, pixi.lock, conda env export),
    per platform; pixi.lock files per environment.

    OLD and NEW are paths as given (like audit's LOCKFILES); --project is accepted as by every command."""
    from envlock.audit.diff import diff_lockfiles
    from envlock.audit.diff_envs import diff_by_environment
    from envlock.lockfile import read_lockfile
    from envlock.lockfile.urls import mask_credentials

    old_lock, new_lock = read_lockfile(old), read_lockfile(new)
    per_env = diff_by_environment(old_lock, new_lock)
    if per_env is not None:
        per_env = [type(e).model_validate_json(mask_credentials(e.model_dump_json())) for e in per_env]
        if as_json:
            print_json({"ok": True, "environments": [e.model_dump() for e in per_env]})
            return
        for env in per_env:
            side = "" if env.in_old and env.in_new else " (old only)" if env.in_old else " (new only)"
            out.print(Text(f"\n== environment {env.environment}{side}", style="bold"))
            _render(env.diff, summary)
        return
    result = diff_lockfiles(old_lock, new_lock)
    result = LockDiff.model_validate_json(mask_credentials(result.model_dump_json()))
    if as_json:
        print_json(result.model_dump())
        return
    _render(result, summary)


def _render(result: LockDiff, summary: bool) -> None:
    out.print(Text.assemble(("old ", "dim"), result.old, f" ({result.old_format})"))
    out.print(Text.assemble(("new ", "dim"), result.new, f" ({result.new_format})"))
    _highlights(result)
    _breaking(result)
    _counts(result)
    if not summary:
        _details(result)


def _highlights(result: LockDiff) -> None:
    if not result.highlights:
        out.print(Text("\nNo change to TensorFlow, Keras, Python, CUDA, cuDNN or the NumPy major.", style="green"))
        return
    table = Table(title="Highlights", title_justify="left", box=None, padding=(0, 1), header_style="bold")
    for column in ("what", "platforms", "old", "new", "note"):
        table.add_column(column, overflow="fold")
    for h in result.highlights:
        table.add_row(h.topic, ", ".join(h.platforms), Text(h.old or "—"), Text(h.new or "—"), Text(h.note, style="bold yellow"))
    out.print(table)


def _breaking(result: LockDiff) -> None:
    if not result.breaking:
        return
    verb = "crossed" if result.breaking_direction == "upgrade" else "undone (downgrade)"
    out.print(Text(f"\nBreaking changes {verb}:", style="bold"))
    for b in result.breaking:
        out.print(Text(f"  {b.line}: {b.change}"))


def _counts(result: LockDiff) -> None:
    table = Table(title="\nPer platform", title_justify="left", box=None, padding=(0, 1), header_style="bold")
    for column in ("platform", "in", "upgraded", "downgraded", "rebuilt", "added", "removed", "unchanged"):
        table.add_column(column, justify="right" if column not in ("platform", "in") else "left")
    for p in result.platforms:
        c = p.counts()
        table.add_row(p.platform, p.present, *(str(c[k]) for k in _KIND_STYLE), str(p.unchanged))
    out.print(table)


def _details(result: LockDiff) -> None:
    for p in result.platforms:
        if not p.changes:
            continue
        table = Table(title=f"\n{p.platform}", title_justify="left", box=None, padding=(0, 1), header_style="bold")
        for column in ("change", "package", "old", "new", "note"):
            table.add_column(column, overflow="fold")
        for kind in _KIND_STYLE:
            for c in p.of_kind(kind):
                table.add_row(Text(kind, style=_KIND_STYLE[kind]), Text(c.name), Text(c.old or ""), Text(c.new or ""), Text(c.note))
        out.print(table)
