"""Checks of the accelerators: CUDA build, CUDA/cuDNN versions, the driver, GPU visibility and
placement, and Apple's Metal plugin."""

from __future__ import annotations

from envlock.compat import table as compat
from envlock.profiles.model import Profile
from envlock.verify.checks.context import Context, minor, version_matches
from envlock.verify.model import Check


def wants_gpu(profile: Profile) -> bool:
    return profile.verify.device == "gpu" or profile.tensorflow.variant == "cuda"


def check_cuda(ctx: Context) -> list[Check]:
    if not wants_gpu(ctx.profile) or ctx.doc.status("build_info") != "ok":
        return []  # a failed build_info step is its own failed check (checks/steps.py)
    bi = ctx.doc.value("build_info")
    rel = ctx.release
    out: list[Check] = []
    is_cuda = bool(bi.get("is_cuda_build"))
    out.append(Check(
        name="cuda.build", ok=is_cuda, expected="is_cuda_build: True", actual=f"is_cuda_build: {bi.get('is_cuda_build')}",
        message="" if is_cuda else ("this TensorFlow is a CPU-only build (the tensorflow-cpu wheel or a conda cpu_* build): "
                                    "lock with tensorflow.variant: cuda (pip: tensorflow[and-cuda]; conda: a cuda* build) and re-create."),
    ))
    if not is_cuda:
        return out
    if ctx.profile.tensorflow.source == "conda" and rel.conda_forge is not None:
        cudas, cudnn_major = list(rel.conda_forge.cuda), rel.conda_forge.cudnn_major
    else:
        cudas, cudnn_major = [rel.cuda], rel.cudnn_major
    cuda = str(bi.get("cuda_version") or "")
    ok = minor(cuda) in cudas
    out.append(Check(
        name="cuda.version", ok=ok, expected=" or ".join(cudas), actual=cuda or "unknown",
        message="" if ok else f"TensorFlow {rel.line} ({ctx.profile.tensorflow.source}) is built for CUDA {' or '.join(cudas)} but this build reports {cuda}: the installed TensorFlow is not the locked one; re-create the environment.",
    ))
    cudnn = str(bi.get("cudnn_version") or "")
    ok = cudnn.split(".")[0] == str(cudnn_major)
    out.append(Check(
        name="cudnn.version", ok=ok, expected=f"{cudnn_major}.x", actual=cudnn or "unknown",
        message="" if ok else f"TensorFlow {rel.line} expects cuDNN {cudnn_major} but the build reports cuDNN {cudnn}: re-create the environment from the lock.",
    ))
    out.append(_driver_check(ctx, cuda))
    return out


def _driver_check(ctx: Context, build_cuda: str) -> Check:
    drv = ctx.driver_cuda
    nvidia = ctx.doc.value("devices").get("nvidia_driver")
    actual = f"driver supports CUDA {drv}" + (f" (NVIDIA {nvidia})" if nvidia else "") if drv else "no NVIDIA driver detected"
    expected = f"driver supports CUDA >= {minor(build_cuda)}"
    if not drv:
        return Check(name="cuda.driver", ok=False, expected=expected, actual=actual,
                     message="rattler detects no __cuda on this host, so no NVIDIA driver is loaded: install the NVIDIA driver (or run on a GPU node)." + ctx.hint())
    have, need = compat.version_key(drv), compat.version_key(build_cuda)
    if have[:1] < need[:1]:
        return Check(name="cuda.driver", ok=False, expected=expected, actual=actual,
                     message=f"the driver supports CUDA {drv}, older than the CUDA {minor(build_cuda)} TensorFlow was built with: upgrade the NVIDIA driver to a CUDA {need[0]} driver.")
    if have[:2] < need[:2]:
        return Check(name="cuda.driver", ok=True, expected=expected, actual=actual,
                     message=f"runs through CUDA minor-version compatibility; PTX JIT for GPUs newer than the build may fail — a driver for CUDA >= {minor(build_cuda)} removes the risk.")
    return Check(name="cuda.driver", ok=True, expected=expected, actual=actual)


def check_gpu(ctx: Context) -> list[Check]:
    if not wants_gpu(ctx.profile) or ctx.doc.status("devices") != "ok":
        return []
    gpus = [d for d in ctx.doc.value("devices").get("physical", []) if d.get("device_type") == "GPU"]
    names = ", ".join(str((d.get("details") or {}).get("device_name") or d["name"]) for d in gpus)
    ok = bool(gpus)
    out = [Check(name="gpu.visible", ok=ok, expected=">= 1 GPU", actual=f"{len(gpus)} GPU" + (f": {names}" if names else ""),
                 message="" if ok else "TensorFlow sees no GPU: check the driver (nvidia-smi), CUDA_VISIBLE_DEVICES, and that the CUDA libraries load." + ctx.hint())]
    return out + _placement(ctx, "GPU", "gpu.benchmark")


def _placement(ctx: Context, kind: str, name: str) -> list[Check]:
    results = [b for b in ctx.doc.benchmarks() if f"{kind}:" in b.device]
    if not results:
        return []
    off = [b for b in results if not b.placed_on or f"device:{kind}" not in b.placed_on]
    return [Check(
        name=name, ok=not off, expected=f"every {kind} benchmark's result on the {kind}",
        actual="; ".join(f"{b.op} {b.dtype} -> {b.placed_on}" for b in off) if off else f"{len(results)} results on {kind}",
        message="" if not off else f"TensorFlow placed {kind} work elsewhere (a silent CPU fallback): the {kind} kernels failed to load; see the stderr tail." + ctx.hint(),
    )]


def check_metal(ctx: Context) -> list[Check]:
    p = ctx.profile
    if not (p.verify.device == "metal" or p.tensorflow.variant == "metal") or ctx.doc.status("tensorflow") != "ok":
        return []
    pkgs = ctx.doc.value("packages")
    line = minor(str(ctx.doc.value("tensorflow").get("version")))
    want = compat.table().metal_plugin.get(line)
    have = pkgs.get("tensorflow-metal")
    ok = have is not None and want is not None and version_matches(want, have)
    out = [Check(name="metal.plugin", ok=ok, expected=f"tensorflow-metal {want}" if want else f"a tensorflow-metal for TensorFlow {line}",
                 actual=f"tensorflow-metal {have}" if have else "not installed",
                 message="" if ok else f"tensorflow-metal must pair with TensorFlow {line} (Apple's table): install tensorflow-metal {want or '(none pairs)'}.")]
    gpus = [d for d in ctx.doc.value("devices").get("physical", []) if d.get("device_type") == "GPU"]
    vis = bool(gpus)
    out.append(Check(name="metal.device", ok=vis, expected="the Metal PluggableDevice (/physical_device:GPU:0)",
                     actual=", ".join(d["name"] for d in gpus) or "no GPU device",
                     message="" if vis else "TensorFlow sees no Metal device: tensorflow-metal did not load (wrong pairing, macOS < 12.1, or not Apple silicon)." + ctx.hint()))
    return out + _placement(ctx, "GPU", "metal.benchmark")
