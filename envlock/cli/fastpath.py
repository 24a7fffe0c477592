"""``envlock create`` and ``envlock run`` without click, for the plainest command lines.

Why: importing click (with inspect, typing, uuid, datetime) costs ~30 ms from a cold disk: 5%
of a warm ``create``, a third of a no-op one (paid by every CI job), and most of what ``run``
adds before the user's command starts.  Only a command line made of known options with
ordinary values takes this path; anything else (help, a value click would refuse or convert, a
repeated or unknown option) goes to click, which handles it exactly as always.  The tables are
checked against the click commands by the tests."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# option kinds: "flag"; "text"; "int" (1-64); "dir"/"file": a path that must not be a file/a
# directory, given as a Path; "dir-text": as "dir", given as the string


@dataclass(frozen=True)
class FastCommand:
    options: dict[str, tuple[str, str]]  # option -> (parameter name, kind)
    defaults: dict[str, Any]
    required: tuple[str, ...]
    rest: str | None = None  # the parameter that takes the arguments after the options (run's command)


PROJECT = {"--profile": ("name", "text"), "--prefix": ("prefix", "dir"), "--project": ("project_dir", "dir-text")}
COMMANDS: dict[str, FastCommand] = {
    "create": FastCommand(
        options={**PROJECT, "--platform": ("platform", "text"), "--lock": ("lock_file", "file"),
                 "--frozen": ("frozen", "flag"), "--force": ("force", "flag"), "--no-verify": ("no_verify", "flag"),
                 "--reinstall": ("reinstall", "flag"), "--full": ("full", "flag"), "--jobs": ("jobs", "int"), "--json": ("as_json", "flag"),
                 "--mirror": ("mirror", "text")},
        defaults={"prefix": None, "platform": None, "lock_file": None, "frozen": False, "force": False,
                  "no_verify": False, "reinstall": False, "full": False, "jobs": 8, "project_dir": None, "as_json": False,
                  "mirror": None},
        required=("name",)),
    "run": FastCommand(options=PROJECT, defaults={"prefix": None, "project_dir": None}, required=("name",), rest="cmd"),
}


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


def parse(args: Sequence[str], command: FastCommand) -> dict[str, Any] | None:
    """The command's parameters from ``args``; None: let click parse them."""
    params: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if command.rest is not None and (arg == "--" or not arg.startswith("-")):
            rest = args[i:] if arg == "--" else args[i - 1:]
            if not rest:
                return None
            params[command.rest] = tuple(rest)
            break
        name, eq, inline = arg.partition("=")
        spec = command.options.get(name)
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
        if eq:
            text = inline
        elif i < len(args):
            text, i = args[i], i + 1
        else:
            return None
        value = _value(kind, text)
        if value is None:
            return None
        params[dest] = value
    if any(r not in params for r in command.required) or (command.rest is not None and command.rest not in params):
        return None
    return {**command.defaults, **params}


def run(argv: Sequence[str]) -> bool:
    """Run ``argv`` (the arguments after ``envlock``) here if it is a plain command line of a
    command in ``COMMANDS``; False: it is not, and click must run it."""
    command = COMMANDS.get(argv[0]) if argv else None
    params = None if command is None else parse(argv[1:], command)
    if params is None:
        return False
    from envlock.cli import actions

    getattr(actions, argv[0])(**params)
    return True
