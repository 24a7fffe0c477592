"""Host-side checks: the probe's JSON against the profile (and the compatibility data, the
lock, the host's driver).  Each check is a function returning named ``Check`` verdicts; a
failing verdict carries one sentence on the likely cause and the fix."""

from __future__ import annotations

from collections.abc import Callable

from envlock.verify.checks.accelerators import check_cuda, check_gpu, check_metal
from envlock.verify.checks.context import Context, version_matches
from envlock.verify.checks.host import check_benchmarks, check_cpu, check_libraries, short_device
from envlock.verify.checks.runtime import check_cuda_runtime
from envlock.verify.checks.stack import check_keras, check_python, check_tensorflow
from envlock.verify.checks.steps import check_steps
from envlock.verify.model import Check

__all__ = ["CHECKS", "Context", "run_checks", "short_device", "version_matches"]

CHECKS: list[Callable[[Context], list[Check]]] = [
    check_python, check_tensorflow, check_keras, check_cuda, check_cuda_runtime, check_gpu, check_metal, check_cpu,
    check_benchmarks, check_libraries, check_steps,
]


def run_checks(ctx: Context) -> list[Check]:
    out: list[Check] = []
    for fn in CHECKS:
        out.extend(fn(ctx))
    return out
