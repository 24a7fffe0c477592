"""How long `envlock rehearse` takes on the built-in suite between two existing environments
(not a test; no assertions).  Runs the command end to end in a fresh process and prints the
wall time, the time of each side, and the verdict counts.

    python benchmarks/bench_rehearse.py --from-prefix OLD_VENV --to-prefix NEW_VENV [--to-env K=V] [--repeat 1]

Environments: e.g. the test caches ~/.cache/envlock-tests/tf-2.15.1-cpu and tf-2.21.0-cpu
(built by tests/upgrade/test_rehearse_e2e.py).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--from-prefix", required=True)
    parser.add_argument("--to-prefix", required=True)
    parser.add_argument("--to-env", action="append", default=[])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    cmd = [sys.executable, "-m", "envlock.cli.__main__", "rehearse", "--from-prefix", args.from_prefix,
           "--to-prefix", args.to_prefix, "--json", *(x for kv in args.to_env for x in ("--to-env", kv))]
    for i in range(args.repeat):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        doc = json.loads(proc.stdout)
        print(f"run {i + 1}: {wall:.1f} s wall (exit {proc.returncode}); old side {doc['old']['seconds']:.1f} s, "
              f"new side {doc['new']['seconds']:.1f} s; {doc['counts']}")


if __name__ == "__main__":
    main()
