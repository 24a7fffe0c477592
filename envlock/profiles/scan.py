"""Many profiles at once, where one invalid profile must not hide the others: it is set aside
with its reason, and the command goes on with the rest (and exits 2 at the end)."""

from __future__ import annotations

from envlock.core.errors import InputError
from envlock.core.project import Project


def split_invalid(project: Project, names: list[str]) -> tuple[list[str], dict[str, str]]:
    """(the names whose profile loads and renders over the template, {invalid name: why})."""
    from envlock.profiles.load import load_profile
    from envlock.profiles.render import render

    valid: list[str] = []
    invalid: dict[str, str] = {}
    for name in names:
        try:
            render(project, load_profile(project, name))
        except InputError as exc:
            invalid[name] = str(exc)
        else:
            valid.append(name)
    return valid, invalid
