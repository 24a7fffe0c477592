"""The fast ``package:`` scanner gives exactly what the full YAML loader gives, or steps aside."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from envlock.lockfile import read_lockfile
from envlock.lockfile.fast_yaml import Unsupported, parse_package_list, split_top_level
from tests.lockfile.test_lockfile_formats import REALWORLD, needs_realworld

UNIFIED = sorted(p for d in ("lockfiles", "format") for p in (REALWORLD / d).glob("*.y*ml"))


@needs_realworld
@pytest.mark.parametrize("path", UNIFIED, ids=[p.name[:50] for p in UNIFIED])
def test_scanner_matches_base_loader_on_real_files(path: Path) -> None:
    text = path.read_text()
    full = yaml.load(text, Loader=yaml.CBaseLoader)
    _, lines = split_top_level(text)
    if lines is None:
        pytest.skip("no block 'package:' section")
    try:
        items = parse_package_list(lines)
    except Unsupported:
        return  # the reader falls back to the full loader (covered below)
    assert (items or None) == (full.get("package") or None)


def test_scanner_reads_quotes_comments_nesting_and_empty_keys() -> None:
    lines = [
        "  - name: a  # trailing comment",
        "    version: '1.0'",
        "    dependencies:",
        "      dep: '>=1,<2'",
        "      other: \"x\"",
        "    hash: {}",
        "    source:",
        "    category: it''s",
        "- name: b",  # an outdented item is not the same list: refuse
    ]
    with pytest.raises(Unsupported):
        parse_package_list(lines)
    items = parse_package_list(lines[:-1])
    assert items == [yaml.load("\n".join(lines[:-1]), Loader=yaml.BaseLoader)[0]]
    assert items[0]["source"] == "" and items[0]["dependencies"] == {"dep": ">=1,<2", "other": "x"}


@pytest.mark.parametrize("line", [
    "    url: |", "    deps: [a, b]", "    '@quoted': 1", "    text: \"esc\\\\aped\"", "    version: 'open",
])
def test_scanner_refuses_what_it_does_not_read(line: str) -> None:
    with pytest.raises(Unsupported):
        parse_package_list(["  - name: a", line])


def test_reader_falls_back_to_full_yaml(tmp_path: Path) -> None:
    path = tmp_path / "lock.yml"
    path.write_text(
        "version: 1\nmetadata:\n  platforms: [linux-64]\n  channels: [conda-forge]\npackage:\n"
        "- name: a\n  version: '1.0'\n  manager: pip\n  platform: linux-64\n"
        "  dependencies: {b: '>=3.20.3,<4.21.0 || >4.21.0,<4.21.1 ||\n    >4.21.2'}\n"
        "  url: https://wheels.invalid/a-1.0-py3-none-any.whl\n  hash: {sha256: abc}\n"
    )
    (pkg,) = read_lockfile(path).packages
    assert pkg.depends == {"b": ">=3.20.3,<4.21.0 || >4.21.0,<4.21.1 || >4.21.2"}


@needs_realworld
@pytest.mark.parametrize("path", UNIFIED, ids=[p.name[:50] for p in UNIFIED])
def test_block_mapping_reader_matches_base_loader_on_real_files(path: Path) -> None:
    """The part of a lockfile outside ``package:`` (version, metadata), as the reader gets it."""
    from envlock.lockfile.fast_yaml import parse_block_mapping

    rest, _ = split_top_level(path.read_text())
    try:
        got = parse_block_mapping(rest)
    except Unsupported:
        return  # the full loader reads it
    assert got == yaml.load(rest, Loader=yaml.CBaseLoader)


@pytest.mark.parametrize("text", [
    "version: 1\nmetadata:\n  content_hash:\n    linux-64: abc\n  channels:\n  - url: file:///ch\n    used_env_vars: []\n"
    "  platforms:\n  - linux-64\n  - osx-arm64\n  sources:\n  - 'a b.yml'\n  - \"c.yml\"\n",
    "a:\nb: 1  # comment\nc: {}\nd:\n  - x\n  -   y\ne:\n  f:\n    g: '1.0'\n",
    "# header\n\nmetadata:\n  channels:\n    - url: x\n      extra: y\n    - z\n",
    "",
])
def test_block_mapping_reader_equals_base_loader(text: str) -> None:
    from envlock.lockfile.fast_yaml import parse_block_mapping

    assert parse_block_mapping(text) == (yaml.load(text, Loader=yaml.BaseLoader) or {})


@pytest.mark.parametrize("text", [
    "a: b: c\n", "a: - x\n", "a: [1, 2]\n", "- x\n", "a: 1\n---\nb: 2\n", "a: x\n  continued\n", "a: 1\na: 2\n",
    "a: &anchor x\n", "? complex\n", "a: |\n  block\n", "a:\n\t- x\n",
])
def test_block_mapping_reader_steps_aside(text: str) -> None:
    from envlock.lockfile.fast_yaml import parse_block_mapping

    with pytest.raises(Unsupported):
        parse_block_mapping(text)
