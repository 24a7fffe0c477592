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


# --- credentials in channel URLs -------------------------------------------------------
# conda-lock's convention: a lockfile never holds a secret; a channel that needs one is
# written with environment-variable placeholders (``http://${USER}:${PASS}@host/channel``,
# ``https://host/t/${TOKEN}/channel``), which are filled from the environment at download time.

_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s\"'<>]+)@")
_TOKEN = re.compile(r"(?P<head>/t/)(?P<token>[^/\s\"'<>]+)(?=/)")
_PLACEHOLDER = re.compile(r"\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)")
_ONLY_PLACEHOLDERS = re.compile(r"^(?:\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*|:)+$")


def _is_placeholder(text: str) -> bool:
    return bool(_ONLY_PLACEHOLDERS.match(text))


def mask_credentials(text: str) -> str:
    """``text`` with the ``user:password@`` of every URL in it replaced by ``***@`` and every
    anaconda-style ``/t/<token>/`` by ``/t/***/``; placeholders (``${VAR}``) are no secret and stay."""
    text = _USERINFO.sub(lambda m: m.group(0) if _is_placeholder(m["userinfo"]) else f"{m['scheme']}***@", text)
    return _TOKEN.sub(lambda m: m.group(0) if _is_placeholder(m["token"]) else f"{m['head']}***", text)
