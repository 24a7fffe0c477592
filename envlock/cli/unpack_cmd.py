"""``envlock unpack``: create a bundle's environment with no network."""

from __future__ import annotations

from pathlib import Path

import click

from envlock.cli._common import handles_errors, json_option, prefix_option


@click.command("unpack")
@click.argument("bundle", type=click.Path(dir_okay=False, path_type=Path))
@prefix_option
@click.option("--platform", default=None, help="Conda platform to create [default: this machine's].")
@click.option("--verify/--no-verify", default=True, show_default=True, help="Run the verifier after creating.")
@json_option
@handles_errors
def command(bundle: Path, prefix: Path | None, platform: str | None, verify: bool, as_json: bool) -> None:
    """Create the environment of a bundle (`envlock pack`) at --prefix [default: .envs/PROFILE
    here], checking every archive and wheel against the lock's hash; nothing is downloaded."""
    from envlock.cli._support import err
    from envlock.cli.fleet_support import answer
    from envlock.create.progress import make_progress
    from envlock.fleet.bundle import unpack

    def work():  # noqa: ANN202
        progress = make_progress(lambda: err.console, quiet=as_json)
        try:
            return unpack(bundle, prefix=prefix, platform=platform, verify=verify, progress=progress)
        finally:
            progress.close()

    answer(as_json, {"bundle": str(bundle), "action": "failed"}, work, lambda r: (
        f"{r.prefix}: {r.action} from {bundle} — {r.conda_packages} conda + {r.pip_packages} pip packages"))
