"""envlock's probe: runs INSIDE the environment being verified, with that environment's own
interpreter (``python -I``).  Standard library and TensorFlow only (NumPy arrives with
TensorFlow and serves as the independent reference for the benchmark) — envlock itself is
not installed there, so nothing here may import it.

The probe is a list of named, independent measurements (``MEASUREMENTS``).  Each runs in
order, catches its own exceptions and records ``{"status", "seconds", "value", "error"}``;
a measurement that needs TensorFlow is skipped when the import failed.  To add one (a model
fingerprint, a saved-model round trip, ...) write ``def m_name(ctx) -> dict`` and list it.

Output: exactly one JSON document on the original stdout.  Everything else — TensorFlow's
logs, prints from native code — goes to stderr (fd 1 is pointed at fd 2 while measuring),
with a ``[envlock-probe] begin <step>`` marker before each step so that the host can say
where a crash (segfault in a native library) or hang happened.

Usage: ``python -I probe.py '{"bench": true}'``.  Keep it runnable on Python 3.7 (TF 2.10's
oldest), hence no ``str.removesuffix``, walrus-free code and a guarded ``importlib.metadata``.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
import traceback

PROBE_VERSION = 1
MARK = "[envlock-probe]"

# Benchmark sizes per device type; CPU total stays well under ~10 s of compute.
BENCH_DEFAULTS = {
    "warmup": 2,
    "repeats": 7,
    "budget_s": 2.5,  # per benchmark: stop repeating (after at least 3 runs) past this
    "reference_rows": 64,
    "CPU": {"matmul_n": 2048, "matmul_dtypes": ["float32"], "conv": [8, 56, 56, 64, 64]},
    "GPU": {"matmul_n": 8192, "matmul_dtypes": ["float32", "bfloat16", "float16"], "conv": [64, 56, 56, 128, 128]},
}

# Shared libraries worth naming, by family (file name prefixes, matched on the basename).
LIB_FAMILIES = {
    "cuda-driver": ("libcuda.so", "libnvidia-"),
    "cuda": ("libcudart", "libcublas", "libcublasLt", "libcufft", "libcurand", "libcusolver",
             "libcusparse", "libnvrtc", "libnvJitLink", "libcupti", "libnvToolsExt"),
    "cudnn": ("libcudnn",),
    "nccl": ("libnccl",),
    "onednn": ("libdnnl", "libmkldnn"),
    "mkl": ("libmkl_", "libiomp5"),
    "libstdc++": ("libstdc++",),
    "tensorflow": ("libtensorflow_framework", "libtensorflow_cc"),
}


def log(msg: str) -> None:
    sys.stderr.write(f"{MARK} {msg}\n")
    sys.stderr.flush()


# --- measurements (each returns a JSON-able dict) --------------------------------------

def m_python(ctx: dict) -> dict:
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "prefix": sys.prefix,
    }


def _read(path: str) -> str:
    with open(path) as fh:
        return fh.read()


def _cpuinfo_linux() -> dict:
    out: dict = {"model": None, "flags": [], "logical_cpus": os.cpu_count(), "mhz": None}
    try:
        text = _read("/proc/cpuinfo")
    except OSError:
        return out
    fields: dict[str, str] = {}
    for line in text.split("\n\n", 1)[0].splitlines():  # the first processor's block
        k, sep, v = line.partition(":")
        if sep:
            fields.setdefault(k.strip(), v.strip())
    out["model"] = fields.get("model name") or fields.get("Model") or fields.get("cpu model")
    out["flags"] = sorted((fields.get("flags") or fields.get("Features") or "").split())
    out["vendor"] = fields.get("vendor_id")
    out["family"] = fields.get("cpu family")
    for key in ("cpu cores", "siblings"):
        if fields.get(key, "").isdigit():
            out[key.replace(" ", "_")] = int(fields[key])
    try:  # the rated maximum when cpufreq is exposed (not in most VMs)
        out["mhz"] = int(_read("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")) / 1000.0
        out["mhz_source"] = "cpufreq/cpuinfo_max_freq"
    except (OSError, ValueError):
        try:
            out["mhz"] = float(fields["cpu MHz"])
            out["mhz_source"] = "/proc/cpuinfo cpu MHz"
        except (KeyError, ValueError):
            pass
    return out


def _sysctl(name: str) -> str | None:
    try:
        r = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def _cpuinfo_macos() -> dict:
    flags: list[str] = []
    for key in ("machdep.cpu.features", "machdep.cpu.leaf7_features"):
        flags += (_sysctl(key) or "").lower().split()
    try:
        listing = subprocess.run(["sysctl", "hw.optional"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        listing = ""
    for line in listing.splitlines():  # hw.optional.arm.FEAT_BF16: 1, hw.optional.neon: 1
        name, _, val = line.partition(":")
        if val.strip() == "1":
            flags.append(name.strip().rsplit(".", 1)[-1].lower())
    freq = _sysctl("hw.cpufrequency_max")
    return {
        "model": _sysctl("machdep.cpu.brand_string"),
        "flags": sorted(set(flags)),
        "logical_cpus": os.cpu_count(),
        "mhz": int(freq) / 1e6 if freq and freq.isdigit() else None,
    }


def m_cpu(ctx: dict) -> dict:
    info = _cpuinfo_macos() if sys.platform == "darwin" else _cpuinfo_linux()
    info["machine"] = platform.machine()
    info["system"] = platform.system()
    return info


def _dist_version(name: str) -> str | None:
    try:
        from importlib import metadata  # Python 3.8+; TF 2.10/2.11 still run on 3.7
    except ImportError:
        return None
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def m_packages(ctx: dict) -> dict:
    names = ("tensorflow", "tensorflow-cpu", "tensorflow-intel", "tensorflow-macos", "tensorflow-metal",
             "keras", "tf-keras", "tf_keras", "numpy", "ml-dtypes")
    found = {n: _dist_version(n) for n in names}
    return {n.replace("_", "-"): v for n, v in found.items() if v is not None}


def m_environment(ctx: dict) -> dict:
    keys = ("TF_USE_LEGACY_KERAS", "TF_ENABLE_ONEDNN_OPTS", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH",
            "CONDA_PREFIX", "XLA_FLAGS", "TF_CPP_MIN_LOG_LEVEL")
    return {k: os.environ[k] for k in keys if k in os.environ}


def m_tensorflow(ctx: dict) -> dict:
    t0 = time.perf_counter()
    import tensorflow as tf  # noqa: PLC0415  (the measured import)

    ctx["tf"] = tf
    out = {
        "version": tf.version.VERSION,
        "git_version": getattr(tf.version, "GIT_VERSION", None),
        "compiler": getattr(tf.version, "COMPILER_VERSION", None),
        "import_seconds": round(time.perf_counter() - t0, 3),
        "file": getattr(tf, "__file__", None),
    }
    try:  # internal API; informational (oneDNN on/off as TF decided it)
        from tensorflow.python.util import _pywrap_util_port

        out["onednn_enabled"] = bool(_pywrap_util_port.IsMklEnabled())
    except Exception:
        out["onednn_enabled"] = None
    return out


def m_keras(ctx: dict) -> dict:
    """Where ``tf.keras`` resolves (TF's KerasLazyLoader, tensorflow/python/util/lazy_loader.py)."""
    tf = ctx["tf"]
    legacy = os.environ.get("TF_USE_LEGACY_KERAS")
    k = tf.keras
    module = getattr(k, "__name__", None)  # triggers the lazy load; may raise ImportError
    version = getattr(k, "__version__", None)
    if version is None:  # tf_keras.api._v2.keras has no __version__; its top package does
        top = sys.modules.get((module or "").split(".")[0])
        version = getattr(top, "__version__", None)
    if module and module.startswith("tf_keras"):
        resolves_to = "tf_keras"
    elif (module or "").startswith("keras._tf_keras") or (version or "").startswith("3."):
        resolves_to = "keras3"
    elif module and module.startswith("keras"):
        resolves_to = "keras2"
    else:
        resolves_to = "unknown"
    return {"module": module, "version": version, "resolves_to": resolves_to,
            "TF_USE_LEGACY_KERAS": legacy}


def m_build_info(ctx: dict) -> dict:
    tf = ctx["tf"]
    info = dict(tf.sysconfig.get_build_info())
    info["tf.test.is_built_with_cuda"] = bool(tf.test.is_built_with_cuda())
    info["tf.test.is_built_with_rocm"] = bool(tf.test.is_built_with_rocm())
    return {k: (v if isinstance(v, (str, int, float, bool, list, type(None))) else str(v)) for k, v in info.items()}


def m_devices(ctx: dict) -> dict:
    tf = ctx["tf"]
    devices = []
    for d in tf.config.list_physical_devices():
        entry = {"name": d.name, "device_type": d.device_type}
        if d.device_type != "CPU":
            try:
                details = tf.config.experimental.get_device_details(d)
                entry["details"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in details.items()}
            except Exception as exc:  # not every pluggable device implements it
                entry["details_error"] = f"{type(exc).__name__}: {exc}"
        devices.append(entry)
    ctx["devices"] = devices
    driver = None
    try:
        text = _read("/proc/driver/nvidia/version")
        m = re.search(r"Kernel Module\s+(?:for\s+\S+\s+)?([0-9.]+)", text)
        driver = m.group(1) if m else text.strip().splitlines()[0]
    except OSError:
        pass
    return {"physical": devices, "nvidia_driver": driver}


# --- the smoke benchmark ----------------------------------------------------------------

def _logical_name(physical: str) -> str:
    # '/physical_device:GPU:0' -> '/device:GPU:0'
    return physical.replace("/physical_device:", "/device:")


def _timed(tf, fn, cfg: dict) -> tuple[list[float], object]:
    def sync(r):  # fetch one element: waits for the producing kernel, copies 4 bytes
        return tf.reshape(r, [-1])[:1].numpy()

    r = None
    for _ in range(cfg["warmup"]):
        r = fn()
        sync(r)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < cfg["repeats"]:
        t0 = time.perf_counter()
        r = fn()
        sync(r)
        times.append(time.perf_counter() - t0)
        if len(times) >= 3 and time.perf_counter() - start > cfg["budget_s"]:
            break
    return times, r


def _median(xs: list[float]) -> float:
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def _bench_matmul(tf, np, device: str, dtype: str, n: int, cfg: dict) -> dict:
    rng = np.random.default_rng(1234)
    a = rng.uniform(-1.0, 1.0, (n, n)).astype(np.float32)
    b = rng.uniform(-1.0, 1.0, (n, n)).astype(np.float32)
    with tf.device(device):
        ta = tf.cast(tf.constant(a), dtype)
        tb = tf.cast(tf.constant(b), dtype)
        times, c = _timed(tf, lambda: tf.linalg.matmul(ta, tb), cfg)
        rows = sorted({int(i) for i in np.linspace(0, n - 1, cfg["reference_rows"])})
        got = tf.cast(tf.gather(c, rows), tf.float32).numpy().astype(np.float64)
        # the reference sees exactly the (rounded) inputs TensorFlow saw
        a_used = tf.cast(ta, tf.float32).numpy().astype(np.float64)
        b_used = tf.cast(tb, tf.float32).numpy().astype(np.float64)
    ref = a_used[rows] @ b_used
    flops = 2.0 * n * n * n
    return _result(device, "matmul", dtype, [n, n, n], flops, times, got, ref, c)


def _bench_conv(tf, np, device: str, dtype: str, shape: list[int], cfg: dict) -> dict:
    batch, h, w, cin, cout = shape
    rng = np.random.default_rng(4321)
    x = rng.uniform(-1.0, 1.0, (batch, h, w, cin)).astype(np.float32)
    f = rng.uniform(-1.0, 1.0, (3, 3, cin, cout)).astype(np.float32)
    with tf.device(device):
        tx = tf.cast(tf.constant(x), dtype)
        tf_ = tf.cast(tf.constant(f), dtype)
        times, y = _timed(tf, lambda: tf.nn.conv2d(tx, tf_, strides=1, padding="SAME"), cfg)
        got = tf.cast(y[0], tf.float32).numpy().astype(np.float64).reshape(h * w, cout)
        x0 = tf.cast(tx[0], tf.float32).numpy().astype(np.float64)
        f_used = tf.cast(tf_, tf.float32).numpy().astype(np.float64)
    # reference: im2col of batch element 0 (SAME padding, stride 1), one matmul
    xp = np.pad(x0, ((1, 1), (1, 1), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(0, 1))  # h, w, cin, 3, 3
    cols = win.transpose(0, 1, 3, 4, 2).reshape(h * w, 9 * cin)
    ref = cols @ f_used.reshape(9 * cin, cout)
    flops = 2.0 * batch * h * w * cin * cout * 9
    return _result(device, "conv2d", dtype, shape + [3, 3], flops, times, got, ref, y)


def _result(device, op, dtype, shape, flops, times, got, ref, tensor) -> dict:
    import numpy as np

    med = _median(times)
    return {
        "device": device, "op": op, "dtype": dtype, "shape": shape,
        "flops": flops, "median_s": med, "runs": len(times), "times_s": [round(t, 6) for t in times],
        "gflops": round(flops / med / 1e9, 2) if med > 0 else None,
        "max_abs_error": float(np.max(np.abs(got - ref))),
        "reference_max_abs": float(np.max(np.abs(ref))),
        "placed_on": getattr(tensor, "device", None),
    }


def m_benchmarks(ctx: dict) -> dict:
    if not ctx["config"].get("bench", True):
        raise _Skip("benchmarks disabled (--no-bench)")
    tf = ctx["tf"]
    import numpy as np

    cfg = dict(BENCH_DEFAULTS)
    cfg.update({k: v for k, v in ctx["config"].get("bench_config", {}).items()})
    results: list[dict] = []
    targets = [("/device:CPU:0", "CPU")]
    targets += [(_logical_name(d["name"]), "GPU") for d in ctx.get("devices", []) if d["device_type"] == "GPU"]
    for device, kind in targets:
        sizes = cfg[kind]
        plan = [("matmul", dt) for dt in sizes["matmul_dtypes"]] + [("conv2d", "float32")]
        for op, dtype in plan:
            log(f"begin benchmark {op} {dtype} on {device}")
            t0 = time.perf_counter()
            try:
                if op == "matmul":
                    r = _bench_matmul(tf, np, device, dtype, sizes["matmul_n"], cfg)
                else:
                    r = _bench_conv(tf, np, device, dtype, list(sizes["conv"]), cfg)
            except Exception as exc:
                r = {"device": device, "op": op, "dtype": dtype, "gflops": None, "max_abs_error": None,
                     "error": f"{type(exc).__name__}: {exc}"}
            r["wall_s"] = round(time.perf_counter() - t0, 3)
            results.append(r)
    return {"results": results}


def m_libraries(ctx: dict) -> dict:
    """Shared libraries the process has mapped (Linux /proc/self/maps), after device init."""
    if not sys.platform.startswith("linux"):
        raise _Skip("only on Linux (/proc/self/maps)")
    tf = ctx.get("tf")
    if tf is not None:  # make sure the device libraries are loaded even with --no-bench
        for d in ctx.get("devices", []):
            try:
                with tf.device(_logical_name(d["name"])):
                    x = tf.ones((1, 8, 8, 4))
                    tf.nn.conv2d(x, tf.ones((3, 3, 4, 4)), 1, "SAME").numpy()
                    tf.linalg.matmul(tf.ones((8, 8)), tf.ones((8, 8))).numpy()
            except Exception as exc:
                log(f"warm-up on {d['name']} failed: {type(exc).__name__}: {exc}")
    paths: set[str] = set()
    with open("/proc/self/maps") as fh:
        for line in fh:
            parts = line.split(None, 5)
            if len(parts) == 6 and ".so" in parts[5]:
                path = parts[5].strip()
                paths.add(path[: -len(" (deleted)")] if path.endswith(" (deleted)") else path)
    libs = []
    for path in sorted(paths):
        base = os.path.basename(path)
        family = next((fam for fam, prefixes in LIB_FAMILIES.items() if base.startswith(prefixes)), None)
        if family is None:
            continue
        real = os.path.realpath(path)
        m = re.search(r"\.so\.([0-9][0-9.]*)$", os.path.basename(real))
        libs.append({"family": family, "path": path, "realpath": real, "file_version": m.group(1) if m else None})
    _owners(libs)
    return {"loaded": libs}


def _owners(libs: list[dict]) -> None:
    """The pip distribution (name, version) that installed each library, from RECORD files."""
    try:
        from importlib import metadata
    except ImportError:
        return

    wanted = {lib["realpath"]: lib for lib in libs}
    names = {os.path.basename(p) for p in wanted}
    for dist in metadata.distributions():
        for f in dist.files or ():
            if f.name not in names:
                continue
            real = os.path.realpath(str(dist.locate_file(f)))
            lib = wanted.get(real)
            if lib is not None and "owner" not in lib:
                lib["owner"] = {"manager": "pip", "name": dist.metadata["Name"], "version": dist.version}


class _Skip(Exception):
    pass


NEEDS_TF = {"keras", "build_info", "devices", "benchmarks"}

MEASUREMENTS = [
    ("python", m_python),
    ("cpu", m_cpu),
    ("packages", m_packages),
    ("environment", m_environment),
    ("tensorflow", m_tensorflow),
    ("keras", m_keras),
    ("build_info", m_build_info),
    ("devices", m_devices),
    ("benchmarks", m_benchmarks),
    ("libraries", m_libraries),
]


def run(config: dict) -> dict:
    ctx: dict = {"config": config}
    only = config.get("measurements")
    results: dict[str, dict] = {}
    for name, fn in MEASUREMENTS:
        if only and name not in only:
            continue
        log(f"begin {name}")
        t0 = time.perf_counter()
        entry: dict = {"status": "ok"}
        try:
            if name in NEEDS_TF and "tf" not in ctx:
                raise _Skip("tensorflow did not import")
            entry["value"] = fn(ctx)
        except _Skip as exc:
            entry = {"status": "skipped", "reason": str(exc)}
        except BaseException as exc:  # noqa: BLE001 — every failure becomes data
            if isinstance(exc, KeyboardInterrupt):
                raise
            tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
            entry = {"status": "error", "error": {"type": type(exc).__name__, "message": str(exc),
                                                  "traceback": "".join(tb)[-4000:]}}
        entry["seconds"] = round(time.perf_counter() - t0, 3)
        results[name] = entry
    return {"probe_version": PROBE_VERSION, "measurements": results}


def main(argv: list[str]) -> int:
    config = json.loads(argv[1]) if len(argv) > 1 else {}
    real_stdout = os.dup(1)
    os.dup2(2, 1)  # stray prints (Python or native) must not corrupt the JSON document
    t0 = time.perf_counter()
    doc = run(config)
    doc["total_seconds"] = round(time.perf_counter() - t0, 3)
    log("done")
    sys.stdout.flush()
    with os.fdopen(real_stdout, "w") as out:
        out.write(json.dumps(doc, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
