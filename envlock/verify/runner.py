"""Launch the probe inside an environment: its own interpreter in isolated mode, the
environment's activation variables on top of the caller's environment, a timeout, and every
way it can go wrong (missing interpreter, import error, segfault, hang, garbage output)
turned into a ``ProbeRun`` — never an exception that takes envlock down."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from envlock.core.child import die_with_parent
from envlock.prefix.activation import activated_environ, bare_environ, python_of
from envlock.verify.model import ProbeDoc, ProbeRun

STDERR_TAIL_LINES = 40
MARK = "[envlock-probe] begin "


def probe_source() -> str:
    return resources.files("envlock.verify").joinpath("probe.py").read_text()


def _tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    kept = [ln for ln in text.splitlines() if not ln.startswith("[envlock-probe]")]
    return "\n".join(kept[-lines:])


def _last_step(stderr: str) -> str | None:
    steps = [ln[len(MARK):].strip() for ln in stderr.splitlines() if ln.startswith(MARK)]
    return steps[-1] if steps else None


def _signal_name(returncode: int) -> str | None:
    if returncode >= 0:
        # a shell wrapper reports a signalled child as 128 + N
        if returncode > 128 and returncode - 128 in signal.Signals._value2member_map_:
            return signal.Signals(returncode - 128).name
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def run_probe(prefix: Path, config: dict, *, timeout_s: float, python: Path | None = None) -> ProbeRun:
    """Run the probe with ``prefix``'s Python and return what happened."""
    python = python or python_of(prefix)
    if not python.exists():
        return ProbeRun(ok=False, command=[str(python)], problem=f"{python} does not exist: {prefix} is not an environment with a Python interpreter")
    with tempfile.TemporaryDirectory(prefix="envlock-probe-") as tmp:
        script = Path(tmp) / "envlock_probe.py"
        script.write_text(probe_source())
        cmd = [str(python), "-I", str(script), json.dumps(config)]
        env = bare_environ() if config.get("bare") else activated_environ(prefix)  # bare: a start without activation
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                    cwd=tmp, start_new_session=True, preexec_fn=die_with_parent())
        except OSError as exc:
            return ProbeRun(ok=False, command=cmd, problem=f"cannot start {python}: {exc.strerror or exc}")
        timed_out = False
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            out, err = proc.communicate()
        seconds = time.perf_counter() - start
    stdout = out.decode(errors="replace")
    stderr = err.decode(errors="replace")
    run = ProbeRun(ok=False, command=cmd[:3], returncode=proc.returncode, timed_out=timed_out,
                   seconds=round(seconds, 3), stderr_tail=_tail(stderr), stderr=stderr[-65536:], last_step=_last_step(stderr))
    where = f" during '{run.last_step}'" if run.last_step else ""
    if timed_out:
        run.problem = f"the probe hung{where} and was killed after {timeout_s:g} s"
        return run
    run.signal = _signal_name(proc.returncode)
    parsed = _parse(stdout)
    doc = parsed[0] if parsed else None
    run.raw = parsed[1] if parsed else None
    if run.signal:
        if doc is not None:  # reported everything, then crashed in interpreter teardown
            run.doc = doc
            run.problem = f"the probe reported, then crashed with {run.signal} while the interpreter exited"
        else:
            run.problem = f"the probe crashed with {run.signal}{where} (a native library failed)"
        return run
    if doc is None:
        run.problem = f"the probe exited with status {proc.returncode}{where} without printing its JSON document"
        return run
    run.doc = doc
    run.ok = True
    return run


def _parse(stdout: str) -> tuple[ProbeDoc, dict] | None:
    for line in reversed(stdout.strip().splitlines()):
        try:
            raw = json.loads(line)
            return ProbeDoc.model_validate(raw), raw
        except (ValueError, ValidationError):
            continue
    return None


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()

