"""Starting and stopping the solve server (``solve_server.py``) around one conda-lock run.

``ENVLOCK_SOLVE_SERVER_OFF=1`` runs every solve in its own adapter process instead (the
same answers; for comparing the two paths)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from envlock.profiles.model import LockSpec

SOCKET_VAR = "ENVLOCK_SOLVE_SERVER"  # names the server's socket to the launcher
READY_TIMEOUT_S = 60.0


class SolveServer:
    def __init__(self, proc: subprocess.Popen[bytes], socket_path: Path) -> None:
        self.proc = proc
        self.socket_path = socket_path

    def ready_env(self, timeout: float = READY_TIMEOUT_S) -> dict[str, str]:
        """The environment that sends the launcher to the server once it listens; empty
        (every call runs the adapter itself) when it did not come up."""
        assert self.proc.stdout is not None
        readable, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if readable and self.proc.stdout.readline() == b"ready\n":
            return {SOCKET_VAR: str(self.socket_path)}
        return {}

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


OFF_VAR = "ENVLOCK_SOLVE_SERVER_OFF"


@contextlib.contextmanager
def solve_server(tmp: Path, channels: list[str], spec: LockSpec) -> Iterator[SolveServer | None]:
    """A solve server for ``spec``'s platforms over ``channels``, told to load what
    ``spec``'s conda specs reach; stopped on exit.  ``tmp``: a private directory."""
    from envlock.core.child import die_with_parent

    if os.environ.get(OFF_VAR) == "1":
        yield None
        return
    warm = tmp / "solve-server.json"
    warm.write_text(json.dumps({"channels": channels, "platforms": list(spec.platforms), "specs": list(spec.conda_specs)}))
    socket_path = tmp / "solve.sock"
    proc = subprocess.Popen(
        [sys.executable, "-m", "envlock.lock.conda.solve_server", str(socket_path), str(warm)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent(),
    )
    server = SolveServer(proc, socket_path)
    try:
        yield server
    finally:
        server.stop()
