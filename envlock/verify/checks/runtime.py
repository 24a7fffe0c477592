"""The locked CUDA runtime against this host's driver (``envlock.compat.cuda_runtime``)."""

from __future__ import annotations

from envlock.compat.cuda_runtime import driver_gap, locked_runtime
from envlock.verify.checks.context import Context
from envlock.verify.model import Check


def check_cuda_runtime(ctx: Context) -> list[Check]:
    """Only with a lock that holds a CUDA runtime and a host with a driver (no driver on a GPU
    profile is ``cuda.driver``'s failure)."""
    if not ctx.locked or not ctx.driver_cuda:
        return []
    pkg = locked_runtime(ctx.locked)
    if pkg is None:
        return []
    gap = driver_gap(ctx.locked, ctx.driver_cuda, "this host's NVIDIA driver")
    expected = f"locked CUDA runtime <= the driver's CUDA {ctx.driver_cuda}"
    if gap is None:
        return [Check(name="cuda.runtime", ok=True, expected=expected, actual=pkg.label())]
    if gap.severity == "warning":
        ctx.notes.append(gap.message)
    return [Check(name="cuda.runtime", ok=gap.severity != "error", expected=expected, actual=pkg.label(), message=gap.message)]
