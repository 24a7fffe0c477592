"""Bad lockfiles and lock records: refused quickly with one line, never a traceback or a hang,
and a rejected or failed ``create`` leaves nothing behind.  Each case is one cause the fuzzer
(``../shared/tools/fuzz.py``) found."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
import yaml
from fuzz_support import SECRET, copy_project, invoke, lock_project, replace_lock, tree

from envlock.lockfile import limits

ENTRY = ("{name: tensorflow, version: 2.16.1, manager: conda, platform: linux-64, "
         "url: 'https://conda.anaconda.org/conda-forge/linux-64/tensorflow-2.16.1-cpu_py311h0_0.conda', "
         "hash: {md5: 00000000000000000000000000000000}}")


def bomb(levels: int = 10, width: int = 10) -> str:
    """A billion laughs: 10^10 nodes once every alias is expanded, 100 in the file."""
    parts = ["&b0 [" + ",".join(["lol"] * width) + "]"]
    parts += [f"&b{i} [" + ",".join([f"*b{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "[" + ", ".join(parts) + "]"


def audit(path: Path, *extra: str, limit_s: float = 10.0):  # noqa: ANN201
    out = invoke(["audit", str(path), *extra], limit_s=limit_s)
    assert out.problems() == [], out.problems()
    return out


def refused(path: Path, *needles: str) -> str:
    """``audit --json`` on ``path``: exit 2 with one unreadable finding, quickly; its message."""
    before = tree(path.parent)
    out = audit(path, "--json")
    assert out.code == 2, out.stdout[-500:]
    assert out.seconds < 8, f"took {out.seconds:.1f} s"
    [message] = [f["message"] for r in json.loads(out.stdout)["files"] for f in r["findings"]]
    for needle in needles:
        assert needle in message, message
    assert tree(path.parent) == before
    return message


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory, tf_channel: Path) -> Path:
    root = tmp_path_factory.mktemp("bad-input")
    return lock_project(root / "project", tf_channel, root / "cache")


@pytest.fixture
def project(locked: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ENVLOCK_CACHE_DIR", str(tmp_path / "cache"))
    return copy_project(locked, tmp_path / "project")


def test_alias_bomb_in_a_package_name(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yml"
    path.write_text("version: 1\nmetadata: {platforms: [linux-64], channels: []}\npackage:\n"
                    f"- name: {bomb()}\n  version: '1'\n  manager: conda\n  platform: linux-64\n"
                    "  url: https://x/linux-64/a-1-0.conda\n  hash: {md5: x}\n")
    refused(path, "YAML nodes", "aliases")


def test_alias_bomb_in_channels(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yml"
    path.write_text(f"version: 1\nmetadata:\n  platforms: [linux-64]\n  channels: {bomb()}\npackage: []\n")
    refused(path, "YAML nodes")


def test_alias_cycle(tmp_path: Path) -> None:
    path = tmp_path / "cycle.yml"
    path.write_text("version: 1\nmetadata: &m {platforms: [linux-64], channels: [*m]}\npackage: []\n")
    refused(path, "not valid YAML")


def test_aliases_of_one_entry_expand_past_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "aliases.yml"
    path.write_text("version: 1\nmetadata: {platforms: [linux-64], channels: []}\n"
                    f"package: [&e {ENTRY}" + ", *e" * 99_999 + "]\n")
    refused(path, "YAML nodes")


def test_a_million_platforms(tmp_path: Path) -> None:
    path = tmp_path / "plats.yml"
    plats = ",".join(f"p{i}" for i in range(1_000_000))
    path.write_text(f"version: 1\nmetadata: {{platforms: [{plats}], channels: []}}\npackage: [{ENTRY}]\n")
    refused(path, "YAML items")


def test_more_platforms_than_any_lock_needs(tmp_path: Path) -> None:
    path = tmp_path / "plats.yml"
    path.write_text("version: 1\nmetadata:\n  platforms:\n" + "".join(f"  - p{i}\n" for i in range(100)) + "package: []\n")
    refused(path, "'metadata.platforms'", "100 items")


def test_too_many_entries_in_block_style(tmp_path: Path) -> None:
    """The fast scanner stops counting at the limit instead of reading the whole list."""
    entry = ("- name: p{i}\n  version: '1'\n  manager: conda\n  platform: linux-64\n"
             "  url: https://x/linux-64/p{i}-1-0.conda\n  hash:\n    md5: 00000000000000000000000000000000\n")
    path = tmp_path / "many.yml"
    path.write_text("version: 1\nmetadata:\n  platforms:\n  - linux-64\npackage:\n"
                    + "".join(entry.format(i=i) for i in range(limits.MAX_PACKAGES + 1)))
    refused(path, f"more than {limits.MAX_PACKAGES:,} entries")


def test_explicit_file_with_a_million_lines(tmp_path: Path) -> None:
    path = tmp_path / "conda-linux-64.lock"
    path.write_text("@EXPLICIT\n" + "".join(f"https://h/linux-64/p{i}-1-0.conda\n" for i in range(1_000_000)))
    refused(path, "more than 20,000 packages")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this system")
def test_a_file_that_never_ends_is_read_with_a_bound() -> None:
    out = audit(Path("/dev/zero"), "--json")
    assert out.code == 2 and "larger than 64 MiB" in out.stdout


@pytest.mark.parametrize(("body", "needle"), [
    ("version: 1\nmetadata: {platforms: [linux-64]}\npackage: []\n\x00\n", "control characters"),
    ('version: "1\\n2"\nmetadata: {platforms: [linux-64]}\npackage: []\n', "field 'version' is 1\\n2"),
    ('version: 1\nmetadata: {platforms: [linux-64]}\npackage: [{name: "a\\nb", version: 1}]\n', "package 'a\\nb'"),
    ('version: 1\nmetadata: {platforms: [linux-64], content_hash: {"a\\nb": [x]}}\npackage: []\n', "content_hash.a\\nb"),
    ("version: 1\nmetadata:\n\tplatforms: [linux-64]\n", "line 3"),
])
def test_rejections_are_one_line_without_yaml_position_text(tmp_path: Path, body: str, needle: str) -> None:
    path = tmp_path / "lock.yml"
    path.write_text(body)
    message = refused(path, needle)
    assert "<unicode string>" not in message and "position" not in message
    out = invoke(["diff", str(path), str(path)])
    assert out.code == 2 and out.problems() == [], out.problems()


def test_meta_nested_50000_deep_is_refused(project: Path) -> None:
    meta = project / "locks" / "cpu" / "envlock-meta.json"
    meta.write_text("[" * 50_000 + "]" * 50_000)
    before = tree(project)
    for args in (["lock", "--check"], ["create", "--frozen", "--no-verify", "--profile", "cpu"]):
        out = invoke([*args, "--project", str(project)])
        assert out.problems() == [] and out.code == 2, (args, out.problems(), out.stderr)
        assert "envlock-meta.json" in out.stderr and "nested too deeply" in out.stderr
    assert tree(project) == before


def test_meta_with_a_257_character_platform(project: Path) -> None:
    meta_path = project / "locks" / "cpu" / "envlock-meta.json"
    meta = json.loads(meta_path.read_text())
    meta["platforms"].append("a" * 257)
    meta_path.write_text(json.dumps(meta))
    before = tree(project)
    for args in (["lock", "--check"], ["create", "--frozen", "--no-verify", "--profile", "cpu"], ["check", "--profile", "cpu"]):
        out = invoke([*args, "--project", str(project)])
        assert out.problems() == [] and out.code == 2, (args, out.problems(), out.stderr)
    assert "not a conda platform" in out.stderr or "not a conda environment" in out.stderr
    assert tree(project) == before


def test_create_frozen_over_100000_aliases_of_one_url(project: Path) -> None:
    text = ("version: 1\nmetadata: {platforms: [linux-64], channels: []}\npackage: [&e " + ENTRY
            + ", *e" * 99_999 + "]\n").encode()
    replace_lock(project, text)
    before = tree(project)
    out = invoke(["create", "--frozen", "--no-verify", "--project", str(project), "--profile", "cpu"])
    assert out.problems() == [] and out.code == 2, (out.problems(), out.stderr)
    assert out.seconds < 8 and "YAML nodes" in out.stderr
    assert tree(project) == before


def test_failed_create_leaves_no_envs_and_no_lock_file(project: Path) -> None:
    """The lock names a version the archive does not hold: create fails (exit 1) after taking
    the prefix lock; neither .envs/ nor .envs/.cpu.envlock-lock stays behind."""
    doc = yaml.safe_load((project / "locks" / "cpu.conda-lock.yml").read_text())
    entry = next(p for p in doc["package"] if p["name"] == "numpy")
    entry["version"] = "9.9"
    replace_lock(project, yaml.safe_dump(doc, sort_keys=False).encode())
    before = tree(project)
    out = invoke(["create", "--frozen", "--no-verify", "--project", str(project), "--profile", "cpu"])
    assert out.code == 1 and out.problems() == [], (out.problems(), out.stderr)
    assert "the lock is inconsistent" in out.stderr
    assert not (project / ".envs").exists()
    assert tree(project) == before


def test_failed_create_keeps_an_existing_envs_directory(project: Path) -> None:
    (project / ".envs").mkdir()
    (project / ".envs" / "other").mkdir()
    doc = yaml.safe_load((project / "locks" / "cpu.conda-lock.yml").read_text())
    next(p for p in doc["package"] if p["name"] == "numpy")["version"] = "9.9"
    replace_lock(project, yaml.safe_dump(doc, sort_keys=False).encode())
    out = invoke(["create", "--frozen", "--no-verify", "--project", str(project), "--profile", "cpu"])
    assert out.code == 1
    assert sorted(p.name for p in (project / ".envs").iterdir()) == ["other"]


def test_lock_without_python_is_blamed_on_the_lock(project: Path) -> None:
    """noarch: python packages with no python in the lock: the lock is at fault, not an archive."""
    doc = yaml.safe_load((project / "locks" / "cpu.conda-lock.yml").read_text())
    doc["package"] = [p for p in doc["package"] if not (p["name"] == "python" and p["platform"] == "linux-64")]
    replace_lock(project, yaml.safe_dump(doc, sort_keys=False).encode())
    before = tree(project)
    out = invoke(["create", "--frozen", "--no-verify", "--project", str(project), "--profile", "cpu"])
    assert out.problems() == [] and out.code == 2, (out.problems(), out.stderr)
    assert "no python for linux-64" in out.stderr and "corrupt" not in out.stderr
    assert tree(project) == before


def test_credentials_are_masked_in_audit_diff_and_errors(tmp_path: Path) -> None:
    url = f"https://alice:{SECRET}@conda.example.org/cf/linux-64/libfoo-1.0-h0_0.conda"
    old = tmp_path / "old.lock"
    old.write_text(f"@EXPLICIT\n{url}#{'0' * 32}\n")
    new = tmp_path / "new.lock"
    new.write_text(f"@EXPLICIT\n{url.replace('1.0', '2.0')}#{'0' * 32}\n")
    bad = tmp_path / "bad.lock"
    bad.write_text(f"@EXPLICIT\nnot a url {url}\n")
    runs = [invoke(args) for args in (
        ["diff", str(old), str(new), "--json"], ["diff", str(old), str(new)],
        ["audit", str(old), "--json"], ["audit", str(old)], ["audit", str(bad), "--json"], ["audit", str(bad)],
        ["diff", str(bad), str(old), "--json"])]
    for out in runs:
        assert out.problems() == [], (out.args, out.problems())
        assert "alice:" not in out.stdout + out.stderr
    assert any("***@conda.example.org" in o.stdout + o.stderr for o in runs)


def test_a_traceback_masks_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    from envlock.cli._support import masked_excepthook

    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    try:
        raise RuntimeError(f"cannot fetch https://bob:{SECRET}@host/t/tk-123/channel/x.conda")
    except RuntimeError as exc:
        masked_excepthook(type(exc), exc, exc.__traceback__)
    text = stderr.getvalue()
    assert "Traceback (most recent call last)" in text and "RuntimeError" in text
    assert SECRET not in text and "tk-123" not in text and "https://***@host/t/***/channel" in text


@pytest.mark.parametrize("body", ["", "\n", "# only a comment\n", "just a scalar\n", "- a list\n", "~\n"])
def test_a_lockfile_that_is_not_a_mapping(tmp_path: Path, body: str) -> None:
    path = tmp_path / "lock.yml"
    path.write_text(body)
    refused(path, "is neither a conda-lock file")
