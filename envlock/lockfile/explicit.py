"""Explicit lockfiles (``@EXPLICIT``): one platform, one package URL per line.

Written by ``conda list --explicit``, conda-lock (``--kind explicit``) and envlock
(``locks/<name>/<platform>.lock``).  Optional ``# platform:``, ``# input_hash:`` and
``# env_hash:`` headers; ``#<md5>`` or ``#sha256:<hex>`` fragments; ``.conda`` and
``.tar.bz2``; any channel host; ``# pip name @ url#sha256=…`` lines for pip packages.
"""

from __future__ import annotations

import re
from pathlib import Path

from envlock.core.errors import InputError
from envlock.lockfile.limits import MAX_PACKAGES
from envlock.lockfile.model import LockedPackage, Lockfile
from envlock.lockfile.urls import (
    conda_channel,
    conda_subdir,
    split_conda_filename,
    wheel_name_version,
)

MARKER = "@EXPLICIT"
_HEADER = re.compile(r"^#\s*(platform|input_hash|env_hash):\s*(\S+)\s*$")
_PIP = re.compile(r"^#\s*pip\s+(?P<name>[A-Za-z0-9._-]+)\s*@\s*(?P<url>\S+?)(?:#sha256=(?P<sha>[0-9a-f]{64}))?\s*$")
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_SHA256 = re.compile(r"^(?:sha256:)?([0-9a-f]{64})$")


def pip_note(profile: str) -> list[str]:
    """Header lines of an explicit file that holds ``# pip`` lines: conda never installs those."""
    return [
        "# The '# pip' lines at the end are comments to conda: `conda create --file` and",
        "# `micromamba create -f` install the conda packages only. For the whole environment use",
        f"# `envlock create --profile {profile}` or `conda-lock install locks/{profile}.conda-lock.yml`.",
    ]


def looks_explicit(text: str) -> bool:
    return any(line.strip() == MARKER for line in text.splitlines()[:200])


def _hashes(fragment: str) -> tuple[str | None, str | None]:
    """(md5, sha256) from a URL fragment."""
    if _MD5.match(fragment):
        return fragment, None
    m = _SHA256.match(fragment)
    return (None, m.group(1)) if m else (None, None)


def parse_explicit(path: Path, text: str) -> Lockfile:
    headers: dict[str, str] = {}
    conda_lines: list[tuple[int, str]] = []
    pip_lines: list[tuple[int, re.Match[str]]] = []
    seen_marker = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if len(conda_lines) + len(pip_lines) > MAX_PACKAGES:
            raise InputError(f"{path}: lists more than {MAX_PACKAGES:,} packages, the most envlock reads; "
                             "regenerate the lock with conda-lock or `envlock lock`.")
        line = raw.strip()
        if not line:
            continue
        if line == MARKER:
            seen_marker = True
        elif line.startswith("#"):
            if m := _HEADER.match(line):
                headers[m.group(1)] = m.group(2)
            elif m := _PIP.match(line):
                pip_lines.append((number, m))
        elif seen_marker:
            conda_lines.append((number, line))
        else:
            raise InputError(
                f"{path}: line {number} comes before the '@EXPLICIT' marker ({line[:60]!r}); "
                "an explicit lockfile lists package URLs only after that line."
            )
    if not seen_marker:
        raise InputError(f"{path}: no '@EXPLICIT' line; this is not an explicit lockfile.")

    subdirs = [conda_subdir(u) for _, u in conda_lines]
    platform = headers.get("platform") or next((s for s in subdirs if s != "noarch"), "") or "noarch"
    packages = [_conda_package(path, number, url, platform) for number, url in conda_lines]
    packages += [_pip_package(m, platform) for _, m in pip_lines]
    recorded = headers.get("input_hash") or headers.get("env_hash")
    content_hash = {platform: recorded} if recorded else {}
    channels = list(dict.fromkeys(p.channel for p in packages if p.manager == "conda"))
    return Lockfile(
        path=str(path), format="explicit", platforms=[platform], packages=packages,
        content_hash=content_hash, channels=channels,
    )


def _conda_package(path: Path, number: int, line: str, platform: str) -> LockedPackage:
    url, _, fragment = line.partition("#")
    parsed = split_conda_filename(url.rsplit("/", 1)[-1])
    if not url.startswith(("http://", "https://", "file://", "s3://", "oci://")) or parsed is None:
        raise InputError(
            f"{path}: line {number} is not a package URL ending in name-version-build.conda or "
            f".tar.bz2 ({line[:80]!r}); fix or remove that line."
        )
    name, version, build = parsed
    md5, sha256 = _hashes(fragment.strip())
    return LockedPackage(
        name=name, version=version, build=build, manager="conda", platform=platform, url=url,
        md5=md5, sha256=sha256, channel=conda_channel(url), category="main", optional=False, depends={},
    )


def _pip_package(m: re.Match[str], platform: str) -> LockedPackage:
    url = m.group("url")
    parsed = wheel_name_version(url.rsplit("/", 1)[-1])
    name, version = parsed if parsed else (m.group("name").lower(), "")
    return LockedPackage(
        name=m.group("name").lower().replace("_", "-") or name, version=version, build="", manager="pip",
        platform=platform, url=url, md5=None, sha256=m.group("sha"), channel="pypi",
        category="main", optional=False, depends={},
    )


def explicit_text(name: str, platform: str, lock: dict, input_hash: str) -> str:
    """An ``@EXPLICIT`` file: what ``conda create --file`` / ``micromamba create -f`` read.
    pip packages follow as ``# pip`` comments, the convention conda-lock uses."""
    conda = [p for p in lock["package"] if p["platform"] == platform and p.get("manager", "conda") == "conda"]
    pip = [p for p in lock["package"] if p["platform"] == platform and p.get("manager") == "pip"]
    lines = [
        f"# Generated by envlock from profiles/{name}.yml; do not edit.",
        f"# platform: {platform}",
        f"# input_hash: {input_hash}",
        *(pip_note(name) if pip else []),
        "@EXPLICIT",
    ]
    for p in sorted(conda, key=lambda p: p["name"]):
        h = p.get("hash") or {}
        frag = h.get("md5") or (f"sha256:{h['sha256']}" if h.get("sha256") else "")
        lines.append(f"{p['url']}#{frag}" if frag else p["url"])
    for p in sorted(pip, key=lambda p: p["name"].lower()):
        lines.append(f"# pip {p['name']} @ {p['url']}#sha256={p['hash']['sha256']}")
    return "\n".join(lines) + "\n"
