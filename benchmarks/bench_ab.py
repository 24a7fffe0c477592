#!/usr/bin/env python3
"""A/B two checkouts of envlock on the fast paths, in alternation (the order flips each round).

Each side runs as ``python -m envlock.cli.__main__`` with ``PYTHONPATH`` set to its checkout,
from the same interpreter (both need the same dependencies), so that only envlock's own code
differs.  Measured: warm create of the synthetic TensorFlow-shaped channel of bench_create.py
(--scale), no-op create, ``lock --check`` (a 2-platform lock of the test channel, as in
bench_lock.py) and ``audit --json`` of a 2,000-package x 5-platform conda-lock file (as in
bench_audit.py).  Reports medians and the median of per-round ratios B/A.

Run:  python benchmarks/bench_ab.py A_CHECKOUT B_CHECKOUT [--rounds 9] [--scale 0.5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

import bench_audit  # noqa: E402
import bench_create  # noqa: E402
from channel_factory import build_channel  # noqa: E402
from conftest import profile_doc, tf_channel_specs  # noqa: E402
from conftest import write_project as write_test_project  # noqa: E402


def timed(cmd: list[str], env: dict, ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if proc.returncode not in ok:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return dt, proc.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--scale", type=float, default=0.5)
    ap.add_argument("--workdir", type=Path, default=HERE / "results" / "ab-work")
    args = ap.parse_args()
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    sides = {"A": args.a.resolve(), "B": args.b.resolve()}
    os.chdir(work)  # ``python -m`` puts the working directory first on sys.path: not a checkout
    channel, names, info = bench_create.build_synthetic_channel(work, args.scale, os.cpu_count() or 2)
    print(f"synthetic channel: {info['packages']} packages, {info['files']} files", flush=True)
    small = build_channel(work / "small-channel", tf_channel_specs()) if not (work / "small-channel").exists() \
        else work / "small-channel"
    audit_lock = work / "audit.conda-lock.yml"
    if not audit_lock.exists():
        bench_audit.generate(audit_lock, 2000, bench_audit.PLATFORMS[:5], bump=False)

    setups: dict[str, dict] = {}
    for side, src in sides.items():
        env = {**os.environ, "PYTHONPATH": str(src), "ENVLOCK_CACHE_DIR": str(work / f"cache-{side}")}
        exe = [sys.executable, "-m", "envlock.cli.__main__"]
        project = bench_create.write_project(work, channel.as_uri(), names, f"project-{side}")
        timed([*exe, "lock", "--profile", "bench", "--project", str(project)], env)
        prefix = work / "envs" / side
        create = [*exe, "create", "--profile", "bench", "--project", str(project), "--prefix", str(prefix),
                  "--frozen", "--no-verify", "--json"]
        shutil.rmtree(prefix, ignore_errors=True)
        timed(create, env)  # cold, untimed: fills this side's cache
        shutil.rmtree(prefix)
        timed(create, env)  # the first warm create works out the link plans
        lproj = write_test_project(work / f"lock-project-{side}", {"two": profile_doc(
            "two", small, platforms=["linux-64", "osx-arm64"],
            virtual_packages={"linux-64": {"__glibc": "2.28"}, "osx-arm64": {"__osx": "14.0"}})})
        timed([*exe, "lock", "--project", str(lproj)], env)
        setups[side] = {"env": env, "exe": exe, "create": create, "prefix": prefix, "lock_project": lproj}

    steps = {
        "warm create": lambda s: (shutil.rmtree(s["prefix"], ignore_errors=True), os.sync(),
                                  timed(s["create"], s["env"])[0])[-1],
        "no-op create": lambda s: timed(s["create"], s["env"])[0],
        "lock --check": lambda s: timed([*s["exe"], "lock", "--check", "--project", str(s["lock_project"])], s["env"])[0],
        "audit --json": lambda s: timed([*s["exe"], "audit", str(audit_lock), "--json"], s["env"], ok=(0, 1))[0],
    }
    results: dict[str, dict[str, list[float]]] = {k: {"A": [], "B": []} for k in steps}
    loads = []
    for i in range(args.rounds):
        loads.append(os.getloadavg()[0])
        order = ["A", "B"] if i % 2 == 0 else ["B", "A"]
        for name, fn in steps.items():
            for side in order:
                results[name][side].append(fn(setups[side]))
        print(f"round {i + 1}/{args.rounds} ({'/'.join(order)}, load {loads[-1]:.2f}): " + ", ".join(
            f"{n} {results[n]['A'][-1]:.3f}/{results[n]['B'][-1]:.3f}" for n in steps), flush=True)
    print(f"\nA = {sides['A']}\nB = {sides['B']}\nload average (1 min) during rounds: "
          f"min {min(loads):.2f}, median {statistics.median(loads):.2f}, max {max(loads):.2f}")
    print(f"{'measurement':14} {'A median s':>10} {'B median s':>10} {'B/A (median of rounds)':>24}")
    table = {}
    for name, r in results.items():
        ratio = statistics.median(b / a for a, b in zip(r["A"], r["B"], strict=True))
        table[name] = {"A": statistics.median(r["A"]), "B": statistics.median(r["B"]), "ratio": ratio, "runs": r}
        print(f"{name:14} {table[name]['A']:10.3f} {table[name]['B']:10.3f} {ratio:23.3f}x")
    out = HERE / "results" / f"ab-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"a": str(sides["A"]), "b": str(sides["B"]), "scale": args.scale, "loadavg": loads,
                               "table": table}, indent=2))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
