#!/usr/bin/env python3
"""Benchmark a fleet: N machines creating the same environment at once, N = 1, 4, 16.

Builds a local channel (the test channel's TensorFlow stand-ins plus --packages synthetic
packages of incompressible data, --mb MB in all), locks a profile against it, mirrors the lock
into S3 (moto's standalone server on 127.0.0.1, a real S3 API), then for each source and N runs
N ``envlock create --frozen --no-verify`` processes in parallel, each with its own empty
package cache (a fresh runner) and prefix:

  (a) channel   the lock's own file:// URLs (the archives are hashed in place, not copied)
  (b) s3        ``--mirror s3://bench/v1`` through boto3 against the local S3 server

and reports wall time, creates per minute, aggregate MB/s, and bytes and requests (archives
fetched) per create, from each create's ``--json``.  Run: python benchmarks/bench_fleet.py
[--packages 30] [--mb 60] [--ns 1,4,16] [--workdir DIR]; writes benchmarks/results/fleet-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from channel_factory import PackageSpec, build_channel  # noqa: E402
from conftest import profile_doc, tf_channel_specs, write_project  # noqa: E402

ENVLOCK = [sys.executable, "-m", "envlock.cli.__main__"]


def synthetic(n: int, total_mb: int) -> list[PackageSpec]:
    size = total_mb * 1_000_000 // max(n, 1)
    specs = []
    for i in range(n):
        rnd = random.Random(i)
        files = {f"share/blob{i:03d}/part{j}.bin": rnd.randbytes(size // 4) for j in range(4)}
        specs.append(PackageSpec(f"blob{i:03d}", "1.0", "h0_0", fmt="conda" if i % 2 else "tar.bz2", files=files))
    return specs


def run(args: list[str], env: dict) -> dict:
    r = subprocess.run([*ENVLOCK, *args], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"envlock {' '.join(args)} failed:\n{r.stderr}")
    return json.loads(r.stdout) if "--json" in args else {}


def fleet(project: Path, work: Path, n: int, env: dict, extra: list[str]) -> dict:
    runs = work / f"runs-{time.monotonic_ns()}"

    def one(i: int) -> dict:
        e = {**env, "ENVLOCK_CACHE_DIR": str(runs / f"cache{i}")}
        return run(["create", "--project", str(project), "--profile", "b", "--frozen", "--no-verify",
                    "--prefix", str(runs / f"env{i}"), "--json", *extra], e)

    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(one, range(n)))
    wall = time.perf_counter() - t
    shutil.rmtree(runs, ignore_errors=True)
    total = sum(r["downloaded_bytes"] for r in results)
    return {"n": n, "wall_s": round(wall, 2), "creates_per_min": round(60 * n / wall, 1),
            "aggregate_MB_s": round(total / 1e6 / wall, 1), "bytes_per_create": total // n,
            "requests_per_create": sum(r["downloaded"] for r in results) / n,
            "median_create_s": sorted(r["seconds"]["total"] for r in results)[n // 2]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packages", type=int, default=30)
    ap.add_argument("--mb", type=int, default=60)
    ap.add_argument("--ns", default="1,4,16")
    ap.add_argument("--workdir", type=Path, default=None)
    a = ap.parse_args()
    work = a.workdir or Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    channel = build_channel(work / "channel", [*tf_channel_specs(), *synthetic(a.packages, a.mb)])
    doc = profile_doc("b", channel, conda=[f"blob{i:03d}" for i in range(a.packages)])
    project = write_project(work / "project", {"b": doc})
    env = {**os.environ, "ENVLOCK_CACHE_DIR": str(work / "lock-cache")}
    env.pop("ENVLOCK_MIRROR", None)
    run(["lock", "--project", str(project), "--profile", "b"], env)

    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=5977, verbose=False)
    server.start()
    s3 = {**env, "AWS_ENDPOINT_URL": "http://127.0.0.1:5977", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
          "AWS_DEFAULT_REGION": "us-east-1", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    import boto3

    boto3.client("s3", endpoint_url=s3["AWS_ENDPOINT_URL"], region_name="us-east-1", aws_access_key_id="bench",
                 aws_secret_access_key="bench").create_bucket(Bucket="bench")
    t = time.perf_counter()
    mirrored = run(["mirror", "--project", str(project), "--to", "s3://bench/v1", "--json"], s3)
    mirror_s = time.perf_counter() - t
    again = run(["mirror", "--project", str(project), "--to", "s3://bench/v1", "--json"], s3)
    rows = []
    for source, extra, e in (("channel", [], env), ("s3", ["--mirror", "s3://bench/v1"], s3)):
        for n in (int(x) for x in a.ns.split(",")):
            row = {"source": source, **fleet(project, work, n, e, extra)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    server.stop()
    out = {"packages": mirrored["packages"], "mirror": {"uploaded": mirrored["uploaded"], "MB": round(mirrored["uploaded_bytes"] / 1e6, 1),
           "seconds": round(mirror_s, 2), "second_run_uploaded": again["uploaded"]}, "rows": rows, "cpus": os.cpu_count()}
    (HERE / "results").mkdir(exist_ok=True)
    dest = HERE / "results" / f"fleet-{time.strftime('%Y%m%d-%H%M%S')}.json"
    dest.write_text(json.dumps(out, indent=1))
    print("| source | N | wall s | creates/min | aggregate MB/s | MB per create | requests per create | median create s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['source']} | {r['n']} | {r['wall_s']} | {r['creates_per_min']} | {r['aggregate_MB_s']} | "
              f"{r['bytes_per_create'] / 1e6:.1f} | {r['requests_per_create']:.0f} | {r['median_create_s']} |")
    print(f"mirror: {json.dumps(out['mirror'])}  -> {dest}")
    if not a.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
