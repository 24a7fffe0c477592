#!/usr/bin/env python3
"""``envlock lock`` on channels the size of conda-forge, against a bare ``rattler.solve``.

Generates local channels of --sizes records (default 10k, 100k, 500k) shaped like a conda
channel: a few thousand names made of plausible syllables (``py-``, ``lib``, ``-cpp`` ...),
several versions each, per-Python builds (``py311h1a2b3c4_0``) for compiled packages,
``pyhd8ed1ab_0`` noarch builds, dependency fan-out of 1-8 towards more popular (lower-ranked)
names, and the TensorFlow stack a profile asks for (python, pip, numpy, keras, tensorflow cpu
builds) in several versions; ``repodata.json`` per subdir (linux-64, osx-arm64, noarch) and
its CEP-16 sharded form.  Records only: a lock reads repodata, never an archive.  Each channel
is measured in three forms (lock_scale_forms.py): ``file://``, ``repodata.json`` over http, and
shards over http (rattler reads shards only over http; a local http.server per form).

Per size and form, alternating rounds: ``envlock lock`` of a 2-platform profile (linux-64,
osx-arm64), ``envlock lock --update numpy`` on the lock it wrote, and one fresh process that
runs ``rattler.solve`` for both platforms with the same specs and virtual packages.  One
unmeasured lock and solve first fill rattler's http cache (an empty one per form).  Reports
times, ratios (median of per-round ratios) and growth per size.

Run:  python benchmarks/bench_lock_scale.py [--sizes 10000,100000,500000] [--rounds 3]
                                            [--forms file,http-json,http-sharded] [--workdir DIR]
Writes benchmarks/results/lock-scale-<time>.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lock_scale_forms import FORMS, SUBDIRS, channel_urls, write_shards  # noqa: E402

HERE = Path(__file__).resolve().parent
LAYOUT = 2  # bump when the generated channel's shape changes
PLATFORMS = {"linux-64": {"__glibc": "2.28"}, "osx-arm64": {"__osx": "14.0"}}
UPDATE = "numpy"  # a dependency the lock holds, for `lock --update`
SPECS = ["pip", "python 3.11.*", "tensorflow 2.19.* cpu*", "keras 3.*"]
PYTHONS = ("3.10", "3.11", "3.12")
_SYL = ("ar", "bo", "cy", "da", "el", "fo", "gi", "ha", "io", "ju", "ka", "lo", "mu", "ne", "ox", "pa", "qu", "ri",
        "so", "tu", "ur", "vi", "wa", "xe", "yo", "ze", "str", "pl", "gr", "th")
_PREFIX = ("", "", "", "py", "lib", "r-", "perl-", "ros-humble-", "jupyter-", "google-cloud-")
_SUFFIX = ("", "", "", "-cpp", "-base", "-devel", "-tools", "-python", "-core", "-plugins")


def _hex(rnd: random.Random, n: int) -> str:
    return "".join(rnd.choice("0123456789abcdef") for _ in range(n))


def _record(name: str, version: str, build: str, bn: int, subdir: str, depends: list[str], rnd: random.Random,
            **extra: object) -> tuple[str, dict]:
    digest = hashlib.sha256(f"{name}{version}{build}{subdir}".encode()).hexdigest()
    rec = {"name": name, "version": version, "build": build, "build_number": bn, "depends": depends,
           "constrains": [], "license": "BSD-3-Clause", "md5": digest[:32], "sha256": digest,
           "size": rnd.randint(5_000, 50_000_000), "subdir": subdir, "timestamp": 1700000000000 + rnd.randint(0, 10**10)}
    if subdir == "noarch":
        rec["noarch"] = "python" if name.startswith("py") or "-python" in name else "generic"
    rec.update(extra)
    return f"{name}-{version}-{build}.conda", rec


def _tensorflow_stack(rnd: random.Random) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {"linux-64": {}, "osx-arm64": {}, "noarch": {}}
    for sd in ("linux-64", "osx-arm64"):
        for py in PYTHONS:
            for micro in ("0", "5", "9"):
                k, r = _record("python", f"{py}.{micro}", "h1a2b3c4_0_cpython", 0, sd, [], rnd)
                out[sd][k] = r
            pym = py.replace(".", "")
            pin = f"python >={py},<{py[:2]}{int(py[2:]) + 1}.0a0"
            for nv in ("1.26.4", "2.0.2", "2.1.0"):
                k, r = _record("numpy", nv, f"py{pym}h{_hex(rnd, 7)}_0", 0, sd, [pin], rnd)
                out[sd][k] = r
            for tv in ("2.16.2", "2.17.0", "2.18.0", "2.19.0"):
                for variant, bn in (("cpu", 0), ("cuda126", 200)):
                    deps = [pin, "numpy >=1.26", "keras >=3.0"] + (["__cuda"] if variant != "cpu" else [])
                    extra = {"track_features": "tensorflow-cpu"} if variant == "cpu" else {}
                    k, r = _record("tensorflow", tv, f"{variant}_py{pym}h{_hex(rnd, 7)}_{bn}", bn, sd, deps, rnd, **extra)
                    out[sd][k] = r
    for pv in ("23.3", "24.2", "25.0"):
        k, r = _record("pip", pv, "pyh8b19718_0", 0, "noarch", ["python >=3.8"], rnd)
        out["noarch"][k] = r
    for kv in ("3.5.0", "3.8.0", "3.10.0"):
        k, r = _record("keras", kv, "pyh753f3f9_0", 0, "noarch", ["python >=3.9", "numpy"], rnd)
        out["noarch"][k] = r
    return out


def generate(root: Path, n_records: int, seed: int = 11) -> Path:
    """A channel of ``n_records`` records under ``root`` (reused when already generated)."""
    marker = root / ".complete.json"
    if marker.exists() and json.loads(marker.read_text()) == {"n": n_records, "layout": LAYOUT}:
        return root
    shutil.rmtree(root, ignore_errors=True)
    rnd = random.Random(seed)
    subdirs = _tensorflow_stack(rnd)
    count = sum(len(v) for v in subdirs.values())
    names: list[str] = []
    seen = {"python", "numpy", "tensorflow", "keras", "pip"}
    while count < n_records:
        while True:
            stem = "".join(rnd.choice(_SYL) for _ in range(rnd.randint(2, 4)))
            name = f"{rnd.choice(_PREFIX)}{stem}{rnd.choice(_SUFFIX)}"
            if name not in seen:
                seen.add(name)
                break
        rank = len(names)
        names.append(name)
        is_noarch = rnd.random() < 0.3
        per_python = not is_noarch and rnd.random() < 0.4
        n_versions = rnd.randint(1, 12)
        fan_out = min(rank, rnd.randint(1, 8))
        # popular (low-ranked) names are depended on most, as with libgcc, zlib, numpy
        deps = sorted({names[int(rank * rnd.random() ** 2)] for _ in range(fan_out)})
        major = rnd.randint(0, 5)
        for vi in range(n_versions):
            version = f"{major}.{vi}.{rnd.randint(0, 3)}"
            dep_specs = [f"{d} >=0.{rnd.randint(0, 1)}" if rnd.random() < 0.5 else d for d in deps]
            if is_noarch:
                k, r = _record(name, version, f"pyhd8ed1ab_{vi % 2}", vi % 2, "noarch", [*dep_specs, "python >=3.9"], rnd)
                subdirs["noarch"][k] = r
                count += 1
                continue
            for sd in ("linux-64", "osx-arm64"):
                plat = ["__glibc >=2.17"] if sd == "linux-64" and rnd.random() < 0.2 else []
                if per_python:
                    for py in PYTHONS:
                        pin = f"python >={py},<{py[:2]}{int(py[2:]) + 1}.0a0"
                        k, r = _record(name, version, f"py{py.replace('.', '')}h{_hex(rnd, 7)}_0", 0, sd,
                                       [*dep_specs, pin, *plat], rnd)
                        subdirs[sd][k] = r
                        count += 1
                else:
                    k, r = _record(name, version, f"h{_hex(rnd, 7)}_0", 0, sd, [*dep_specs, *plat], rnd)
                    subdirs[sd][k] = r
                    count += 1
    for sd, pkgs in subdirs.items():
        (root / sd).mkdir(parents=True, exist_ok=True)
        (root / sd / "repodata.json").write_text(json.dumps(
            {"info": {"subdir": sd}, "packages": {}, "packages.conda": pkgs, "repodata_version": 1}))
    write_shards(root)
    marker.write_text(json.dumps({"n": n_records, "layout": LAYOUT}))
    return root


BARE_SOLVE = """
import asyncio, json, os, sys, rattler
channel, plats = sys.argv[1], {p: dict(kv.split('=') for kv in vs.split(',')) for p, vs in
                                (a.split(':') for a in sys.argv[3:])}
