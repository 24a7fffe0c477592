"""Version ordering and dependency-spec matching used by audit and diff."""

from __future__ import annotations

import pytest

from envlock.lockfile.versions import compare, minor_line, satisfies, spec_build


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("1.10", "1.9", 1), ("2.16", "2.16.0", 0), ("2.0rc1", "2.0", -1), ("2.0", "2.0.post1", -1),
    ("1.1.1w", "1.1.1", 1), ("2.15.0.post1", "2.15.0", 1), ("2024.8.18", "2024.10.1", -1),
    ("0.1.dev0", "0.1a1", -1),
])
def test_compare(a: str, b: str, expected: int) -> None:
    assert compare(a, b) == expected
    assert compare(b, a) == -expected


@pytest.mark.parametrize(("version", "spec", "expected"), [
    ("2.10.1", ">=2.10,<2.11", True), ("2.11.0", ">=2.10,<2.11", False),
    ("11.8.0", ">=11.2,<12", True), ("12.0", ">=11.2,<12", False),
    ("3.10.8", ">=3.10,<3.11.0a0", True), ("3.11.0", ">=3.10,<3.11.0a0", False),
    ("2.10.0", "2.10.0 cuda112py310hf679b68_0", True), ("2.16.2", "2.16.2", True), ("2.16.3", "2.16.2", False),
    ("1.5", ">=2 || <1.6", True), ("1.7", ">=2 || <1.6", False), ("1.7", ">=2|<1.6", False),
    ("2.6.1", "~=2.6", True), ("3.0", "~=2.6", False),
    ("2.16.1", "2.16.*", True), ("2.17.0", "2.16.*", False), ("3.5.0", ">=3.5", True),
    ("3.0.0", "<3.0.0a0", False), ("2.99", "<3.0.a0", True), ("1.0", "*", True), ("1.0", "", True),
    ("1.23.5", ">=1.23.5,<2.0.0; python_version >= '3.9'", True),
])
def test_satisfies(version: str, spec: str, expected: bool) -> None:
    assert satisfies(version, spec) is expected


def test_unreadable_spec_is_unknown_not_false() -> None:
    assert satisfies("1.0", "@@weird") is None


def test_spec_build_and_minor_line() -> None:
    assert spec_build("2.10.0 cuda112py310hf679b68_0") == "cuda112py310hf679b68_0"
    assert spec_build(">=2.10,<2.11") is None and spec_build("2.16.2") is None
    assert minor_line("2.16.2") == "2.16" and minor_line("2.15.0.post1") == "2.15"
