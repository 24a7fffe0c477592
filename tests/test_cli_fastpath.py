"""The click-free fast path of ``envlock create`` (``envlock.cli.fastpath``): it must take
exactly what click takes, give the same parameters, and leave everything else to click."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from envlock.cli import create_cmd, fastpath

PLAIN = [
    ["--profile", "cuda12"],
    ["--profile=cuda12", "--json"],
    ["--json", "--profile", "a", "--frozen", "--no-verify", "--force"],
    ["--profile", "a", "--prefix", "envs/x", "--platform", "linux-64", "--jobs", "3", "--project", "."],
    ["--profile", "a", "--lock", "some.conda-lock.yml", "--jobs=64"],
]
FOR_CLICK = [  # each valid or refused by click; the fast path must not guess
    [],
    ["--help"],
    ["-h"],
    ["--profile"],
    ["--prefix", "x"],  # --profile missing
    ["--profile", "a", "--jobs", "0"],
    ["--profile", "a", "--jobs", "65"],
    ["--profile", "a", "--jobs", "+8"],
    ["--profile", "a", "--jobs", "eight"],
    ["--profile", "a", "--json=yes"],
    ["--profile", "a", "--profile", "b"],
    ["--profile", "--json"],
    ["--profile", "a", "extra"],
    ["--profile", "a", "--"],
    ["--profile", "a", "--prefix", ""],
    ["--profile", "a", "--unknown"],
    ["--profile", "a", "--prefix", "FILE"],  # an existing file: click refuses it
    ["--profile", "a", "--lock", "DIR"],  # an existing directory: click refuses it
]


def _click_params(args: list[str]) -> dict | None:
    try:
        with create_cmd.command.make_context("create", list(args)) as ctx:
            return dict(ctx.params)
    except (click.exceptions.Exit, click.UsageError):
        return None


def _fill(args: list[str], tmp_path: Path) -> list[str]:
    (tmp_path / "FILE").write_text("")
    (tmp_path / "DIR").mkdir(exist_ok=True)
    return [str(tmp_path / a) if a in ("FILE", "DIR") else a for a in args]


def test_tables_match_the_click_command() -> None:
    options = {o.opts[0]: o for o in create_cmd.command.params if isinstance(o, click.Option)}
    assert set(options) == set(fastpath.CREATE_OPTIONS)
    for flag, (dest, kind) in fastpath.CREATE_OPTIONS.items():
        opt = options[flag]
        assert opt.name == dest and opt.is_flag == (kind == "flag"), flag
        assert opt.required == (dest in fastpath.CREATE_REQUIRED), flag
    # the defaults, as click gives them (not ``Option.default``: click 8.3 keeps a sentinel there)
    assert _click_params(["--profile", "x"]) == {**fastpath.CREATE_DEFAULTS, "name": "x"}


@pytest.mark.parametrize("args", PLAIN, ids=" ".join)
def test_plain_command_lines_parse_as_click_parses_them(args: list[str]) -> None:
    got = fastpath.parse(args, fastpath.CREATE_OPTIONS, fastpath.CREATE_DEFAULTS, fastpath.CREATE_REQUIRED)
    assert got is not None
    assert got == _click_params(args)


@pytest.mark.parametrize("args", FOR_CLICK, ids=" ".join)
def test_anything_else_is_left_to_click(args: list[str], tmp_path: Path) -> None:
    args = _fill(args, tmp_path)
    assert fastpath.parse(args, fastpath.CREATE_OPTIONS, fastpath.CREATE_DEFAULTS, fastpath.CREATE_REQUIRED) is None
    assert fastpath.run(["create", *args]) is False  # nothing run: click gets the command line


def test_entry_runs_a_plain_create_without_click(tmp_path: Path) -> None:
    """Same error and exit code as through click, and click never imported."""
    project = tmp_path / "p"
    (project / "profiles").mkdir(parents=True)
    argv = ["create", "--profile", "nope", "--project", str(project), "--no-verify"]
    fast = ("import sys; sys.argv = ['envlock', *sys.argv[1:]]\nfrom envlock.cli import entry\ntry:\n entry()\n"
            "finally:\n print('click' in sys.modules, file=sys.stderr)")
    slow = "import sys; from envlock.cli import main; main(sys.argv[1:], prog_name='envlock')"
    env = {**os.environ, "COLUMNS": "200"}
    a = subprocess.run([sys.executable, "-c", fast, *argv], capture_output=True, text=True, env=env)
    b = subprocess.run([sys.executable, "-c", slow, *argv], capture_output=True, text=True, env=env)
    assert a.returncode == b.returncode == 2
    assert "nope" in b.stderr and a.stderr.rstrip().endswith("False")
    assert a.stderr.rstrip().removesuffix("False").rstrip() == b.stderr.rstrip()
