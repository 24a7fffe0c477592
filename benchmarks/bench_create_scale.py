#!/usr/bin/env python3
"""Warm and cold ``envlock create`` against environment size, beside ``cp -al`` and ``tar -x``.

For each size (files in the environment; default 5,000 / 15,000 / 30,000 / 60,000) this builds
bench_create.py's synthetic TensorFlow-shaped channel at the matching --scale (30,000 files per
1.0; 150 packages from 30,000 files up, fewer below), locks it, then measures in rounds
whose order rotates each round, starting with a cold create (which fills the package cache; a
kept channel is first read once by an untimed cold create):

  envlock cold create   empty package cache (followed by one untimed warm create, which works out
                        the link plans, so that every timed warm create is a steady-state one)
  envlock warm create   cache filled, prefix absent
  cp -al                hard-link copy of the finished environment (the limit of a warm create)
  tar -x sequential     each archive extracted one after another (the yardstick of a cold create)

Reports per size the medians, warm / cp -al and cold / tar -x (medians of per-round ratios) and
milliseconds per 1,000 files; per column a least-squares fit ``seconds = a + b * files`` with its
R^2 and the growth from the smallest to the largest size over the growth in files (1.0 =
proportional, below 1 = fixed costs amortised).  Goals: no column grows more than proportionally
(growth <= 1 + --tolerance) and neither ratio worsens from the smallest to the largest size by
more than --tolerance.

Run:  python benchmarks/bench_create_scale.py [--sizes 5000,15000,30000,60000] [--rounds 3]
        [--archive-format {mixed,conda,tar.bz2}] [--drop-caches] [--settle S] [--workdir DIR]
        [--keep] [--envlock-from-here]
Needs what bench_create.py needs (PyPI once for envlock's venv; GNU tar, zstd, unzip); about
3 GB of disk per 30,000 files while a size runs.  Writes benchmarks/results/create-scale-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

from bench_create import (
    ARCHIVE_FORMATS,
    HERE,
    archive_counts,
    build_synthetic_channel,
    envlock_exe,
    rm,
    run,
    timed_cp_al,
    timed_tar,
    tree_stats,
    write_project,
)

FILES_AT_SCALE_1 = 30_000
COLUMNS = {"envlock_warm": "envlock warm", "cp_al": "cp -al", "envlock_cold": "envlock cold",
           "tar_sequential": "tar -x sequential"}
RATIOS = {"warm / cp -al": ("envlock_warm", "cp_al"), "cold / tar -x": ("envlock_cold", "tar_sequential")}


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(s) for s in text.split(",") if s.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes {text!r}: give file counts separated by commas, "
                                         "e.g. 5000,15000,30000,60000") from None
    if not sizes or sizes[0] < 1000:
        raise argparse.ArgumentTypeError(f"--sizes {text!r}: give one or more file counts of at least 1000")
    return sizes


def paired_ratio(runs: dict[str, list[float]], key: str, ref: str) -> float:
    """Median of per-round ratios: the two ran in the same round, so round-to-round drift cancels."""
    return statistics.median(a / b for a, b in zip(runs[key], runs[ref], strict=True))


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def measure_size(root: Path, target_files: int, args: argparse.Namespace, envlock: list[str]) -> dict:
    scale = target_files / FILES_AT_SCALE_1
    load_before = load_average()
    print(f"\n== {target_files:,} files (scale {scale:.3g}, {args.archive_format}) in {root}", flush=True)
    marker = root / "channel" / ".complete.json"
    marker_before = marker.read_text() if marker.exists() else None
    channel, names, info = build_synthetic_channel(root, scale, args.jobs, args.archive_format)
    reused = marker_before == marker.read_text()
    print(f"  {info['packages']} packages, {info['files']:,} files, {info['unpacked_bytes'] / 1e9:.2f} GB unpacked, "
          f"{info['archive_bytes'] / 1e9:.2f} GB archives ({archive_counts(info)}); "
          f"channel built in {info['build_seconds']} s", flush=True)
    project = write_project(root, channel.as_uri(), names)
    cache, envs = root / "envlock-cache", root / "envs"
    prefix, copy, tar_dest = envs / "bench", envs / "copy", envs / "tar"
    env = {**os.environ, "ENVLOCK_CACHE_DIR": str(cache)}
    run([*envlock, "lock", "--profile", "bench", "--project", str(project)], env=env)
    create = [*envlock, "create", "--profile", "bench", "--project", str(project), "--prefix", str(prefix),
              "--frozen", "--no-verify", "--json"]
    runs: dict[str, list[float]] = {key: [] for key in COLUMNS}
    linkers: set[str] = set()

    def settle() -> None:
        os.sync()  # the previous step's deletions reach the disk before the next step is timed
        if args.drop_caches:
            Path("/proc/sys/vm/drop_caches").write_text("3\n")
        time.sleep(args.settle)

    def timed_create(expect_action: str) -> tuple[float, dict]:
        settle()
        dt, proc = run(create, env=env)
        doc = json.loads(proc.stdout)
        if doc.get("action") != expect_action:
            raise SystemExit(f"envlock create: expected action {expect_action!r}, got {doc.get('action')!r}")
        return dt, doc

    def cold() -> float:
        rm(cache)
        rm(prefix)
        dt, _ = timed_create("created")
        rm(prefix)
        run(create, env=env)  # untimed: the first warm create after a cold one writes the link plans
        return dt

    def warm() -> float:
        rm(prefix)
        dt, doc = timed_create("created")
        if doc.get("downloaded") != 0:
            raise SystemExit(f"warm create downloaded {doc.get('downloaded')} packages: the cache was not filled")
        linkers.add(doc.get("linker", "?"))
        return dt

    def cp_al() -> float:
        return timed_cp_al(prefix, copy, settle)

    def tar_sequential() -> float:
        return timed_tar(channel, tar_dest, settle)

    steps = [("envlock_cold", cold), ("envlock_warm", warm), ("cp_al", cp_al), ("tar_sequential", tar_sequential)]
    t0 = time.perf_counter()
    if reused and not args.drop_caches:  # a kept channel: its archives into the page cache, as a fresh build leaves them
        print("  warm-up: one untimed cold create of the kept channel", flush=True)
        cold()
    for i in range(args.rounds):
        order = steps[i % len(steps):] + steps[: i % len(steps)]
        print(f"  round {i + 1}/{args.rounds}: {', '.join(k for k, _ in order)}", flush=True)
        for key, fn in order:
            runs[key].append(fn())
    env_files, env_bytes = tree_stats(prefix)
    rm(envs)
    rm(cache)
    rm(project)
    if not args.keep:
        rm(channel)
    med = {key: statistics.median(v) for key, v in runs.items()}
    return {
        "target_files": target_files, "scale": scale, "channel": info,
        "environment": {"files": env_files, "bytes": env_bytes},
        "runs": runs, "median_s": med,
        "ratios": {label: paired_ratio(runs, key, ref) for label, (key, ref) in RATIOS.items()},
        "ms_per_1000_files": {key: 1e6 * m / env_files for key, m in med.items()},
        "channel_reused": reused, "warm_linker": sorted(linkers), "load_average": {"before": load_before, "after": load_average()},
        "wall_seconds": round(time.perf_counter() - t0, 1),
    }


def linearity(sizes: list[dict]) -> dict[str, dict]:
    """Per column: least-squares seconds = a + b * files, R^2, and growth over the growth in files."""
    files = [s["environment"]["files"] for s in sizes]
    out: dict[str, dict] = {}
    for key in COLUMNS:
        secs = [s["median_s"][key] for s in sizes]
        growth = (secs[-1] / secs[0]) / (files[-1] / files[0])
        fit = statistics.linear_regression(files, secs)
        r2 = statistics.correlation(files, secs) ** 2 if len(files) > 2 else None  # two points always fit
        out[key] = {"slope_ms_per_1000_files": 1e6 * fit.slope, "intercept_s": fit.intercept,
                    "r_squared": r2, "growth_over_file_growth": growth}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=parse_sizes, default=[5000, 15000, 30000, 60000],
                    help="environment sizes in files, comma-separated (default 5000,15000,30000,60000)")
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds per size (medians reported)")
    ap.add_argument("--archive-format", choices=ARCHIVE_FORMATS, default="mixed",
                    help="mixed: mostly .conda, a few .tar.bz2 (conda-forge today); conda or tar.bz2: every package")
    ap.add_argument("--workdir", type=Path, default=HERE / "results" / "work-scale")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="processes building the channels")
    ap.add_argument("--keep", action="store_true", help="keep the channels (reused by the next run)")
    ap.add_argument("--envlock-from-here", action="store_true",
                    help="run the envlock installed beside this interpreter, not one installed into the work dir's venv")
    ap.add_argument("--settle", type=float, default=2.0,
                    help="seconds of quiet after sync before each timed step (VM disks throttle bursts)")
    ap.add_argument("--drop-caches", action="store_true",
                    help="empty the kernel's page, dentry and inode caches before each timed step (root only)")
    ap.add_argument("--tolerance", type=float, default=0.15,
                    help="how far growth may exceed proportional, and a ratio may worsen, before a goal is missed")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds: give 1 or more")
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    envlock = envlock_exe(work, args.envlock_from_here)
    load_start = load_average()
    sizes = [measure_size(work / f"files-{n}", n, args, envlock) for n in args.sizes]

    print(f"\narchive format: {args.archive_format}; {args.rounds} rounds per size; settle {args.settle} s; "
          f"drop caches: {args.drop_caches}; load average {load_start} at start, {load_average()} at end")
    print(f"{'files':>7} {'pkgs':>5} " + " ".join(f"{COLUMNS[k]:>13}" for k in COLUMNS)
          + "  " + " ".join(f"{r:>13}" for r in RATIOS) + "   ms per 1,000 files (warm, cp -al, cold, tar)")
    for s in sizes:
        print(f"{s['environment']['files']:>7} {s['channel']['packages']:>5} "
              + " ".join(f"{s['median_s'][k]:>12.3f}s" for k in COLUMNS) + "  "
              + " ".join(f"{s['ratios'][r]:>12.2f}x" for r in RATIOS) + "   "
              + " / ".join(f"{s['ms_per_1000_files'][k]:.1f}" for k in COLUMNS)
              + f"   (load {s['load_average']['after'][0]})")
    fits: dict[str, dict] = {}
    goals_met: dict[str, bool] = {}
    trend: dict[str, float] = {}
    if len(sizes) > 1:
        fits = linearity(sizes)
        print(f"\n{'column':18} {'ms / 1,000 files':>16} {'intercept':>10} {'R^2':>6}  growth / file growth "
              f"({sizes[-1]['environment']['files'] / sizes[0]['environment']['files']:.1f}x files; "
              f"goal for envlock <= {1 + args.tolerance:.2f})")
        for key, fit in fits.items():
            mark = ""
            if key.startswith("envlock"):  # cp -al and tar -x are the yardsticks, shown for comparison
                ok = fit["growth_over_file_growth"] <= 1 + args.tolerance
                goals_met[f"{COLUMNS[key]} grows at most linearly"] = ok
                mark = "  ok" if ok else "  MISSED"
            r2 = "-" if fit["r_squared"] is None else f"{fit['r_squared']:.3f}"
            print(f"{COLUMNS[key]:18} {fit['slope_ms_per_1000_files']:16.1f} {fit['intercept_s']:9.3f}s "
                  f"{r2:>6}  {fit['growth_over_file_growth']:.2f}{mark}")
        for label in RATIOS:
            first, last = sizes[0]["ratios"][label], sizes[-1]["ratios"][label]
            trend[label] = last / first
            ok = trend[label] <= 1 + args.tolerance
            goals_met[f"{label} does not worsen with size"] = ok
            print(f"{label}: {first:.2f}x at {sizes[0]['environment']['files']:,} files -> {last:.2f}x at "
                  f"{sizes[-1]['environment']['files']:,} ({trend[label]:.2f}x; goal <= {1 + args.tolerance:.2f}x)"
                  f"  {'ok' if ok else 'MISSED'}")

    out = HERE / "results"
    out.mkdir(exist_ok=True)
    path = out / f"create-scale-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({
        "archive_format": args.archive_format, "rounds": args.rounds, "settle_s": args.settle,
        "drop_caches": args.drop_caches, "tolerance": args.tolerance, "sizes": sizes, "linearity": fits,
        "ratio_trend": trend, "goals_met": goals_met,
        "load_average": {"start": load_start, "end": load_average()}, "envlock": envlock,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }, indent=2))
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
