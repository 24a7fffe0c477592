"""The ``envlock`` command: a thin click layer (``group``), one module per command; and
``entry``, the console script, which runs the plainest ``create`` and ``run`` command lines
without importing click at all (``fastpath``)."""

from __future__ import annotations

import os
import sys
from typing import Any


def entry() -> None:
    """The console script: the fast path or the click group (``main``), then, when a command
    asked for it (``create``, after a success), an exit that skips the interpreter's teardown —
    freeing the link plans of a large environment object by object costs more than the rest of
    a no-op ``create``."""
    from envlock.cli import _support, fastpath

    sys.excepthook = _support.masked_excepthook
    try:
        if not fastpath.run(sys.argv[1:]):
            from envlock.cli.group import main

            main(prog_name="envlock")
    except SystemExit as exc:
        if exc.code in (0, None) and _support.fast_exit_requested():
            _fast_exit()
        raise
    if _support.fast_exit_requested():
        _fast_exit()


def _fast_exit() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def __getattr__(name: str) -> Any:
    if name == "main":  # ``from envlock.cli import main``: the click group, imported on demand
        from envlock.cli.group import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
