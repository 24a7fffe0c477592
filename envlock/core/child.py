"""Child processes that never outlive envlock: every ``subprocess`` spawn passes
``preexec_fn=die_with_parent()``, so a killed envlock (``kill -9``, an OOM kill, a cancelled
CI job) takes its uv, solver adapter, probe or ``find`` with it instead of leaving them to run
on against a staging directory that the next run removes.

Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` in the child between fork and exec (it survives the
exec).  Elsewhere: None (no equivalent without a helper process)."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1
_prctl: Callable[..., int] | None = None


def _bind_prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up once in the parent: the child, between fork and exec, must only
    call it (no imports, no symbol lookups: other threads may have held their locks at fork)."""
    global _prctl
    if _prctl is None:
        import ctypes  # a few ms; only when a child is spawned

        try:
            fn = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            return None
        fn.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        fn.restype = ctypes.c_int
        _prctl = fn
    return _prctl


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child receive SIGKILL when this process dies; None where
    that cannot be done: not Linux, or not the main thread (the kernel sends the signal when the
    *thread* that forked exits, and a pool thread exits long before the process)."""
    import threading

    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    prctl = _bind_prctl()
    if prctl is None:
        return None
    parent = os.getpid()
    kill = int(signal.SIGKILL)

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, kill, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the prctl took effect
            os._exit(137)

    return preexec


def die_with_parent_now() -> None:
    """The same, asked from inside a process envlock did not spawn itself (the launcher that
    conda-lock starts as its conda executable): SIGKILL when its parent dies."""
    if not sys.platform.startswith("linux"):
        return
    prctl = _bind_prctl()
    if prctl is not None:
        parent = os.getppid()
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:
            os._exit(137)


def is_gone(pid: int) -> bool:
    """No process ``pid`` runs any more: none exists, or it is a zombie (killed, not yet reaped
    by its parent), whose leftovers nothing will finish either."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it exists, someone else's
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):  # no /proc (not Linux): kill(0) said it exists
        return False
