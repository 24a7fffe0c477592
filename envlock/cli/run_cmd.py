"""``envlock run``: run a command inside an environment, without conda."""

from __future__ import annotations

import click

from envlock.cli._common import click_options
from envlock.cli.options import RUN, RunOptions


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click_options(RUN)
@click.argument("cmd", nargs=-1, required=True, type=click.UNPROCESSED)
def command(**params: object) -> None:
    """Run CMD inside the environment: PATH, CONDA_PREFIX and the environment's activation
    variables (conda-meta/state env_vars, plain exports of etc/conda/activate.d) are set.
    Exits with CMD's exit code.  Example: envlock run --profile cpu -- python train.py"""
    from envlock.cli.actions import run

    run(RunOptions(**params))  # type: ignore[arg-type]
