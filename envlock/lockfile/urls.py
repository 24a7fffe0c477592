"""What a package URL says: channel, subdir, and name/version/build from the file name."""

from __future__ import annotations

import re

CONDA_EXTENSIONS = (".tar.bz2", ".conda")
_WHEEL = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")


def conda_channel(url: str) -> str:
    """``https://conda.anaconda.org/conda-forge/linux-64/x.conda`` -> ``…/conda-forge``."""
    parts = url.split("#", 1)[0].split("/")
    return "/".join(parts[:-2]) if len(parts) > 2 else ""


def conda_subdir(url: str) -> str:
    parts = url.split("#", 1)[0].split("/")
    return parts[-2] if len(parts) > 2 else ""


def split_conda_filename(filename: str) -> tuple[str, str, str] | None:
    """``tensorflow-base-2.10.0-cuda112py310hf679b68_0.tar.bz2`` -> (name, version, build).

    Conda file names are ``name-version-build``; names may hold dashes, version and build
    never do, so the split is from the right."""
    for ext in CONDA_EXTENSIONS:
        if filename.endswith(ext):
            stem = filename[: -len(ext)]
            pieces = stem.rsplit("-", 2)
            if len(pieces) == 3 and all(pieces):
                return pieces[0], pieces[1], pieces[2]
            return None
    return None


def conda_build(url: str) -> str:
    parsed = split_conda_filename(url.split("#", 1)[0].rsplit("/", 1)[-1])
    return parsed[2] if parsed else ""


def wheel_name_version(filename: str) -> tuple[str, str] | None:
    m = _WHEEL.match(filename)
    if not m:
        return None
    return m.group("name").replace("_", "-").lower(), m.group("version")
