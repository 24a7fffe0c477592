"""``envlock lock``: write (or --check) the lockfiles of one, several or all profiles."""

from __future__ import annotations

import sys

import click

from envlock.cli._common import err, handles_errors, open_project, out, print_json, project_option
from envlock.errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, InputError


@click.command("lock")
@click.option("--profile", "profiles", multiple=True, metavar="NAME", help="Profile to lock (repeatable).")
@click.option("--all", "all_", is_flag=True, help="Lock every profile in profiles/ (the default when no --profile).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 naming each profile whose lock is missing or stale.")
@click.option("--update", "update", multiple=True, metavar="PKG", help="Re-lock moving only PKG (and what it forces).")
@click.option("--conda", "conda_exe", metavar="PATH", help="Use this conda/mamba/micromamba for the conda solve instead of py-rattler.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@project_option
@handles_errors
def command(profiles: tuple[str, ...], all_: bool, check: bool, update: tuple[str, ...],
            conda_exe: str | None, as_json: bool, project_dir: str) -> None:
    """Resolve profiles into hash-pinned lockfiles under locks/ (conda-lock format)."""
    project = open_project(project_dir)
    names = list(profiles) or project.profile_names()
    if not names:
        raise InputError(f"{project.profiles_dir}: no profiles found; add profiles/<name>.yml (see README).")
    for n in profiles:
        project.require_profile(n)
    if check:
        _check(project, names, as_json)
        return
    if update and not profiles:
        raise InputError("--update needs --profile NAME: name the profile whose lock should move.")
    from rich.markup import escape

    from envlock.lock import lock_profile
    from envlock.profile_scan import split_invalid

    # An invalid profile is reported and skipped; the others are locked all the same (exit 2 at the end).
    names, invalid = split_invalid(project, names)
    for problem in invalid.values():
        err.print(f"[bold red]error:[/] {escape(problem)}", highlight=False)
    results = []
    for name in names:
        res = lock_profile(project, name, update=list(update), conda_exe=conda_exe,
                           progress=(lambda m: None) if as_json else (lambda m: err.print(f"[dim]{m}[/]")))
        results.append(res)
        if not as_json:
            counts = ", ".join(f"{p}: {res.conda_packages[p]} conda + {res.pip_packages[p]} pip" for p in res.platforms)
            out.print(f"[green]locked[/] {name} ({counts}) in {res.seconds:.1f} s → locks/{name}.conda-lock.yml")
    if as_json:
        print_json({"ok": not invalid, "profiles": [r.__dict__ for r in results],
                    "invalid": [{"profile": n, "reason": why} for n, why in invalid.items()]})
    if invalid:
        sys.exit(EXIT_BAD_INPUT)


def _check(project, names: list[str], as_json: bool) -> None:
    from rich.markup import escape

    from envlock.profile_scan import lock_state_or_invalid

    states = [lock_state_or_invalid(project, n) for n in names]
    bad = [s for s in states if s.state != "fresh"]
    if as_json:
        print_json({"ok": not bad, "profiles": [s.__dict__ for s in states]})
    else:
        for s in states:
            colour = "green" if s.state == "fresh" else "red"
            why = "see the error below" if s.state == "invalid" else s.reason
            out.print(f"[{colour}]{s.state:7}[/] {escape(s.profile)}: {escape(why)}", highlight=False)
    invalid = [s for s in states if s.state == "invalid"]
    for s in invalid:
        err.print(f"[bold red]error:[/] {escape(s.reason)}", highlight=False)
    if invalid:
        sys.exit(EXIT_BAD_INPUT)
    if bad:
        sys.exit(EXIT_CHECK_FAILED)
