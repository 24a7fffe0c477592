"""``envlock diff``: what changes between two locks, per platform, TensorFlow first.

Works on any two files the reader accepts (conda-lock unified, explicit, envlock's own), so
an old explicit ``conda-linux-64.lock`` can be compared with a new ``conda-lock.yml``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel

from envlock.audit.stack import PlatformStack
from envlock.compat import table as compat
from envlock.core.names import canonical_name
from envlock.lockfile import LockedPackage, Lockfile
from envlock.lockfile.versions import compare, major, minor_line

Kind = Literal["added", "removed", "upgraded", "downgraded", "rebuilt"]
KINDS: tuple[Kind, ...] = ("upgraded", "downgraded", "rebuilt", "added", "removed")


class Change(BaseModel):
    name: str
    kind: Kind
    old: str | None = None  # "version build"
    new: str | None = None
    note: str = ""


class PlatformDiff(BaseModel):
    platform: str
    present: Literal["both", "old-only", "new-only"]
    changes: list[Change]
    unchanged: int

    def of_kind(self, kind: Kind) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    def counts(self) -> dict[str, int]:
        return {k: len(self.of_kind(k)) for k in KINDS}


class Highlight(BaseModel):
    topic: str
    platforms: list[str]
    old: str | None
    new: str | None
    note: str = ""


class BreakingChange(BaseModel):
    line: str
    change: str


class LockDiff(BaseModel):
    old: str
    new: str
    old_format: str
    new_format: str
    highlights: list[Highlight]
    breaking: list[BreakingChange]
    breaking_direction: Literal["upgrade", "downgrade", "none"]
    platforms: list[PlatformDiff]


# --- package-level diff ----------------------------------------------------------------

def _keyed(packages: list[LockedPackage]) -> dict[str, LockedPackage]:
    """One slot per package name; a name locked by both conda and pip keeps both."""
    out: dict[str, LockedPackage] = {}
    for pkg in sorted(packages, key=lambda p: p.manager != "conda"):
        key = canonical_name(pkg.name)
        out[key if key not in out else f"{key} (pip)"] = pkg
    return out


def _text(pkg: LockedPackage) -> str:
    return f"{pkg.version} {pkg.build}".strip() + (" (pip)" if pkg.manager == "pip" else "")


def _hashes_differ(a: LockedPackage, b: LockedPackage) -> bool:
    """True when both files record a hash of one kind and they differ."""
    return any(x != y for x, y in ((a.sha256, b.sha256), (a.md5, b.md5)) if x and y)


def _same_artifact(a: LockedPackage, b: LockedPackage) -> bool:
    """Same build from the same place and — where both files record them — same hashes."""
    return (a.build, a.manager, a.channel_name) == (b.build, b.manager, b.channel_name) and not _hashes_differ(a, b)


def _note(a: LockedPackage, b: LockedPackage) -> str:
    notes = []
    if a.manager != b.manager:
        notes.append(f"{a.manager} → {b.manager}")
    elif a.manager == "conda" and a.channel_name != b.channel_name:
        notes.append(f"channel {a.channel_name} → {b.channel_name}")
    if a.build == b.build and a.version == b.version and _hashes_differ(a, b):
        notes.append("same build, different hash")
    return "; ".join(notes)


def diff_packages(old: list[LockedPackage], new: list[LockedPackage]) -> tuple[list[Change], int]:
    before, after = _keyed(old), _keyed(new)
    changes: list[Change] = []
    unchanged = 0
    for key in sorted(before.keys() | after.keys()):
        a, b = before.get(key), after.get(key)
        if a is None and b is not None:
            changes.append(Change(name=b.name, kind="added", new=_text(b)))
        elif b is None and a is not None:
            changes.append(Change(name=a.name, kind="removed", old=_text(a)))
        elif a is not None and b is not None:
            order = compare(a.version, b.version)
            if order == 0 and _same_artifact(a, b):
                unchanged += 1
                continue
            kind: Kind = "upgraded" if order < 0 else "downgraded" if order > 0 else "rebuilt"
            changes.append(Change(name=b.name, kind=kind, old=_text(a), new=_text(b), note=_note(a, b)))
    return changes, unchanged


# --- TensorFlow highlights -------------------------------------------------------------

def _tf_text(s: PlatformStack) -> str | None:
    if s.tensorflow is None:
        return None
    build = f"CUDA {s.build_cuda}" if s.build_cuda else {"cpu": "CPU", "cuda": "CUDA"}.get(s.variant, "unknown")
    return f"{s.tensorflow.version} ({build} build, {s.source})"


def _tf_keras_text(s: PlatformStack) -> str | None:
    """Which Keras ``tf.keras`` is: from the table, or the keras package for unknown lines."""
    if s.tensorflow is None:
        return None
    if s.release is not None:
        return f"Keras {s.release.keras.major}"
    return f"Keras {major(s.keras.version)}" if s.keras else None


def _cuda_text(s: PlatformStack) -> str | None:
    runtime = ", ".join(f"{p.name} {p.version}" for p in s.cuda_runtime)
    return runtime or None


def _numpy_major(s: PlatformStack) -> str | None:
    return f"NumPy {major(s.numpy.version)}" if s.numpy else None


_TOPICS: list[tuple[str, Callable[[PlatformStack], str | None]]] = [
    ("TensorFlow", _tf_text),
    ("Keras", lambda s: s.keras.version if s.keras else None),
    ("tf-keras", lambda s: s.tf_keras.version if s.tf_keras else None),
    ("tf.keras", _tf_keras_text),
    ("Python", lambda s: s.python.version if s.python else None),
    ("CUDA", _cuda_text),
    ("cuDNN", lambda s: s.cudnn.version if s.cudnn else None),
    ("NumPy major", _numpy_major),
]


def _highlights(old: dict[str, PlatformStack], new: dict[str, PlatformStack]) -> list[Highlight]:
    merged: dict[tuple[str, str | None, str | None], list[str]] = {}
    for plat in sorted(old.keys() & new.keys()):
        for topic, read in _TOPICS:
            a, b = read(old[plat]), read(new[plat])
            if a != b:
                merged.setdefault((topic, a, b), []).append(plat)
    out = []
    for (topic, a, b), plats in merged.items():
        note = ""
        if topic == "tf.keras" and a and b:
            note = f"tf.keras changes from {a} to {b}: Keras code and saved models need migration"
        out.append(Highlight(topic=topic, platforms=plats, old=a, new=b, note=note))
    order = [t for t, _ in _TOPICS]
    return sorted(out, key=lambda h: (order.index(h.topic), h.platforms))


def _breaking(old: dict[str, PlatformStack], new: dict[str, PlatformStack]) -> tuple[list[BreakingChange], str]:
    for plat in sorted(old.keys() & new.keys()):
        a, b = old[plat].tensorflow, new[plat].tensorflow
        if a is None or b is None or minor_line(a.version) == minor_line(b.version):
            continue
        changes = compat.table().breaking_between(a.version, b.version)
        direction = "upgrade" if compare(a.version, b.version) < 0 else "downgrade"
        return [BreakingChange(line=line, change=text) for line, text in changes], direction
    return [], "none"


def diff_lockfiles(old: Lockfile, new: Lockfile) -> LockDiff:
    before, after = old.by_platform(), new.by_platform()
    platforms: list[PlatformDiff] = []
    for plat in sorted(before.keys() | after.keys()):
        changes, unchanged = diff_packages(before.get(plat, []), after.get(plat, []))
        present = "both" if plat in before and plat in after else "old-only" if plat in before else "new-only"
        platforms.append(PlatformDiff(platform=plat, present=present, changes=changes, unchanged=unchanged))
    old_stacks = {p: PlatformStack(p, pkgs) for p, pkgs in before.items()}
    new_stacks = {p: PlatformStack(p, pkgs) for p, pkgs in after.items()}
    breaking, direction = _breaking(old_stacks, new_stacks)
    return LockDiff(
        old=old.path, new=new.path, old_format=old.format, new_format=new.format,
        highlights=_highlights(old_stacks, new_stacks), breaking=breaking,
        breaking_direction=direction,  # type: ignore[arg-type]
        platforms=platforms,
    )
