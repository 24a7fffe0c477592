"""pixi.lock (lock format versions 4 to 7): every environment × platform, conda and PyPI.

Two readers produce the same ``Lockfile``: this module's line scanner, which ``read_lockfile``
uses (a 40,000-reference file reads in a fraction of what libyaml or py-rattler need), and
``pixi_rattler.read_with_rattler`` (py-rattler's ``LockFile.from_path``), the full reader the
scanner is checked against on every real file and falls back to on any text it does not read.

Layout (v6/v7; v4/v5 entries spell ``kind``/``name``/``version``/``build``/``url`` instead of
``conda:``/``pypi:``; v7 adds a top-level ``platforms:`` list, whose ``name`` may be custom
with the conda ``subdir`` beside it)::

    environments:
      <env>:
        channels: [- url: …]
        packages:
          <platform>:
          - conda: <url>        # or - pypi: <url or path>
    packages:
    - conda: <url>
      sha256: … / md5: … / depends: [- "name spec"]
    - pypi: <url>
      name: … / version: … / sha256: … / requires_dist: [- "name spec ; marker"]
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from envlock.errors import InputError
from envlock.lockfile.fast_yaml import Unsupported, _scalar
from envlock.lockfile.model import LockedPackage, Lockfile
from envlock.lockfile.urls import conda_channel, split_conda_filename, wheel_name_version

VERSIONS = (4, 5, 6, 7)
_LIST_KEYS = frozenset(("depends", "requires_dist"))
_KINDS = ("conda", "pypi", "conda_source")
_KEEP = frozenset(("conda", "pypi", "conda_source", "kind", "name", "version", "build", "subdir", "url", "path",
                   "sha256", "md5", "requires_python"))
_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$")


def looks_pixi(text_head: str) -> bool:
    """A pixi.lock starts with ``version: N`` and has a top-level ``environments:`` key."""
    return text_head.startswith("version:") and "\nenvironments:" in text_head


def check_version(path: Path, raw: Any) -> int:
    try:
        version = int(str(raw).strip().strip("'\""))
    except ValueError:
        version = -1
    if version not in VERSIONS:
        newer = " — newer than envlock reads; upgrade envlock" if version > max(VERSIONS) else ""
        raise InputError(
            f"{path}: pixi.lock field 'version' is {raw!r}{newer}; envlock reads pixi.lock versions "
            f"{VERSIONS[0]}–{VERSIONS[-1]} (re-lock with a current pixi: `pixi lock`)."
        )
    return version


# --- the records both readers build LockedPackages from -----------------------------------

def conda_depends(specs: list[str]) -> dict[str, str]:
    """``["python >=3.10,<3.11.0a0", "__cuda"]`` -> ``{"python": ">=3.10,<3.11.0a0", "__cuda": ""}``."""
    out: dict[str, str] = {}
    for spec in specs:
        name, _, rest = spec.strip().partition(" ")
        out.setdefault(name, rest.strip())
    return out


def pypi_depends(requires_dist: list[str]) -> dict[str, str]:
    """Unconditional requirements only: a marker (extra, platform, Python) may or may not
    apply, and the lock does not say which."""
    out: dict[str, str] = {}
    for line in requires_dist:
        if ";" in line:
            continue
        m = _REQ.match(line)
        if m:
            spec = m.group(2).strip()
            if spec.startswith("(") and spec.endswith(")"):
                spec = spec[1:-1]
            clauses = sorted(c for c in spec.replace(" ", "").split(",") if c)  # readers order them differently
            out.setdefault(m.group(1).lower().replace("_", "-"), ",".join(clauses))
    return out


def conda_package(env: str, platform: str, url: str, *, name: str = "", version: str = "", build: str = "",
                  sha256: str | None = None, md5: str | None = None, depends: dict[str, str]) -> LockedPackage:
    parsed = split_conda_filename(url.split("#", 1)[0].rsplit("/", 1)[-1])
    if parsed is not None:
        name, version, build = name or parsed[0], version or parsed[1], build or parsed[2]
    return LockedPackage(name=name, version=version, build=build, manager="conda", platform=platform, url=url,
                         sha256=sha256 or None, md5=md5 or None, channel=conda_channel(url), depends=depends,
                         environment=env)


def source_package(env: str, platform: str, ref: str, name: str, version: str,
                   depends: dict[str, str]) -> LockedPackage:
    return LockedPackage(name=name, version=version, build="", manager="conda", platform=platform, url=ref,
                         channel="", depends=depends, environment=env)


def pypi_package(env: str, platform: str, url: str, *, name: str = "", version: str = "",
                 sha256: str | None = None, depends: dict[str, str]) -> LockedPackage:
    if "://" not in url:  # a local source tree: its version and hash are computed at install time
        version, sha256 = "", None
    elif not (name and version):
        parsed = wheel_name_version(url.rsplit("/", 1)[-1])
        name, version = (name or parsed[0], version or parsed[1]) if parsed else (name, version)
    return LockedPackage(name=name.lower().replace("_", "-"), version=version, build="", manager="pip",
                         platform=platform, url=url, sha256=sha256 or None, md5=None, channel="pypi",
                         depends=depends, environment=env)


# --- the line scanner ------------------------------------------------------------------------

def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _sections(lines: list[str]) -> dict[str, tuple[int, int]]:
    """Top-level key -> (first, end) line range of its block."""
    starts = [(i, line.split(":", 1)[0]) for i, line in enumerate(lines)
              if line and not line.startswith((" ", "#", "-")) and ":" in line]
    return {key: (i + 1, starts[n + 1][0] if n + 1 < len(starts) else len(lines))
            for n, (i, key) in enumerate(starts)}


def _scan_environments(lines: list[str], first: int, end: int) -> tuple[dict[str, dict[str, list[tuple[str, str]]]],
                                                                       dict[str, list[str]]]:
    """{env: {platform: [(kind, ref)]}} and {env: channel URLs}, in file order."""
    envs: dict[str, dict[str, list[tuple[str, str]]]] = {}
    channels: dict[str, list[str]] = {}
    env = section = platform = None
    env_indent = section_indent = -1
    for i in range(first, end):
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        ind = _indent(line)
        if env_indent < 0:
            env_indent = ind
        if ind == env_indent:
            if not stripped.endswith(":"):
                raise Unsupported(line)
            env = _scalar(stripped[:-1])
            envs[env] = {}
            channels[env] = []
            section = platform = None
            section_indent = -1
            continue
        if env is None:
            raise Unsupported(line)
        if section_indent < 0 or (ind == section_indent and not stripped.startswith("- ")):
            section_indent = ind
            section = stripped.split(":", 1)[0]
            platform = None
            if section == "packages" and stripped.replace(" ", "") not in ("packages:", "packages:{}"):
                raise Unsupported(line)
            continue
        if section == "channels" and stripped.startswith("- url:"):
            channels[env].append(_scalar(stripped[6:].strip()))
        elif section == "packages":
            if stripped.startswith("- "):
                if platform is None:
                    raise Unsupported(line)
                kind, sep, ref = stripped[2:].partition(": ")
                if not sep or kind not in _KINDS:
                    raise Unsupported(line)
                envs[env][platform].append((kind, _scalar(ref.strip())))
            elif stripped.endswith(":") or stripped.endswith(": []"):
                platform = _scalar(stripped.split(":", 1)[0])
                envs[env][platform] = []
            else:
                raise Unsupported(line)
    return envs, channels


def _scan_packages(lines: list[str], first: int, end: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    entry: dict[str, Any] | None = None
    item_indent = -1
    list_key: str | None = None
    for i in range(first, end):
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        ind = _indent(line)
        if item_indent < 0:
            item_indent = ind
        if ind == item_indent and stripped.startswith("- "):
            entry = {}
            entries.append(entry)
            stripped = stripped[2:]
            list_key = None
        elif entry is None or ind <= item_indent:
            raise Unsupported(line)
        elif stripped.startswith("- ") or stripped == "-":
            if list_key is not None:
                entry[list_key].append(_scalar(stripped[2:].strip()))
            continue
        elif ind > item_indent + 2:
            continue  # nested content of a key envlock does not read (source:, purls: …)
        key, sep, rest = stripped.partition(":")
        rest = rest.strip()
        list_key = None
        if key in _LIST_KEYS:
            if rest in ("", "[]"):
                entry[key] = []
                list_key = key if rest == "" else None
            else:
                raise Unsupported(line)
        elif key in _KEEP:
            entry[key] = _scalar(rest)
    return entries


def read_pixi(path: Path, text: str) -> Lockfile:
    """The scanner's reading, or rattler's where the scanner meets text it does not read."""
    try:
        return parse_pixi(path, text)
    except Unsupported:
        from envlock.lockfile.pixi_rattler import read_with_rattler

        return read_with_rattler(path, text)


def parse_pixi(path: Path, text: str) -> Lockfile:
    """The scanner; raises ``Unsupported`` on text it does not read (the caller uses rattler)."""
    lines = text.split("\n")
    sections = _sections(lines)
    if "version" not in sections or "environments" not in sections:
        raise Unsupported("no version/environments")
    version = check_version(path, lines[sections["version"][0] - 1].split(":", 1)[1])
    subdirs = _platform_subdirs(lines, *sections["platforms"]) if "platforms" in sections else {}
    envs, channels = _scan_environments(lines, *sections["environments"])
    entries = _scan_packages(lines, *sections["packages"]) if "packages" in sections else []
    by_ref: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in entries:
        kind = next((k for k in _KINDS if k in entry), entry.get("kind", "pypi"))
        ref = entry.get(kind) or entry.get("url") or entry.get("path") or ""
        by_ref.setdefault((kind, ref), entry)
    packages: list[LockedPackage] = []
    env_platforms: dict[str, list[str]] = {}
    for env, plats in envs.items():
        env_platforms[env] = [subdirs.get(p, p) for p in plats]
        for plat, refs in plats.items():
            for kind, ref in refs:
                entry = by_ref.get((kind, ref))
                if entry is None:
                    raise InputError(f"{path}: environment '{env}' ({plat}) lists {kind} package {ref!r} that "
                                     "the 'packages' section does not describe; re-lock with `pixi lock`.")
                packages.append(_from_entry(env, subdirs.get(plat, plat), kind, ref, entry))
    return _lockfile(path, version, env_platforms, packages, channels)


def _platform_subdirs(lines: list[str], first: int, end: int) -> dict[str, str]:
    """v7 ``platforms:`` list: custom platform name -> conda subdir."""
    out: dict[str, str] = {}
    name = None
    for line in lines[first:end]:
        stripped = line.strip().removeprefix("- ")
        if stripped.startswith("name:"):
            name = _scalar(stripped[5:].strip())
            out[name] = name
        elif stripped.startswith("subdir:") and name is not None:
            out[name] = _scalar(stripped[7:].strip())
    return out


def _from_entry(env: str, platform: str, kind: str, ref: str, e: dict[str, Any]) -> LockedPackage:
    if kind == "conda_source":  # built from the project's sources: ``name[hash] @ path``
        name, _, where = ref.partition(" @ ")
        return source_package(env, platform, where.strip() or ref, e.get("name") or name.split("[", 1)[0].strip(),
                              e.get("version", ""), {})
    if kind == "conda":
        return conda_package(env, platform, ref, name=e.get("name", ""), version=e.get("version", ""),
                             build=e.get("build", ""), sha256=e.get("sha256"), md5=e.get("md5"),
                             depends=conda_depends(e.get("depends", [])))
    return pypi_package(env, platform, ref, name=e.get("name", ""), version=e.get("version", ""),
                        sha256=e.get("sha256"), depends=pypi_depends(e.get("requires_dist", [])))


def _lockfile(path: Path, version: int, env_platforms: dict[str, list[str]], packages: list[LockedPackage],
              channels: dict[str, list[str]]) -> Lockfile:
    env_platforms = {env: sorted(plats) for env, plats in sorted(env_platforms.items())}
    platforms = sorted({p for plats in env_platforms.values() for p in plats})
    return Lockfile(path=str(path), format=f"pixi-v{version}", platforms=platforms, packages=packages,
                    channels=list(dict.fromkeys(c for env in sorted(channels) for c in channels[env])),
                    environments=env_platforms)
