#!/usr/bin/env python3
"""Every speed figure of the README in one command: runs the benchmarks one after another (never
side by side: they would time each other) and prints one table of times and ratios.

  headline   bench_tf_env.py        the pip-route TensorFlow 2.21 environment: warm / cold /
                                    after-a-cache-restore / no-op create and check, against
                                    cp -al and uv alone
  conda      bench_create.py        the synthetic conda-only environment (.conda archives),
                                    against cp -al, sequential tar -x and nepenthe; --runs times
  bz2        bench_create.py        the same shape from .tar.bz2 archives only: cold create
             --archive-format tar.bz2  against sequential tar -xjf
  scale      bench_create_scale.py  warm and cold create at 5k / 15k / 30k / 60k files
  lock       bench_lock_scale.py    envlock lock and lock --update at 10k / 100k / 500k records,
                                    file:// and http (repodata.json, shards), against a bare
                                    rattler.solve

Run:  python benchmarks/bench_all.py [--only headline,conda,bz2,scale,lock] [--runs 3]
                                     [--drop-caches] [--quick] [--results STEP=FILE ...]
--quick: fewer rounds and smaller sizes, to check that everything runs (figures not for the
README); --results STEP=FILE (repeatable, in order): take that step's figures from a results
file an earlier run wrote instead of running it (to redo the table).  Each benchmark writes its own results file; this one writes
benchmarks/results/all-<time>.json (the table and the paths of those files) and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STEPS = ("headline", "conda", "bz2", "scale", "lock")


def commands(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    py, q = sys.executable, args.quick
    drop = ["--drop-caches"] if args.drop_caches else []
    scale = ["--scale", "0.2"] if q else []
    out: list[tuple[str, list[str]]] = []
    if "headline" in args.only:
        out.append(("headline", [py, str(HERE / "bench_tf_env.py"), *(["--repeat", "2", "--cold-repeat", "2"] if q else [])]))
    if "conda" in args.only:
        for _ in range(1 if q else args.runs):
            out.append(("conda", [py, str(HERE / "bench_create.py"), "--archive-format", "conda", "--keep",
                                  "--workdir", str(HERE / "results" / "work-conda"),
                                  "--envlock-from-here", "--repeat", "1" if q else "3", *scale, *drop]))
    if "bz2" in args.only:
        out.append(("bz2", [py, str(HERE / "bench_create.py"), "--archive-format", "tar.bz2", "--no-nepenthe", "--keep",
                            "--workdir", str(HERE / "results" / "work-bz2"),
                            "--envlock-from-here", "--scale", "0.2" if q else "0.8", "--repeat", "1" if q else "3",
                            "--no-restore", *drop]))
    if "scale" in args.only:
        out.append(("scale", [py, str(HERE / "bench_create_scale.py"), "--envlock-from-here", "--keep",
                              *(["--sizes", "1500,3000", "--rounds", "1"] if q else []), *drop]))
    if "lock" in args.only:
        out.append(("lock", [py, str(HERE / "bench_lock_scale.py"), *(["--sizes", "10000", "--rounds", "1"] if q else [])]))
    return out


def run_one(cmd: list[str]) -> Path:
    """Run one benchmark, its output passed through; the path of its results file."""
    print(f"\n$ {' '.join(Path(c).name if c.endswith('.py') else c for c in cmd)}", flush=True)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=HERE.parent)
    found = None
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        if line.startswith("results: "):
            found = Path(line.split(": ", 1)[1].strip())
    if proc.wait() != 0 or found is None:
        raise SystemExit(f"{cmd[1]} failed (exit {proc.returncode}); the figures above are incomplete")
    return found


def _row(what: str, seconds: float | None, against: str = "", ratio: float | None = None, goal: str = "",
         met: bool | None = None) -> dict:
    return {"what": what, "seconds": seconds, "against": against, "ratio": ratio, "goal": goal, "met": met}


def headline_rows(doc: dict) -> list[dict]:
    med = doc["median_s"]
    goals = {("warm create", "cp -al"): ("<= 1.2x", 1.2), ("warm create", "uv alone (warm)"): ("< 1.0x", 0.99999),
             ("cold create", "uv alone (cold)"): ("<= 1.0x", 1.0), ("create after cache restore", "warm create"): ("<= 1.2x", 1.2)}
    rows = []
    for r in doc["table"]:
        if "vs" not in r:  # check: its own row below
            continue
        goal, bound = goals.get((r["measurement"], r["vs"]), ("", None))
        rows.append(_row(f"TF 2.21 pip-route: {r['measurement']}", r["seconds"], f"{r['vs']} {r['ref_seconds']:.3f} s",
                         r["ratio"], goal, None if bound is None else r["ratio"] <= bound))
    rows.append(_row("TF 2.21 pip-route: check", med["envlock_check"], goal="< 0.5 s", met=med["envlock_check"] < 0.5))
    return rows


def create_rows(doc: dict, label: str) -> list[dict]:
    med, ratios = doc["median_s"], doc["paired_ratios"]
    rows = []
    for name, key, ref, goal, bound in (
        ("warm create", "envlock_warm", "cp_al", "<= 1.2x", 1.2),
        ("cold create", "envlock_cold", "tar_sequential", "< 1.0x", 0.99999),
        ("warm create", "envlock_warm", "nepenthe_warm", "<= 0.9x", 0.9),
        ("cold create", "envlock_cold", "nepenthe_cold", "<= 0.9x", 0.9),
    ):
        pair = {"cp_al": "envlock warm create", "tar_sequential": "envlock cold create",
                "nepenthe_warm": "envlock warm vs nepenthe warm", "nepenthe_cold": "envlock cold vs nepenthe cold"}[ref]
        if key in med and ref in med and pair in ratios:
            against = {"cp_al": "cp -al", "tar_sequential": "sequential tar -x"}.get(ref, ref.replace("_", " "))
            rows.append(_row(f"{label}: {name}", med[key], f"{against} {med[ref]:.3f} s", ratios[pair], goal,
                             ratios[pair] <= bound))
    return rows


def scale_rows(doc: dict) -> list[dict]:
    rows = []
    for size in doc["sizes"]:
        files = size["environment"]["files"]
        med = size["median_s"]
        ratios = size.get("ratios", {})
        for col, ref, key in (("envlock_warm", "cp_al", "warm / cp -al"), ("envlock_cold", "tar_sequential", "cold / tar -x")):
            if col in med:
                against = {"cp_al": "cp -al", "tar_sequential": "sequential tar -x"}[ref]
                rows.append(_row(f"scale {files:,} files: {col.replace('envlock_', '')} create", med[col],
                                 f"{against} {med[ref]:.3f} s", ratios.get(key)))
    for goal, met in doc.get("goals_met", {}).items():
        rows.append(_row(f"scale: {goal}", None, goal="", met=met))
    return rows


def lock_rows(doc: list) -> list[dict]:
    rows = []
    for r in doc:
        big = r["records"] >= 500_000
        rows.append(_row(f"lock {r['records'] // 1000}k records, {r['form']}", r["lock"], f"bare solve {r['bare']:.3f} s",
                         r["lock_ratio"], "<= 2x" if big else "", (r["lock_ratio"] <= 2.0) if big else None))
        rows.append(_row(f"lock --update {r['records'] // 1000}k records, {r['form']}", r["update"],
                         f"bare solve {r['bare']:.3f} s", r["update_ratio"]))
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| measurement | seconds | against | ratio | goal |", "|---|---|---|---|---|"]
    for r in rows:
        secs = "" if r["seconds"] is None else f"{r['seconds']:.3f}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}×"
        goal = r["goal"] + ("" if r["met"] is None else (" met" if r["met"] else " **not met**"))
        lines.append(f"| {r['what']} | {secs} | {r['against']} | {ratio} | {goal.strip()} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default=",".join(STEPS), help=f"comma-separated subset of {', '.join(STEPS)}")
    ap.add_argument("--runs", type=int, default=3, help="runs of the conda-only benchmark (the nepenthe goal: 3 of 3)")
    ap.add_argument("--drop-caches", action="store_true", help="passed on: empty the kernel's caches before each timed step (root)")
    ap.add_argument("--quick", action="store_true", help="small sizes, one round: checks that everything runs")
    ap.add_argument("--results", action="append", default=[], metavar="STEP=FILE",
                    help="use an earlier results file for STEP instead of running it (repeatable)")
    args = ap.parse_args()
    args.only = [s for s in args.only.split(",") if s]
    if unknown := set(args.only) - set(STEPS):
        ap.error(f"--only: unknown step(s) {', '.join(sorted(unknown))}; choose from {', '.join(STEPS)}")
    started = time.time()
    rows: list[dict] = []
    files: dict[str, list[str]] = {}
    conda_run = 0
    given: dict[str, list[Path]] = {}
    for item in args.results:
        step, _, name = item.partition("=")
        if step not in STEPS or not name:
            ap.error(f"--results {item}: expected STEP=FILE with STEP one of {', '.join(STEPS)}")
        given.setdefault(step, []).append(Path(name))
    for step, cmd in commands(args):
        path = given[step].pop(0) if given.get(step) else run_one(cmd)
        files.setdefault(step, []).append(str(path))
        doc = json.loads(path.read_text())
        if step == "headline":
            rows += headline_rows(doc)
        elif step == "conda":
            conda_run += 1
            rows += create_rows(doc, f"synthetic .conda, run {conda_run}")
        elif step == "bz2":
            rows += create_rows(doc, "synthetic .tar.bz2")
        elif step == "scale":
            rows += scale_rows(doc)
        else:
            rows += lock_rows(doc)
    table = markdown(rows)
    print(f"\nall figures ({time.time() - started:.0f} s; load average at the end {os.getloadavg()[0]:.2f}):\n")
    print(table)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"all-{stamp}.json").write_text(json.dumps({"rows": rows, "results": files, "quick": args.quick}, indent=2))
    (out / f"all-{stamp}.md").write_text(table + "\n")
    print(f"results: {out / f'all-{stamp}.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
