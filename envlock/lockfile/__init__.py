"""Read any lockfile into one typed model (``Lockfile`` of ``LockedPackage``).

The single reader every command uses (create, check, audit, diff).  One module per format:
``unified`` (conda-lock ``conda-lock.yml``, every version seen in the wild, envlock's own
locks), ``explicit`` (``@EXPLICIT`` files), ``pixi`` (``pixi.lock`` v4–v7, every environment)
and ``env_export`` (``conda env export`` YAML).  Anything else is refused with an
``InputError`` that names the file, the field and the fix — never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from envlock.core.errors import InputError
from envlock.lockfile.model import LockedPackage, Lockfile, Manager

# The format readers are imported by ``read_lockfile`` when it runs: a no-op create imports
# ``envlock.lockfile.limits`` (and so this package) but reads no lockfile.

__all__ = ["LockedPackage", "Lockfile", "Manager", "read_lockfile"]


def _load_fast(path: Path, text: str) -> Any:
    """The YAML document, reading a conda-lock ``package:`` list with the fast scanner."""
    from envlock.lockfile.fast_yaml import (
        TooMany,
        Unsupported,
        parse_block_mapping,
        parse_package_list,
        split_top_level,
    )
    from envlock.lockfile.limits import MAX_PACKAGES
    from envlock.lockfile.unified import load_yaml

    rest, package_lines = split_top_level(text)
    if package_lines is not None:
        try:
            entries = parse_package_list(package_lines, MAX_PACKAGES)
        except Unsupported:
            return load_yaml(path, text)
        except TooMany:
            raise InputError(f"{path}: field 'package' holds more than {MAX_PACKAGES:,} entries, the most envlock "
                             "reads; regenerate the lock with conda-lock or `envlock lock`.") from None
        try:
            data = parse_block_mapping(rest)
        except Unsupported:
            data = load_yaml(path, rest)
        if isinstance(data, dict) and "package" not in data:
            data["package"] = entries or None
            return data
    return load_yaml(path, text)


def read_pixi(path: Path, text: str) -> Lockfile:
    """The pixi.lock scanner's reading, or rattler's where the scanner meets text it does not read."""
    from envlock.lockfile.fast_yaml import Unsupported
    from envlock.lockfile.pixi import parse_pixi

    try:
        return parse_pixi(path, text)
    except Unsupported:
        from envlock.lockfile.pixi_rattler import read_with_rattler

        return read_with_rattler(path, text)


def read_lockfile(path: Path | str) -> Lockfile:
    from envlock.lockfile.env_export import looks_env_export, parse_env_export
    from envlock.lockfile.explicit import looks_explicit, parse_explicit
    from envlock.lockfile.pixi import looks_pixi
    from envlock.lockfile.text import read_text
    from envlock.lockfile.unified import looks_unified, parse_unified

    path = Path(path)
    text = read_text(path)  # bounded; BOM-marked UTF-8/16 and CRLF as Windows tools write them
    if looks_explicit(text):
        return parse_explicit(path, text)
    if looks_pixi(text[:4096]):
        return read_pixi(path, text)
    data = _load_fast(path, text)
    if looks_env_export(data):
        return parse_env_export(path, data)
    if looks_unified(data):
        return parse_unified(path, data)
    if isinstance(data, dict) and "dependencies" in data:
        raise InputError(
            f"{path}: is an environment file (field 'dependencies'), not a lockfile; lock it first "
            "(`conda-lock -f` or an envlock profile with `envlock lock`) and point envlock at the lock."
        )
    if isinstance(data, dict) and "version" in data:
        # Only a version and nothing else (mamba's bad_version fixture): say what is missing.
        return parse_unified(path, data)
    raise InputError(
        f"{path}: is neither a conda-lock file (fields 'metadata' and 'package') nor an explicit "
        "lockfile ('@EXPLICIT'). Point envlock at a conda-lock.yml or a <platform>.lock file."
    )
