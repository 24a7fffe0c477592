"""``envlock diff``: per-platform changes, TensorFlow highlights, across formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from envlock.audit.diff import diff_lockfiles
from envlock.cli import main
from envlock.lockfile import read_lockfile
from tests.lockfile.test_lockfile_factory import (
    conda,
    pip,
    replace,
    tf214_cuda118,
    write_explicit,
    write_unified,
)
from tests.lockfile.test_lockfile_formats import needs_realworld, rw


def by_kind(diff, platform: str = "linux-64") -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    plat = next(p for p in diff.platforms if p.platform == platform)
    return {k: {c.name for c in plat.of_kind(k)} for k in ("added", "removed", "upgraded", "downgraded", "rebuilt")}


def test_every_kind_of_change(tmp_path: Path) -> None:
    old = [conda("zlib", "1.2.13", "h_0"), conda("openssl", "3.3.0", "h_0"), conda("libpng", "1.6.43", "h_0"),
           conda("gone", "1.0", "h_0"), conda("same", "1.0", "h_0"), pip("requests", "2.31.0")]
    new = [conda("zlib", "1.3.1", "h_0"), conda("openssl", "3.2.1", "h_0"), conda("libpng", "1.6.43", "h_1"),
           conda("fresh", "0.1", "h_0"), conda("same", "1.0", "h_0"), pip("requests", "2.32.3")]
    diff = diff_lockfiles(read_lockfile(write_unified(tmp_path / "a.yml", old)),
                          read_lockfile(write_unified(tmp_path / "b.yml", new)))
    assert by_kind(diff) == {"added": {"fresh"}, "removed": {"gone"}, "upgraded": {"zlib", "requests"},
                             "downgraded": {"openssl"}, "rebuilt": {"libpng"}}
    assert diff.platforms[0].unchanged == 1
    assert diff.highlights == [] and diff.breaking == []


def test_channel_and_manager_moves_are_noted(tmp_path: Path) -> None:
    old = [conda("keras", "2.14.0", "py_0"), conda("six", "1.16.0", "py_0")]
    new = [pip("keras", "2.14.0"), conda("six", "1.16.0", "py_0", channel="pkgs/main")]
    diff = diff_lockfiles(read_lockfile(write_unified(tmp_path / "a.yml", old)),
                          read_lockfile(write_unified(tmp_path / "b.yml", new)))
    notes = {c.name: c.note for c in diff.platforms[0].changes}
    assert notes == {"keras": "conda → pip", "six": "channel conda-forge → pkgs/main"}
    assert {c.name: c.kind for c in diff.platforms[0].changes} == {"keras": "rebuilt", "six": "rebuilt"}


def test_same_build_with_another_hash_is_flagged(tmp_path: Path) -> None:
    old = [conda("zlib", "1.3.1", "h_0")]
    new = [dict(old[0], hash={"md5": "f" * 32, "sha256": "f" * 64})]
    diff = diff_lockfiles(read_lockfile(write_unified(tmp_path / "a.yml", old)),
                          read_lockfile(write_unified(tmp_path / "b.yml", new)))
    (change,) = diff.platforms[0].changes
    assert (change.kind, change.note) == ("rebuilt", "same build, different hash")


def test_platform_only_in_one_file(tmp_path: Path) -> None:
    old = [conda("zlib", "1.3.1", "h_0", "linux-64")]
    new = old + [conda("zlib", "1.3.1", "h_0", "osx-arm64")]
    diff = diff_lockfiles(read_lockfile(write_unified(tmp_path / "a.yml", old)),
                          read_lockfile(write_unified(tmp_path / "b.yml", new)))
    assert {p.platform: p.present for p in diff.platforms} == {"linux-64": "both", "osx-arm64": "new-only"}
    assert by_kind(diff, "osx-arm64")["added"] == {"zlib"}


def test_explicit_versus_unified_of_the_same_environment_is_empty(tmp_path: Path) -> None:
    entries = tf214_cuda118()
    diff = diff_lockfiles(read_lockfile(write_explicit(tmp_path / "linux-64.lock", entries)),
                          read_lockfile(write_unified(tmp_path / "conda-lock.yml", entries)))
    assert diff.old_format == "explicit" and diff.new_format == "conda-lock-v1"
    assert diff.platforms[0].changes == [] and diff.platforms[0].unchanged == len(entries)


def test_tensorflow_upgrade_highlights_and_breaking_changes(tmp_path: Path) -> None:
    old = tf214_cuda118()
    new = [conda("python", "3.12.5", "h_0_cpython"), conda("numpy", "2.1.0", "py312h_0"),
           conda("cuda-version", "12.6", "h_3"), conda("cudnn", "9.3.0.75", "h_0"),
           conda("tensorflow-base", "2.17.0", "cuda120py312h_0"), conda("tensorflow", "2.17.0", "cuda120py312h_0"),
           conda("tensorflow-estimator", "2.17.0", "cuda120py312h_0"), conda("tensorboard", "2.17.1", "py_0"),
           conda("keras", "3.5.0", "py_0")]
    diff = diff_lockfiles(read_lockfile(write_explicit(tmp_path / "old.lock", old)),
                          read_lockfile(write_unified(tmp_path / "new.yml", new)))
    h = {x.topic: x for x in diff.highlights}
    assert h["TensorFlow"].old == "2.14.0 (CUDA 11.8 build, conda-forge)"
    assert h["TensorFlow"].new == "2.17.0 (CUDA 12.0 build, conda-forge)"
    assert (h["tf.keras"].old, h["tf.keras"].new) == ("Keras 2", "Keras 3") and "migration" in h["tf.keras"].note
    assert (h["Python"].old, h["Python"].new) == ("3.11.6", "3.12.5")
    assert (h["CUDA"].old, h["CUDA"].new) == ("cudatoolkit 11.8.0", "cuda-version 12.6")
    assert (h["cuDNN"].old, h["cuDNN"].new) == ("8.9.7.29", "9.3.0.75")
    assert (h["NumPy major"].old, h["NumPy major"].new) == ("NumPy 1", "NumPy 2")
    lines = {b.line for b in diff.breaking}
    assert diff.breaking_direction == "upgrade" and lines == {"2.15", "2.16", "2.17"}
    assert any("tf.estimator removed" in b.change for b in diff.breaking)
    assert any("load_model" in b.change for b in diff.breaking)


def test_downgrade_lists_the_same_changes_as_undone(tmp_path: Path) -> None:
    new = replace(tf214_cuda118(), "tensorflow-base", version="2.15.1")
    diff = diff_lockfiles(read_lockfile(write_unified(tmp_path / "a.yml", new)),
                          read_lockfile(write_unified(tmp_path / "b.yml", tf214_cuda118())))
    assert diff.breaking_direction == "downgrade" and {b.line for b in diff.breaking} == {"2.15"}


@needs_realworld
def test_realworld_explicit_to_unified_pangeo_upgrade() -> None:
    diff = diff_lockfiles(read_lockfile(rw("2021-11-23")), read_lockfile(rw("2022-12-16")))
    h = {x.topic: x for x in diff.highlights}
    assert h["TensorFlow"].old.startswith("2.6.0 (CUDA 10.2") and h["TensorFlow"].new.startswith("2.10.0 (CUDA 11.2")
    assert (h["CUDA"].old, h["CUDA"].new) == ("cudatoolkit 10.2.89", "cudatoolkit 11.8.0")
    counts = diff.platforms[0].counts()
    assert counts["upgraded"] > 300 and counts["added"] > 50 and counts["removed"] > 10
    assert "tf.keras" not in h  # Keras 2 on both sides


@needs_realworld
def test_realworld_keras3_crossing() -> None:
    diff = diff_lockfiles(read_lockfile(rw("2022-12-16")), read_lockfile(rw("2024-08-18")))
    h = {x.topic: x for x in diff.highlights}
    assert (h["tf.keras"].old, h["tf.keras"].new) == ("Keras 2", "Keras 3")
    assert "2.16" in {b.line for b in diff.breaking}


def test_cli_json_and_human(tmp_path: Path) -> None:
    a = write_unified(tmp_path / "a.yml", tf214_cuda118())
    b = write_unified(tmp_path / "b.yml", replace(tf214_cuda118(), "keras", version="2.14.1"))
    result = CliRunner().invoke(main, ["diff", str(a), str(b), "--json"])
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert {"old", "new", "highlights", "breaking", "platforms"} <= set(doc)
    (change,) = doc["platforms"][0]["changes"]
    assert (change["name"], change["kind"], change["old"], change["new"]) == (
        "keras", "upgraded", "2.14.0 pyhd8ed1ab_0", "2.14.1 pyhd8ed1ab_0")
    human = CliRunner().invoke(main, ["diff", str(a), str(b)])
    assert human.exit_code == 0 and "Keras" in human.output and "upgraded" in human.output


@pytest.mark.parametrize("broken", ["version: 1000\nmetadata: {platforms: []}\n", "nonsense: true\n"])
def test_cli_bad_input_exits_two(tmp_path: Path, broken: str) -> None:
    a = write_unified(tmp_path / "a.yml", tf214_cuda118())
    bad = tmp_path / "bad.yml"
    bad.write_text(broken)
    result = CliRunner().invoke(main, ["diff", str(a), str(bad)])
    assert result.exit_code == 2 and str(bad) in result.output
