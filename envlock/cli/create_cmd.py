"""``envlock create``: materialize a profile's lock into a conda prefix (atomic, hash-checked)."""

from __future__ import annotations

from pathlib import Path

import click

from envlock import records
from envlock.cli._common import (
    handles_errors,
    json_option,
    open_project,
    prefix_option,
    print_json,
    profile_option,
    project_option,
    request_fast_exit,
)


@click.command("create")
@profile_option
@prefix_option
@click.option("--platform", default=None, help="Conda platform of the lock to install [default: this machine's].")
@click.option("--lock", "lock_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Install this conda-lock file instead of the profile's lock (never re-locked).")
@click.option("--frozen", is_flag=True, help="Never lock; fail (exit 1) if the lock is missing or stale. For CI.")
@click.option("--force", is_flag=True, help="Replace a prefix that exists but is not a conda environment.")
@click.option("--no-verify", is_flag=True, help="Skip the verification run after creating.")
@click.option("--jobs", type=click.IntRange(1, 64), default=8, show_default=True, help="Parallel downloads.")
@project_option
@json_option
@handles_errors
def command(name: str, prefix: Path | None, platform: str | None, lock_file: Path | None, frozen: bool, force: bool,
            no_verify: bool, jobs: int, project_dir: str, as_json: bool) -> None:
    """Create (or update) the environment of a profile from its lock: packages come from the
    shared cache (each checked against the lock's sha256), are hard-linked into a staging
    directory and swapped into place; pip wheels are installed by uv with --no-deps and hashes.
    A second run on an unchanged environment is a no-op."""
    from envlock.create.core import create_environment
    from envlock.create.progress import make_progress

    project = open_project(project_dir)
    progress = make_progress(quiet=as_json)
    try:
        result = create_environment(project, name, prefix=prefix, platform=platform, frozen=frozen, force=force,
                                    verify=not no_verify, progress=progress, jobs=jobs,
                                    lock_file=lock_file)
    finally:
        progress.close()
    request_fast_exit()
    if as_json:
        print_json(records.to_dict(result))
        return
    total = result.seconds.get("total", 0.0)
    # plain lines (no rich markup to render, and rich's import is a tenth of a no-op create)
    if result.action == "up-to-date":
        click.echo(f"{result.prefix}: up to date with {result.lock} ({total:.2f} s)")
    else:
        click.echo(f"{result.prefix}: {result.action} — {result.conda_packages} conda + {result.pip_packages} pip "
                   f"packages, {result.downloaded} downloaded ({total:.1f} s)")
