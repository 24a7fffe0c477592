"""The click-free half of the command layer: error handling and output, shared by the click
commands and by the commands ``envlock.cli.fastpath`` runs without importing click."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from envlock.core.errors import EnvlockError
from envlock.core.project import Project

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])


# Output to a file or pipe is not cut to rich's 80-column default: tables keep their natural
# width (up to this), unless COLUMNS says otherwise.
PIPE_WIDTH = 4096


class LazyConsole:
    """A rich Console made on first use: importing rich costs ~15 ms, which a no-op
    ``create --json`` (stdout is plain JSON, stderr silent) never needs to pay."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            options = dict(self._options)
            stream = sys.stderr if options.get("stderr") else sys.stdout
            if "width" not in options and not os.environ.get("COLUMNS") and not _is_terminal(stream):
                options["width"] = PIPE_WIDTH
            self._console = Console(**options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)


out = LazyConsole(soft_wrap=True)
err = LazyConsole(stderr=True, soft_wrap=True)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _error_text(message: str) -> Any:
    from rich.text import Text

    from envlock.lockfile.urls import mask_credentials

    return Text.assemble(("error: ", "bold red"), mask_credentials(message))


def masked_excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    """Print a traceback as Python would, with channel credentials masked."""
    import traceback

    from envlock.lockfile.urls import mask_credentials

    sys.stderr.write(mask_credentials("".join(traceback.format_exception(kind, value, tb))))


def handles_errors(f: F) -> F:
    """Turn EnvlockError into its message and exit code; Ctrl-C into exit 130. No tracebacks."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except EnvlockError as exc:
            err.print(_error_text(str(exc)))
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            err.print("[bold red]interrupted[/]")
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


_FAST_EXIT = False


def request_fast_exit() -> None:
    """Let ``entry`` end the process with ``os._exit`` after a successful command: only for
    commands that leave nothing to finalize (no temporary directories, no open files but stdio)."""
    global _FAST_EXIT
    _FAST_EXIT = True


def fast_exit_requested() -> bool:
    return _FAST_EXIT


def open_project(project_dir: str | None) -> Project:
    """``--project DIR`` as given; without it, the nearest directory upward holding the template."""
    return Project.open(project_dir)


def print_json(data: Any) -> None:
    """One JSON document on stdout; credentials in URLs masked (``user:password@`` -> ``***@``)."""
    text = json.dumps(data, indent=2, default=str)
    if "@" in text or "/t/" in text:  # no URL credentials otherwise: the usual case skips the import
        from envlock.lockfile.urls import mask_credentials

        text = mask_credentials(text)
    sys.stdout.write(text + "\n")
