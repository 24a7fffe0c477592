"""``envlock create``: materialize a profile's lock into a conda prefix (atomic, hash-checked)."""

from __future__ import annotations

import click

from envlock.cli._common import click_options
from envlock.cli.options import CREATE, CreateOptions


@click.command("create")
@click_options(CREATE)
def command(**params: object) -> None:
    """Create (or update) the environment of a profile from its lock: packages come from the
    shared cache (each checked against the lock's sha256), are hard-linked into a staging
    directory and swapped into place; pip wheels are installed by uv with --no-deps and hashes.
    A second run on an unchanged environment is a no-op."""
    from envlock.cli.actions import create

    create(CreateOptions(**params))  # type: ignore[arg-type]
