"""Host-side checks: the probe's JSON against the profile (and the compatibility data, the
lock, the host's driver).  Each check is a function returning named ``Check`` verdicts; a
failing verdict carries one sentence on the likely cause and the fix."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from envlock import compat
from envlock.activation import read_env_vars
from envlock.lockfile import LockedPackage
from envlock.profiles import LEGACY_KERAS_VAR, Profile
from envlock.verify import libraries
from envlock.verify.model import Benchmark, Check, ProbeDoc

# Largest acceptable max|error| / max|reference| per dtype (TF32 is TensorFlow's default for
# float32 matmuls on Ampere+ GPUs, hence the float32 slack; a wrong result is of order 1).
TOLERANCE = {"float32": 2e-3, "float16": 1e-2, "bfloat16": 3e-2}

# TensorFlow log lines (stderr) that name a likely cause.
STDERR_HINTS = [
    ("Could not find cuda drivers", "TensorFlow found no NVIDIA driver (libcuda.so): install the driver on this host or run on a GPU node"),
    ("Cannot dlopen some GPU libraries", "TensorFlow could not load the environment's CUDA/cuDNN libraries: the environment lacks them (pip: tensorflow[and-cuda]; conda: a cuda* build) or LD_LIBRARY_PATH points at incompatible ones"),
    ("failed call to cuInit", "the CUDA driver refused to initialise (no GPU visible to this process, CUDA_VISIBLE_DEVICES, or a driver older than the build's CUDA)"),
    ("was compiled to use", "this TensorFlow build uses CPU instructions this machine lacks; use a build for this CPU class"),
    ("GLIBC_", "a library needs a newer glibc than this system has (TensorFlow 2.21's wheels need glibc >= 2.27)"),
    ("compiled using NumPy 1.x", "an extension was built against NumPy 1.x but NumPy 2 is installed; pin numpy<2 or upgrade the extension"),
]


def version_matches(spec: str, version: str) -> bool:
    """conda-style match: a bare version ("3.11") means that version line, like ``=3.11``."""
    from rattler import Version, VersionSpec

    spec = spec.strip()
    if re.fullmatch(r"\d+(\.\d+)*", spec):
        spec = f"{spec}.*"
    try:
        return VersionSpec(spec).matches(Version(version))
    except Exception:
        return False


@dataclass
class Context:
    profile: Profile
    doc: ProbeDoc
    prefix: Path
    stderr: str = ""
    driver_cuda: str | None = None
    locked: list[LockedPackage] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def release(self) -> compat.Release:
        return self.profile.release

    def hint(self) -> str:
        found = [why for pattern, why in STDERR_HINTS if pattern in self.stderr]
        return f" Likely cause from TensorFlow's log: {found[0]}." if found else ""


def _mm(version: str | None) -> str:
    return compat.minor_of(version) if version else "?"


# --- always ---------------------------------------------------------------------------------

def check_python(ctx: Context) -> list[Check]:
    actual = ctx.doc.value("python").get("version")
    if actual is None:
        return []
    ok = version_matches(ctx.profile.python, actual)
    msg = "" if ok else (
        f"the environment's Python is {actual}, the profile wants {ctx.profile.python}: "
        f"re-create the environment from the profile's lock (envlock create --profile {ctx.profile.name}) or fix 'python:' in the profile."
    )
    return [Check(name="python", ok=ok, expected=ctx.profile.python, actual=actual, message=msg)]


def check_tensorflow(ctx: Context) -> list[Check]:
    status = ctx.doc.status("tensorflow")
    want = ctx.profile.tensorflow.version
    if status != "ok":
        err = ctx.doc.error("tensorflow")
        text = f"{err.get('type', 'error')}: {err.get('message', status)}"
        if err.get("type") == "ModuleNotFoundError" and "tensorflow" in err.get("message", ""):
            why = (f"TensorFlow is not installed in {ctx.prefix}: create it with `envlock create --profile {ctx.profile.name}` "
                   "or point --prefix at the environment that has it.")
        else:
            why = "`import tensorflow` failed inside the environment; see the error and the stderr tail." + ctx.hint()
        return [Check(name="tensorflow.import", ok=False, expected="import tensorflow succeeds", actual=text, message=why)]
    tf = ctx.doc.value("tensorflow")
    checks = [Check(name="tensorflow.import", ok=True, expected="import tensorflow succeeds",
                    actual=f"ok in {tf.get('import_seconds')} s")]
    version = str(tf.get("version"))
    ok = version_matches(want, version)
    checks.append(Check(
        name="tensorflow.version", ok=ok, expected=want, actual=version,
        message="" if ok else (f"TensorFlow {version} is installed but the profile pins {want}: the environment is not "
                               f"the profile's (re-create it with `envlock create --profile {ctx.profile.name}`) or the lock is stale (`envlock lock`)."),
    ))
    return checks


def _expected_keras_kind(profile: Profile) -> str:
    if profile.uses_legacy_keras:
        return "tf_keras"
    return "keras3" if profile.keras_major == 3 else "keras2"


KIND_TEXT = {"keras3": "Keras 3", "tf_keras": "tf_keras (TF_USE_LEGACY_KERAS)", "keras2": "Keras 2 (keras package)"}


def check_keras(ctx: Context) -> list[Check]:
    if ctx.doc.status("tensorflow") != "ok":
        return []
    want_kind = _expected_keras_kind(ctx.profile)
    pkgs = ctx.doc.value("packages")
    env = ctx.doc.value("environment")
    legacy = env.get(LEGACY_KERAS_VAR)
    if ctx.doc.status("keras") != "ok":
        err = ctx.doc.error("keras")
        text = f"{err.get('type', 'error')}: {err.get('message', ctx.doc.status('keras'))}"
        if legacy is not None and "tf-keras" not in pkgs:
            origin = "conda-meta/state env_vars" if LEGACY_KERAS_VAR in read_env_vars(ctx.prefix) else "the caller's environment"
            why = (f"{LEGACY_KERAS_VAR}={legacy} is set (from {origin}) but the tf-keras package is not installed, so tf.keras cannot load: "
                   f"install tf-keras~={ctx.release.tf_keras or ctx.release.line} (profiles with keras: \"2.*\" lock it) or unset {LEGACY_KERAS_VAR}.")
        else:
            why = "tf.keras failed to load; see the error." + ctx.hint()
        return [Check(name="keras.resolves", ok=False, expected=KIND_TEXT[want_kind], actual=text, message=why)]
    k = ctx.doc.value("keras")
    kind = str(k.get("resolves_to"))
    ok = kind == want_kind
    if ok:
        why = ""
    elif want_kind == "tf_keras":
        why = (f"the profile wants Keras 2 through tf-keras on TensorFlow {ctx.release.line}, but {LEGACY_KERAS_VAR} is "
               f"{'set to ' + repr(legacy) if legacy is not None else 'not set'} in the environment's activation: "
               f"set {LEGACY_KERAS_VAR}=1 (envlock create writes it to conda-meta/state) and install tf-keras.")
    elif kind == "tf_keras":
        why = f"{LEGACY_KERAS_VAR}={legacy} routes tf.keras to tf_keras but the profile wants {profile_keras(ctx)}: unset {LEGACY_KERAS_VAR} in this environment."
    else:
        why = f"tf.keras resolves to {KIND_TEXT.get(kind, kind)} but the profile wants {KIND_TEXT[want_kind]}: re-lock and re-create the environment from the profile."
    checks = [Check(name="keras.resolves", ok=ok, expected=KIND_TEXT[want_kind],
                    actual=f"{KIND_TEXT.get(kind, kind)} [{k.get('module')}]", message=why)]
    version = str(k.get("version"))
    vok = version_matches(ctx.profile.keras, version)
    checks.append(Check(
        name="keras.version", ok=vok, expected=ctx.profile.keras, actual=version,
        message="" if vok else (
            f"tf.keras is Keras {version} but the profile asks for keras {ctx.profile.keras}: either the environment was not created "
            f"from this profile's lock (re-create it: `envlock create --profile {ctx.profile.name}`) or change 'keras:' in profiles/{ctx.profile.name}.yml."),
    ))
    return checks + _keras_packages(ctx)


def profile_keras(ctx: Context) -> str:
    return f"keras {ctx.profile.keras}"


def _keras_packages(ctx: Context) -> list[Check]:
    """keras / tf-keras packages against the compatibility data for the installed TensorFlow."""
    version = str(ctx.doc.value("tensorflow").get("version"))
    rel = compat.table().release(version)
    pkgs = ctx.doc.value("packages")
    if rel is None:
        return [Check(name="keras.packages", ok=False, expected="a TensorFlow line in envlock's compatibility data",
                      actual=f"tensorflow {version}",
                      message=f"envlock's compatibility data has no TensorFlow {_mm(version)}: upgrade envlock or use a known line.")]
    expected = [f"{rel.keras.package} {rel.keras.requirement}"]
    problems: list[str] = []
    kver = pkgs.get(rel.keras.package)
    if kver is None:
        problems.append(f"{rel.keras.package} is not installed")
    elif not version_matches(rel.keras.requirement, kver):
        problems.append(f"{rel.keras.package} {kver} is outside TensorFlow {rel.line}'s requirement {rel.keras.requirement}")
    tfk = pkgs.get("tf-keras")
    if ctx.profile.uses_legacy_keras or tfk is not None:
        expected.append(f"tf-keras {rel.tf_keras}.*" if rel.tf_keras else "no tf-keras")
        if rel.tf_keras is None and tfk is not None:
            problems.append(f"tf-keras {tfk} is installed but no tf-keras pairs with TensorFlow {rel.line}")
        elif tfk is None:
            problems.append("tf-keras is not installed")
        elif rel.tf_keras and _mm(tfk) != rel.tf_keras:
            problems.append(f"tf-keras {tfk} pairs with TensorFlow {_mm(tfk)}, not {rel.line}")
    actual = ", ".join(f"{n} {pkgs[n]}" for n in ("keras", "tf-keras") if n in pkgs) or "neither installed"
    return [Check(
        name="keras.packages", ok=not problems, expected="; ".join(expected), actual=actual,
        message="" if not problems else "; ".join(problems) + f" (tf-keras pins TensorFlow by minor version): install the versions the lock holds (`envlock create --profile {ctx.profile.name}`).",
    )]


# --- CUDA -------------------------------------------------------------------------------------

def _wants_gpu(profile: Profile) -> bool:
    return profile.verify.device == "gpu" or profile.tensorflow.variant == "cuda"


def check_cuda(ctx: Context) -> list[Check]:
    if not _wants_gpu(ctx.profile) or ctx.doc.status("tensorflow") != "ok":
        return []
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
    ok = _mm(cuda) in cudas
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
    expected = f"driver supports CUDA >= {_mm(build_cuda)}"
    if not drv:
        return Check(name="cuda.driver", ok=False, expected=expected, actual=actual,
                     message="rattler detects no __cuda on this host, so no NVIDIA driver is loaded: install the NVIDIA driver (or run on a GPU node)." + ctx.hint())
    have, need = compat.version_key(drv), compat.version_key(build_cuda)
    if have[:1] < need[:1]:
        return Check(name="cuda.driver", ok=False, expected=expected, actual=actual,
                     message=f"the driver supports CUDA {drv}, older than the CUDA {_mm(build_cuda)} TensorFlow was built with: upgrade the NVIDIA driver to a CUDA {need[0]} driver.")
    if have[:2] < need[:2]:
        return Check(name="cuda.driver", ok=True, expected=expected, actual=actual,
                     message=f"runs through CUDA minor-version compatibility; PTX JIT for GPUs newer than the build may fail — a driver for CUDA >= {_mm(build_cuda)} removes the risk.")
    return Check(name="cuda.driver", ok=True, expected=expected, actual=actual)


def check_gpu(ctx: Context) -> list[Check]:
    if not _wants_gpu(ctx.profile) or ctx.doc.status("devices") != "ok":
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


# --- CPU and Metal ------------------------------------------------------------------------------

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


def check_metal(ctx: Context) -> list[Check]:
    p = ctx.profile
    if not (p.verify.device == "metal" or p.tensorflow.variant == "metal") or ctx.doc.status("tensorflow") != "ok":
        return []
    pkgs = ctx.doc.value("packages")
    line = _mm(str(ctx.doc.value("tensorflow").get("version")))
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


# --- benchmark numerics and loaded libraries ---------------------------------------------------------

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
    if gpu_libs or _wants_gpu(ctx.profile):
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


CHECKS: list[Callable[[Context], list[Check]]] = [
    check_python, check_tensorflow, check_keras, check_cuda, check_gpu, check_metal, check_cpu,
    check_benchmarks, check_libraries,
]


def run_checks(ctx: Context) -> list[Check]:
    out: list[Check] = []
    for fn in CHECKS:
        out.extend(fn(ctx))
    return out
