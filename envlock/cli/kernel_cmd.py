"""``envlock kernel``: install a Jupyter kernel spec for an environment."""

from __future__ import annotations

from pathlib import Path

import click

from envlock.cli._common import (
    handles_errors,
    json_option,
    open_project,
    print_json,
    profile_option,
    project_option,
)


@click.command("kernel")
@profile_option
@click.option("--name", "kernel_name", default=None, help="Kernel name [default: envlock-NAME].")
@click.option("--prefix", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Environment directory [default: .envs/NAME in the project].")
@click.option("--user", is_flag=True,
              help="Install into your Jupyter data directory (the default, as `ipykernel install --user`); "
                   "JUPYTER_DATA_DIR, when set, names it.")
@project_option
@json_option
@handles_errors
def command(name: str, kernel_name: str | None, prefix: Path | None, user: bool, project_dir: str, as_json: bool) -> None:
    """Install a kernel spec whose python is the environment's and whose env carries its
    activation variables (needs ipykernel in the environment)."""
    from envlock.cli.actions import target_prefix
    from envlock.prefix.kernel import install_kernel

    target = target_prefix(project_dir, name, prefix)
    path, spec = install_kernel(target, name, kernel_name, open_project(project_dir).profile_path(name))
    if as_json:
        print_json({"ok": True, "name": path.parent.name, "kernel_json": str(path), **spec})
    else:
        click.echo(f"installed kernel {path.parent.name} ({spec['display_name']}): {path}")
