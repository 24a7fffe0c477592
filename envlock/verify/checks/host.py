"""Checks of the host side: CPU instruction sets and speed, benchmark numerics, and which
libraries the process actually loaded."""

from __future__ import annotations

from envlock.verify import libraries
from envlock.verify.checks.accelerators import wants_gpu
from envlock.verify.checks.context import Context
from envlock.verify.model import Benchmark, Check

# Largest acceptable max|error| / max|reference| per dtype (TF32 is TensorFlow's default for
# float32 matmuls on Ampere+ GPUs, hence the float32 slack; a wrong result is of order 1).
TOLERANCE = {"float32": 2e-3, "float16": 1e-2, "bfloat16": 3e-2}


def check_cpu(ctx: Context) -> list[Check]:
    out: list[Check] = []
    want = [f.lower() for f in ctx.profile.verify.cpu_features]
    cpu = ctx.doc.value("cpu")
    if want:
        flags = {f.lower() for f in cpu.get("flags", [])}
        missing = [f for f in want if f not in flags]
        out.append(Check(
            name="cpu.features", ok=not missing, expected=", ".join(want),
            actual=("missing " + ", ".join(missing)) if missing else "all present",
            message="" if not missing else (f"this CPU ({cpu.get('model')}) lacks {', '.join(missing)}: the profile describes another machine class; "
                                            "use a profile for this CPU or run on a host that has these instructions."),
        ))
    floor = ctx.profile.verify.min_gflops
    cpu_mm = [b for b in ctx.doc.benchmarks() if "CPU" in b.device and b.op == "matmul" and b.gflops]
    if floor is not None and cpu_mm:
        best = max(b.gflops or 0.0 for b in cpu_mm)
        ok = best >= floor
        out.append(Check(
            name="cpu.gflops", ok=ok, expected=f">= {floor:g} GFLOP/s", actual=f"{best:g} GFLOP/s",
            message="" if ok else ("the CPU matmul is below the profile's floor: another load on the machine, a throttled VM, "
                                   "TF_ENABLE_ONEDNN_OPTS=0, or a build that does not use this CPU's vector unit."),
        ))
    return out


def short_device(device: str) -> str:
    return device.rsplit("device:", 1)[-1]


def check_benchmarks(ctx: Context) -> list[Check]:
    out = []
    for b in ctx.doc.benchmarks():
        out.append(_bench_check(b))
    return out


def _bench_check(b: Benchmark) -> Check:
    name = f"bench.{short_device(b.device)}.{b.op}.{b.dtype}"
    tol = TOLERANCE.get(b.dtype, 1e-2)
    expected = f"max|err|/max|ref| <= {tol:g}"
    if b.error:
        return Check(name=name, ok=False, expected=expected, actual=b.error,
                     message=f"the {b.op} kernel failed on {short_device(b.device)}: the {b.dtype} kernel is missing or broken in this build.")
    rel = b.rel_error
    ok = rel is not None and rel <= tol
    return Check(name=name, ok=ok, expected=expected,
                 actual=f"{rel:.1e} at {b.gflops:g} GFLOP/s" if rel is not None and b.gflops else "no result",
                 message="" if ok else f"{b.op} on {short_device(b.device)} returned wrong numbers (compared with NumPy on the same inputs): a miscompiled kernel, a broken library or faulty hardware; do not train on this environment.")


def check_libraries(ctx: Context) -> list[Check]:
    if ctx.doc.status("libraries") != "ok":
        return []
    libs = ctx.doc.value("libraries").get("loaded", [])
    libraries.add_conda_owners(ctx.prefix, libs)
    out: list[Check] = []
    gpu_libs = [lb for lb in libs if lb.get("family") in libraries.MUST_BE_INSIDE]
    if gpu_libs or wants_gpu(ctx.profile):
        bad = libraries.outside_env(ctx.prefix, libs)
        out.append(Check(
            name="libraries.origin", ok=not bad, expected=f"CUDA/cuDNN/NCCL libraries from inside {ctx.prefix}",
            actual="; ".join(lb["path"] for lb in bad) if bad else f"{len(gpu_libs)} loaded, all inside",
            message="" if not bad else _origin_message(ctx),
        ))
    if ctx.locked is not None:
        bad_pairs = libraries.lock_mismatches(libs, ctx.locked)
        owned = [lb for lb in libs if lb.get("owner")]
        out.append(Check(
            name="libraries.lock", ok=not bad_pairs, expected="loaded libraries at the lock's versions",
            actual="; ".join(f"{lb['path'].rsplit('/', 1)[-1]} from {lb['owner']['name']} {lb['owner']['version']} (lock: {p.version})" for lb, p in bad_pairs)
            if bad_pairs else f"{len(owned)} libraries from locked packages",
            message="" if not bad_pairs else "the environment drifted from its lock: re-create it with `envlock create` (or see `envlock check`).",
        ))
    return out


def _origin_message(ctx: Context) -> str:
    ld = ctx.doc.value("environment").get("LD_LIBRARY_PATH")
    cause = (f"LD_LIBRARY_PATH={ld} is set in the environment the probe ran with" if ld
             else "no LD_LIBRARY_PATH is set, so an ldconfig entry or an RPATH found them first")
    return (f"these libraries were loaded from outside the environment, shadowing the locked ones ({cause}): "
            "unset LD_LIBRARY_PATH for this environment or remove the system copies from the loader's path.")
