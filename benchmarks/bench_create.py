#!/usr/bin/env python3
"""Benchmark ``envlock create`` / ``check`` against the physical limits and against nepenthe.

Builds a synthetic conda channel shaped like a TensorFlow environment (at --scale 1: 150
packages, ~30,000 files, ~1.5 GB unpacked, archives ~2x compressed; --archive-format mixed:
mostly .conda with some .tar.bz2, conda / tar.bz2: every package in that format), nested site-packages trees, a few files with a text prefix placeholder), locks it
with ``envlock lock`` and measures, in one run:

  envlock cold create   empty package cache: hash the file:// archives in place, extract, link
  envlock warm create   cache filled, prefix absent: hash-stamp check + hard links + swap
  envlock no-op create  environment already matches its lock
  envlock check         unchanged environment (and: does it catch one modified file?)
  cp -al                hard-link copy of the finished environment (limit for a warm create)
  tar -x sequential     each archive extracted one after another (a cold create should beat it)
  nepenthe cold/warm    ``nepenthe build`` then ``nepenthe create --lock`` (RATTLER_CACHE_DIR)
  create after restore  the first create after a CI cache restore: the channel served over HTTP
                        (so the archives live in the package cache, as with conda-forge), the
                        cache saved and restored with ``tar --posix`` (as actions/cache does:
                        new inodes, same mtimes), then ``create``

Run:  python benchmarks/bench_create.py [--scale 0.1] [--repeat 3] [--workdir DIR] [--keep]
                                        [--archive-format {mixed,conda,tar.bz2}]
                                        [--drop-caches] [--settle S] [--envlock-from-here] [--warm-only]
                                        [--no-restore]
Needs: PyPI reachable once to ``pip install`` this checkout (with its dependencies) and nepenthe
into two venvs of the work dir, one each, as a user would install them (skip nepenthe with
--no-nepenthe); GNU tar, zstd and unzip on PATH.  Writes
benchmarks/results/create-<time>.json.  Timings include process start-up (what a user waits
for).  "cold" means an empty package cache.  Without --drop-caches the kernel's caches carry
over between steps, and on a VM that reclaims page cache and throttles disk bursts the same
step varies 2-3x; --drop-caches (root) starts every step from empty kernel caches, which made
the spread of five runs a few percent here.  Ratios are medians of per-round ratios.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from channel_factory import (  # noqa: E402
    PREFIX_PLACEHOLDER,
    PackageSpec,
    host_python_version,
    index_channel,
    serve,
    venv_python_spec,
    write_package,
)

LAYOUT = 2  # bump when the synthetic channel's shape changes (invalidates a kept channel)
FILES_PER_DIR = 12
PY = host_python_version()
PYMM = ".".join(PY.split(".")[:2])
ARCHIVE_FORMATS = ("mixed", "conda", "tar.bz2")


# --- the synthetic channel -------------------------------------------------------------

def package_plan(scale: float, seed: int = 7) -> list[dict]:
    """Sizes/file counts per package: one TensorFlow-sized package, a long tail of small ones."""
    n_pkgs = max(8, round(150 * min(1.0, max(scale, 0.05))))
    total_files = int(30_000 * scale)
    total_bytes = int(1.5e9 * scale)
    rnd = random.Random(seed)
    weights = [1.0 / (i + 1) ** 0.9 for i in range(n_pkgs - 4)]
    rnd.shuffle(weights)
    # tensorflow ~40% of bytes / 25% of files, keras/numpy/pip modest, then the tail
    fixed = [("tensorflow", "2.19.0", f"cpu_py{PYMM.replace('.', '')}h0_0", 0.25, 0.40),
             ("keras", "3.10.0", "pyh_0", 0.03, 0.01), ("numpy", "2.1.0", f"py{PYMM.replace('.', '')}_0", 0.04, 0.02),
             ("pip", "24.2", "pyh_0", 0.01, 0.005)]
    f_left = 1.0 - sum(f[3] for f in fixed)
    b_left = 1.0 - sum(f[4] for f in fixed)
    wsum = sum(weights)
    plan = [dict(name=n, version=v, build=b, files=max(1, int(total_files * ff)), bytes=int(total_bytes * bf))
            for n, v, b, ff, bf in fixed]
    for i, w in enumerate(weights):
        plan.append(dict(name=f"lib{i:03d}", version="1.0", build="h0_0",
                         files=max(1, int(total_files * f_left * w / wsum)), bytes=int(total_bytes * b_left * w / wsum)))
    return plan


def package_format(archive_format: str, index: int, total_bytes: int) -> str:
    """mixed: like conda-forge today, .conda with a few small .tar.bz2; else every package in that format."""
    if archive_format == "mixed":
        return "tar.bz2" if (index % 10 == 5 and total_bytes < 5_000_000) else "conda"
    return archive_format


def _make_package(channel: str, item: dict, index: int, archive_format: str = "mixed") -> str:
    rnd = random.Random(index * 7919 + 1)
    name, n, total = item["name"], item["files"], item["bytes"]
    avg = max(64, total // n)
    files: dict[str, bytes] = {}
    base = f"lib/python{PYMM}/site-packages/{name}" if name not in ("tensorflow",) else f"lib/python{PYMM}/site-packages/tensorflow"
    for j in range(n):
        size = max(16, int(avg * rnd.uniform(0.3, 1.7)))
        half = size // 2
        d = j // FILES_PER_DIR  # ~12 files per directory, two levels deep, like site-packages trees
        files[f"{base}/d{d // 16:02d}/s{d % 16:02d}/f{j:05d}.py"] = rnd.randbytes(half) + bytes(size - half)
    text = []
    if index % 3 == 0:
        files[f"bin/{name}-tool"] = f"#!{PREFIX_PLACEHOLDER}/bin/python\nprint('{name}')\n".encode()
        text.append(f"bin/{name}-tool")
    deps = [f"python {PYMM}.*"]
    spec = PackageSpec(name=name, version=item["version"], build=item["build"], depends=deps, files=files,
                       text_prefix_files=text, fmt=package_format(archive_format, index, total))
    write_package(Path(channel), spec)
    return name


def build_synthetic_channel(root: Path, scale: float, jobs: int,
                            archive_format: str = "mixed") -> tuple[Path, list[str], dict]:
    """The channel under root/channel, reused when its marker names the same scale, layout and format."""
    channel = root / "channel"
    marker = channel / ".complete.json"
    plan = package_plan(scale)
    key = {"scale": scale, "layout": LAYOUT, "archive_format": archive_format}
    if marker.exists() and key.items() <= json.loads(marker.read_text()).items():
        return channel, [p["name"] for p in plan], json.loads(marker.read_text())
    shutil.rmtree(channel, ignore_errors=True)
    channel.mkdir(parents=True)
    t = time.perf_counter()
    python_fmt = "tar.bz2" if archive_format == "mixed" else archive_format
    write_package(channel, dataclasses.replace(venv_python_spec(), fmt=python_fmt))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(_make_package, [str(channel)] * len(plan), plan, range(len(plan)),
                      [archive_format] * len(plan)))
    index_channel(channel)
    archives = [f for f in channel.rglob("*") if f.name.endswith((".conda", ".tar.bz2"))]
    info = {**key, "packages": len(plan) + 1, "files": sum(p["files"] for p in plan),
            "unpacked_bytes": sum(p["bytes"] for p in plan),
            "archive_bytes": sum(f.stat().st_size for f in archives),
            "archives": {fmt: sum(f.name.endswith(fmt) for f in archives) for fmt in (".conda", ".tar.bz2")},
            "build_seconds": round(time.perf_counter() - t, 1)}
    marker.write_text(json.dumps(info))
    return channel, [p["name"] for p in plan], info


# --- helpers -----------------------------------------------------------------------------

def run(cmd: list[str], env: dict | None = None, cwd: Path | None = None, check: bool = True) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if check and proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return dt, proc


def rm(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def envlock_exe(work: Path, from_here: bool) -> list[str]:
    """envlock as users run it: installed from this checkout (not editable) into its own venv,
    as nepenthe runs from its own.  The interpreter running the benchmark may carry .pth files
    (editable finders, site hooks) that cost 15-35 ms of start-up on a cold page cache, which
    is not envlock's.  ``--envlock-from-here``: the envlock beside this interpreter instead."""
    if from_here:
        exe = Path(sys.executable).parent / "envlock"
        found = shutil.which("envlock")
        return [str(exe)] if exe.exists() else [found] if found else [sys.executable, "-m", "envlock.cli.__main__"]
    venv = work / "envlock-venv"
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    if not (venv / "bin" / "envlock").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([*pip, str(HERE.parent)], check=True)  # with its dependencies, from PyPI once
    else:  # the checkout's current code, over the kept venv
        subprocess.run([*pip, "--no-deps", "--force-reinstall", str(HERE.parent)], check=True)
    return [str(venv / "bin" / "envlock")]


