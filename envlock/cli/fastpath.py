"""``envlock create`` without click, for the plainest command lines.

Why: importing click (with inspect, typing, uuid, datetime) costs ~30 ms from a cold disk:
5% of a warm ``create`` and a third of a no-op one, paid by every CI job.  Only a command line
made of known options with ordinary values takes this path; anything else (help, a value click
would refuse or convert, a repeated or unknown option) goes to click, which handles it exactly
as always.  The tables below are checked against the click command by the tests."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# option -> (parameter name, kind): "flag"; "text"; "int" (1-64); "dir"/"file": a path that
# must not be a file/a directory, given as a Path; "dir-text": as "dir", given as the string
CREATE_OPTIONS: dict[str, tuple[str, str]] = {
    "--profile": ("name", "text"),
    "--prefix": ("prefix", "dir"),
    "--platform": ("platform", "text"),
    "--lock": ("lock_file", "file"),
    "--frozen": ("frozen", "flag"),
    "--force": ("force", "flag"),
    "--no-verify": ("no_verify", "flag"),
    "--jobs": ("jobs", "int"),
    "--project": ("project_dir", "dir-text"),
    "--json": ("as_json", "flag"),
}
CREATE_DEFAULTS: dict[str, Any] = {
    "prefix": None, "platform": None, "lock_file": None, "frozen": False, "force": False, "no_verify": False,
    "jobs": 8, "project_dir": ".", "as_json": False,
}
CREATE_REQUIRED = ("name",)


def _value(kind: str, text: str) -> Any:
    """The parameter's value, as click would give it; None where click should decide."""
    if not text or text.startswith("-"):
        return None  # click may read an option here, or refuse the value
    if kind == "text":
        return text
    if kind == "int":
        return int(text) if text.isascii() and text.isdigit() and 1 <= int(text) <= 64 else None
    if os.path.lexists(text):  # click.Path checks what exists (its kind, that it is readable)
        want_dir = kind != "file"
        if os.path.isdir(text) != want_dir or not os.access(text, os.R_OK):
            return None
    return text if kind == "dir-text" else Path(text)


def parse(args: Sequence[str], options: dict[str, tuple[str, str]], defaults: dict[str, Any],
          required: Sequence[str]) -> dict[str, Any] | None:
    """The command's parameters from ``args``; None: let click parse them."""
    params: dict[str, Any] = {}
    it = iter(args)
    for arg in it:
        name, eq, inline = arg.partition("=")
        spec = options.get(name)
        if spec is None:
            return None
        dest, kind = spec
        if dest in params:
            return None
        if kind == "flag":
            if eq:
                return None
            params[dest] = True
            continue
        text = inline if eq else next(it, None)
        value = None if text is None else _value(kind, text)
        if value is None:
            return None
        params[dest] = value
    if any(r not in params for r in required):
        return None
    return {**defaults, **params}


def run(argv: Sequence[str]) -> bool:
    """Run ``argv`` (the arguments after ``envlock``) here if it is a plain ``create``; False:
    it is not, and click must run it."""
    if not argv or argv[0] != "create":
        return False
    params = parse(argv[1:], CREATE_OPTIONS, CREATE_DEFAULTS, CREATE_REQUIRED)
    if params is None:
        return False
    from envlock.cli.create_run import create

    create(**params)
    return True
