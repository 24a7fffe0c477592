"""Shared pieces of the click commands: options; error handling and output come from
``_support`` (click-free, for the fast path)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from envlock.cli._support import (  # noqa: F401 - re-exported for the command modules
    err,
    handles_errors,
    open_project,
    out,
    print_json,
)
from envlock.cli.options import JSON, PREFIX, PROFILE, PROJECT, OptionSpec

F = TypeVar("F", bound=Callable[..., Any])


_CLICK_TYPES: dict[str, Any] = {
    "text": None, "int": click.IntRange(1, 64), "dir": click.Path(file_okay=False, path_type=Path),
    "file": click.Path(dir_okay=False, path_type=Path), "dir-text": click.Path(file_okay=False),
}


def click_options(specs: tuple[OptionSpec, ...]) -> Callable[[F], F]:
    """The click options of a table in ``options`` (the one declaration the fast path reads too)."""

    def decorate(f: F) -> F:
        for o in reversed(specs):
            if o.kind == "flag":
                f = click.option(o.flag, o.dest, is_flag=True, help=o.help)(f)
            else:
                # no ``default`` at all unless there is one: click 8.3+ takes an explicit None as a
                # value, and a required option would then never be missing
                extra = {"default": o.default, "show_default": True} if o.default is not None else {}
                f = click.option(o.flag, o.dest, type=_CLICK_TYPES[o.kind], required=o.required,
                                 metavar=o.metavar, help=o.help, **extra)(f)
        return f

    return decorate


# The options most commands share, from the same declarations as create's and run's.
project_option = click_options((PROJECT,))
profile_option = click_options((PROFILE,))
prefix_option = click_options((PREFIX,))
json_option = click_options((JSON,))
