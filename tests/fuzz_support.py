"""Helpers for the bad-input tests: run an envlock command in this process with a time limit,
judge its outcome (traceback, hang, exit code, one-line rejection, credentials), and tell
whether it wrote anything; a project locked against the shared local channel.

PYTEST_DONT_REWRITE: imported by test modules as a plain helper module.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner
from conftest import ENVLOCK, OFFLINE, profile_doc, write_project

SECRET = "s3cr3tZQ"
HANG_S = 15.0


class Hang(Exception):
    """The command ran past its time limit."""


@dataclass
class Outcome:
    args: list[str]
    code: int | None
    stdout: str
    stderr: str
    error: BaseException | None  # an exception that escaped the command (a traceback for a user)
    seconds: float

    def problems(self) -> list[str]:
        """What a user must never see: a traceback, a hang, an exit code other than 0/1/2, a
        rejection that is not one 'error:' line, a credential."""
        found = []
        if isinstance(self.error, Hang):
            found.append(f"hang ({self.seconds:.1f} s)")
        elif self.error is not None:
            found.append(f"traceback: {type(self.error).__name__}: {str(self.error)[:200]}")
        elif self.code not in (0, 1, 2):
            found.append(f"exit {self.code}")
        if self.code == 2 and self.error is None and not self.one_line_rejection():
            found.append(f"rejection not one line: {self.stderr[:300]!r} / {self.stdout[-300:]!r}")
        if SECRET in self.stdout or SECRET in self.stderr:
            found.append("credential shown")
        return found

    def one_line_rejection(self) -> bool:
        if self.args[0] == "audit" and "--json" not in self.args:
            return True  # audit reports an unreadable file as a finding in its table
        if self.args[0] == "audit":
            doc = json.loads(self.stdout)
            messages = [f["message"] for r in doc["files"] for f in r["findings"] if f["rule"] == "lockfile-unreadable"]
            return bool(messages) and all(m.strip() and "\n" not in m.strip() for m in messages)
        lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
        errors = [i for i, ln in enumerate(lines) if ln.startswith("error: ")]
        return errors == [len(lines) - 1]  # progress lines may come first; the rejection is one last line


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    def fire(signum, frame):  # noqa: ANN001, ANN202
        raise Hang

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def invoke(args: list[str], limit_s: float = HANG_S) -> Outcome:
    """``envlock ARGS`` in this process (imports paid once), as CliRunner sees it."""
    import time

    from envlock.cli import main

    runner = CliRunner()
    t0 = time.perf_counter()
    error: BaseException | None = None
    try:
        with _time_limit(limit_s):
            result = runner.invoke(main, args, catch_exceptions=True)
    except Hang as exc:  # raised outside click's own handling
        return Outcome(args, None, "", "", exc, time.perf_counter() - t0)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        error = result.exception
    return Outcome(args, result.exit_code, result.stdout, result.stderr, error, time.perf_counter() - t0)


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` with its size and mtime: what 'nothing written' compares."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (st.st_size, st.st_mtime_ns)
    return out


def lock_project(root: Path, channel: Path, cache: Path) -> Path:
    """A project with profile ``cpu`` locked (by the real `envlock lock`) against ``channel``."""
    write_project(root, {"cpu": profile_doc("cpu", channel)})
    done = subprocess.run([*ENVLOCK, "lock", "--project", str(root), "--profile", "cpu"], capture_output=True,
                          text=True, env={**os.environ, **OFFLINE, "ENVLOCK_CACHE_DIR": str(cache)})
    assert done.returncode == 0, done.stderr
    return root


def copy_project(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest)
    return dest


def replace_lock(project: Path, text: bytes, name: str = "cpu") -> None:
    """Write ``text`` as the unified lock and record it in envlock-meta.json as envlock's own,
    so that `create --frozen` takes the lock as fresh and reads it."""
    lock = project / "locks" / f"{name}.conda-lock.yml"
    lock.write_bytes(text)
    meta_path = project / "locks" / name / "envlock-meta.json"
    meta = json.loads(meta_path.read_text())
    meta["lock_sha256"] = hashlib.sha256(text).hexdigest()
    meta_path.write_text(json.dumps(meta, indent=2))
