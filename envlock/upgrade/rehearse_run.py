"""Run the model probe in one environment: its own interpreter (``python -I``), its activation
variables plus the caller's extras, a timeout per start, and resumption after a crash or hang:
the model (OLD) or model × format (NEW) that took the interpreter down becomes a ``crashed``
row and the probe starts again after it.  Nothing here raises for what the probe does."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from envlock.core.child import die_with_parent
from envlock.prefix.activation import activated_environ, python_of
from envlock.verify.runner import _kill_group, _signal_name, _tail

MARK = "[envlock-probe] begin "


@dataclass
class Side:
    """One environment of a rehearsal."""

    label: str  # "old" / "new"
    prefix: Path
    env_vars: dict[str, str] = field(default_factory=dict)
    profile: str | None = None

    @property
    def python(self) -> Path:
        return python_of(self.prefix)

    def environ(self) -> dict[str, str]:
        env = activated_environ(self.prefix)
        env.update(self.env_vars)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env["PYTHONHASHSEED"] = "0"
        env["TF_DETERMINISTIC_OPS"] = "1"
        return env


@dataclass
class PhaseRun:
    results: dict[str, dict]  # key ("model" or "model/format") -> the probe's record
    env: dict | None = None  # versions the probe saw (python, tensorflow, keras, ...)
    starts: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def _last_key(stderr: str) -> str | None:
    keys = [ln[len(MARK) + len("model "):].strip() for ln in stderr.splitlines() if ln.startswith(MARK + "model ")]
    return keys[-1] if keys else None


def _read_results(path: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash
        if isinstance(record, dict) and "key" in record:
            out[record["key"]] = record
    return out


def _start(side: Side, script: Path, config: dict, timeout_s: float, cwd: Path) -> tuple[int | None, str, str, bool]:
    cmd = [str(side.python), "-I", str(script), json.dumps(config)]
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=side.environ(), cwd=cwd,
                                start_new_session=True, preexec_fn=die_with_parent())
    except OSError as exc:
        return None, "", f"cannot start {side.python}: {exc.strerror or exc}", False
    try:
        out, err = proc.communicate(timeout=timeout_s)
        timed_out = False
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        timed_out = True
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"), timed_out


def run_phase(side: Side, config: dict, keys: list[str], *, timeout_s: float) -> PhaseRun:
    """Run ``config`` (phase, models, work dir...) until every key has a record."""
    run = PhaseRun(results={})
    if not side.python.exists():
        problem = f"{side.python} does not exist: {side.prefix} is not an environment with a Python interpreter"
        run.problems.append(problem)
        run.results = {k: {"key": k, "ok": False, "error": problem} for k in keys}
        return run
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="envlock-rehearse-") as tmp:
        script = Path(tmp) / "envlock_model_probe.py"
        script.write_text(resources.files("envlock.upgrade").joinpath("model_probe.py").read_text())
        results_file = Path(tmp) / "results.jsonl"
        crashed: dict[str, dict] = {}
        while True:
            pending = [k for k in keys if k not in _read_results(results_file) and k not in crashed]
            if not pending:
                break
            run.starts += 1
            cfg = {**config, "results": str(results_file), "skip": sorted(set(keys) - set(pending))}
            code, stdout, stderr, timed_out = _start(side, script, cfg, timeout_s, Path(tmp))
            for line in reversed(stdout.strip().splitlines()):
                try:
                    run.env = json.loads(line).get("env")
                    break
                except (ValueError, AttributeError):
                    continue
            done = _read_results(results_file)
            culprit = _last_key(stderr)
            if culprit is None or culprit in done or culprit not in pending:
                if all(k in done for k in pending):
                    break
                # it died before reaching a model (import failure, broken interpreter): no resuming helps
                why = f"the probe exited with status {code} before reaching a model" if not timed_out else \
                    f"the probe hung before reaching a model and was killed after {timeout_s:g} s"
                problem = f"{why}: {_tail(stderr, 8)}".strip()
                run.problems.append(problem)
                crashed.update({k: {"key": k, "ok": False, "error": problem} for k in pending if k not in done})
                break
            signal = _signal_name(code) if code is not None else None
            how = (f"hung and was killed after {timeout_s:g} s" if timed_out else
                   f"crashed the interpreter with {signal}" if signal else f"ended the interpreter with status {code}")
            crashed[culprit] = {"key": culprit, "crashed": True, "ok": False,
                                "error": f"{culprit} {how}: {_tail(stderr, 6)}".strip()[:1500]}
        run.results = {**_read_results(results_file), **crashed}
    run.seconds = round(time.perf_counter() - start, 3)
    return run


def extra_paths() -> list[str]:
    """Where ``--build MODULE:FUNCTION`` modules are imported from: the working directory
    (``python -I`` leaves it off ``sys.path``)."""
    return [os.getcwd()]
