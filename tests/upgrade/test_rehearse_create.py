"""A rehearsal side given as a profile without an environment gets one created from its lock
(real local channel, real create); its interpreter here has no TensorFlow, so every model row
fails — what matters is that the environment was made and the rehearsal ran in it."""

from __future__ import annotations

import json
from pathlib import Path

from create_support import env_prefix, envlock

pytest_plugins = ["create_support"]  # fixtures: project, cache


def test_profile_side_without_environment_is_created(project: Path, cache: Path, tmp_path: Path) -> None:
    prefix = env_prefix(project)
    assert not prefix.exists()
    r = envlock(project, "rehearse", "--from", "t", "--to-prefix", str(prefix), "--json", "--timeout", "60",
                cache=cache)
    assert (prefix / "conda-meta").is_dir(), r.stderr  # created from the lock, where .envs/t belongs
    assert "creating it" in r.stderr and "Traceback" not in r.stderr
    doc = json.loads(r.stdout)
    assert r.returncode == 1 and doc["ok"] is False  # no TensorFlow in this environment: failed rows, not a crash
    assert doc["old"]["prefix"] == str(prefix.absolute())