def write_project(root: Path, channel_url: str, names: list[str], dirname: str = "project") -> Path:
    import yaml

    proj = root / dirname
    rm(proj)
    (proj / "profiles").mkdir(parents=True)
    (proj / "environment.template.yml").write_text(yaml.safe_dump(
        {"name": "bench", "channels": [channel_url], "dependencies": [f"python {PYMM}.*", "pip"]}))
    profile = {"name": "bench", "platforms": ["linux-64"], "python": f"{PYMM}.*",
               "tensorflow": {"version": "2.19.*", "source": "conda", "variant": "cpu"}, "keras": "3.*",
               "virtual_packages": {"linux-64": {"__glibc": "2.28"}},
               "conda": [n for n in names if n not in ("tensorflow", "keras", "pip")]}
    (proj / "profiles" / "bench.yml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return proj


def sequential_tar(channel: Path, dest: Path) -> float:
    """Every archive extracted one after another with GNU tar (zstd/bzip2 via tar)."""
    rm(dest)
    dest.mkdir(parents=True)
    archives = sorted(p for p in channel.rglob("*") if p.name.endswith((".conda", ".tar.bz2")))
    t = time.perf_counter()
    for a in archives:
        if a.name.endswith(".tar.bz2"):
            subprocess.run(["tar", "-xjf", str(a), "-C", str(dest)], check=True)
        else:
            for part in ("pkg-*", "info-*"):
                subprocess.run(f"unzip -p '{a}' '{part}' | tar --zstd -x -C '{dest}'", shell=True, check=True)
    return time.perf_counter() - t


def archive_counts(info: dict) -> str:
    return ", ".join(f"{n} {fmt}" for fmt, n in info["archives"].items())


def tree_stats(path: Path) -> tuple[int, int]:
    files = size = 0
    for dirpath, _dirs, names in os.walk(path):
        for n in names:
            st = os.lstat(os.path.join(dirpath, n))
            files += 1
            size += st.st_size
    return files, size


def measure_restore(work: Path, channel: Path, names: list[str], envlock: list[str], repeat: int,
                    settle, measure, phases: dict) -> None:  # noqa: ANN001
    """The first create after a CI cache restore: the channel over HTTP (archives in the cache, as
    with a remote channel), one cold create to fill the cache, the cache saved with ``tar --posix``
    (as actions/cache does), then per round: restored into place (new inodes, same mtimes;
    untimed) and ``create`` timed."""
    server = serve(channel)
    project = write_project(work, f"http://127.0.0.1:{server.server_port}", names, "project-http")
    cache, saved, prefix = work / "cache-http", work / "cache-http.tar", work / "envs" / "restored"
    env = {**os.environ, "ENVLOCK_CACHE_DIR": str(cache), "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    create = [*envlock, "create", "--profile", "bench", "--project", str(project), "--prefix", str(prefix),
              "--frozen", "--no-verify", "--json"]

    def restored() -> float:
        rm(prefix)
        rm(cache)
        cache.mkdir()
        subprocess.run(["tar", "-xf", str(saved), "-C", str(cache)], check=True)
        settle()
        dt, proc = run(create, env=env)
        doc = json.loads(proc.stdout)
        assert doc["downloaded"] == 0, doc
        phases.setdefault("after restore", []).append(doc["seconds"])
        return dt

    try:
        run([*envlock, "lock", "--profile", "bench", "--project", str(project)], env=env)
        rm(cache)
        rm(prefix)
        print("cache restore: filling a package cache over HTTP, saving it with tar --posix", flush=True)
        run(create, env=env)  # cold: downloads, extracts, links and works out the link plans
        subprocess.run(["tar", "--posix", "-cf", str(saved), "-C", str(cache), "."], check=True)
        for i in range(repeat):
            print(f"restore round {i + 1}/{repeat}", flush=True)
            measure("envlock_restored", restored, 1)
    finally:
        server.shutdown()
        for p in (saved, cache, prefix, project):
            rm(p)


# --- nepenthe ---------------------------------------------------------------------------

def nepenthe_setup(work: Path) -> Path | None:
    venv = work / "nepenthe-venv"
    exe = venv / "bin" / "nepenthe"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        r = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "nepenthe"], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"nepenthe: pip install failed, skipping it\n{r.stderr[-800:]}", file=sys.stderr)
            return None
    return exe


