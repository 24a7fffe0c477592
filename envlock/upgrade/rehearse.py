"""Rehearse a TensorFlow/Keras switch: run every model in the OLD environment (record, save in
every format), then load/rebuild each artifact in the NEW one and judge it.  Both sides run in
their own interpreters (``rehearse_run``); the judging is ``rehearse_verdict``; the report adds
the lock diff and the code scan (``rehearse_extras``)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from envlock.core.errors import InputError
from envlock.upgrade.rehearse_run import PhaseRun, Side, extra_paths, run_phase
from envlock.upgrade.rehearse_verdict import ArtifactVerdict, judge

SUITE = ("dense", "conv2d", "lstm", "gru", "batchnorm", "dropout", "embedding", "normalization", "custom")
DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-6
BUILD_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class ModelSpec(BaseModel):
    name: str
    kind: Literal["suite", "build", "file"]
    ref: str


class SideReport(BaseModel):
    label: str
    prefix: str
    profile: str | None
    env_vars: dict[str, str]
    versions: dict[str, Any] | None
    seconds: float
    starts: int
    problems: list[str]


class Rehearsal(BaseModel):
    ok: bool
    old: SideReport
    new: SideReport
    models: list[ModelSpec]
    rtol: float
    atol: float
    verdicts: list[ArtifactVerdict]
    counts: dict[str, int]
    lock_diff: dict | None = None
    lock_diff_note: str | None = None
    scan: dict | None = None
    seconds: float = 0.0


def model_specs(models: list[str], builders: list[str]) -> list[ModelSpec]:
    """``--model`` files/dirs and ``--build`` functions; neither: the built-in suite."""
    specs: list[ModelSpec] = []
    for path in models:
        p = Path(path).expanduser()
        if not p.exists():
            raise InputError(f"{path}: --model: no such file or directory; pass a saved model (.keras, .h5 or a SavedModel directory).")
        specs.append(ModelSpec(name=p.name.replace("/", "_"), kind="file", ref=str(p.resolve())))
    for ref in builders:
        if not BUILD_REF.match(ref):
            raise InputError(f"--build {ref!r}: expected MODULE:FUNCTION (e.g. mypkg.models:build), a function "
                             "returning a Keras model, importable from the current directory in both environments.")
        specs.append(ModelSpec(name=ref.replace(":", "."), kind="build", ref=ref))
    if not specs:
        specs = [ModelSpec(name=n, kind="suite", ref=n) for n in SUITE]
    seen: set[str] = set()
    for s in specs:
        if s.name in seen:
            raise InputError(f"--model/--build: two models are both called {s.name!r}; rename one of the files.")
        seen.add(s.name)
    return specs


def _new_formats(spec: ModelSpec, old_record: dict) -> tuple[list[str], dict[str, str]]:
    """Formats to try in NEW, and those OLD could not write (format -> OLD's error)."""
    written = old_record.get("formats", {})
    formats = [f for f, w in written.items() if w.get("written") and not (f == "weights" and spec.kind == "file")]
    unwritten = {f: w.get("error", "not written") for f, w in written.items() if not w.get("written")}
    formats.append("original" if spec.kind == "file" else "rebuild")
    return formats, unwritten


def _side_report(side: Side, run: PhaseRun) -> SideReport:
    return SideReport(label=side.label, prefix=str(side.prefix), profile=side.profile, env_vars=side.env_vars,
                      versions=run.env, seconds=run.seconds, starts=run.starts, problems=run.problems)


def rehearse(old: Side, new: Side, specs: list[ModelSpec], *, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL,
             timeout_s: float = 600.0, seed: int = 1234) -> Rehearsal:
    import time

    start = time.perf_counter()
    base = {"seed": seed, "rtol": rtol, "atol": atol, "paths": extra_paths()}
    with tempfile.TemporaryDirectory(prefix="envlock-rehearse-work-") as work:
        models = [s.model_dump() for s in specs]
        old_run = run_phase(old, {**base, "phase": "old", "work": work, "models": models}, [s.name for s in specs], timeout_s=timeout_s)
        verdicts: list[ArtifactVerdict] = []
        todo: list[dict] = []
        keys: list[str] = []
        for spec in specs:
            record = old_run.results.get(spec.name)
            if record is None or not record.get("ok"):
                why = (record or {}).get("error") or "the old environment reported nothing for this model"
                verdict = "crashed" if (record or {}).get("crashed") else "error"
                verdicts.append(ArtifactVerdict(model=spec.name, format="(old)", verdict=verdict, cause=f"in the old environment: {why}"))
                continue
            formats, unwritten = _new_formats(spec, record)
            verdicts += [ArtifactVerdict(model=spec.name, format=f, verdict="not written", cause=f"the old environment could not write it: {e}")
                         for f, e in unwritten.items()]
            todo.append({**spec.model_dump(), "formats": formats})
            keys += [f"{spec.name}/{f}" for f in formats]
        new_run = run_phase(new, {**base, "phase": "new", "work": work, "models": todo}, keys, timeout_s=timeout_s) if todo \
            else PhaseRun(results={})
    for item in todo:
        for fmt in item["formats"]:
            verdicts.append(judge(item["name"], fmt, old_run.results[item["name"]], new_run.results.get(f"{item['name']}/{fmt}"), rtol, atol))
    order = {s.name: i for i, s in enumerate(specs)}
    verdicts.sort(key=lambda v: order.get(v.model, 0))
    counts: dict[str, int] = {}
    for v in verdicts:
        counts[v.verdict] = counts.get(v.verdict, 0) + 1
    return Rehearsal(ok=not any(v.failing for v in verdicts) and bool(verdicts), old=_side_report(old, old_run),
                     new=_side_report(new, new_run), models=specs, rtol=rtol, atol=atol, verdicts=verdicts, counts=counts,
                     seconds=round(time.perf_counter() - start, 3))
