"""The environment's memory of its last verification: ``conda-meta/envlock.verification``
beside the stamp (no ``.json`` suffix: conda reads every ``conda-meta/*.json`` as a package
record).  It holds the verdict, the time, the lock digest the environment was built from and the
failed checks.  ``create`` reads it on its no-op path, so an environment whose last verification
failed (or never ran) is verified again instead of reported "up to date"; ``check`` shows it.

Standard library only: the no-op ``create`` and ``check`` read it without pydantic or rich.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from envlock.core.files import write_atomic

FILE_NAME = "envlock.verification"
SCHEMA = 1


def path_of(prefix: Path) -> Path:
    return Path(prefix) / "conda-meta" / FILE_NAME


def read(prefix: Path) -> dict[str, Any] | None:
    """The last verification, or None when there is none (or it cannot be read: unknown)."""
    try:
        doc = json.loads(path_of(prefix).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("schema_version") != SCHEMA or not isinstance(doc.get("ok"), bool):
        return None
    return doc


def needs_verification(prefix: Path, lock_digest: str | None) -> bool:
    """True unless the environment's last verification passed, for this lock."""
    doc = read(prefix)
    return doc is None or doc["ok"] is not True or doc.get("lock_hash") != lock_digest


def summary(doc: dict[str, Any] | None) -> str:
    """One line for people: what the last verification said, and when."""
    if doc is None:
        return "last verification: none recorded (run `envlock verify`)"
    verdict = "passed" if doc["ok"] else "FAILED"
    failed = doc.get("failed") or []
    tail = f" — {', '.join(failed[:5])}{' …' if len(failed) > 5 else ''}" if failed else ""
    return f"last verification: {verdict} at {doc.get('verified_at')} against profile {doc.get('profile')}{tail}"


def write(prefix: Path, *, ok: bool, profile: str, failed: list[str], lock_hash: str | None, envlock_version: str) -> dict[str, Any]:
    """Record a verification in ``prefix`` (a conda prefix: nothing is written elsewhere).

    Adding a file changes ``conda-meta/``'s mtime, which the stamp's fingerprint covers: when
    the stamp matched the environment just before, it is brought up to date (its finish time is
    kept, so ``check``'s fast path still looks at every file changed since creation)."""

    from envlock.prefix.stamp import fingerprint, read_stamp

    prefix = Path(prefix)
    stamp = read_stamp(prefix)
    if stamp is not None:  # the lock the environment was built from is the one that counts
        lock_hash = stamp.lock_digest
    before = fingerprint(prefix)
    doc = {"schema_version": SCHEMA, "ok": ok, "verified_at": _now(), "profile": profile, "lock_hash": lock_hash,
           "failed": failed, "envlock_version": envlock_version}
    target = path_of(prefix)
    write_atomic(target, json.dumps(doc, indent=1) + "\n")
    if stamp is not None and stamp.fingerprint == before:
        _refresh_stamp(prefix, dataclasses.replace(stamp, fingerprint=fingerprint(prefix)))
    return doc


def _refresh_stamp(prefix: Path, stamp: Any) -> None:
    from envlock.core import records
    from envlock.prefix.stamp import stamp_path

    with open(stamp_path(prefix), "r+") as fh:  # in place: no new directory entry in conda-meta/
        fh.truncate(0)
        fh.write(records.to_json(stamp, indent=1))


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
