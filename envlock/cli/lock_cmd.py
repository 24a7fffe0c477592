"""``envlock lock``: write (or --check) the lockfiles of one, several or all profiles."""

from __future__ import annotations

import sys

import click

from envlock.cli._common import err, handles_errors, open_project, out, print_json, project_option
from envlock.core.errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EnvlockError, InputError


@click.command("lock")
@click.option("--profile", "profiles", multiple=True, metavar="NAME", help="Profile to lock (repeatable).")
@click.option("--all", "all_", is_flag=True, help="Lock every profile in profiles/ (the default when no --profile).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 naming each profile whose lock is missing or stale.")
@click.option("--update", "update", multiple=True, metavar="PKG",
              help="Re-lock moving only PKG (and what it forces); repeatable.")
@click.option("--update-all", is_flag=True, help="Re-solve from scratch: every package may move to its newest version.")
@click.option("--conda", "conda_exe", metavar="PATH", help="Use this conda/mamba/micromamba for the conda solve instead of py-rattler.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@project_option
@handles_errors
def command(profiles: tuple[str, ...], all_: bool, check: bool, update: tuple[str, ...], update_all: bool,
            conda_exe: str | None, as_json: bool, project_dir: str) -> None:
    """Resolve profiles into hash-pinned lockfiles under locks/ (conda-lock format).

    A fresh lock is left as it is; a stale one (edited profile or template) is re-solved
    preferring the versions it holds, so only what the edit forces moves."""
    from envlock.lockfile.urls import mask_credentials

    done: list = []
    try:
        _run(profiles, check, update, update_all, conda_exe, as_json, project_dir, done)
    except EnvlockError as exc:
        message = mask_credentials(str(exc))
        if as_json:
            print_json({"ok": False, "error": message, "exit_code": exc.exit_code,
                        "profiles": [r.to_json() for r in done]})
        raise type(exc)(message, exit_code=exc.exit_code) from None


def _run(profiles: tuple[str, ...], check: bool, update: tuple[str, ...], update_all: bool,
         conda_exe: str | None, as_json: bool, project_dir: str, done: list) -> None:
    if conda_exe is not None:
        from envlock.lock.conda.conda_exe import resolve_conda_exe

        conda_exe = resolve_conda_exe(conda_exe)
    if update and update_all:
        raise InputError("--update PKG and --update-all exclude each other: name packages to move, or move everything.")
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

    from envlock.lock.orchestrate import lock_profile
    from envlock.profiles.scan import split_invalid

    # An invalid profile is reported and skipped; the others are locked all the same (exit 2 at the end).
    names, invalid = split_invalid(project, names)
    for problem in dict.fromkeys(invalid.values()):  # a broken template is said once, not per profile
        err.print(f"[bold red]error:[/] {escape(problem)}", highlight=False)
    for name in names:
        res = lock_profile(project, name, update=list(update), update_all=update_all, conda_exe=conda_exe,
                           progress=(lambda m: None) if as_json else (lambda m: err.print(f"[dim]{m}[/]")))
        done.append(res)
        for warning in res.warnings:
            err.print(f"[yellow]warning:[/] {warning}", highlight=False)
        if not as_json:
            _print_result(res)
    if as_json:
        answer: dict = {"ok": not invalid, "profiles": [r.to_json() for r in done],
                        "invalid": [{"profile": n, "reason": why} for n, why in invalid.items()]}
        if invalid:
            answer.update(error=" ".join(invalid.values()), exit_code=EXIT_BAD_INPUT)
        print_json(answer)
    if invalid:
        sys.exit(EXIT_BAD_INPUT)


def _print_result(res) -> None:  # noqa: ANN001 - envlock.lock.orchestrate.LockResult (imported lazily)
    from envlock.lock.changes import change_line

    lock = f"locks/{res.profile}.conda-lock.yml"
    if not res.written:
        out.print(f"[green]up to date[/] {res.profile}: {lock} is fresh; nothing solved or written "
                  "(--update PKG or --update-all to move packages)", highlight=False)
        return
    counts = ", ".join(f"{p}: {res.conda_packages[p]} conda + {res.pip_packages[p]} pip" for p in res.platforms)
    out.print(f"[green]locked[/] {res.profile} ({counts}) in {res.seconds:.1f} s → {lock}", highlight=False)
    for plat, moved in res.changes.items():
        for change in moved:
            out.print(f"  {plat}: {change_line(change)}", highlight=False)


def _check(project, names: list[str], as_json: bool) -> None:
    from rich.markup import escape

    from envlock.lock.state import lock_state_or_invalid

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
    for reason in dict.fromkeys(s.reason for s in invalid):  # a broken template is said once
        err.print(f"[bold red]error:[/] {escape(reason)}", highlight=False)
    if invalid:
        sys.exit(EXIT_BAD_INPUT)
    if bad:
        sys.exit(EXIT_CHECK_FAILED)
