"""``envlock verify``: prove an environment is what its profile promised."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

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
from envlock.core.errors import EXIT_CHECK_FAILED, EXIT_OK, EnvlockError, InputError

if TYPE_CHECKING:
    from envlock.verify.model import VerifyReport


@click.command("verify")
@click.option("--profile", "profile_name", required=True, help="Profile the environment must satisfy.")
@click.option("--prefix", type=click.Path(file_okay=False), default=None,
              help="Environment to verify: any conda prefix or venv with a Python (default: .envs/<profile>).")
@click.option("--no-bench", is_flag=True, help="Skip the smoke benchmark.")
@click.option("--no-record", is_flag=True, help="Do not write locks/<profile>/verified-<platform>.json.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False), default=None,
              help="Also write a markdown report to this file.")
@click.option("--save-probe", "probe_file", type=click.Path(dir_okay=False), default=None,
              help="Also write the probe's raw JSON document to this file (a recording of this machine, e.g. for a test fixture).")
@project_option
@json_option
@handles_errors
def command(profile_name: str, prefix: str | None, no_bench: bool, no_record: bool, report_file: str | None,
            probe_file: str | None, project_dir: str, as_json: bool) -> None:
    """Run a probe inside the environment and check TensorFlow, Keras, CUDA/CPU/Metal and a benchmark."""
    try:
        result = _verify(profile_name, prefix, not no_bench, not no_record, report_file, probe_file, project_dir, as_json)
    except EnvlockError as exc:
        if as_json:  # --json always answers with one object
            print_json({"ok": False, "profile": profile_name, "error": str(exc), "exit_code": exc.exit_code})
        raise
    if as_json:
        print_json(result.to_json())
    else:
        from envlock.verify import report as render

        render.render(result, out.console)
    sys.exit(EXIT_OK if result.ok else EXIT_CHECK_FAILED)


def _verify(profile_name: str, prefix: str | None, bench: bool, record: bool, report_file: str | None,
            probe_file: str | None, project_dir: str, as_json: bool) -> VerifyReport:
    from envlock.profiles.load import load_profile
    from envlock.verify import report as render
    from envlock.verify.verifier import verify_environment

    project = open_project(project_dir)
    profile = load_profile(project, profile_name)
    where = project.prefix(profile.name, prefix)
    if not where.is_dir():
        hint = (f"create it with `envlock create --profile {profile.name}`" if prefix is None
                else "pass --prefix the directory of a conda environment or venv")
        raise InputError(f"{where}: no environment there; {hint}.")
    # verify_environment also honours the profile's verify.bench
    if as_json:
        result = verify_environment(project, profile, where, bench=bench, record=record)
    else:
        with err.status(f"verifying {where} against profile {profile.name} (importing TensorFlow{', benchmarking' if bench and profile.verify.bench else ''})"):
            result = verify_environment(project, profile, where, bench=bench, record=record)
    if report_file:
        _write(report_file, "--report", render.markdown(result))
    if probe_file:
        if result.probe:
            _write(probe_file, "--save-probe", json.dumps(_recording(result), indent=1) + "\n")
        else:  # the probe check has already failed the verification
            result.warnings.append(f"--save-probe: {probe_file} not written, the probe printed no document")
    return result


def _recording(result: VerifyReport) -> dict:
    """The probe's document as printed, with a ``_recorded`` line saying where it comes from."""
    from envlock.verify.record import now

    hw = result.hardware
    where = f"{hw.get('cpu_model')}" + (f", GPUs: {', '.join(hw['gpus'])}" if hw.get("gpus") else "")
    note = (f"Real output of envlock's probe, saved by `envlock verify --save-probe` on {result.platform} ({where}) "
            f"at {now()} from {result.prefix}.")
    return {"_recorded": note, **{k: v for k, v in result.probe.items() if k != "_recorded"}}


def _write(path: str, option: str, text: str) -> None:
    try:
        Path(path).write_text(text)
    except OSError as exc:
        raise InputError(f"{path}: cannot write it ({exc.strerror}); pick a writable path for {option}.") from None
