"""The pydantic specification of a conda-lock unified file, used only when a file is broken.

``unified.parse_unified`` reads well-formed files with plain type checks (importing pydantic
costs ~75 ms per process); when those checks fail, this model validates the whole file so
the error names the broken field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from envlock.core.errors import InputError
from envlock.core.messages import shown
from envlock.lockfile.model import LockedPackage


class _Hash(BaseModel):
    md5: str | None = None
    sha256: str | None = None


class _Channel(BaseModel):
    url: str
    used_env_vars: list[str] = []


class _Metadata(BaseModel):
    platforms: list[str]
    channels: list[str | _Channel] = []
    content_hash: dict[str, str] = {}
    sources: list[str] = []


class _Entry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    version: str
    manager: Literal["conda", "pip"]
    platform: str
    url: str
    hash: _Hash
    dependencies: dict[str, str] | None = None
    category: str = "main"
    categories: list[str] | None = None  # conda-lock's v2 "prelim" model
    optional: bool = False


class _UnifiedFile(BaseModel):
    version: int | None = None
    metadata: _Metadata
    package: list[_Entry] | None = None


def _field(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("str", "_Channel"):  # union branch names pydantic adds
            continue
        else:
            out += f".{shown(part)}" if out else shown(part)
    return out


def _problem(data: dict, error: Any) -> str:
    loc = error["loc"]
    what = "is missing" if error["type"] == "missing" else f"is invalid ({shown(error['msg'], 100)})"
    subject = ""
    if len(loc) >= 2 and loc[0] == "package" and isinstance(loc[1], int):
        entry = (data.get("package") or [])[loc[1]]
        if isinstance(entry, dict) and entry.get("name"):
            subject = f" (package '{shown(entry['name'])}' for {shown(entry.get('platform', '?'))})"
    return f"field '{_field(loc)}' {what}{subject}"


def _explain(path: Path, data: dict, exc: ValidationError) -> InputError:
    errors = exc.errors()
    problems = "; ".join(_problem(data, e) for e in errors[:3])
    more = f"; and {len(errors) - 3} more" if len(errors) > 3 else ""
    return InputError(
        f"{path}: {problems}{more}. This is not a complete conda-lock file: regenerate it with "
        "conda-lock or `envlock lock`, or restore the missing fields."
    )


def _locked(entry: _Entry) -> LockedPackage:
    return LockedPackage.from_entry(
        name=entry.name, version=entry.version, manager=entry.manager, platform=entry.platform,
        url=entry.url, sha256=entry.hash.sha256 or None, md5=entry.hash.md5 or None,
        category=entry.categories[0] if entry.categories else entry.category, optional=entry.optional,
        depends=entry.dependencies,
    )


def validate(path: Path, data: dict) -> tuple[list[str], dict[str, str], list[str], list[LockedPackage]]:
    """(platforms, content_hash, channel URLs, packages), or an ``InputError`` naming the field."""
    try:
        parsed = _UnifiedFile.model_validate(data)
    except ValidationError as exc:
        raise _explain(path, data, exc) from None
    meta = parsed.metadata
    channels = [c if isinstance(c, str) else c.url for c in meta.channels]
    return list(meta.platforms), dict(meta.content_hash), channels, [_locked(e) for e in parsed.package or []]
