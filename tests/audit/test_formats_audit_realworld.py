"""audit and diff on the real pixi.lock files: the findings written down in
tests/realworld/README.md, per environment and platform, and the CLI around them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.audit import audit_path

PIXI = Path(__file__).parents[1] / "realworld" / "pixi"
GYM = PIXI / "Doodleverse__segmentation_gym__pixi.lock"
COASTSEG = PIXI / "2320sharon__CoastSeg__pixi.lock"

EXPECTED: dict[str, set[tuple[str, str, str | None, str | None]]] = {
    GYM.name: {("cuda-build-mismatch", "warning", "default", "linux-64"),
               ("cudnn-duplicate", "warning", "default", "linux-64")},
    COASTSEG.name: set(),
    "2986002971__deep_learning_course__pixi.lock": {("no-tensorflow", "info", None, None)},
    "183amir__pixi__examples_multi-machine_pixi.lock": {("no-tensorflow", "info", None, None)},
    "183amir__pixi__tests_satisfiability_solve-groups-pypi_pixi.lock": {("no-tensorflow", "info", None, None)},
    "conda__rattler__pixi.lock": {("no-tensorflow", "info", None, None)},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reviewer_findings_per_environment(name: str) -> None:
    report = audit_path(PIXI / name)
    assert {(f.rule, f.severity, f.environment, f.platform) for f in report.findings} == EXPECTED[name]


def test_segmentation_gym_messages_name_both_sides() -> None:
    found = {f.rule: f for f in audit_path(GYM).findings}
    assert "built for CUDA 11.2 but cudatoolkit 11.8.0" in found["cuda-build-mismatch"].message
    dup = found["cudnn-duplicate"]
    assert "cudnn 8.9.7.29 hbc23b4c_3" in dup.packages and "nvidia-cudnn-cu11 9.8.0.87 (pip)" in dup.packages


def test_rules_comparing_platforms_stay_inside_one_environment(tmp_path: Path) -> None:
    # CoastSeg's 'default' and 'test' environments hold no TensorFlow while 'ml' and 'all' do:
    # no missing-tensorflow across environments.  Dropping TensorFlow from ml's win-64 list
    # makes one inside 'ml' only.
    text = COASTSEG.read_text()
    start = text.index("  ml:\n")
    end = text.index("\n  test:\n", start)
    ml = "\n".join(line for line in text[start:end].split("\n")
                   if not re.search(r"/tensorflow(_intel)?-2\.12\.0-cp310-cp310-win_amd64\.whl$", line))
    broken = tmp_path / "pixi.lock"
    broken.write_text(text[:start] + ml + text[end:])
    assert audit_path(COASTSEG).findings == []
    found = [(f.rule, f.environment, f.platform) for f in audit_path(broken).findings]
    assert found == [("missing-tensorflow", "ml", "win-64")]


def envlock(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("envlock")
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}, check=False)


def test_audit_without_arguments_audits_the_projects_pixi_lock(tmp_path: Path) -> None:
    shutil.copy(GYM, tmp_path / "pixi.lock")
    done = envlock("audit", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (entry,) = json.loads(done.stdout)["files"]
    assert entry["path"].endswith("pixi.lock") and entry["format"] == "pixi-v6"
    assert entry["environments"] == ["default"]
    assert {(f["rule"], f["environment"], f["platform"]) for f in entry["findings"]} == {
        ("cuda-build-mismatch", "default", "linux-64"), ("cudnn-duplicate", "default", "linux-64")}


def test_audit_without_arguments_and_without_locks_still_says_what_to_do(tmp_path: Path) -> None:
    done = envlock("audit", "--project", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and "no *.conda-lock.yml files (and no pixi.lock)" in done.stderr + done.stdout


def test_diff_two_pixi_locks_per_environment() -> None:
    done = envlock("diff", str(GYM), str(COASTSEG), "--json", cwd=PIXI)
    assert done.returncode == 0, done.stderr
    envs = {e["environment"]: e for e in json.loads(done.stdout)["environments"]}
    assert sorted(envs) == ["all", "default", "ml", "test"]
    assert (envs["default"]["in_old"], envs["default"]["in_new"]) == (True, True)
    assert (envs["ml"]["in_old"], envs["ml"]["in_new"]) == (False, True)
    default = envs["default"]["diff"]
    tf = next(h for h in default["highlights"] if h["topic"] == "TensorFlow")
    assert tf["old"].startswith("2.12.1") and tf["new"] is None  # CoastSeg's default env has no TensorFlow
    assert {p["platform"]: p["present"] for p in default["platforms"]} == {"linux-64": "both", "win-64": "new-only"}


def test_diff_pixi_lock_against_a_conda_lock_file(tmp_path: Path) -> None:
    from tests.lockfile.test_lockfile_factory import tf214_cuda118, write_unified

    other = write_unified(tmp_path / "conda-lock.yml", tf214_cuda118())
    done = envlock("diff", str(other), str(GYM), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (env,) = json.loads(done.stdout)["environments"]
    assert env["environment"] == "default" and env["in_old"] and env["in_new"]
    tf = next(h for h in env["diff"]["highlights"] if h["topic"] == "TensorFlow")
    assert tf["old"].startswith("2.14.0") and tf["new"].startswith("2.12.1")
