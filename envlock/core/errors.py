"""Errors that reach the user as one clear paragraph and an exit code, never a traceback."""

from __future__ import annotations

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2


class EnvlockError(Exception):
    """A problem the user can fix. ``str(err)`` is the whole message shown to them."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class InputError(EnvlockError):
    """Bad input: a file, field or argument that must be fixed (exit 2)."""


class CheckFailed(EnvlockError):
    """A check ran and failed: stale lock, drift, failed verification (exit 1)."""

    exit_code = EXIT_CHECK_FAILED
