#!/usr/bin/env python3
"""Benchmark the environment users have: the pip-route TensorFlow 2.21 profile.

A conda Python (the venv-shaped python of the test channel, built like tests/conftest.py's)
plus tensorflow-cpu 2.21, Keras 3 and their ~30 wheels.  The wheels are fetched once (from
``--source-index``, default PyPI; kept in the work dir) and then served from a local PEP 503
index on 127.0.0.1 by a separate process, so network noise stays out.  Measured in one run,
contenders alternating (the order rotates each round), ratios as medians of per-round ratios:

  warm       ``envlock create --frozen --no-verify`` (package and uv caches filled, prefix absent)
             vs ``cp -al`` of the finished environment vs ``uv pip install`` alone doing the pip
             part (``--no-deps --require-hashes``, same wheels, warm uv cache, fresh venv)
  cold       envlock with empty envlock and uv caches vs uv alone with an empty uv cache
  restore    the first create after a CI cache restore of both caches (``tar --posix`` save,
             restore untimed) vs a warm create in the same round, and vs uv alone after its own
             cache was restored the same way
  no-op      ``envlock create`` on the finished environment (and uv's own no-op install)
  check      ``envlock check`` on the unchanged environment

Run:  python benchmarks/bench_tf_env.py [--repeat 5] [--cold-repeat 3] [--workdir DIR]
                                        [--source-index URL] [--settle S] [--keep]
Writes benchmarks/results/tf-env-<time>.json.  Timings include process start-up.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from bench_create import rm, run  # noqa: E402  (the same helpers, one copy)
from channel_factory import PackageSpec, build_channel, host_python_version, venv_python_spec  # noqa: E402

PY = host_python_version()
PYMM = ".".join(PY.split(".")[:2])


def envlock_exe() -> list[str]:
    exe = Path(sys.executable).parent / "envlock"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "envlock.cli.__main__"]


def write_project(root: Path, channel: Path) -> Path:
    import yaml

    rm(root)
    (root / "profiles").mkdir(parents=True)
    (root / "environment.template.yml").write_text(yaml.safe_dump(
        {"name": "bench", "channels": [channel.as_uri()], "dependencies": [f"python {PYMM}.*", "pip"]}))
    profile = {"name": "tf", "platforms": ["linux-64"], "python": f"{PYMM}.*",
               "tensorflow": {"version": "2.21.*", "source": "pip", "variant": "cpu"}, "keras": "3.*",
               "virtual_packages": {"linux-64": {"__glibc": "2.28"}}}
    (root / "profiles" / "tf.yml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return root


def pip_pins(project: Path) -> list:
    from envlock.lockfile import read_lockfile

    return [p for p in read_lockfile(project / "locks" / "tf.conda-lock.yml").packages if p.manager == "pip"]


def fetch_wheels(pins: list, dest: Path) -> None:
    """Each locked wheel into ``dest/files`` (hash-checked, once), and a PEP 503 index over them."""
    files = dest / "files"
    files.mkdir(parents=True, exist_ok=True)
    for p in pins:
        name = p.url.rsplit("/", 1)[-1].split("#")[0]
        target = files / name
        if not (target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == p.sha256):
            print(f"  fetching {name}", flush=True)
            with urllib.request.urlopen(p.url) as r:
                data = r.read()
            if hashlib.sha256(data).hexdigest() != p.sha256:
                raise SystemExit(f"{p.url}: sha256 mismatch")
            target.write_bytes(data)
        page = dest / "simple" / p.name.lower().replace("_", "-").replace(".", "-")
        page.mkdir(parents=True, exist_ok=True)
        (page / "index.html").write_text(
            f'<!DOCTYPE html><html><body>\n<a href="../../files/{name}#sha256={p.sha256}">{name}</a>\n</body></html>\n')


def serve(directory: Path) -> tuple[subprocess.Popen, str]:
    """``directory`` over HTTP from its own process (not this one's GIL)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(directory),
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    return proc, f"http://127.0.0.1:{port}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=6, help="rounds of the warm, restore, no-op and check measurements")
    ap.add_argument("--cold-repeat", type=int, default=4, help="rounds of the cold measurement (even: each contender goes first as often)")
    ap.add_argument("--workdir", type=Path, default=HERE / "results" / "tf-work")
    ap.add_argument("--source-index", default=os.environ.get("UV_INDEX_URL", "https://pypi.org/simple"),
                    help="where the wheels are fetched from once")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds of quiet after sync before each timed step")
    ap.add_argument("--keep", action="store_true", help="keep environments and caches (the fetched wheels are always kept)")
    args = ap.parse_args()
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    envlock = envlock_exe()
    channel = build_channel(work / "channel-build", [
        venv_python_spec("linux-64"),
        PackageSpec("pip", "24.2", "pyh_0", noarch="python", depends=["python >=3.8"],
                    files={"site-packages/pip_stub/__init__.py": b""})])
    project = write_project(work / "project", channel)
    base = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    base.update(NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")

    # the wheels, fetched once from the source index (a lock against it names them)
    wheels = work / "wheels"
    print(f"locking against {args.source_index} to name the wheels ...", flush=True)
    run([*envlock, "lock", "--profile", "tf", "--project", str(project)],
        env={**base, "UV_INDEX_URL": args.source_index, "ENVLOCK_CACHE_DIR": str(work / "lock-cache")})
    fetch_wheels(pip_pins(project), wheels)
    server, url = serve(wheels)
    loads: list[tuple[float, float, float]] = []
    try:
        index = f"{url}/simple"
        rm(project / "locks")
        run([*envlock, "lock", "--profile", "tf", "--project", str(project)],
            env={**base, "UV_INDEX_URL": index, "ENVLOCK_CACHE_DIR": str(work / "lock-cache")})
        pins = pip_pins(project)
        assert all(p.url.startswith(url) for p in pins), "the lock should name the local index"
        req = work / "requirements.txt"
        req.write_text("".join(f"{p.name} @ {p.url} --hash=sha256:{p.sha256}\n" for p in pins))
        results = measure(args, work, envlock, project, base, index, req, loads)
    finally:
        server.terminate()
        server.wait()
    report(results, loads, len(pins), work, args)
    if not args.keep:
        for name in ("envs", "cache", "uv-envlock", "uv-alone", "saved", "venv-alone"):
            rm(work / name)
    return 0


def measure(args, work: Path, envlock: list[str], project: Path, base: dict, index: str, req: Path,  # noqa: ANN001
            loads: list) -> dict[str, list[float]]:
    cache, uv_env_cache, uv_alone_cache = work / "cache", work / "uv-envlock", work / "uv-alone"
    prefix, copy, venv = work / "envs" / "tf", work / "envs" / "copy", work / "envs" / "venv-alone"  # one parent: mkdir costs vary by place
    saved = work / "saved"
    env = {**base, "ENVLOCK_CACHE_DIR": str(cache), "UV_CACHE_DIR": str(uv_env_cache), "UV_INDEX_URL": index}
    uv_env = {**base, "UV_CACHE_DIR": str(uv_alone_cache), "UV_INDEX_URL": index, "UV_PYTHON_DOWNLOADS": "never"}
    create = [*envlock, "create", "--profile", "tf", "--project", str(project), "--prefix", str(prefix),
              "--frozen", "--no-verify", "--json"]
    from envlock.core.uv import uv_executable

    uv = uv_executable()
    uv_install = [uv, "pip", "install", "--python", str(venv / "bin" / "python"), "--no-deps", "--require-hashes",
                  "--no-build", "--no-config", "--quiet", "-r", str(req)]
    results: dict[str, list[float]] = {}
    phases: dict[str, list[dict]] = {}

    def settle() -> None:
        os.sync()
        time.sleep(args.settle)

    def envlock_create(kind: str) -> float:
        settle()
        dt, proc = run(create, env=env)
        doc = json.loads(proc.stdout)
        assert doc["action"] == "created", doc
        phases.setdefault(kind, []).append({**doc.get("seconds", {}), "pip_linker": doc.get("pip_linker", "?")})
        return dt

    def e_cold() -> float:
        rm(prefix), rm(cache), rm(uv_env_cache)
        return envlock_create("cold")

    def e_warm() -> float:
        rm(prefix)
        return envlock_create("warm")

    def fresh_venv() -> None:
        rm(venv)
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)

    def u_cold() -> float:
        fresh_venv(), rm(uv_alone_cache)
        settle()
        return run(uv_install, env=uv_env)[0]

    def u_warm() -> float:
        fresh_venv()
        settle()
        return run(uv_install, env=uv_env)[0]

    def cp_al() -> float:
        rm(copy)
        settle()
        dt = run(["cp", "-al", str(prefix), str(copy)])[0]
        rm(copy)
        return dt

    def save(src: Path, name: str) -> None:
        saved.mkdir(exist_ok=True)
        subprocess.run(["tar", "--posix", "-cf", str(saved / f"{name}.tar"), "-C", str(src), "."], check=True)

    def restore(dest: Path, name: str) -> None:
        rm(dest)
        dest.mkdir(parents=True)
        subprocess.run(["tar", "-xf", str(saved / f"{name}.tar"), "-C", str(dest)], check=True)

    def e_restored() -> float:
        rm(prefix)
        restore(cache, "cache"), restore(uv_env_cache, "uv-envlock")
        return envlock_create("after restore")

    def u_restored() -> float:
        fresh_venv(), restore(uv_alone_cache, "uv-alone")
        settle()
        return run(uv_install, env=uv_env)[0]

    def rounds(kind: str, n: int, steps: list) -> None:
        for i in range(n):
            order = steps[i % len(steps):] + steps[: i % len(steps)]
            loads.append(os.getloadavg())
            print(f"{kind} round {i + 1}/{n}: {', '.join(k for k, _ in order)} (load {loads[-1][0]:.2f})", flush=True)
            for key, fn in order:
                results.setdefault(key, []).append(fn())

    rounds("cold", args.cold_repeat, [("envlock_cold", e_cold), ("uv_cold", u_cold)])
    print("warm-up: the first warm create (link plans)", flush=True)
    e_warm(), u_warm()
    rounds("warm", args.repeat, [("envlock_warm", e_warm), ("cp_al", cp_al), ("uv_warm", u_warm)])
    save(cache, "cache"), save(uv_env_cache, "uv-envlock"), save(uv_alone_cache, "uv-alone")
    rounds("restore", args.repeat, [("envlock_restored", e_restored), ("envlock_warm_r", e_warm),
                                    ("uv_restored", u_restored), ("cp_al_r", cp_al)])

    def e_noop() -> float:
        dt, proc = run(create, env=env)
        assert json.loads(proc.stdout)["action"] == "up-to-date"
        return dt

    def u_noop() -> float:
        return run(uv_install, env=uv_env)[0]

    check_cmd = [*envlock, "check", "--profile", "tf", "--project", str(project), "--prefix", str(prefix), "--json"]

    def e_check() -> float:
        dt, proc = run(check_cmd, env=env)
        doc = json.loads(proc.stdout)
        results.setdefault("check_files", []).append(doc.get("files_checked", 0))
        return dt

    rounds("no-op/check", args.repeat, [("envlock_noop", e_noop), ("uv_noop", u_noop), ("envlock_check", e_check),
                                        ("cp_al_n", cp_al)])
    results["_phases"] = phases  # type: ignore[assignment]
    return results


def report(results: dict, loads: list, n_wheels: int, work: Path, args) -> None:  # noqa: ANN001
    phases = results.pop("_phases")
    med = {k: statistics.median(v) for k, v in results.items()}

    def ratio(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(results[a], results[b], strict=True))

    prefix = work / "envs" / "tf"
    n_files = sum(len(f) for _d, _s, f in os.walk(prefix)) if prefix.exists() else 0
    rows = [
        ("warm create", "envlock_warm", [("cp -al", "cp_al", 1.2), ("uv alone (warm)", "uv_warm", 1.0)]),
        ("cold create", "envlock_cold", [("uv alone (cold)", "uv_cold", 1.0)]),
        ("create after cache restore", "envlock_restored", [("warm create", "envlock_warm_r", 1.2),
                                                             ("uv alone (restored)", "uv_restored", None),
                                                             ("cp -al", "cp_al_r", None)]),
        ("no-op create", "envlock_noop", [("uv no-op install", "uv_noop", None), ("cp -al", "cp_al_n", None)]),
        ("check", "envlock_check", []),
    ]
    table = []
    print(f"\nTensorFlow 2.21 pip-route environment: {n_wheels} wheels, {n_files} files; "
          f"load average during rounds: min {min(x[0] for x in loads):.2f}, median {statistics.median(x[0] for x in loads):.2f}, "
          f"max {max(x[0] for x in loads):.2f}")
    print(f"{'measurement':28} {'median s':>9}  ratios (median of per-round ratios)")
    for label, key, refs in rows:
        parts = []
        for rlabel, rkey, goal in refs:
            r = ratio(key, rkey)
            mark = "" if goal is None else (" ok" if (r <= goal if goal != 1.0 else r < goal) else " MISSED")
            parts.append(f"{r:.2f}x {rlabel} ({med[rkey]:.3f} s){mark}")
            table.append({"measurement": label, "seconds": med[key], "vs": rlabel, "ref_seconds": med[rkey], "ratio": r})
        extra = " ok (< 0.5 s)" if key == "envlock_check" and med[key] < 0.5 else " MISSED (< 0.5 s)" if key == "envlock_check" else ""
        print(f"{label:28} {med[key]:9.3f}  {'; '.join(parts)}{extra}")
        if not refs:
            table.append({"measurement": label, "seconds": med[key]})
    for kind, runs in phases.items():
        keys = sorted({k for r in runs for k in r} - {"pip_linker"})
        print(f"envlock {kind} (pip part by {', '.join(sorted({str(r.get('pip_linker')) for r in runs}))}) "
              "phases (median s, in-process): "
              + ", ".join(f"{k} {statistics.median(r.get(k, 0.0) for r in runs):.3f}" for k in keys))
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    path = out / f"tf-env-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"runs": results, "median_s": med, "table": table, "phases": phases, "loadavg": loads,
                                "wheels": n_wheels, "files": n_files, "repeat": args.repeat,
                                "cold_repeat": args.cold_repeat}, indent=2))
    print(f"results: {path}")


if __name__ == "__main__":
    raise SystemExit(main())
