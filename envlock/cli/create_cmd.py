"""``envlock create``: materialize a profile's lock into a conda prefix (atomic, hash-checked)."""

from __future__ import annotations

from pathlib import Path

import click

from envlock.cli._common import json_option, prefix_option, profile_option, project_option


@click.command("create")
@profile_option
@prefix_option
@click.option("--platform", default=None, help="Conda platform of the lock to install [default: this machine's].")
@click.option("--lock", "lock_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Install this conda-lock file instead of the profile's lock (never re-locked).")
@click.option("--frozen", is_flag=True, help="Never lock; fail (exit 1) if the lock is missing or stale. For CI.")
@click.option("--force", is_flag=True, help="Replace a prefix that exists but is not a conda environment.")
@click.option("--no-verify", is_flag=True, help="Skip the verification run after creating.")
@click.option("--reinstall", is_flag=True,
              help="Rebuild the environment from the lock even if it looks current: restores modified and deleted "
                   "files, removes packages the lock does not have (the fix `envlock check` names).")
@click.option("--full", is_flag=True,
              help="With --reinstall: hash every file of the environment and of the cached packages first "
                   "(catches an edit that kept its size and mtime).")
@click.option("--jobs", type=click.IntRange(1, 64), default=8, show_default=True, help="Parallel downloads.")
@click.option("--mirror", default=None, metavar="URL",
              help="Fetch packages from this envlock mirror (file://, s3://, http(s)://) instead of the lock's URLs; "
                   "hashes still checked, a missing package is an error [default: $ENVLOCK_MIRROR].")
@project_option
@json_option
def command(name: str, prefix: Path | None, platform: str | None, lock_file: Path | None, frozen: bool, force: bool,
            no_verify: bool, reinstall: bool, full: bool, jobs: int, mirror: str | None, project_dir: str,
            as_json: bool) -> None:
    """Create (or update) the environment of a profile from its lock: packages come from the
    shared cache (each checked against the lock's sha256), are hard-linked into a staging
    directory and swapped into place; pip wheels are installed by uv with --no-deps and hashes.
    A second run on an unchanged environment is a no-op."""
    from envlock.cli.actions import create

    create(name, prefix, platform, lock_file, frozen, force, no_verify, jobs, project_dir, as_json, reinstall=reinstall,
           full=full, mirror=mirror)
