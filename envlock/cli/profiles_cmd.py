"""``envlock profiles``: one row per profile with its route and lock state; an invalid profile
is a row saying so (and why, on stderr), the others are listed all the same, exit 2 at the end."""

from __future__ import annotations

import sys

import click
from rich.table import Table
from rich.text import Text

from envlock.cli._common import (
    err,
    handles_errors,
    json_option,
    open_project,
    out,
    print_json,
    project_option,
)
from envlock.core.errors import EXIT_BAD_INPUT, InputError
from envlock.lock.state import lock_state
from envlock.profiles.load import load_profile


@click.command("profiles")
@json_option
@project_option
@handles_errors
def command(as_json: bool, project_dir: str | None) -> None:
    """List profiles: platforms, TensorFlow route and version, Keras, lock state."""
    project = open_project(project_dir)
    if not project.profiles_dir.is_dir():
        raise InputError(f"{project.profiles_dir}: this project has no profiles/ directory; add profiles/<name>.yml (see README).")
    rows = []
    for name in project.profile_names():
        try:
            p = load_profile(project, name)
            st = lock_state(project, name, p)
        except InputError as exc:
            rows.append({"name": name, "valid": False, "lock": "invalid", "reason": str(exc)})
            continue
        rows.append({
            "name": name, "valid": True, "platforms": p.platforms, "tensorflow": p.tensorflow.version,
            "source": p.tensorflow.source, "variant": p.tensorflow.variant, "keras": p.keras,
            "python": p.python, "lock": st.state, "reason": st.reason,
        })
    invalid = [r for r in rows if not r["valid"]]
    if as_json:
        print_json({"ok": not invalid, "profiles": rows})
    else:
        _table(project.profiles_dir, rows)
    for reason in dict.fromkeys(r["reason"] for r in invalid):  # a broken template is said once
        err.print(Text.assemble(("error: ", "bold red"), reason))
    if invalid:
        sys.exit(EXIT_BAD_INPUT)


def _table(profiles_dir: object, rows: list[dict]) -> None:
    table = Table(title=f"profiles in {profiles_dir}")
    for col in ("name", "platforms", "TensorFlow", "Keras", "Python", "lock"):
        table.add_column(col)
    colours = {"fresh": "green", "stale": "yellow", "missing": "red"}
    for r in rows:
        if not r["valid"]:
            table.add_row(r["name"], "", "", "", "", "[bold red]invalid[/] (see below)")
            continue
        table.add_row(r["name"], ", ".join(r["platforms"]), f"{r['tensorflow']} ({r['source']}, {r['variant']})",
                      r["keras"], r["python"], f"[{colours[r['lock']]}]{r['lock']}[/]")
    out.print(table)
