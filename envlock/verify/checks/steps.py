"""Fail closed: every probe step the profile needs must have run and reported.  A step that
errors, is skipped or is absent from the probe's document is a failed check named after the
step (``probe.<step>``), with the step's error as ``actual``; no other check may stand in for it."""

from __future__ import annotations

from envlock.verify.checks.context import Context
from envlock.verify.model import Check

# In probe order.  ``libraries`` reads /proc/self/maps, so only Linux hosts need it;
# ``benchmarks`` is needed unless the benchmark was turned off.
ALWAYS = ("python", "cpu", "packages", "environment", "tensorflow", "keras", "build_info", "devices")


def needed_steps(ctx: Context) -> list[str]:
    steps = list(ALWAYS)
    if ctx.bench:
        steps.append("benchmarks")
    if ctx.platform.startswith("linux"):
        steps.append("libraries")
    return steps


def _actual(ctx: Context, step: str) -> str:
    status = ctx.doc.status(step)
    if status == "missing":
        return "missing from the probe's document"
    if status == "skipped":
        return f"skipped: {ctx.doc.measurements[step].get('reason') or 'no reason given'}"
    err = ctx.doc.error(step)
    if err:
        return f"{err.get('type', 'error')}: {err.get('message', '')}".rstrip(": ")
    return f"status {status!r}"


def _message(ctx: Context, step: str) -> str:
    if ctx.doc.status(step) == "missing":
        return (f"the probe did not report its '{step}' step (it stopped early, or it is another version's probe): "
                "nothing can be concluded from a step that never ran; see the stderr tail.")
    return (f"the probe's '{step}' step did not complete inside the environment, so what it measures is unknown: "
            "see the error and the stderr tail." + ctx.hint())


def check_steps(ctx: Context) -> list[Check]:
    """One failed check per needed step that is not ``ok``, and per any other step that errored."""
    needed = needed_steps(ctx)
    extra = [s for s in ctx.doc.measurements if s not in needed and ctx.doc.status(s) == "error"]
    out = []
    for step in needed + extra:
        if ctx.doc.status(step) == "ok":
            continue
        out.append(Check(name=f"probe.{step}", ok=False, expected=f"the '{step}' step runs and reports",
                         actual=_actual(ctx, step), message=_message(ctx, step)))
    if ctx.bench and ctx.doc.status("benchmarks") == "ok" and not ctx.doc.benchmarks():
        out.append(Check(name="probe.benchmarks", ok=False, expected="at least one benchmark result",
                         actual="the benchmark step reported no results",
                         message="the probe ran no benchmark at all, so neither speed nor numerics were checked; see the stderr tail."))
    return out
