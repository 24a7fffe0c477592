"""``envlock sbom``: a CycloneDX or SPDX bill of materials of a profile's lock."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from envlock.cli._common import (
    handles_errors,
    json_option,
    open_project,
    profile_option,
    project_option,
)


@click.command("sbom")
@profile_option
@click.option("--platform", default=None, help="Only this conda platform [default: every locked platform].")
@click.option("--format", "fmt", type=click.Choice(["cyclonedx", "spdx"]), default="cyclonedx", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the SBOM here [default: stdout].")
@project_option
@json_option
@handles_errors
def command(name: str, platform: str | None, fmt: str, output: Path | None, project_dir: str, as_json: bool) -> None:
    """Every locked package with its purl, version, hashes, source URL and license (read from
    the package: conda info/about.json or index.json, wheel METADATA). --json (with -o) prints
    a summary, including the packages whose license could not be read."""
    from envlock.cli.fleet_support import answer
    from envlock.core.errors import InputError
    from envlock.fleet.sbom import build_sbom

    if as_json and output is None:
        raise InputError("--json prints a summary of the SBOM, so the SBOM itself needs -o FILE; add -o or drop --json.")

    def work():  # noqa: ANN202
        project = open_project(project_dir)
        project.require_profile(name)
        doc, result = build_sbom(project, name, platform=platform, fmt=fmt)
        text = json.dumps(doc, indent=2) + "\n"
        if output is None:
            sys.stdout.write(text)
            return result
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        result.output = str(output)
        return result

    if output is None:
        work()
        return
    answer(as_json, {"profile": name}, work, lambda r: (
        f"{r.output}: {r.format} SBOM of {r.components} packages ({', '.join(r.platforms)}); "
        f"license unknown for {len(r.unknown_licenses)}"))
