"""bench_all's table: each goal judged from a benchmark's results document, a goal missed shown
as missed, a step taken from an earlier results file instead of being run.  The documents here
are constructed (shaped like the scripts' output), not measured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

from bench_all import create_rows, headline_rows, lock_rows, markdown  # noqa: E402

HEADLINE = {"median_s": {"envlock_noop": 0.06, "envlock_check": 0.6},
            "table": [{"measurement": "warm create", "seconds": 1.0, "vs": "cp -al", "ref_seconds": 0.8, "ratio": 1.25},
                      {"measurement": "warm create", "seconds": 1.0, "vs": "uv alone (warm)", "ref_seconds": 1.1, "ratio": 0.91},
                      {"measurement": "check", "seconds": 0.6}]}


def test_headline_goals_are_judged_from_the_ratios() -> None:
    rows = {(r["what"], r["against"].split(" 0")[0].split(" 1")[0]): r for r in headline_rows(HEADLINE)}
    assert rows[("TF 2.21 pip-route: warm create", "cp -al")]["met"] is False  # 1.25x > 1.2x
    assert rows[("TF 2.21 pip-route: warm create", "uv alone (warm)")]["met"] is True
    assert rows[("TF 2.21 pip-route: check", "")]["met"] is False  # 0.6 s is not < 0.5 s
    assert "**not met**" in markdown(headline_rows(HEADLINE))


def test_create_and_lock_rows() -> None:
    doc = {"median_s": {"envlock_warm": 0.7, "cp_al": 0.9, "envlock_cold": 5.3, "nepenthe_cold": 4.9},
           "paired_ratios": {"envlock warm create": 0.8, "envlock cold vs nepenthe cold": 1.08}}
    rows = {r["what"] + r["against"][:5]: r for r in create_rows(doc, "x")}
    assert rows["x: warm createcp -a"]["met"] is True
    assert rows["x: cold createnepen"]["met"] is False
    lock = lock_rows([{"records": 500_000, "form": "file", "lock": 1.0, "update": 1.1, "bare": 0.48,
                       "lock_ratio": 2.11, "update_ratio": 2.2},
                      {"records": 10_000, "form": "file", "lock": 0.9, "update": 0.9, "bare": 0.1,
                       "lock_ratio": 9.0, "update_ratio": 9.0}])
    assert [r["met"] for r in lock] == [False, None, None, None]  # the 2x goal applies at 500k only


def test_table_from_earlier_results_runs_nothing(tmp_path: Path) -> None:
    headline = tmp_path / "tf-env.json"
    headline.write_text(json.dumps(HEADLINE))
    proc = subprocess.run([sys.executable, str(BENCH / "bench_all.py"), "--only", "headline",
                           "--results", f"headline={headline}"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "| TF 2.21 pip-route: warm create | 1.000 | cp -al 0.800 s | 1.25× | <= 1.2x **not met** |" in proc.stdout
    assert "$ " not in proc.stdout  # no benchmark was started
    bad = subprocess.run([sys.executable, str(BENCH / "bench_all.py"), "--results", "nope=x"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "expected STEP=FILE" in bad.stderr
