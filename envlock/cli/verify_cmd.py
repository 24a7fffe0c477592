"""``envlock verify``: prove an environment is what its profile promised."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from envlock.cli._common import (
    err,
    handles_errors,
    json_option,
    open_project,
    out,
    print_json,
    project_option,
)
from envlock.errors import EXIT_CHECK_FAILED, EXIT_OK, InputError


@click.command("verify")
@click.option("--profile", "profile_name", required=True, help="Profile the environment must satisfy.")
@click.option("--prefix", type=click.Path(file_okay=False), default=None,
              help="Environment to verify: any conda prefix or venv with a Python (default: .envs/<profile>).")
@click.option("--no-bench", is_flag=True, help="Skip the smoke benchmark.")
@click.option("--no-record", is_flag=True, help="Do not write locks/<profile>/verified-<platform>.json.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False), default=None,
              help="Also write a markdown report to this file.")
@project_option
@json_option
@handles_errors
def command(profile_name: str, prefix: str | None, no_bench: bool, no_record: bool, report_file: str | None,
            project_dir: str, as_json: bool) -> None:
    """Run a probe inside the environment and check TensorFlow, Keras, CUDA/CPU/Metal and a benchmark."""
    from envlock.profiles import load_profile
    from envlock.verify import report as render
    from envlock.verify.verifier import verify_environment

    project = open_project(project_dir)
    profile = load_profile(project, profile_name)
    where = Path(prefix) if prefix else project.default_prefix(profile.name)
    if not where.is_dir():
        hint = (f"create it with `envlock create --profile {profile.name}`" if prefix is None
                else "pass --prefix the directory of a conda environment or venv")
        raise InputError(f"{where}: no environment there; {hint}.")
    bench = not no_bench  # verify_environment also honours the profile's verify.bench
    if as_json:
        result = verify_environment(project, profile, where, bench=bench, record=not no_record)
    else:
        with err.status(f"verifying {where} against profile {profile.name} (importing TensorFlow{', benchmarking' if bench and profile.verify.bench else ''})"):
            result = verify_environment(project, profile, where, bench=bench, record=not no_record)
    if report_file:
        try:
            Path(report_file).write_text(render.markdown(result))
        except OSError as exc:
            raise InputError(f"{report_file}: cannot write the report ({exc.strerror}); pick a writable path for --report.") from None
    if as_json:
        print_json(result.to_json())
    else:
        render.render(result, out.console)
    sys.exit(EXIT_OK if result.ok else EXIT_CHECK_FAILED)
