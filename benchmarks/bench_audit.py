"""How long `envlock audit` and `envlock diff` take on a large lock (not a test; no assertions).

Also a pixi.lock with the same packages in 4 environments (``--environments``): 2,000 packages
x 5 platforms x 4 environments is 40,000 references to 10,000 package entries.

Generates a conda-lock unified file with N packages on each of 5 platforms (default 2,000,
i.e. 10,000 entries, each with a few recorded dependencies and both hashes, like conda-lock
writes), plus a second file with 10% of packages upgraded, then times the reader, the
audit, the diff, and the two commands end to end in fresh processes (imports included).

    python benchmarks/bench_audit.py [--packages 2000] [--platforms 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

PLATFORMS = ["linux-64", "linux-aarch64", "osx-64", "osx-arm64", "win-64"]
TF_STACK = [
    ("python", "3.11.9", "hab00c5b_0_cpython"), ("numpy", "1.26.4", "py311h64a7726_0"),
    ("tensorflow-base", "2.14.0", "cpu_py311h1_0"), ("tensorflow", "2.14.0", "cpu_py311h2_0"),
    ("tensorflow-estimator", "2.14.0", "cpu_py311h3_0"), ("tensorboard", "2.14.1", "pyhd8ed1ab_0"),
    ("keras", "2.14.0", "pyhd8ed1ab_0"),
]


def entry(name: str, version: str, build: str, platform: str, deps: dict[str, str]) -> dict[str, Any]:
    digest = hashlib.md5(f"{name}{version}{build}{platform}".encode()).hexdigest()
    return {
        "name": name, "version": version, "manager": "conda", "platform": platform, "dependencies": deps,
        "url": f"https://conda.anaconda.org/conda-forge/{platform}/{name}-{version}-{build}.conda",
        "hash": {"md5": digest, "sha256": hashlib.sha256(digest.encode()).hexdigest()},
        "category": "main", "optional": False,
    }


def generate(path: Path, packages: int, platforms: list[str], bump: bool) -> None:
    entries = []
    for plat in platforms:
        for name, version, build in TF_STACK:
            entries.append(entry(name, version, build, plat, {"python": ">=3.11,<3.12.0a0"}))
        for i in range(packages - len(TF_STACK)):
            minor = 1 if bump and i % 10 == 0 else 0
            deps = {f"lib{(i * 7 + k) % 500}": f">={k}.0,<{k + 1}.0a0" for k in range(4)}
            entries.append(entry(f"lib{i}", f"1.{minor}.{i % 13}", f"h{i:07x}_0", plat, deps))
    doc = {"version": 1, "metadata": {
        "content_hash": {p: "0" * 64 for p in platforms},
        "channels": [{"url": "conda-forge", "used_env_vars": []}],
        "platforms": platforms, "sources": ["environment.yml"]}, "package": entries}
    path.write_text(yaml.safe_dump(doc, sort_keys=False, width=1000))


def generate_pixi(path: Path, packages: int, platforms: list[str], environments: int) -> None:
    """A pixi.lock (v6 layout, as pixi writes it) with the same stack in every environment."""
    urls: dict[str, list[str]] = {}
    entries: list[str] = []
    for plat in platforms:
        stack = [(n, v, b, {"python": ">=3.11,<3.12.0a0"}) for n, v, b in TF_STACK]
        stack += [(f"lib{i}", f"1.0.{i % 13}", f"h{i:07x}_0",
                   {f"lib{(i * 7 + k) % 500}": f">={k}.0,<{k + 1}.0a0" for k in range(4)})
                  for i in range(packages - len(TF_STACK))]
        for name, version, build, deps in stack:
            url = f"https://conda.anaconda.org/conda-forge/{plat}/{name}-{version}-{build}.conda"
            urls.setdefault(plat, []).append(url)
            digest = hashlib.md5(url.encode()).hexdigest()
            dep_lines = "".join(f"  - {d} {spec}\n" for d, spec in deps.items())
            entries.append(f"- conda: {url}\n  sha256: {hashlib.sha256(digest.encode()).hexdigest()}\n"
                           f"  md5: {digest}\n  depends:\n{dep_lines}  license: BSD-3-Clause\n  purls: []\n"
                           f"  size: 12345\n  timestamp: 1700000000000\n")
    out = ["version: 6\nenvironments:\n"]
    for e in range(environments):
        out.append(f"  env{e}:\n    channels:\n    - url: https://conda.anaconda.org/conda-forge/\n    packages:\n")
        for plat in platforms:
            out.append(f"      {plat}:\n" + "".join(f"      - conda: {u}\n" for u in urls[plat]))
    out.append("packages:\n")
    path.write_text("".join(out) + "".join(entries))


def best(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=2000, help="packages per platform")
    parser.add_argument("--platforms", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--environments", type=int, default=4, help="environments of the pixi.lock")
    args = parser.parse_args()

    from envlock.audit import audit_lockfile
    from envlock.audit.diff import diff_lockfiles
    from envlock.lockfile import read_lockfile

    with tempfile.TemporaryDirectory() as tmp:
        old, new = Path(tmp) / "old.conda-lock.yml", Path(tmp) / "new.conda-lock.yml"
        plats = PLATFORMS[: args.platforms]
        generate(old, args.packages, plats, bump=False)
        generate(new, args.packages, plats, bump=True)
        lock = read_lockfile(old)
        other = read_lockfile(new)
        size = old.stat().st_size / 1e6
        print(f"file: {len(lock.packages)} entries ({args.packages} packages x {len(plats)} platforms), {size:.1f} MB")
        print(f"read_lockfile        {best(lambda: read_lockfile(old), args.repeat) * 1000:7.0f} ms")
        print(f"audit (in process)   {best(lambda: audit_lockfile(lock), args.repeat) * 1000:7.0f} ms")
        print(f"diff (in process)    {best(lambda: diff_lockfiles(lock, other), args.repeat) * 1000:7.0f} ms")
        pixi = Path(tmp) / "pixi.lock"
        generate_pixi(pixi, args.packages, plats, args.environments)
        plock = read_lockfile(pixi)
        print(f"pixi.lock: {len(plock.packages)} references ({args.packages} x {len(plats)} platforms x "
              f"{args.environments} environments), {pixi.stat().st_size / 1e6:.1f} MB")
        print(f"read_lockfile pixi   {best(lambda: read_lockfile(pixi), args.repeat) * 1000:7.0f} ms")
        print(f"read + audit pixi    {best(lambda: audit_lockfile(read_lockfile(pixi)), args.repeat) * 1000:7.0f} ms")
        exe = [str(Path(sys.executable).with_name("envlock"))]
        seconds = best(lambda: subprocess.run([*exe, "audit", str(pixi), "--json"], capture_output=True, check=False),
                       args.repeat)
        print(f"envlock audit pixi   {seconds * 1000:7.0f} ms  (fresh process, imports included)")
        for label, argv in (("envlock audit --json", [*exe, "audit", str(old), "--json"]),
                            ("envlock diff --json", [*exe, "diff", str(old), str(new), "--json"])):
            seconds = best(lambda argv=argv: subprocess.run(argv, capture_output=True, check=False), args.repeat)
            print(f"{label:20} {seconds * 1000:7.0f} ms  (fresh process, imports included)")


if __name__ == "__main__":
    main()
