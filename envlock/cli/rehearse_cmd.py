"""``envlock rehearse``: run models in the OLD environment, load/rebuild them in the NEW one,
and judge every model × format (a thin layer over ``envlock.upgrade.rehearse``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from envlock.cli._common import (
    err,
    handles_errors,
    json_option,
    open_project,
    out,
    print_json,
    project_option,
)
from envlock.core.errors import EXIT_CHECK_FAILED, EXIT_OK, InputError

if TYPE_CHECKING:
    from envlock.upgrade.rehearse import Rehearsal


@click.command("rehearse")
@click.option("--from", "old_profile", default=None, metavar="PROFILE", help="Profile of the environment you have now.")
@click.option("--to", "new_profile", default=None, metavar="PROFILE", help="Profile of the environment you are moving to.")
@click.option("--from-prefix", default=None, type=click.Path(file_okay=False), help="OLD environment directory (conda prefix or venv).")
@click.option("--to-prefix", default=None, type=click.Path(file_okay=False), help="NEW environment directory (conda prefix or venv).")
@click.option("--from-env", multiple=True, metavar="KEY=VALUE", help="Extra variable for the OLD side (repeatable).")
@click.option("--to-env", multiple=True, metavar="KEY=VALUE", help="Extra variable for the NEW side, e.g. TF_USE_LEGACY_KERAS=1 (repeatable).")
@click.option("--model", "models", multiple=True, metavar="FILE|DIR", help="A saved model to rehearse (repeatable).")
@click.option("--build", "builders", multiple=True, metavar="MODULE:FUNCTION", help="A function returning a Keras model (repeatable).")
@click.option("--code", multiple=True, type=click.Path(), help="Source directory to scan for removed/changed APIs (repeatable).")
@click.option("--rtol", default=1e-5, show_default=True, type=float, help="Relative tolerance for outputs and losses.")
@click.option("--atol", default=1e-6, show_default=True, type=float, help="Absolute tolerance for outputs and losses.")
@click.option("--timeout", "timeout_s", default=600.0, show_default=True, type=float, help="Seconds per interpreter start before it is killed.")
@click.option("--report", "report_file", default=None, type=click.Path(dir_okay=False), help="Also write a markdown report here.")
@project_option
@json_option
@handles_errors
def command(old_profile: str | None, new_profile: str | None, from_prefix: str | None, to_prefix: str | None,
            from_env: tuple[str, ...], to_env: tuple[str, ...], models: tuple[str, ...], builders: tuple[str, ...],
            code: tuple[str, ...], rtol: float, atol: float, timeout_s: float, report_file: str | None,
            project_dir: str | None, as_json: bool) -> None:
    """Will my models survive the move from OLD to NEW? Exit 1 when any model × format is
    different, does not load, crashed or errored; 0 when all are identical or equal within tolerance."""
    try:
        result = _rehearse(old_profile, new_profile, from_prefix, to_prefix, list(from_env), list(to_env),
                           list(models), list(builders), list(code), rtol, atol, timeout_s, report_file, project_dir, as_json)
    except Exception as exc:
        if as_json:
            from envlock.cli.json_answer import answer_error

            answer_error(exc)
        raise
    if as_json:
        print_json(result.model_dump())
    else:
        from envlock.upgrade.rehearse_report import render

        render(result, out.console)
    sys.exit(EXIT_OK if result.ok else EXIT_CHECK_FAILED)


def _rehearse(old_profile: str | None, new_profile: str | None, from_prefix: str | None, to_prefix: str | None,
              from_env: list[str], to_env: list[str], models: list[str], builders: list[str], code: list[str],
              rtol: float, atol: float, timeout_s: float, report_file: str | None, project_dir: str | None,
              as_json: bool) -> Rehearsal:
    from envlock.upgrade.rehearse import model_specs, rehearse
    from envlock.upgrade.rehearse_extras import lock_diff, resolve_side, scan_code

    if rtol < 0 or atol < 0 or timeout_s <= 0:
        raise InputError("--rtol/--atol must be >= 0 and --timeout > 0.")
    project = open_project(project_dir) if (old_profile or new_profile) else None
    old = resolve_side("old", "from", project, old_profile, from_prefix, from_env)
    new = resolve_side("new", "to", project, new_profile, to_prefix, to_env)
    specs = model_specs(models, builders)
    for path in code:
        if not Path(path).exists():
            raise InputError(f"{path}: --code: no such file or directory.")
    if as_json:
        result = rehearse(old, new, specs, rtol=rtol, atol=atol, timeout_s=timeout_s)
    else:
        with err.status(f"rehearsing {len(specs)} model(s): old {old.prefix} → new {new.prefix}"):
            result = rehearse(old, new, specs, rtol=rtol, atol=atol, timeout_s=timeout_s)
    result.lock_diff, result.lock_diff_note = lock_diff(project, old, new)
    result.scan = scan_code(code, result.old.versions, result.new.versions)
    if result.scan is not None and not result.scan.get("ok"):
        result.ok = False
    if report_file:
        from envlock.upgrade.rehearse_report import markdown

        try:
            Path(report_file).write_text(markdown(result))
        except OSError as exc:
            raise InputError(f"{report_file}: cannot write it ({exc.strerror}); pick a writable path for --report.") from None
    return result
