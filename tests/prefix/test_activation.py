"""Activation without conda: conda's per-environment variables and plain exports of
activate.d scripts, as `envlock run`, `activate` and the verifier see them."""

from __future__ import annotations

import os
from pathlib import Path

from envlock.prefix.activation import (
    activated_environ,
    activation_vars,
    read_env_vars,
    write_env_vars,
)


def test_env_vars_round_trip_in_conda_state_file(tmp_path: Path) -> None:
    write_env_vars(tmp_path, {"TF_USE_LEGACY_KERAS": "1"})
    assert read_env_vars(tmp_path) == {"TF_USE_LEGACY_KERAS": "1"}
    assert '"env_vars"' in (tmp_path / "conda-meta" / "state").read_text()  # conda's own format


def test_script_exports_plain_and_prefix_relative(tmp_path: Path) -> None:
    d = tmp_path / "etc" / "conda" / "activate.d"
    d.mkdir(parents=True)
    (d / "10-cuda.sh").write_text(
        "export CUDA_HOME=${CONDA_PREFIX}/targets\n"
        "export XLA_FLAGS='--xla_gpu_cuda_data_dir=$CONDA_PREFIX'\n"
        "export PLAIN=value\n"
        "export DYNAMIC=$HOME/x\n"
        "export CMD=`uname`\n"
        "if true; then echo hi; fi\n"
    )
    env = activation_vars(tmp_path)
    prefix = str(tmp_path.resolve())
    assert env["CUDA_HOME"] == f"{prefix}/targets"
    assert env["XLA_FLAGS"] == f"--xla_gpu_cuda_data_dir={prefix}"
    assert env["PLAIN"] == "value"
    assert "DYNAMIC" not in env and "CMD" not in env
    assert env["CONDA_PREFIX"] == prefix


def test_env_vars_win_over_scripts_and_path_is_prefixed(tmp_path: Path) -> None:
    d = tmp_path / "etc" / "conda" / "activate.d"
    d.mkdir(parents=True)
    (d / "a.sh").write_text("export TF_USE_LEGACY_KERAS=0\n")
    write_env_vars(tmp_path, {"TF_USE_LEGACY_KERAS": "1"})
    env = activated_environ(tmp_path, {"PATH": "/usr/bin", "VIRTUAL_ENV": "/elsewhere"})
    assert env["TF_USE_LEGACY_KERAS"] == "1"
    assert env["PATH"].split(os.pathsep)[0] == str(tmp_path.resolve() / "bin")
    assert "VIRTUAL_ENV" not in env
