"""What a re-lock moved: per platform, the packages upgraded, downgraded, rebuilt, added or
removed between the lock that was there and the one written (``envlock diff``'s summary)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from envlock.core.errors import InputError
from envlock.lockfile.unified import parse_unified

if TYPE_CHECKING:  # envlock.audit loads every audit rule: only a re-lock that compares needs it
    from envlock.audit.diff import Change


def lock_changes(old: dict | None, new: dict) -> dict[str, list[Change]]:
    """Changes per platform of ``new`` (conda-lock unified lock mappings); a platform with
    nothing moved is left out.  With no old lock every package is "added"."""
    from envlock.audit.diff import diff_packages

    after = parse_unified(Path("new"), new).by_platform()
    try:
        before = parse_unified(Path("old"), old).by_platform() if old else {}
    except InputError:  # a hand-broken old lock: everything counts as added
        before = {}
    changes: dict[str, list[Change]] = {}
    for plat in sorted(before.keys() | after.keys()):
        moved, _ = diff_packages(before.get(plat, []), after.get(plat, []))
        if moved:
            changes[plat] = moved
    return changes


def _version(text: str | None) -> str:
    """``"1.0 h0_0 (pip)"`` -> ``"1.0"``: a move is told by versions unless only the build moved."""
    return (text or "").split(" ", 1)[0]


def change_line(change: Change) -> str:
    """``libfoo 1.0 → 1.1``, ``+ libbar 2.0``, ``- libbaz 3.0``, ``libqux 1.0 h1 → 1.0 h2`` (rebuilt)."""
    if change.kind == "added":
        return f"+ {change.name} {change.new}"
    if change.kind == "removed":
        return f"- {change.name} {change.old}"
    if change.kind == "rebuilt":
        return f"{change.name} {change.old} → {change.new}" + (f" ({change.note})" if change.note else "")
    return f"{change.name} {_version(change.old)} → {_version(change.new)}" + (f" ({change.note})" if change.note else "")


def changes_json(changes: dict[str, list[Change]]) -> dict[str, list[dict]]:
    return {plat: [c.model_dump() for c in moved] for plat, moved in changes.items()}
