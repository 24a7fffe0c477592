"""Host facts the checks need and the record keeps: platform, the driver's CUDA version,
the machine's description, and the CPU's theoretical peak for the benchmark's context."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def current_platform() -> str:
    from rattler import Subdir  # rattler's name for a conda platform (``Platform`` is deprecated)

    return str(Subdir.current())


def host_cuda_version() -> str | None:
    """The CUDA version the NVIDIA driver supports, as rattler detects ``__cuda`` (None: no driver)."""
    try:
        from rattler import VirtualPackage

        for vp in VirtualPackage.detect():
            generic = vp.into_generic()
            if generic.name.normalized == "__cuda":
                return str(generic.version)
    except Exception:  # detection must never break verification
        return None
    return None


def describe(cpu: dict[str, Any], devices: dict[str, Any], driver_cuda: str | None) -> dict[str, Any]:
    """What the verification record stores about the machine (and compares for 'comparable')."""
    gpus = []
    for d in devices.get("physical", []):
        if d.get("device_type") != "CPU":
            details = d.get("details") or {}
            gpus.append(str(details.get("device_name") or d.get("name")))
    return {
        "cpu_model": cpu.get("model"),
        "cpu_flags": cpu.get("flags", []),
        "logical_cpus": cpu.get("logical_cpus"),
        "machine": cpu.get("machine"),
        "gpus": gpus,
        "nvidia_driver": devices.get("nvidia_driver"),
        "driver_cuda": driver_cuda,
    }


class PeakEstimate(BaseModel):
    gflops: float
    cores: int
    ghz: float
    flops_per_cycle: int
    assumption: str


# fp32 FLOPs per cycle per core for the widest vector unit the flags show, assuming two FMA
# pipes (Skylake-SP Gold/Platinum, Ice Lake-SP, Sapphire Rapids, Zen 4/5 all have two).
# An FMA is 2 FLOPs: 2 pipes x lanes x 2.
_WIDTHS = [
    ("avx512f", 64, "AVX-512: 2 FMA pipes x 16 fp32 lanes x 2"),
    ("avx2", 32, "AVX2+FMA: 2 FMA pipes x 8 fp32 lanes x 2"),
    ("asimd", 16, "NEON: 2 FMA pipes x 4 fp32 lanes x 2"),
    ("neon", 16, "NEON: 2 FMA pipes x 4 fp32 lanes x 2"),
    ("avx", 16, "AVX: 1 add + 1 mul pipe x 8 fp32 lanes"),
]


def cpu_peak(cpu: dict[str, Any]) -> PeakEstimate | None:
    flags = set(cpu.get("flags") or [])
    mhz = cpu.get("mhz")
    logical = cpu.get("logical_cpus")
    if not mhz or not logical:
        return None
    threads_per_core = 1
    if cpu.get("siblings") and cpu.get("cpu_cores"):
        threads_per_core = max(1, int(cpu["siblings"]) // int(cpu["cpu_cores"]))
    cores = max(1, int(logical) // threads_per_core)
    for flag, per_cycle, why in _WIDTHS:
        if flag in flags and (flag != "avx2" or "fma" in flags):
            ghz = float(mhz) / 1000.0
            return PeakEstimate(
                gflops=round(cores * ghz * per_cycle, 1), cores=cores, ghz=round(ghz, 3),
                flops_per_cycle=per_cycle,
                assumption=f"{cores} cores x {ghz:.2f} GHz ({cpu.get('mhz_source', 'reported clock')}; turbo unknown) x {per_cycle} FLOP/cycle ({why})",
            )
    return None
