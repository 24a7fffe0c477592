"""``envlock profiles``: one row per profile with its route and lock state."""

from __future__ import annotations

import click
from rich.table import Table

from envlock.cli._common import (
    handles_errors,
    json_option,
    open_project,
    out,
    print_json,
    project_option,
)
from envlock.lock_state import lock_state
from envlock.profiles import load_profile


@click.command("profiles")
@json_option
@project_option
@handles_errors
def command(as_json: bool, project_dir: str) -> None:
    """List profiles: platforms, TensorFlow route and version, Keras, lock state."""
    project = open_project(project_dir)
    rows = []
    for name in project.profile_names():
        p = load_profile(project, name)
        st = lock_state(project, name, p)
        rows.append({
            "name": name, "platforms": p.platforms, "tensorflow": p.tensorflow.version,
            "source": p.tensorflow.source, "variant": p.tensorflow.variant, "keras": p.keras,
            "python": p.python, "lock": st.state, "reason": st.reason,
        })
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"profiles in {project.profiles_dir}")
    for col in ("name", "platforms", "TensorFlow", "Keras", "Python", "lock"):
        table.add_column(col)
    colours = {"fresh": "green", "stale": "yellow", "missing": "red"}
    for r in rows:
        table.add_row(r["name"], ", ".join(r["platforms"]), f"{r['tensorflow']} ({r['source']}, {r['variant']})",
                      r["keras"], r["python"], f"[{colours[r['lock']]}]{r['lock']}[/]")
    out.print(table)
