"""Version ordering and dependency-spec matching for conda and pip versions.

Audit and diff need to order versions (upgrade or downgrade?) and to test a locked version
against a dependency the lock records (``>=2.10,<2.11``, ``2.16.2``, ``>=3.0 || <2``).  This is
deliberately small: when a spec cannot be read, ``satisfies`` answers ``None`` ("cannot
know") so that no rule flags what it cannot know.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Pre-release tags sort before the release, post-release tags after (as conda and PEP 440 do).
_TAG_ORDER = {"dev": -4, "a": -3, "alpha": -3, "b": -2, "beta": -2, "rc": -1, "c": -1, "post": 1}
_PART = re.compile(r"(\d+)|([a-zA-Z]+)")


@lru_cache(maxsize=8192)
def sort_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """A key that orders ``1.9 < 1.10``, ``2.0rc1 < 2.0 < 2.0.post1`` and ``1.1.1w`` sensibly."""
    key: list[tuple[int, int, str]] = []
    for number, word in _PART.findall(version.lower().split("+", 1)[0]):
        if number:
            key.append((0, int(number), ""))
        else:
            key.append((-1 if _TAG_ORDER.get(word, 0) < 0 else 1, _TAG_ORDER.get(word, 0), word))
    return tuple(key)


_PAD = (0, 0, "")


def compare(a: str, b: str) -> int:
    """-1, 0 or 1.  Missing parts count as zero, so ``2.16 == 2.16.0`` and ``2.0rc1 < 2.0``."""
    ka, kb = sort_key(a), sort_key(b)
    width = max(len(ka), len(kb))
    ka += (_PAD,) * (width - len(ka))
    kb += (_PAD,) * (width - len(kb))
    return (ka > kb) - (ka < kb)


def major(version: str) -> int | None:
    m = re.match(r"\s*(\d+)", version)
    return int(m.group(1)) if m else None


def minor_line(version: str) -> str:
    """``2.16.2`` -> ``2.16``."""
    return ".".join(re.findall(r"\d+", version)[:2])


_CLAUSE = re.compile(r"^(==|!=|>=|<=|~=|>|<|=)?\s*([0-9][0-9A-Za-z.+_*-]*)$")


def _clause_ok(version: str, clause: str) -> bool | None:
    clause = clause.strip()
    if clause in ("", "*"):
        return True
    m = _CLAUSE.match(clause)
    if not m:
        return None
    op, target = m.group(1) or "", m.group(2)
    if target.endswith(".*") or target.endswith("*") or op == "=":
        # prefix match: "2.16.*", "=2.16", "2.16*"
        prefix = target.rstrip("*").rstrip(".")
        vk, pk = sort_key(version), sort_key(prefix)
        ok = vk[: len(pk)] == pk or version == prefix or version.startswith(prefix + ".")
        return (not ok) if op == "!=" else ok
    c = compare(version, target)
    if op == "~=":
        floor = target.split(".")
        upper_prefix = ".".join(floor[:-1])
        return c >= 0 and _clause_ok(version, f"{upper_prefix}.*") is True
    return {"": c == 0, "==": c == 0, "!=": c != 0, ">=": c >= 0, "<=": c <= 0, ">": c > 0, "<": c < 0}[op]


def satisfies(version: str, spec: str) -> bool | None:
    """Whether ``version`` meets a conda/pip dependency spec; None when the spec is unreadable.

    Handles ``,`` (and), ``|``/``||`` (or), a trailing build string (``2.10.0 cuda112py310h_0``
    — only the version part is tested here) and pip's ``; markers`` (ignored)."""
    spec = spec.split(";", 1)[0].strip()
    if not spec or spec == "*":
        return True
    spec = spec.split()[0] if " " in spec and not any(o in spec for o in "<>=!|,") else spec
    results: list[bool] = []
    for alternative in re.split(r"\|\|?", spec):
        verdicts = [_clause_ok(version, c) for c in alternative.replace(" ", "").split(",")]
        if any(v is None for v in verdicts):
            return None
        results.append(all(verdicts))
    return any(results)


def spec_build(spec: str) -> str | None:
    """The build part of an exact ``version build`` dependency (conda metapackages pin it)."""
    parts = spec.split()
    return parts[1] if len(parts) == 2 and not any(o in parts[0] for o in "<>=!|,*") else None
