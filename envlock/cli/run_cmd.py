"""``envlock run``: run a command inside an environment, without conda."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click

from envlock.cli._common import (
    handles_errors,
    open_project,
    prefix_option,
    profile_option,
    project_option,
)
from envlock.errors import InputError


def target_prefix(project_dir: str, name: str, prefix: Path | None) -> Path:
    project = open_project(project_dir)
    if prefix is None:
        project.require_profile(name)
    target = (Path(prefix) if prefix else project.default_prefix(name)).absolute()
    if not (target / "conda-meta").is_dir():
        raise InputError(f"{target}: is not a conda environment (no conda-meta/). Create it first with "
                         f"`envlock create --profile {name}" + (f" --prefix {prefix}" if prefix else "") + "`.")
    return target


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@profile_option
@prefix_option
@project_option
@click.argument("cmd", nargs=-1, required=True, type=click.UNPROCESSED)
@handles_errors
def command(name: str, prefix: Path | None, project_dir: str, cmd: tuple[str, ...]) -> None:
    """Run CMD inside the environment: PATH, CONDA_PREFIX and the environment's activation
    variables (conda-meta/state env_vars, plain exports of etc/conda/activate.d) are set.
    Exits with CMD's exit code.  Example: envlock run --profile cpu -- python train.py"""
    from envlock.activation import activated_environ

    target = target_prefix(project_dir, name, prefix)
    env = activated_environ(target)
    exe = shutil.which(cmd[0], path=env["PATH"]) if os.sep not in cmd[0] else cmd[0]
    if exe is None:
        raise InputError(f"{cmd[0]}: command not found in the environment {target} or on PATH.")
    sys.stdout.flush()
    sys.stderr.flush()
    if sys.platform == "win32":
        raise SystemExit(subprocess.call([exe, *cmd[1:]], env=env))
    os.execve(exe, [cmd[0], *cmd[1:]], env)
