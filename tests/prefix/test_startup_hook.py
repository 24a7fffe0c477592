"""The startup hook: an environment's activation variables for every interpreter start
(``env -i bin/python``), written by create as new files, recorded, covered by ``check``."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

from create_support import envlock

from envlock.prefix.startup_hook import (
    MODULE_NAME,
    PTH_NAME,
    hook_problems,
    install_into,
    module_source,
)

pytest_plugins = ["create_support"]  # fixtures: project, cache, env, locked_template, extra_channel

PRINT_FOO = "import os; print(repr(os.environ.get('FOO')))"


def site_dir(prefix: Path) -> Path:
    [site] = list((prefix / "lib").glob("python*/site-packages"))
    return site


def bare(prefix: Path, code: str, **extra: str) -> str:
    """``env -i PATH=... HOME=... bin/python -c code``: no activation, a minimal environment."""
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/"), **extra}
    r = subprocess.run(["env", "-i", *(f"{k}={v}" for k, v in env.items()), str(prefix / "bin" / "python"), "-c", code],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_bare_interpreter_gets_the_profile_variables_and_the_caller_still_wins(env) -> None:
    project, prefix, cache = env
    assert bare(prefix, PRINT_FOO) == repr("bar baz")
    assert bare(prefix, PRINT_FOO, FOO="mine") == repr("mine")
    # written as new files in the staging prefix: not hard links shared with the package cache
    site = site_dir(prefix)
    for name in (PTH_NAME, MODULE_NAME):
        assert (site / name).stat().st_nlink == 1
    record = json.loads((prefix / "conda-meta" / "envlock-hook").read_text())
    rel = site.relative_to(prefix).as_posix()
    assert record["env_vars"] == {"FOO": "bar baz"}
    assert set(record["files"]) == {f"{rel}/{PTH_NAME}", f"{rel}/{MODULE_NAME}"}


def test_activate_prints_the_values_the_hook_sets(env) -> None:
    project, prefix, cache = env
    r = envlock(project, "activate", "--profile", "t", "--shell", "bash", cache=cache)
    assert r.returncode == 0, r.stderr
    exported = dict(shlex.split(line.removeprefix("export ").rstrip(";"))[0].split("=", 1)
                    for line in r.stdout.splitlines() if line.startswith("export ") and not line.startswith("export PATH"))
    assert exported["FOO"] == eval(bare(prefix, PRINT_FOO))  # noqa: S307 (our own repr)


def test_deleted_or_edited_hook_is_drift_and_create_restores_it(env) -> None:
    project, prefix, cache = env
    site = site_dir(prefix)
    rel = site.relative_to(prefix).as_posix()
    (site / MODULE_NAME).write_text(module_source({"FOO": "other"}))
    (site / PTH_NAME).unlink()
    r = envlock(project, "check", "--profile", "t", "--json", cache=cache)
    assert r.returncode == 1, r.stdout
    files = {(f["path"], f["kind"]) for f in json.loads(r.stdout)["files"]}
    assert files == {(f"{rel}/{MODULE_NAME}", "modified"), (f"{rel}/{PTH_NAME}", "deleted")}
    r = envlock(project, "check", "--profile", "t", cache=cache, extra_env={"COLUMNS": "250"})
    assert r.returncode == 1 and "startup hook" in r.stdout and PTH_NAME in r.stdout, r.stdout
    assert bare(prefix, PRINT_FOO) == repr(None)
    # the hook's files are part of the no-op fingerprint: create rebuilds, and the hook is back
    r = envlock(project, "create", "--profile", "t", "--no-verify", "--json", cache=cache)
    assert r.returncode == 0 and json.loads(r.stdout)["action"] == "replaced", r.stdout + r.stderr
    assert bare(prefix, PRINT_FOO) == repr("bar baz")
    assert envlock(project, "check", "--profile", "t", cache=cache).returncode == 0


def test_hook_record_and_python_less_prefix(tmp_path: Path) -> None:
    assert hook_problems(tmp_path, {"A": "1"}) == []  # no Python, no interpreter start to hook
    site = tmp_path / "lib" / "python3.99" / "site-packages"
    site.mkdir(parents=True)
    install_into(site, {"A": "it's \"quoted\"\n"})
    problems = hook_problems(tmp_path, {"A": "it's \"quoted\"\n"})
    assert problems == [("conda-meta/envlock-hook", "deleted")]  # files right, record missing
    assert hook_problems(tmp_path, {"A": "2"})[:1] == [(f"lib/python3.99/site-packages/{MODULE_NAME}", "modified")]
    ns: dict = {}
    os.environ.pop("A", None)
    exec((site / MODULE_NAME).read_text(), ns)  # noqa: S102 (the generated module is valid Python)
    try:
        assert os.environ["A"] == "it's \"quoted\"\n"
    finally:
        os.environ.pop("A", None)
