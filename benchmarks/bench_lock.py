"""Measure `envlock lock` (full 2-platform lock against a real local channel) and
`envlock lock --check`, as a user runs them (fresh processes).

    python benchmarks/bench_lock.py [--runs 5]

No network: the channel is built locally (tests/channel_factory.py).  Prints a table and
writes benchmarks/results/lock.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from channel_factory import build_channel  # noqa: E402
from conftest import profile_doc, tf_channel_specs, write_project  # noqa: E402


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="envlock-bench-lock-") as tmp:
        root = Path(tmp)
        channel = build_channel(root / "channel", tf_channel_specs())
        project = write_project(root / "project", {"two": profile_doc(
            "two", channel, platforms=["linux-64", "osx-arm64"],
            virtual_packages={"linux-64": {"__glibc": "2.28"}, "osx-arm64": {"__osx": "14.0"}})})
        envlock = [sys.executable, "-m", "envlock.cli.__main__"]
        full = [timed([*envlock, "lock", "--project", str(project)]) for _ in range(args.runs)]
        check = [timed([*envlock, "lock", "--check", "--project", str(project)]) for _ in range(args.runs)]
        startup = [timed([sys.executable, "-c", "pass"]) for _ in range(args.runs)]
    rows = {
        "full 2-platform lock (local channel)": statistics.median(full),
        "lock --check (fresh)": statistics.median(check),
        "python start-up alone (floor)": statistics.median(startup),
    }
    width = max(map(len, rows))
    print(f"{'measurement':{width}}  median s  (runs={args.runs})")
    for k, v in rows.items():
        print(f"{k:{width}}  {v:8.3f}")
    print(f"--check / interpreter start-up: {rows['lock --check (fresh)'] / rows['python start-up alone (floor)']:.1f}x")
    out = HERE / "results" / "lock.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"runs": args.runs, "median_s": rows}, indent=2))


if __name__ == "__main__":
    main()
