"""conda-lock unified files (``conda-lock.yml``): every platform, conda and pip entries.

Accepted forms, all seen in the wild: ``version: 1`` (conda-lock 1.x–3.x, envlock), no
``version:`` key at all (early conda-lock; rattler calls it v0), channels as plain strings or
as ``{url, used_env_vars}`` objects, ``category`` or ``categories``, a missing category
(defaults to ``main``), an empty ``package:``.  Newer versions are refused with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from envlock.core.errors import InputError
from envlock.core.messages import shown
from envlock.lockfile.limits import (
    MAX_CHANNELS,
    MAX_PACKAGES,
    MAX_PLATFORMS,
    check_count,
    check_shape,
    check_yaml_tokens,
)
from envlock.lockfile.model import LockedPackage, Lockfile

SUPPORTED_VERSIONS = (1,)


class PipPinLike(Protocol):
    """One locked wheel (``lock.pip.PipPin``)."""

    name: str
    version: str
    url: str
    sha256: str
_NULLS = ("", "null", "~", "Null", "NULL")
# The strings pydantic's lax ``bool`` accepted (compared lower-cased): BaseLoader leaves
# ``optional: false`` a string, and files relied on that coercion.
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def looks_unified(data: Any) -> bool:
    return isinstance(data, dict) and ("package" in data or "metadata" in data)


def load_yaml(path: Path, text: str) -> Any:
    """Every scalar stays a string (BaseLoader): ``version: 3.10`` must not become 3.1.  The
    document is checked against the size limits before anything walks it (alias bombs)."""
    import yaml  # here, not at the top: explicit lockfiles never need it

    check_yaml_tokens(path, text)
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CBaseLoader", yaml.BaseLoader))
    except yaml.YAMLError as exc:
        raise InputError(
            f"{path}: is not valid YAML{_yaml_problem(exc)}. "
            "Restore the file from version control or regenerate it with conda-lock / `envlock lock`."
        ) from None
    check_shape(path, data)
    return data


def _yaml_problem(exc: Exception) -> str:
    """`` at line N (what)`` from a PyYAML error, without its multi-line position text."""
    if hasattr(exc, "position") and hasattr(exc, "reason"):  # ReaderError: a character YAML forbids
        return f" at character {exc.position} ({shown(exc.reason, 100)})"
    mark = getattr(exc, "problem_mark", None)
    at = f" at line {mark.line + 1}" if mark else ""
    what = getattr(exc, "problem", None) or getattr(exc, "context", None) or type(exc).__name__
    return f"{at} ({shown(what, 100)})"


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
        raise InputError(f"{path}: field 'version' is {shown(raw)}, which {why} (supported: 1); {fix}.")


def _check_counts(path: Path, data: dict) -> None:
    meta = data.get("metadata")
    if isinstance(meta, dict):
        check_count(path, "metadata.platforms", meta.get("platforms"), MAX_PLATFORMS)
        check_count(path, "metadata.channels", meta.get("channels"), MAX_CHANNELS)
    check_count(path, "package", data.get("package"), MAX_PACKAGES)


def parse_unified(path: Path, data: dict) -> Lockfile:
    _check_version(path, data.get("version"))
    _check_counts(path, data)
    if isinstance(data.get("package"), str) and data["package"] in _NULLS:
        data = {**data, "package": None}
    try:
        # Fast path: plain type checks, no pydantic (its import alone costs ~75 ms).
        platforms, content_hash, channels = _metadata(data["metadata"])
        packages = [_from_mapping(e) for e in data.get("package") or []]
    except (KeyError, TypeError, AttributeError, ValueError):
        # The pydantic file model is the specification; it also names the broken field.
        from envlock.lockfile.unified_schema import validate

        platforms, content_hash, channels, packages = validate(path, data)
    return Lockfile(
        path=str(path),
        format="conda-lock-v1" if data.get("version") is not None else "conda-lock-v0",
        platforms=platforms or sorted({p.platform for p in packages}),
        packages=packages,
        content_hash=content_hash,
        channels=channels,
    )


# --- fast-path checks: accept only what the schema in unified_schema accepts; on anything
# else raise, so that the schema re-validates the file and names the field.

def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_str_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _channel_url(channel: Any) -> str:
    """A channel is a URL string or a ``{url, used_env_vars}`` mapping."""
    if isinstance(channel, str):
        return channel
    if isinstance(channel, dict) and isinstance(channel.get("url"), str) \
            and _is_str_list(channel.get("used_env_vars", [])):
        return channel["url"]
    raise ValueError("channels")


def _metadata(meta: Any) -> tuple[list[str], dict[str, str], list[str]]:
    """(platforms, content_hash, channel URLs) of a ``metadata:`` mapping."""
    if not isinstance(meta, dict):
        raise TypeError("metadata")
    platforms, channels = meta["platforms"], meta.get("channels", [])
    content_hash = meta.get("content_hash", {})
    if not (_is_str_list(platforms) and isinstance(channels, list) and _is_str_map(content_hash)
            and _is_str_list(meta.get("sources", []))):
        raise ValueError("metadata")
    return list(platforms), dict(content_hash), [_channel_url(c) for c in channels]


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise ValueError("optional")


def _from_mapping(entry: Any) -> LockedPackage:
    if not isinstance(entry, dict):
        raise TypeError("package entry")
    name, version, platform = entry["name"], entry["version"], entry["platform"]
    manager, url, hashes = entry["manager"], entry["url"], entry["hash"]
    if not (isinstance(name, str) and isinstance(version, str) and isinstance(platform, str)
            and isinstance(url, str) and manager in ("conda", "pip") and isinstance(hashes, dict)):
        raise ValueError("package entry")
    sha256, md5 = hashes.get("sha256") or None, hashes.get("md5") or None
    # Empty "dependencies:" / "categories:" keys read as "" and mean none.
    depends, categories = entry.get("dependencies") or {}, entry.get("categories")
    category = entry.get("category", "main")
    if not ((sha256 is None or isinstance(sha256, str)) and (md5 is None or isinstance(md5, str))
            and _is_str_map(depends) and isinstance(category, str)
            and (not categories or _is_str_list(categories))):
        raise ValueError("package entry")
    return LockedPackage.from_entry(
        name=name, version=version, manager=manager, platform=platform, url=url, sha256=sha256, md5=md5,
        category=categories[0] if categories else category,
        optional=_bool(entry.get("optional", False)), depends=depends,
    )


# --- writing --------------------------------------------------------------------------

def pip_entries(platform: str, pins: Iterable[PipPinLike]) -> list[dict]:
    """conda-lock v1 ``manager: pip`` entries."""
    return [{
        "name": p.name, "version": p.version, "manager": "pip", "platform": platform,
        "dependencies": {}, "url": p.url, "hash": {"sha256": p.sha256},
        "category": "main", "optional": False,
    } for p in pins]


def dump_lock(lock: dict) -> bytes:
    import yaml

    header = "# envlock: conda-lock unified lockfile (v1); regenerate with `envlock lock`.\n"
    return (header + yaml.safe_dump(lock, sort_keys=False, width=1000)).encode()
