"""Typed JSON records for the small files on ``create``'s fast path (the lock record, the
environment stamp, the archive stamps) and its ``--json`` summary.

Why not pydantic, as for profiles and reports: importing it and building the first model costs
~75 ms of wall time per process, more than everything else a no-op ``create`` does.  These
records are flat dataclasses written by envlock itself, so a check of each field against its
annotation is all the validation they need.  Unknown keys are ignored (a newer envlock may add
fields); a missing field without a default, or a value of the wrong type, is a ``RecordError``.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from functools import cache
from typing import Any, Literal, TypeVar, get_args, get_origin

T = TypeVar("T")


class RecordError(ValueError):
    """A record file that does not hold what its type says."""


@cache
def _fields(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    hints = typing.get_type_hints(cls)
    return tuple(
        (f.name, hints[f.name], f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
        for f in dataclasses.fields(cls)
    )


def _valid(value: Any, tp: Any) -> bool:
    origin = get_origin(tp)
    if tp is Any:
        return True
    if origin is Literal:
        return value in get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_valid(value, t) for t in get_args(tp))
    if tp is type(None):
        return value is None
    if origin is list:
        (item,) = get_args(tp)
        return isinstance(value, list) and all(_valid(v, item) for v in value)
    if origin is dict:
        key, item = get_args(tp)
        return isinstance(value, dict) and all(_valid(k, key) and _valid(v, item) for k, v in value.items())
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, tp)


def _short_repr(value: Any, limit: int = 80) -> str:
    """An escaped, one-line repr for messages; containers by type only (they may be huge)."""
    text = repr(value) if not isinstance(value, (list, dict)) else f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def from_dict(cls: type[T], doc: Any) -> T:
    if not isinstance(doc, dict):
        raise RecordError(f"expected a JSON object, got {type(doc).__name__}")
    kwargs = {}
    for name, tp, required in _fields(cls):
        if name not in doc:
            if required:
                raise RecordError(f"field '{name}' is missing")
            continue
        if not _valid(doc[name], tp):
            raise RecordError(f"field '{name}' is not {tp}: {_short_repr(doc[name])}")
        kwargs[name] = doc[name]
    return cls(**kwargs)


def from_json(cls: type[T], text: str | bytes) -> T:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise RecordError(f"not JSON ({exc})") from None
    except RecursionError:
        raise RecordError("nested too deeply to be a record envlock wrote") from None
    return from_dict(cls, doc)


def to_dict(record: Any) -> dict[str, Any]:
    return dataclasses.asdict(record)


def to_json(record: Any, indent: int | None = None) -> str:
    return json.dumps(dataclasses.asdict(record), indent=indent, ensure_ascii=False)
