"""``envlock run``: run a command inside an environment, without conda."""

from __future__ import annotations

from pathlib import Path

import click

from envlock.cli._common import prefix_option, profile_option, project_option


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@profile_option
@prefix_option
@project_option
@click.argument("cmd", nargs=-1, required=True, type=click.UNPROCESSED)
def command(name: str, prefix: Path | None, project_dir: str, cmd: tuple[str, ...]) -> None:
    """Run CMD inside the environment: PATH, CONDA_PREFIX and the environment's activation
    variables (conda-meta/state env_vars, plain exports of etc/conda/activate.d) are set.
    Exits with CMD's exit code.  Example: envlock run --profile cpu -- python train.py"""
    from envlock.cli.actions import run

    run(name, prefix, project_dir, cmd)
