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

F = TypeVar("F", bound=Callable[..., Any])


def project_option(f: F) -> F:
    return click.option(
        "--project", "project_dir", type=click.Path(file_okay=False), default=None,
        help="Project directory holding profiles/, environment.template.yml, locks/ "
             "[default: the nearest directory upward holding environment.template.yml].",
    )(f)


def profile_option(f: F) -> F:
    """``--profile NAME`` (required), passed as ``name``."""
    return click.option("--profile", "name", required=True, metavar="NAME", help="Profile name (profiles/NAME.yml).")(f)


def prefix_option(f: F) -> F:
    """``--prefix DIR``, passed as ``prefix`` (a Path, or None for .envs/NAME)."""
    return click.option(
        "--prefix", type=click.Path(file_okay=False, path_type=Path), default=None,
        help="Environment directory [default: .envs/NAME in the project].",
    )(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document for machines.")(f)


