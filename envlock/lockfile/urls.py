"""What a package URL says: channel, subdir, and name/version/build from the file name."""

from __future__ import annotations

import os
import re
from urllib.parse import quote, unquote

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


def has_literal_credentials(url: str) -> bool:
    return mask_credentials(url) != url


def strip_credentials(url: str) -> str:
    """``url`` without any literal ``user:password@`` or ``/t/<token>`` (placeholders stay)."""
    url = _USERINFO.sub(lambda m: m.group(0) if _is_placeholder(m["userinfo"]) else m["scheme"], url)
    return _TOKEN.sub(lambda m: m.group(0) if _is_placeholder(m["token"]) else "", url)


def placeholders(url: str) -> list[str]:
    """The environment variables ``url``'s credentials name, in order."""
    parts = [m["userinfo"] for m in _USERINFO.finditer(url)] + [m["token"] for m in _TOKEN.finditer(url)]
    return [v["braced"] or v["bare"] for part in parts if _is_placeholder(part) for v in _PLACEHOLDER.finditer(part)]


def expand_credentials(url: str, environ: dict[str, str] | None = None) -> str:
    """``url`` with its credential placeholders filled from the environment.  Raises KeyError
    naming the first variable that is not set."""
    env = os.environ if environ is None else environ

    def fill(part: str) -> str:
        if not _is_placeholder(part):
            return part
        return _PLACEHOLDER.sub(lambda v: quote(env[v["braced"] or v["bare"]], safe=""), part)

    url = _USERINFO.sub(lambda m: f"{m['scheme']}{fill(m['userinfo'])}@", url)
    return _TOKEN.sub(lambda m: f"{m['head']}{fill(m['token'])}", url)


def authorized_request(url: str) -> tuple[str, dict[str, str]]:
    """What a download sends for ``url``: the URL without ``user:password@`` (placeholders
    filled from the environment) and the ``Authorization`` header carrying them."""
    from envlock.core.errors import InputError

    try:
        full = expand_credentials(url)
    except KeyError as exc:
        raise InputError(f"{url}: the lock names environment variable {exc.args[0]} for this channel's "
                         f"credentials; set it (export {exc.args[0]}=...) and run again.") from None
    m = _USERINFO.search(full)
    if m is None:
        return full, {}
    import base64

    user, _, password = unquote(m["userinfo"]).partition(":")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return full[: m.start()] + m["scheme"] + full[m.end():], {"Authorization": f"Basic {token}"}
