"""``envlock activate``: print a shell snippet that activates an environment without conda."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import click

from envlock.cli._common import handles_errors, prefix_option, profile_option, project_option


def snippet(shell: str, env: dict[str, str], path_entry: str) -> str:
    lines = []
    if shell == "fish":
        lines.append(f"set -gx PATH {shlex.quote(path_entry)} $PATH;")
        lines += [f"set -gx {k} {shlex.quote(v)};" for k, v in env.items()]
    else:
        lines.append(f"export PATH={shlex.quote(path_entry)}\"${{PATH:+:$PATH}}\";")
        lines += [f"export {k}={shlex.quote(v)};" for k, v in env.items()]
        lines.append("hash -r 2>/dev/null || true;" if shell == "bash" else "rehash 2>/dev/null || true;")
    return "\n".join(lines) + "\n"


@click.command("activate")
@profile_option
@prefix_option
@click.option("--shell", type=click.Choice(["bash", "zsh", "fish"]), default=None,
              help="Shell syntax [default: from $SHELL, else bash].")
@project_option
@handles_errors
def command(name: str, prefix: Path | None, shell: str | None, project_dir: str) -> None:
    """Print a snippet to evaluate:  eval "$(envlock activate --profile cpu)"  (fish: | source)."""
    from envlock.cli.actions import target_prefix
    from envlock.prefix.activation import activation_vars, bin_dir

    target = target_prefix(project_dir, name, prefix)
    if shell is None:
        base = os.path.basename(os.environ.get("SHELL", ""))
        shell = base if base in ("bash", "zsh", "fish") else "bash"
    click.echo(snippet(shell, activation_vars(target), str(bin_dir(target))), nl=False)