def nepenthe_lock(exe: Path, work: Path, channel: Path, names: list[str]) -> Path:
    import yaml

    d = work / "nepenthe"
    rm(d)
    d.mkdir(parents=True)
    manifest = {"project": {"name": "bench", "channels": [channel.as_uri()], "platforms": ["linux-64"], "python": [PYMM]},
                "dependencies": [n for n in names], "environments": {"bench": []}}
    (d / "environment.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    run([str(exe), "build", "--manifest", str(d / "environment.yaml"), "--env", "bench", "--output-dir", str(d)])
    [lock] = list(d.glob("*.lock"))
    return lock


# --- main -------------------------------------------------------------------------------

def timed_cp_al(prefix: Path, copy: Path, settle: Callable[[], None]) -> float:
    """``cp -al`` of the environment (the limit of a warm create), from a settled disk."""
    rm(copy)
    settle()
    dt, _ = run(["cp", "-al", str(prefix), str(copy)])
    rm(copy)
    return dt


def timed_tar(channel: Path, dest: Path, settle: Callable[[], None]) -> float:
    """Every archive extracted one after another (the yardstick of a cold create)."""
    settle()
    dt = sequential_tar(channel, dest)
    rm(dest)
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = 150 packages, 30,000 files, 1.5 GB unpacked")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions of each warm measurement (median reported)")
    ap.add_argument("--workdir", type=Path, default=HERE / "results" / "work")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--archive-format", choices=ARCHIVE_FORMATS, default="mixed",
                    help="mixed: mostly .conda, a few .tar.bz2 (conda-forge today); conda or tar.bz2: every package")
    ap.add_argument("--keep", action="store_true", help="keep the channel and environments (reused by the next run)")
    ap.add_argument("--no-nepenthe", action="store_true")
    ap.add_argument("--warm-only", action="store_true",
                    help="skip the timed cold rounds (and tar -x): one untimed cold create of each, then the rest")
    ap.add_argument("--no-restore", action="store_true", help="skip the create after a CI cache restore")
    ap.add_argument("--envlock-from-here", action="store_true",
                    help="run the envlock installed beside this interpreter, not one installed into the work dir's venv")
    ap.add_argument("--settle", type=float, default=3.0,
                    help="seconds of quiet after sync before each timed step (VM disks throttle bursts)")
    ap.add_argument("--drop-caches", action="store_true",
                    help="empty the kernel's page, dentry and inode caches before each timed step (root only): "
                         "every contender starts from the same cold state")
    args = ap.parse_args()
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    print(f"building the synthetic channel (scale {args.scale}, {args.archive_format}) in {work} ...", flush=True)
    channel, names, info = build_synthetic_channel(work, args.scale, args.jobs, args.archive_format)
    print(f"  {info['packages']} packages, {info['files']} files, {info['unpacked_bytes'] / 1e9:.2f} GB unpacked, "
          f"{info['archive_bytes'] / 1e9:.2f} GB archives ({archive_counts(info)})", flush=True)

    envlock = envlock_exe(work, args.envlock_from_here)
    project = write_project(work, channel.as_uri(), names)
    cache = work / "envlock-cache"
    env = {**os.environ, "ENVLOCK_CACHE_DIR": str(cache)}
    run([*envlock, "lock", "--profile", "bench", "--project", str(project)], env=env)
    prefix = work / "envs" / "bench"
    create = [*envlock, "create", "--profile", "bench", "--project", str(project), "--prefix", str(prefix),
              "--frozen", "--no-verify", "--json"]
    results: dict[str, list[float]] = {}
    phases: dict[str, list[dict]] = {}  # envlock's own --json phase timings (in-process)
    linkers: set[str] = set()  # who linked the warm creates: "fast", "fast+rattler" or "rattler"

    def measure(key: str, fn, n: int) -> None:  # noqa: ANN001
        for _ in range(n):
            results.setdefault(key, []).append(fn())

    def settle() -> None:
        os.sync()  # let the previous step's deletions reach the disk before timing the next
        if args.drop_caches:
            Path("/proc/sys/vm/drop_caches").write_text("3\n")
        time.sleep(args.settle)

    def cold() -> float:
        rm(cache)
        rm(prefix)
        settle()
        dt, proc = run(create, env=env)
        doc = json.loads(proc.stdout)
        assert doc["action"] == "created"
        phases.setdefault("cold", []).append(doc["seconds"])
        return dt

    def warm(kind: str = "warm") -> float:
        rm(prefix)
        settle()
        dt, proc = run(create, env=env)
        doc = json.loads(proc.stdout)
        assert doc["downloaded"] == 0
        phases.setdefault(kind, []).append(doc["seconds"])
        linkers.add(doc.get("linker", "?"))
        return dt

    def noop() -> float:
        dt, proc = run(create, env=env)
        assert json.loads(proc.stdout)["action"] == "up-to-date"
        return dt

    check_cmd = [*envlock, "check", "--profile", "bench", "--project", str(project), "--prefix", str(prefix), "--json"]

    def check() -> float:
        dt, proc = run(check_cmd, env=env)
        return dt

    copy = work / "envs" / "copy"

    def cp_al() -> float:
        return timed_cp_al(prefix, copy, settle)

    def tar_seq() -> float:
        return timed_tar(channel, work / "envs" / "tar", settle)

    n_cold = n_warm = None  # the nepenthe steps, when nepenthe is available
    nep_version = None
    if not args.no_nepenthe and (exe := nepenthe_setup(work)):
        nep_version = run([str(exe), "--version"])[1].stdout.strip()
        lock = nepenthe_lock(exe, work, channel, names)
        ncache = work / "nepenthe-cache"
        nenv = {**os.environ, "RATTLER_CACHE_DIR": str(ncache)}
        nprefix = work / "envs" / "nepenthe"
        ncreate = [str(exe), "create", "--lock", str(lock), "--prefix", str(nprefix)]

        def n_cold() -> float:
            rm(ncache)
            rm(nprefix)
            settle()
            return run(ncreate, env=nenv)[0]

        def n_warm() -> float:
            rm(nprefix)
            settle()
            return run(ncreate, env=nenv)[0]

    # rounds interleave the contenders, so a noisy disk hurts them alike; medians are reported
    # (and the order rotates each round: on a VM disk, deferred work of one step lands on the next)
    def rounds(kind: str, n: int, steps: list[tuple[str, object]]) -> None:
        steps = [(k, f) for k, f in steps if f]
        for i in range(n):
            order = steps[i % len(steps):] + steps[: i % len(steps)]
            print(f"{kind} round {i + 1}/{n}: {', '.join(k for k, _ in order)}", flush=True)
            for key, fn in order:
                measure(key, fn, 1)

    if args.warm_only:  # one untimed cold create of each fills the caches
        cold()
        if n_cold:
            n_cold()
    else:
        rounds("cold", max(1, args.repeat - 1), [("envlock_cold", cold), ("nepenthe_cold", n_cold), ("tar_sequential", tar_seq)])
    # the first warm create after a cold one also works out each package's link plan (once per
    # package in the cache's life); it is reported on its own, and nepenthe gets a warm-up too
    print("warm-up: the first warm create of each", flush=True)
    measure("envlock_first_warm", lambda: warm("first warm"), 1)
    if n_warm:
        n_warm()
    rounds("warm", args.repeat, [("envlock_warm", warm), ("nepenthe_warm", n_warm), ("cp_al", cp_al)])
    if n_warm:
        rm(work / "envs" / "nepenthe")
    if not args.no_restore:
        measure_restore(work, channel, names, envlock, args.repeat, settle, measure, phases)
    measure("envlock_noop", noop, args.repeat)
    measure("envlock_check", check, args.repeat)
    env_files, env_bytes = tree_stats(prefix)

    # does check catch one modified file (same size, fresh mtime) and one deleted file?
    victim = next(p for p in sorted((prefix / "lib").rglob("f00011.py")))
    data = bytearray(victim.read_bytes())
    data[0] ^= 0xFF
    victim.unlink()
    victim.write_bytes(bytes(data))
    dt, proc = run(check_cmd, env=env, check=False)
    rep = json.loads(proc.stdout)
    caught_modified = proc.returncode == 1 and any(f["kind"] == "modified" for f in rep["files"])
    results["envlock_check_modified"] = [dt]
    deleted = next(p for p in sorted((prefix / "lib").rglob("f00012.py")))
    deleted.unlink()
    _, proc = run(check_cmd, env=env, check=False)
    caught_deleted = proc.returncode == 1 and any(f["kind"] == "deleted" for f in json.loads(proc.stdout)["files"])

    med = {k: statistics.median(v) for k, v in results.items()}

    def ratio_of(key: str, ref: str) -> float:
        """Median of the per-round ratios: contenders of one round ran seconds apart, so
        a round-to-round drift of the VM's disk (2x and more here) cancels out."""
        a, b = results[key], results[ref]
        if len(a) == len(b):
            return statistics.median(x / y for x, y in zip(a, b, strict=True))
        return med[key] / med[ref]
    rows = [
        ("envlock cold create", "envlock_cold", "tar_sequential", "< 1.0x sequential tar -x"),
        ("envlock warm create", "envlock_warm", "cp_al", "<= 1.2x cp -al"),
        ("envlock warm vs nepenthe warm", "envlock_warm", "nepenthe_warm", "<= 1.0x"),
        ("envlock cold vs nepenthe cold", "envlock_cold", "nepenthe_cold", "< 1.0x"),
        ("envlock first warm create", "envlock_first_warm", None, ""),
        ("envlock no-op create", "envlock_noop", None, "< 0.3 s"),
        ("envlock check (unchanged)", "envlock_check", None, "< 1 s"),
        ("envlock create after cache restore", "envlock_restored", None, ""),
        ("cp -al of the environment", "cp_al", None, ""),
        ("sequential tar -x", "tar_sequential", None, ""),
        ("nepenthe cold create", "nepenthe_cold", None, ""),
        ("nepenthe warm create", "nepenthe_warm", None, ""),
    ]
    goals_met = {}
    print()
    print(f"archive format: {args.archive_format} ({archive_counts(info)}); "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'measurement':34} {'seconds':>9} {'ratio':>8}  goal")
    for label, key, ref, goal in rows:
        if key not in med or (ref and ref not in med):
            continue
        ratio = ratio_of(key, ref) if ref else None
        ok = None
        if goal.startswith("<=") and ratio is not None:
            ok = ratio <= float(goal.split()[1].rstrip("x"))
        elif goal.startswith("<") and ratio is not None:
            ok = ratio < float(goal.split()[1].rstrip("x"))
        elif goal.endswith(" s"):
            ok = med[key] < float(goal.split()[1])
        if ok is not None:
            goals_met[label] = ok
        mark = "" if ok is None else ("  ok" if ok else "  MISSED")
        print(f"{label:34} {med[key]:9.3f} {'' if ratio is None else f'{ratio:7.2f}x':>8}  {goal}{mark}")
    for kind, runs in phases.items():
        keys = sorted({k for r in runs for k in r})
        print(f"envlock {kind} phases (median s, in-process): "
              + ", ".join(f"{k} {statistics.median(r.get(k, 0.0) for r in runs):.3f}" for k in keys))
    if "envlock_restored" in med:
        print(f"create after a cache restore / warm create (medians): {med['envlock_restored'] / med['envlock_warm']:.2f}x")
    print(f"envlock warm creates linked by: {', '.join(sorted(linkers))}")
    print(f"check caught a modified file: {caught_modified}; a deleted file: {caught_deleted}")
    print(f"environment: {env_files} files, {env_bytes / 1e9:.2f} GB")

    out = HERE / "results"
    out.mkdir(exist_ok=True)
    path = out / f"create-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({
        "scale": args.scale, "archive_format": args.archive_format, "channel": info,
        "load_average_end": os.getloadavg(), "environment": {"files": env_files, "bytes": env_bytes},
        "runs": results, "median_s": med, "settle_s": args.settle, "drop_caches": args.drop_caches,
        "paired_ratios": {label: ratio_of(key, ref) for label, key, ref, _g in rows if ref and key in med and ref in med}, "envlock_phases": phases, "warm_linker": sorted(linkers), "goals_met": goals_met,
        "check_caught": {"modified": caught_modified, "deleted": caught_deleted},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "nepenthe": nep_version, "envlock": envlock,
    }, indent=2))
    print(f"results: {path}")
    if not args.keep:
        for p in (work / "envs", cache, work / "nepenthe-cache", work / "project", work / "nepenthe"):
            rm(p)
        rm(channel)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
