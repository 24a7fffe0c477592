"""A failed verification is remembered by the environment (``conda-meta/envlock.verification``):
a second ``create`` verifies again and fails again instead of answering "up to date" (a CI retry
cannot pass), ``create --json`` answers with one object when verification fails, and ``check``
shows the last verification.  Real local channel, real lock, real create; the environment's
python is venv-shaped without TensorFlow, so its verification fails for real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from create_support import env_prefix, envlock

from envlock.prefix.stamp import read_stamp
from envlock.verify import last

pytest_plugins = ["create_support"]


@pytest.fixture
def project(tmp_path: Path, locked_template: Path) -> Path:
    """create_support's project (named here: the verifier tests' plugin has a `project` too)."""
    import shutil

    dest = tmp_path / "project"
    shutil.copytree(locked_template, dest, symlinks=True)
    return dest


def test_failed_verification_is_not_retried_away(project: Path, cache: Path) -> None:
    r = envlock(project, "create", "--profile", "t", "--json", cache=cache)
    assert r.returncode == 1, r.stdout + r.stderr
    doc = json.loads(r.stdout)  # exactly one JSON object on stdout
    assert doc["ok"] is False and doc["verification"] == "verifier" and doc["verification_ok"] is False
    assert any(f.startswith("tensorflow.import:") for f in doc["verification_failures"])
    prefix = env_prefix(project)
    remembered = last.read(prefix)
    assert remembered is not None and remembered["ok"] is False and "tensorflow.import" in remembered["failed"]
    assert remembered["lock_hash"] == read_stamp(prefix).lock_digest and remembered["profile"] == "t"

    # the retry: the environment matches its lock, but its last verification failed
    r = envlock(project, "create", "--profile", "t", cache=cache)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "up to date with its lock, but verification failed" in r.stderr and "up to date with" not in r.stdout
    r = envlock(project, "create", "--profile", "t", "--json", cache=cache)
    assert r.returncode == 1 and json.loads(r.stdout)["action"] == "up-to-date" and json.loads(r.stdout)["ok"] is False

    r = envlock(project, "check", "--profile", "t", "--json", cache=cache)
    assert r.returncode == 0, r.stdout  # no drift: the record does not disturb the stamp or the check
    assert json.loads(r.stdout)["last_verification"]["ok"] is False
    r = envlock(project, "check", "--profile", "t", cache=cache)
    assert "last verification: FAILED at" in r.stdout and "tensorflow.import" in r.stdout


def test_passing_record_keeps_the_no_op_fast(env: tuple[Path, Path, Path]) -> None:
    project, prefix, cache = env
    assert last.read(prefix) is None  # created with --no-verify: unknown, so a verifying create verifies
    r = envlock(project, "create", "--profile", "t", "--json", cache=cache)
    assert r.returncode == 1 and json.loads(r.stdout)["verification_ok"] is False
    # a passing verdict for this lock (as `envlock verify` writes it): the stamp stays current
    last.write(prefix, ok=True, profile="t", failed=[], lock_hash=None, envlock_version="test")
    r = envlock(project, "create", "--profile", "t", "--json", cache=cache)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["action"] == "up-to-date" and "verify" not in json.loads(r.stdout)["seconds"]
    r = envlock(project, "check", "--profile", "t", cache=cache)
    assert r.returncode == 0 and "last verification: passed" in r.stdout


@pytest.mark.parametrize("content", ["", "{not json", '{"schema_version": 1, "ok": "yes"}'])
def test_unreadable_record_is_unknown_not_ok(tmp_path: Path, content: str) -> None:
    (tmp_path / "conda-meta").mkdir()
    last.path_of(tmp_path).write_text(content)
    assert last.read(tmp_path) is None and last.needs_verification(tmp_path, "digest")
