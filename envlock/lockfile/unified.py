"""conda-lock unified files (``conda-lock.yml``): every platform, conda and pip entries.

Accepted forms, all seen in the wild: ``version: 1`` (conda-lock 1.x–3.x, envlock), no
``version:`` key at all (early conda-lock; rattler calls it v0), channels as plain strings or
as ``{url, used_env_vars}`` objects, ``category`` or ``categories``, a missing category
(defaults to ``main``), an empty ``package:``.  Newer versions are refused with a reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from envlock.errors import InputError
from envlock.lockfile.model import LockedPackage, Lockfile
from envlock.lockfile.urls import conda_build, conda_channel

SUPPORTED_VERSIONS = (1,)
_NULLS = ("", "null", "~", "Null", "NULL")


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


def looks_unified(data: Any) -> bool:
    return isinstance(data, dict) and ("package" in data or "metadata" in data)


def load_yaml(path: Path, text: str) -> Any:
    """Every scalar stays a string (BaseLoader): ``version: 3.10`` must not become 3.1."""
    try:
        return yaml.load(text, Loader=getattr(yaml, "CBaseLoader", yaml.BaseLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise InputError(
            f"{path}: is not valid YAML{at} ({getattr(exc, 'problem', exc)}). "
            "Restore the file from version control or regenerate it with conda-lock / `envlock lock`."
        ) from None


def _field(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("str", "_Channel"):  # union branch names pydantic adds
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _problem(data: dict, error: Any) -> str:
    loc = error["loc"]
    what = "is missing" if error["type"] == "missing" else f"is invalid ({error['msg']})"
    subject = ""
    if len(loc) >= 2 and loc[0] == "package" and isinstance(loc[1], int):
        entry = (data.get("package") or [])[loc[1]]
        if isinstance(entry, dict) and entry.get("name"):
            subject = f" (package '{entry['name']}' for {entry.get('platform', '?')})"
    return f"field '{_field(loc)}' {what}{subject}"


def _explain(path: Path, data: dict, exc: ValidationError) -> InputError:
    errors = exc.errors()
    problems = "; ".join(_problem(data, e) for e in errors[:3])
    more = f"; and {len(errors) - 3} more" if len(errors) > 3 else ""
    return InputError(
        f"{path}: {problems}{more}. This is not a complete conda-lock file: regenerate it with "
        "conda-lock or `envlock lock`, or restore the missing fields."
    )


def _check_version(path: Path, raw: Any) -> None:
    if raw is None:
        return
    try:
        number = int(str(raw))
    except ValueError:
        number = None
    if number not in SUPPORTED_VERSIONS:
        newer = number is not None and number > max(SUPPORTED_VERSIONS)
        why = "is newer than envlock reads" if newer else "is not a conda-lock lockfile version"
        fix = "upgrade envlock, or lock again with a conda-lock that writes version 1" if newer else \
            "regenerate the file with conda-lock or `envlock lock`"
        raise InputError(f"{path}: field 'version' is {raw}, which {why} (supported: 1); {fix}.")


def parse_unified(path: Path, data: dict) -> Lockfile:
    _check_version(path, data.get("version"))
    if isinstance(data.get("package"), str) and data["package"] in _NULLS:
        data = {**data, "package": None}
    try:
        # Fast path: entries straight into LockedPackage (pydantic still checks every field).
        meta = _Metadata.model_validate(data["metadata"])
        packages = [_from_mapping(e) for e in data.get("package") or []]
    except (KeyError, TypeError, AttributeError, ValueError):
        # The file model is the specification; it also names the broken field.
        try:
            parsed = _UnifiedFile.model_validate(data)
        except ValidationError as exc:
            raise _explain(path, data, exc) from None
        meta, packages = parsed.metadata, [_locked(e) for e in parsed.package or []]
    return Lockfile(
        path=str(path),
        format="conda-lock-v1" if data.get("version") is not None else "conda-lock-v0",
        platforms=list(meta.platforms) or sorted({p.platform for p in packages}),
        packages=packages,
        content_hash=dict(meta.content_hash),
        channels=[c if isinstance(c, str) else c.url for c in meta.channels],
    )


def _from_mapping(entry: dict[str, Any]) -> LockedPackage:
    manager, url, hashes = entry["manager"], entry["url"], entry["hash"]
    if manager not in ("conda", "pip") or not isinstance(hashes, dict):
        raise ValueError(manager)
    categories = entry.get("categories")
    is_conda = manager == "conda"
    return LockedPackage(
        name=entry["name"], version=entry["version"], manager=manager, platform=entry["platform"],
        url=url, sha256=hashes.get("sha256") or None, md5=hashes.get("md5") or None,
        build=conda_build(url) if is_conda else "",
        channel=conda_channel(url) if is_conda else "pypi",
        category=categories[0] if categories else entry.get("category", "main"),
        optional=entry.get("optional", False),
        depends=entry.get("dependencies") or {},
    )


def _locked(entry: _Entry) -> LockedPackage:
    is_conda = entry.manager == "conda"
    category = entry.categories[0] if entry.categories else entry.category
    return LockedPackage(
        name=entry.name, version=entry.version, manager=entry.manager, platform=entry.platform,
        url=entry.url, sha256=entry.hash.sha256 or None, md5=entry.hash.md5 or None,
        build=conda_build(entry.url) if is_conda else "",
        channel=conda_channel(entry.url) if is_conda else "pypi",
        category=category, optional=entry.optional,
        depends=dict(entry.dependencies or {}),
    )
