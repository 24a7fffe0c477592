"""The project is found upward from the current directory; outside one every command says what
it looked for; one invalid profile is reported while the others are listed, checked and locked
(exit 2 at the end).  The CLI runs as a subprocess against a real local channel."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import ENVLOCK, OFFLINE


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*ENVLOCK, *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **OFFLINE})


@pytest.fixture
def two_profiles(make_project) -> Path:
    """Profiles ``good`` (valid) and ``yamlish`` (valid, a .yaml file) and ``broken`` (a field
    with the wrong type)."""
    root = make_project({"good": {}, "yamlish": {}, "broken": {}})
    (root / "profiles" / "yamlish.yml").rename(root / "profiles" / "yamlish.yaml")
    broken = root / "profiles" / "broken.yml"
    broken.write_text(broken.read_text().replace("platforms:\n- linux-64", "platforms: 9"))
    return root


def test_profiles_from_a_subdirectory_finds_the_project(two_profiles: Path) -> None:
    (two_profiles / "locks" / "deep").mkdir(parents=True)
    for cwd in (two_profiles / "locks" / "deep", two_profiles / "profiles"):
        r = run(cwd, "profiles", "--json")
        assert r.returncode == 2, r.stderr  # broken.yml is invalid
        rows = {row["name"]: row for row in json.loads(r.stdout)["profiles"]}
        assert set(rows) == {"good", "yamlish", "broken"}


@pytest.mark.parametrize("argv", [
    ["profiles"], ["lock", "--check"], ["lock"], ["create", "--profile", "x"], ["check", "--profile", "x"],
    ["run", "--profile", "x", "--", "true"], ["audit"], ["verify", "--profile", "x"], ["cache-key", "--profile", "x"],
])
def test_outside_a_project_every_command_says_what_it_looked_for(tmp_path: Path, argv: list[str]) -> None:
    r = run(tmp_path, *argv)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "not inside an envlock project (looked for environment.template.yml here and in every directory above)" in r.stderr
    assert "pass --project DIR" in r.stderr and "Traceback" not in r.stderr


def test_invalid_profile_is_a_row_and_the_others_are_listed(two_profiles: Path) -> None:
    r = run(two_profiles, "profiles", "--json")
    assert r.returncode == 2
    doc = json.loads(r.stdout)
    assert doc["ok"] is False and r.stderr.startswith("error: ") and len(r.stderr.splitlines()) == 1
    rows = {row["name"]: row for row in doc["profiles"]}
    assert rows["good"]["valid"] and rows["good"]["lock"] == "missing"
    assert rows["yamlish"]["valid"] and rows["yamlish"]["tensorflow"] == "2.19.*"
    assert not rows["broken"]["valid"] and rows["broken"]["lock"] == "invalid"
    assert "broken.yml: invalid profile — field 'platforms': Input should be a valid list" in rows["broken"]["reason"]
    table = run(two_profiles, "profiles")
    assert table.returncode == 2 and "good" in table.stdout and "invalid" in table.stdout
    assert "error: " in table.stderr and "field 'platforms'" in table.stderr


def test_lock_locks_the_valid_profiles_and_reports_the_invalid_one(two_profiles: Path) -> None:
    check = run(two_profiles, "lock", "--check", "--json")
    assert check.returncode == 2
    states = {s["profile"]: s["state"] for s in json.loads(check.stdout)["profiles"]}
    assert states == {"good": "missing", "yamlish": "missing", "broken": "invalid"}

    r = run(two_profiles, "lock")
    assert r.returncode == 2, r.stderr
    assert "broken.yml: invalid profile" in r.stderr and "locked good" in r.stdout and "locked yamlish" in r.stdout
    locks = two_profiles / "locks"
    assert (locks / "good.conda-lock.yml").is_file() and (locks / "yamlish.conda-lock.yml").is_file()
    assert not (locks / "broken.conda-lock.yml").exists() and not (locks / "broken").exists()
    meta = yaml.safe_load((locks / "yamlish.conda-lock.yml").read_text())["metadata"]
    assert meta["sources"] == ["profiles/yamlish.yaml", "environment.template.yml"]

    check = run(two_profiles / "locks", "lock", "--check")
    assert check.returncode == 2
    assert "fresh   good" in check.stdout and "fresh   yamlish" in check.stdout
    assert "invalid broken" in check.stdout
    assert check.stderr.startswith("error: ") and "broken.yml: invalid profile — field 'platforms'" in check.stderr


def test_two_files_for_one_profile_are_reported_not_ignored(make_project) -> None:
    root = make_project({"good": {}, "twice": {}})
    (root / "profiles" / "twice.yaml").write_text((root / "profiles" / "twice.yml").read_text())
    r = run(root, "profiles", "--json")
    assert r.returncode == 2
    rows = {row["name"]: row for row in json.loads(r.stdout)["profiles"]}
    assert rows["good"]["valid"] and not rows["twice"]["valid"]
    assert "profile 'twice' is defined twice (twice.yml and twice.yaml)" in rows["twice"]["reason"]
