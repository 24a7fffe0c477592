"""The click-free fast path of ``envlock create`` and ``envlock run`` (``envlock.cli.fastpath``):
it must take only what click takes, give the same parameters, and leave everything else to
click."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from envlock.cli import create_cmd, fastpath, run_cmd

CLICK_COMMANDS = {"create": create_cmd.command, "run": run_cmd.command}
PLAIN = [
    ("create", ["--profile", "cuda12"]),
    ("create", ["--profile=cuda12", "--json"]),
    ("create", ["--json", "--profile", "a", "--frozen", "--no-verify", "--force"]),
    ("create", ["--profile", "a", "--prefix", "envs/x", "--platform", "linux-64", "--jobs", "3", "--project", "."]),
    ("create", ["--profile", "a", "--lock", "some.conda-lock.yml", "--jobs=64"]),
    ("run", ["--profile", "a", "--", "python", "train.py", "--epochs", "3"]),
    ("run", ["--profile", "a", "--prefix", "envs/x", "python", "-c", "print(1)"]),
    ("run", ["--project=.", "--profile", "a", "--", "--", "x"]),
]
FOR_CLICK = [  # each valid or refused by click; the fast path must not guess
    ("create", []),
    ("create", ["--help"]),
    ("create", ["-h"]),
    ("create", ["--profile"]),
    ("create", ["--prefix", "x"]),  # --profile missing
    ("create", ["--profile", "a", "--jobs", "0"]),
    ("create", ["--profile", "a", "--jobs", "65"]),
    ("create", ["--profile", "a", "--jobs", "+8"]),
    ("create", ["--profile", "a", "--jobs", "eight"]),
    ("create", ["--profile", "a", "--json=yes"]),
    ("create", ["--profile", "a", "--profile", "b"]),
    ("create", ["--profile", "--json"]),
    ("create", ["--profile", "a", "extra"]),
    ("create", ["--profile", "a", "--"]),
    ("create", ["--profile", "a", "--prefix", ""]),
    ("create", ["--profile", "a", "--unknown"]),
    ("create", ["--profile", "a", "--prefix", "FILE"]),  # an existing file: click refuses it
    ("create", ["--profile", "a", "--lock", "DIR"]),  # an existing directory: click refuses it
    ("run", ["--profile", "a"]),  # no command
    ("run", ["--profile", "a", "--"]),
    ("run", ["--help"]),
    ("run", ["--profile", "a", "--json", "--", "x"]),  # not an option of run
    ("run", ["--", "x"]),  # --profile missing
    ("lock", ["--profile", "a"]),  # not a fast command
]


def _click_params(command: str, args: list[str]) -> dict | None:
    try:
        with CLICK_COMMANDS[command].make_context(command, list(args)) as ctx:
            return dict(ctx.params)
    except (click.exceptions.Exit, click.UsageError):
        return None


def _fill(args: list[str], tmp_path: Path) -> list[str]:
    (tmp_path / "FILE").write_text("")
    (tmp_path / "DIR").mkdir(exist_ok=True)
    return [str(tmp_path / a) if a in ("FILE", "DIR") else a for a in args]


@pytest.mark.parametrize("name", sorted(fastpath.COMMANDS))
def test_tables_match_the_click_commands(name: str) -> None:
    fast, command = fastpath.COMMANDS[name], CLICK_COMMANDS[name]
    options = {o.opts[0]: o for o in command.params if isinstance(o, click.Option)}
    assert set(options) == set(fast.options)
    for flag, (dest, kind) in fast.options.items():
        opt = options[flag]
        assert opt.name == dest and opt.is_flag == (kind == "flag"), flag
        assert opt.required == (dest in fast.required), flag
    arguments = [p.name for p in command.params if isinstance(p, click.Argument)]
    assert arguments == ([fast.rest] if fast.rest else [])
    # the defaults, as click gives them (not ``Option.default``: click 8.3 keeps a sentinel there)
    rest = ["--", "x"] if fast.rest else []
    assert _click_params(name, ["--profile", "p", *rest]) == {
        **fast.defaults, "name": "p", **({fast.rest: ("x",)} if fast.rest else {})}


@pytest.mark.parametrize("name", sorted(CLICK_COMMANDS))
def test_profile_is_required(name: str) -> None:
    """Without --profile click refuses the command line (it once took an explicit None default as a value)."""
    rest = ["--", "x"] if fastpath.COMMANDS[name].rest else []
    assert _click_params(name, rest) is None
    assert fastpath.parse(rest, fastpath.COMMANDS[name]) is None


@pytest.mark.parametrize(("name", "args"), PLAIN, ids=lambda a: a if isinstance(a, str) else " ".join(a))
def test_plain_command_lines_parse_as_click_parses_them(name: str, args: list[str]) -> None:
    got = fastpath.parse(args, fastpath.COMMANDS[name])
    assert got is not None
    assert got == _click_params(name, args)


@pytest.mark.parametrize(("name", "args"), FOR_CLICK, ids=lambda a: a if isinstance(a, str) else " ".join(a))
def test_anything_else_is_left_to_click(name: str, args: list[str], tmp_path: Path) -> None:
    args = _fill(args, tmp_path)
    if name in fastpath.COMMANDS:
        assert fastpath.parse(args, fastpath.COMMANDS[name]) is None
    assert fastpath.run([name, *args]) is False  # nothing run: click gets the command line


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


def test_entry_runs_a_plain_run_without_click(tmp_path: Path) -> None:
    """``envlock run`` through the fast path execs the command in the environment (its exit code,
    CONDA_PREFIX set), and importing click never happened before the exec."""
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    argv = ["run", "--profile", "t", "--prefix", str(prefix), "--project", str(tmp_path), "--",
            sys.executable, "-c", "import os, sys; print(os.environ['CONDA_PREFIX']); sys.exit(7)"]
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "envlock.cli.__main__", *argv],
                       capture_output=True, text=True)
    assert r.returncode == 7, r.stderr[-2000:]
    assert r.stdout.strip() == str(prefix)
    imported = [line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")]
    assert "envlock.cli.actions" in imported and "click" not in imported
