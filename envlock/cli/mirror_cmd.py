"""``envlock mirror``: copy what profiles' locks need into a directory or S3 mirror."""

from __future__ import annotations

import click

from envlock.cli._common import handles_errors, json_option, open_project, project_option


@click.command("mirror")
@click.option("--profile", "names", multiple=True, metavar="NAME", help="Profile to mirror (repeatable) [default: all].")
@click.option("--to", "to_url", required=True, metavar="URL", help="file://DIR or s3://BUCKET/PREFIX.")
@click.option("--platform", default=None, help="Only this conda platform [default: every locked platform].")
@click.option("--jobs", type=click.IntRange(1, 64), default=8, show_default=True, help="Parallel uploads.")
@project_option
@json_option
@handles_errors
def command(names: tuple[str, ...], to_url: str, platform: str | None, jobs: int, project_dir: str, as_json: bool) -> None:
    """Copy every conda archive and wheel the profiles' locks name (each checked against the
    lock's hash) into a mirror laid out as a conda channel (repodata.json by py-rattler) and a
    PEP 503 simple index; a second run uploads only what is missing. S3 credentials and
    endpoint come from the standard AWS configuration (AWS_ENDPOINT_URL for MinIO/Ceph)."""
    from envlock.cli.fleet_support import answer
    from envlock.fleet.mirror import mirror_profiles

    def work():  # noqa: ANN202
        project = open_project(project_dir)
        chosen = list(names) or project.profile_names()
        for n in chosen:
            project.require_profile(n)
        return mirror_profiles(project, chosen, to_url, platform=platform, jobs=jobs)

    answer(as_json, {"url": to_url}, work, lambda r: (
        f"{r.url}: {r.packages} packages for {', '.join(r.platforms)}; {r.uploaded} uploaded "
        f"({r.uploaded_bytes / 1e6:.1f} MB), {r.already_there} already there ({r.seconds:.1f} s)"))
