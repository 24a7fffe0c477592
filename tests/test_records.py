"""The typed JSON records on create's fast path (lock record, environment and archive stamps)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from typing import Literal

import pytest

from envlock import records


@dataclass(frozen=True, kw_only=True)
class Sample:
    name: str
    count: int = 0
    ratio: float = 1.0
    kind: Literal["a", "b"] = "a"
    tags: list[str] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    note: str | None = None


def test_round_trip_and_defaults() -> None:
    s = Sample(name="x", count=3, ratio=2, kind="b", tags=["t"], sizes={"k": 1}, note=None)
    assert records.from_json(Sample, records.to_json(s, indent=1)) == s
    assert records.from_json(Sample, '{"name": "y", "added_by_a_newer_envlock": 1}') == Sample(name="y")


@pytest.mark.parametrize(("text", "needle"), [
    ("{}", "'name' is missing"),
    ('{"name": 1}', "'name'"),
    ('{"name": "x", "count": true}', "'count'"),  # a bool is not a count
    ('{"name": "x", "count": "3"}', "'count'"),
    ('{"name": "x", "kind": "c"}', "'kind'"),
    ('{"name": "x", "tags": ["a", 2]}', "'tags'"),
    ('{"name": "x", "sizes": {"k": "1"}}', "'sizes'"),
    ("[1]", "JSON object"),
    ("{not json", "not JSON"),
])
def test_wrong_records_are_refused(text: str, needle: str) -> None:
    with pytest.raises(records.RecordError, match=needle):
        records.from_json(Sample, text)


def test_fast_path_modules_do_not_import_pydantic() -> None:
    """pydantic's import and first model cost ~75 ms per process, more than a no-op create;
    PyYAML, rich, asyncio and rattler another ~40 ms on a cold disk: none is needed to link."""
    code = ("import sys; import envlock.create.core, envlock.create.stamp, envlock.create.cache, envlock.lock_state, "
            "envlock.cli.create_cmd, envlock.create.link, envlock.create.fastlink, envlock.create.atomic, envlock.lockfile; "
            "print(sorted(m for m in ('pydantic', 'yaml', 'rich', 'asyncio', 'rattler') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]", r.stdout
