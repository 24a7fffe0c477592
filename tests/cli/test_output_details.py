"""Small things a user meets: what an explicit file says about its pip lines, output to a pipe
not cut at 80 columns, cache-key's documented format, diff's --project, no machine paths in
the tests."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from conftest import ENVLOCK
from fuzz_support import invoke, lock_project

from envlock.lockfile import read_lockfile
from envlock.lockfile.explicit import explicit_text
from tests.lockfile.test_lockfile_factory import conda, pip, tf214_cuda118, write_unified

ROOT = Path(__file__).resolve().parents[2]


def _lock(entries: list[dict]) -> dict:
    return {"version": 1, "metadata": {"platforms": ["linux-64"]}, "package": entries}


def test_explicit_file_of_a_pip_route_profile_says_conda_skips_its_pip_lines(tmp_path: Path) -> None:
    entries = [conda("python", "3.11.9", "h0_0"), pip("tensorflow-cpu", "2.21.0")]
    text = explicit_text("cpu", "linux-64", _lock(entries), "0" * 64)
    header = text.split("@EXPLICIT", 1)[0]
    assert "`conda create --file`" in header and "conda packages only" in header
    assert "envlock create --profile cpu" in header and "conda-lock install locks/cpu.conda-lock.yml" in header
    path = tmp_path / "linux-64.lock"
    path.write_text(text)
    lock = read_lockfile(path)  # the note is a comment: the file reads as before
    assert sorted((p.manager, p.name) for p in lock.packages) == [("conda", "python"), ("pip", "tensorflow-cpu")]


def test_explicit_file_without_pip_packages_has_no_pip_note() -> None:
    text = explicit_text("cpu", "linux-64", _lock([conda("python", "3.11.9", "h0_0")]), "0" * 64)
    assert "pip" not in text


def test_readme_says_what_installs_a_pip_route_environment() -> None:
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "conda and micromamba skip as comments" in readme and "conda-lock install locks/<name>.conda-lock.yml" in readme


def test_tables_are_not_cut_at_80_columns_in_a_pipe(tmp_path: Path) -> None:
    bad = write_unified(tmp_path / "bad.yml", tf214_cuda118() + [conda("tensorflow-gpu", "2.15.0", "h_0")])
    [finding] = [f for f in json.loads(invoke(["audit", str(bad), "--json"]).stdout)["files"][0]["findings"]]
    assert len(finding["message"]) > 80
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    done = subprocess.run([*ENVLOCK, "audit", str(bad)], capture_output=True, text=True, env=env)
    assert done.returncode == 1
    assert any(finding["message"] in line for line in done.stdout.splitlines()), done.stdout


def test_columns_still_sets_the_width_of_piped_output(tmp_path: Path) -> None:
    bad = write_unified(tmp_path / "bad.yml", tf214_cuda118() + [conda("tensorflow-gpu", "2.15.0", "h_0")])
    done = subprocess.run([*ENVLOCK, "audit", str(bad)], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "60"})
    table = done.stdout.splitlines()[1:-1]  # between the file's name and the summary (soft-wrapped text)
    assert table and max(len(line) for line in table) <= 60, done.stdout


def test_cache_key_help_shows_the_printed_format(tmp_path: Path, tf_channel: Path) -> None:
    help_text = " ".join(invoke(["cache-key", "--help"]).stdout.split())
    assert "envlock-v1-<profile>-<platform>-<hash>" in help_text
    project = lock_project(tmp_path / "project", tf_channel, tmp_path / "cache")
    out = invoke(["cache-key", "--profile", "cpu", "--platform", "linux-64", "--project", str(project)])
    assert out.code == 0 and re.fullmatch(r"envlock-v1-cpu-linux-64-[0-9a-f]{32}\n", out.stdout), out.stdout


def test_readme_ci_snippet_uses_the_key_as_printed() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "$(envlock cache-key --profile" in readme
    assert "envlock-$(envlock cache-key" not in readme


def test_diff_accepts_project_like_every_command(tmp_path: Path) -> None:
    old = write_unified(tmp_path / "old.yml", tf214_cuda118())
    new = write_unified(tmp_path / "new.yml", tf214_cuda118() + [conda("libfoo", "1.0")])
    out = invoke(["diff", str(old), str(new), "--json", "--project", str(tmp_path)])
    assert out.code == 0, out.stderr
    [platform] = json.loads(out.stdout)["platforms"]
    assert [c["name"] for c in platform["changes"]] == ["libfoo"]


def test_no_test_refers_to_a_machine_path() -> None:
    """Tests find shared material relative to the checkout (../shared), never at an absolute path."""
    absolute = re.compile(r"""["'](/work|/home|/root|/Users|/mnt|/data)/""")
    offenders = [f"{p.name}:{n}" for p in sorted((ROOT / "tests").rglob("*.py"))
                 for n, line in enumerate(p.read_text().splitlines(), 1) if absolute.search(line)]
    assert offenders == []
