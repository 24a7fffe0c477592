"""``envlock pack``: one archive holding a profile's lock, conda archives and wheels."""

from __future__ import annotations

from pathlib import Path

import click

from envlock.cli._common import (
    handles_errors,
    json_option,
    open_project,
    profile_option,
    project_option,
)


@click.command("pack")
@profile_option
@click.option("--platform", default=None, help="Only this conda platform [default: every locked platform].")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Bundle file to write.")
@click.option("--jobs", type=click.IntRange(1, 64), default=8, show_default=True, help="Parallel downloads.")
@project_option
@json_option
@handles_errors
def command(name: str, platform: str | None, output: Path, jobs: int, project_dir: str, as_json: bool) -> None:
    """Write a bundle that `envlock unpack` turns into the environment on a machine with no
    network: the profile, its lock, and every archive and wheel the lock names (hash-checked)."""
    from envlock.cli.fleet_support import answer
    from envlock.fleet.bundle import pack

    def work():  # noqa: ANN202
        project = open_project(project_dir)
        project.require_profile(name)
        return pack(project, name, output, platform=platform, jobs=jobs)

    answer(as_json, {"profile": name}, work, lambda r: (
        f"{r.bundle}: {r.packages} packages for {', '.join(r.platforms)}, {r.bundle_bytes / 1e6:.1f} MB "
        f"(archives {r.archives_bytes / 1e6:.1f} MB)"))