specs = json.loads(sys.argv[2])
async def main():
    for plat, vps in plats.items():
        virtual = [rattler.GenericVirtualPackage(rattler.PackageName(n), rattler.Version(v), rattler.BuildString('0'))
                   for n, v in vps.items()]
        recs = await rattler.solve(sources=[rattler.Channel(channel)], specs=specs, platforms=[plat, 'noarch'],
                                   virtual_packages=virtual)
        assert any(r.name.normalized == 'tensorflow' for r in recs)
asyncio.run(main())
os._exit(0)  # as the adapter does: py-rattler's tokio threads can crash interpreter finalization
"""


def write_project(root: Path, channel_url: str) -> Path:
    import yaml

    shutil.rmtree(root, ignore_errors=True)
    (root / "profiles").mkdir(parents=True)
    (root / "environment.template.yml").write_text(yaml.safe_dump(
        {"name": "scale", "channels": [channel_url], "dependencies": ["python 3.11.*", "pip"]}))
    profile = {"name": "two", "platforms": list(PLATFORMS), "python": "3.11.*",
               "tensorflow": {"version": "2.19.*", "source": "conda", "variant": "cpu"}, "keras": "3.*",
               "virtual_packages": PLATFORMS}
    (root / "profiles" / "two.yml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return root


def timed(cmd: list[str], env: dict | None = None) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return time.perf_counter() - t


def measure(work: Path, url: str, rounds: int, env: dict) -> dict:
    """Alternating rounds of lock / lock --update / bare solve against one channel URL."""
    envlock = [sys.executable, "-m", "envlock.cli.__main__"]
    project = write_project(work / "project", url)
    lock = [*envlock, "lock", "--project", str(project)]
    update = [*lock, "--profile", "two", "--update", UPDATE]
    bare = [sys.executable, "-c", BARE_SOLVE, url, json.dumps(SPECS),
            *(f"{p}:{','.join(f'{k}={v}' for k, v in vps.items())}" for p, vps in PLATFORMS.items())]

    def do_lock() -> float:
        shutil.rmtree(project / "locks", ignore_errors=True)
        return timed(lock, env)

    steps = {"lock": do_lock, "update": lambda: timed(update, env), "bare": lambda: timed(bare, env)}
    steps["bare"]()  # warm-up: an http channel's first fetch fills rattler's cache
    steps["lock"]()
    times: dict[str, list[float]] = {"lock": [], "update": [], "bare": [], "loadavg": []}
    for i in range(rounds):
        times["loadavg"].append(os.getloadavg()[0])
        order = ["lock", "update", "bare"] if i % 2 == 0 else ["bare", "update", "lock"]
        for key in order:
            times[key].append(steps[key]())
        print(f"    round {i + 1}: lock {times['lock'][-1]:.2f} s, update {times['update'][-1]:.2f} s, "
              f"bare solve {times['bare'][-1]:.2f} s (load {times['loadavg'][-1]:.2f})", flush=True)
    row: dict = {k: statistics.median(times[k]) for k in ("lock", "update", "bare")}
    for k in ("lock", "update"):
        row[f"{k}_ratio"] = statistics.median(a / b for a, b in zip(times[k], times["bare"], strict=True))
    row["runs"] = times
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,500000")
    ap.add_argument("--forms", default=",".join(FORMS))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=HERE / "results" / "lock-scale")
    args = ap.parse_args()
    work = args.workdir.resolve()
    forms = args.forms.split(",")
    # py-rattler's Gateway caches repodata under $XDG_CACHE_HOME/rattler (RATTLER_CACHE_DIR is not read)
    env = {**os.environ, "ENVLOCK_CACHE_DIR": str(work / "cache"), "XDG_CACHE_HOME": str(work / "xdg-cache")}
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        t = time.perf_counter()
        channel = generate(work / f"channel-{n}", n)
        mb = sum((channel / sd / "repodata.json").stat().st_size for sd in SUBDIRS) / 1e6
        print(f"channel of {n} records ({mb:.0f} MB of repodata.json) ready in {time.perf_counter() - t:.1f} s", flush=True)
        urls, servers = channel_urls(channel)
        try:
            for form in forms:
                print(f"  {form}: {urls[form]}", flush=True)
                shutil.rmtree(work / "xdg-cache", ignore_errors=True)
                rows.append({"records": n, "form": form, "repodata_mb": round(mb),
                             **measure(work, urls[form], args.rounds, env)})
        finally:
            for s in servers:
                s.close()
    print(f"\n{'records':>8} {'form':>12} {'lock s':>7} {'update s':>8} {'bare s':>7} {'lock/bare':>9} {'upd/bare':>8}")
    for r in rows:
        print(f"{r['records']:>8} {r['form']:>12} {r['lock']:7.2f} {r['update']:8.2f} {r['bare']:7.2f} "
              f"{r['lock_ratio']:8.2f}x {r['update_ratio']:7.2f}x")
    for form in forms:
        per = [r for r in rows if r["form"] == form]
        for a, b in zip(per, per[1:], strict=False):
            print(f"{form}: {a['records']} -> {b['records']} records: lock x{b['lock'] / a['lock']:.2f}, "
                  f"update x{b['update'] / a['update']:.2f}, bare solve x{b['bare'] / a['bare']:.2f}")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    path = out / f"lock-scale-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(rows, indent=2))
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
