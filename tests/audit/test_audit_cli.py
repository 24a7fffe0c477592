"""``envlock audit`` as users run it: exit codes, JSON shape, project mode, --profile."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from envlock.cli import main
from tests.lockfile.test_lockfile_factory import conda, tf214_cuda118, write_unified

PROFILE = {
    "name": "gpu", "platforms": ["linux-64"], "python": "3.11.*", "keras": "2.*",
    "tensorflow": {"version": "2.14.*", "source": "conda", "variant": "cuda"},
    "virtual_packages": {"linux-64": {"__cuda": "11.8"}},
}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["audit", *args])
    return result.exit_code, result.output


def test_json_shape_and_exit_one_on_error(tmp_path: Path) -> None:
    bad = write_unified(tmp_path / "bad.yml", tf214_cuda118() + [conda("tensorflow-gpu", "2.15.0", "h_0")])
    code, output = run(str(bad), "--json")
    assert code == 1
    doc = json.loads(output)
    (entry,) = doc["files"]
    assert set(entry) == {"path", "format", "platforms", "environments", "findings"}
    assert entry["environments"] == []
    assert entry["format"] == "conda-lock-v1" and entry["platforms"] == ["linux-64"]
    (finding,) = entry["findings"]
    assert set(finding) == {"rule", "severity", "platform", "message", "packages", "environment"}
    assert finding["environment"] is None  # one environment: a conda-lock file
    assert finding["rule"] == "tf-stack-mismatch" and finding["severity"] == "error"
    assert "tensorflow-gpu 2.15.0 h_0" in finding["packages"]


def test_clean_file_exits_zero_and_says_so(tmp_path: Path) -> None:
    good = write_unified(tmp_path / "good.yml", tf214_cuda118())
    code, output = run(str(good))
    assert code == 0 and "no findings" in output


def test_warnings_only_exit_zero(tmp_path: Path) -> None:
    entries = [e if e["name"] != "keras" else conda("keras", "2.14.0", "py_0", channel="pkgs/main")
               for e in tf214_cuda118()]
    code, output = run(str(write_unified(tmp_path / "w.yml", entries)), "--json")
    assert code == 0 and json.loads(output)["files"][0]["findings"][0]["severity"] == "warning"


def test_unreadable_file_is_reported_and_exits_two(tmp_path: Path) -> None:
    good = write_unified(tmp_path / "good.yml", tf214_cuda118())
    broken = tmp_path / "broken.yml"
    broken.write_text("version: 1000\nmetadata: {platforms: [linux-64]}\npackage: []\n")
    code, output = run(str(good), str(broken), "--json")
    assert code == 2
    files = json.loads(output)["files"]
    assert files[0]["findings"] == [] and files[1]["findings"][0]["rule"] == "lockfile-unreadable"
    assert "version" in files[1]["findings"][0]["message"]


def test_without_arguments_audits_every_project_lock_against_its_profile(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "gpu.yml").write_text(yaml.safe_dump(PROFILE))
    locks = tmp_path / "locks"
    locks.mkdir()
    # A CPU lock under a CUDA profile: only the profile check can see what is wrong.
    cpu = [conda("python", "3.11.6", "h_0"), conda("tensorflow-base", "2.14.0", "cpu_py311h_0"),
           conda("tensorflow", "2.14.0", "cpu_py311h_0"), conda("keras", "2.14.0", "py_0"),
           conda("tensorflow-estimator", "2.14.0", "cpu_py311h_0"), conda("tensorboard", "2.14.1", "py_0")]
    write_unified(locks / "gpu.conda-lock.yml", cpu)
    write_unified(locks / "other.conda-lock.yml", tf214_cuda118())
    code, output = run("--project", str(tmp_path), "--json")
    files = {Path(f["path"]).name: f for f in json.loads(output)["files"]}
    assert code == 1
    assert [f["rule"] for f in files["gpu.conda-lock.yml"]["findings"]] == ["profile-variant"]
    assert files["other.conda-lock.yml"]["findings"] == []
    code, _ = run("--project", str(tmp_path), "--profile", "gpu")
    assert code == 1


def test_no_locks_is_bad_input(tmp_path: Path) -> None:
    code, output = run("--project", str(tmp_path))
    assert code == 2 and "envlock lock" in output


def test_unknown_profile_is_bad_input(tmp_path: Path) -> None:
    good = write_unified(tmp_path / "good.yml", tf214_cuda118())
    code, output = run(str(good), "--profile", "nope", "--project", str(tmp_path))
    assert code == 2 and "nope" in output
