"""The launcher's side of the solve server (``solve_server.py``): stdlib only and small,
because conda-lock starts the launcher once per call and its imports are on that path."""

from __future__ import annotations

import json
import socket

FAKE_VERSION = "conda 24.11.3"  # what --version reports; conda-lock only logs it
# the environment variables of conda-lock's call that the adapter reads
FORWARDED_ENV = ("CONDA_SUBDIR", "ENVLOCK_SOLVER_ERROR_FILE", "ENVLOCK_SOLVER_PREFER_FILE", "ENVLOCK_SOLVER_TRACE")


def is_version_query(argv: list[str]) -> bool:
    return not argv or argv[0] in ("--version", "-V")


def request(socket_path: str, argv: list[str], environ: dict[str, str]) -> tuple[int, str]:
    """conda's (exit code, stdout) for ``argv`` from the server; raises OSError or ValueError
    when there is no usable answer."""
    env = {k: environ[k] for k in FORWARDED_ENV if k in environ}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(socket_path)
        sock.sendall(json.dumps({"argv": argv, "env": env}).encode() + b"\n")
        sock.shutdown(socket.SHUT_WR)
        data = b"".join(iter(lambda: sock.recv(1 << 20), b""))
    reply = json.loads(data)
    return int(reply["rc"]), str(reply["stdout"])
