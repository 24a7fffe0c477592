"""The typed JSON records on create's fast path (lock record, environment and archive stamps)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from envlock.core import records


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


def test_fast_path_modules_do_not_import_heavy_modules() -> None:
    """pydantic's import and first model cost ~75 ms per process, more than a no-op create;
    PyYAML, rich, asyncio and rattler another ~40 ms on a cold disk, click ~30 ms, and hashlib
    (OpenSSL), shutil (bz2, lzma) and secrets ~15 ms: none is needed to link.  Run with -S so that what
    this machine's site-packages .pth files import does not hide what ours do."""
    import site

    heavy = ("pydantic", "yaml", "rich", "asyncio", "rattler", "hashlib", "shutil", "secrets", "click")
    code = ("import sys; import envlock.create.pipeline, envlock.prefix.stamp, envlock.create.cache, envlock.lock.state, "
            "envlock.cli, envlock.cli.fastpath, envlock.cli.actions, envlock.create.link.rattler, envlock.create.link.fast, envlock.prefix.atomic, envlock.lockfile, "
            f"envlock.lock.state, envlock.prefix.activation; print(sorted(m for m in {heavy!r} if m in sys.modules))")
    path = os.pathsep.join([str(Path(__file__).resolve().parents[2]), *site.getsitepackages()])
    r = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONPATH": path})
    assert r.stdout.strip() == "[]", r.stdout


def test_small_input_digests_equal_hashlib() -> None:
    """envlock.core.digests (CPython's built-in hashes, no OpenSSL) must give hashlib's digests:
    stamps and lock records written by either are compared with each other."""
    import hashlib

    from envlock.core import digests

    data = b"envlock\0" * 1000
    assert digests.sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
    assert digests.blake2b(data, digest_size=8).digest() == hashlib.blake2b(data, digest_size=8).digest()


def test_no_op_create_modules_do_not_import_lockfile_readers() -> None:
    """The no-op create reads only its stamp: the lockfile format readers (pixi, conda-lock,
    explicit, env export: ~10 ms of imports) load when a lockfile is read, not before."""
    readers = ("envlock.lockfile.pixi", "envlock.lockfile.unified", "envlock.lockfile.explicit",
               "envlock.lockfile.env_export", "envlock.lockfile.fast_yaml", "envlock.lockfile.text")
    code = ("import sys; import envlock.cli.fastpath, envlock.cli.actions, envlock.create.pipeline, envlock.lock.state, "
            f"envlock.prefix.stamp, envlock.lockfile; print(sorted(m for m in {readers!r} if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert r.stdout.strip() == "[]", r.stdout
