"""``envlock run`` and ``envlock activate``: using an environment without conda."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from create_support import (
    envlock,
)

pytest_plugins = ["create_support"]  # fixtures: project, cache, env, locked_template, extra_channel


@pytest.fixture
def env(env: tuple[Path, Path, Path]) -> tuple[Path, Path, Path]:
    """The created environment, plus a package's activate.d script."""
    d = env[1] / "etc" / "conda" / "activate.d"
    d.mkdir(parents=True)
    (d / "pkg.sh").write_text('export PKG_HOME=/opt/pkg\nexport DYNAMIC=$(date)\n')
    return env


def test_run_sets_environment_and_exit_code(env) -> None:
    project, prefix, cache = env
    code = "import os, sys; print(os.environ['FOO']); print(sys.prefix); print(os.environ['CONDA_PREFIX']); print(os.environ['PKG_HOME']); print('DYNAMIC' in os.environ); sys.exit(7)"
    r = envlock(project, "run", "--profile", "t", "--", "python", "-c", code, cache=cache)
    assert r.returncode == 7, r.stderr
    assert r.stdout.splitlines() == ["bar baz", str(prefix), str(prefix), "/opt/pkg", "False"]
    r = envlock(project, "run", "--profile", "t", "--", "ptool", cache=cache)
    assert r.returncode == 0 and r.stdout.strip() == f"ptool {prefix}"


def test_run_unknown_command_and_missing_env(env, tmp_path: Path) -> None:
    project, prefix, cache = env
    r = envlock(project, "run", "--profile", "t", "--", "no-such-cmd-xyz", cache=cache)
    assert r.returncode == 2 and "command not found" in r.stderr
    r = envlock(project, "run", "--profile", "t", "--prefix", str(tmp_path / "nope"), "--", "python", cache=cache)
    assert r.returncode == 2 and "is not a conda environment" in r.stderr


def test_activate_snippet_for_bash(env) -> None:
    project, prefix, cache = env
    r = envlock(project, "activate", "--profile", "t", "--shell", "bash", cache=cache)
    assert r.returncode == 0, r.stderr
    script = f'eval "$(cat <<\'EOF\'\n{r.stdout}EOF\n)"; command -v python; echo "$FOO"; echo "$CONDA_PREFIX"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env={"PATH": os.environ["PATH"], "HOME": "/tmp"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [f"{prefix}/bin/python", "bar baz", str(prefix)]


def test_activate_snippet_for_fish(env) -> None:
    project, prefix, cache = env
    r = envlock(project, "activate", "--profile", "t", "--shell", "fish", cache=cache)
    assert r.returncode == 0
    assert f"set -gx PATH {prefix}/bin $PATH;" in r.stdout
    assert "set -gx FOO 'bar baz';" in r.stdout
