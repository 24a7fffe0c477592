"""``--json`` always answers: whatever a command's outcome — a bad profile, a missing lock, a
failed step, Ctrl-C — stdout gets exactly one JSON object with a top-level ``ok``, and the
exit code stays what it would be without ``--json``.  The message also goes to stderr."""

from __future__ import annotations

import sys

from envlock.cli._support import err, print_json
from envlock.core.errors import EnvlockError


def error_object(exc: BaseException, **context: object) -> tuple[dict, int]:
    """The JSON object for a command that ended with ``exc``, and its exit code."""
    if isinstance(exc, EnvlockError):
        code, kind, message = exc.exit_code, ("usage" if exc.exit_code == 2 else "failed"), str(exc)
    elif isinstance(exc, KeyboardInterrupt):
        code, kind, message = 130, "interrupted", "interrupted"
    else:
        code, kind, message = 1, "internal", f"{type(exc).__name__}: {exc}"
    return {"ok": False, **context, "error": message, "error_kind": kind, "exit_code": code}, code


def answer_error(exc: BaseException, **context: object) -> None:
    """Print the error object (stdout) and the message (stderr), then exit with its code; an
    unexpected exception (a bug) is raised again after its object, for its traceback."""
    from rich.text import Text

    obj, code = error_object(exc, **context)
    print_json(obj)
    sys.stdout.flush()
    if not isinstance(exc, (EnvlockError, KeyboardInterrupt)):
        raise exc
    err.print(Text.assemble(("error: ", "bold red"), obj["error"]))
    sys.exit(code)
