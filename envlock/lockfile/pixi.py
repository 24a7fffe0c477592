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

from envlock.core.errors import InputError
from envlock.lockfile.fast_yaml import Unsupported, _scalar, _value
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

_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*):", re.MULTILINE)


def _sections(text: str, line_count: int) -> dict[str, tuple[int, int]]:
    """Top-level key -> (first, end) line range of its block."""
    starts, line, pos = [], 0, 0
    for m in _TOP_KEY.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        starts.append((line, m.group(1)))
    return {key: (i + 1, starts[n + 1][0] if n + 1 < len(starts) else line_count)
            for n, (i, key) in enumerate(starts)}


def _scan_environments(lines: list[str], first: int, end: int) -> tuple[dict[str, dict[str, list[tuple[str, str]]]],
                                                                       dict[str, list[str]]]:
    """{env: {platform: [(kind, ref)]}} and {env: channel URLs}, in file order."""
    envs: dict[str, dict[str, list[tuple[str, str]]]] = {}
    channels: dict[str, list[str]] = {}
    env = section = None
    refs: list[tuple[str, str]] | None = None
    env_indent = section_indent = -1
    for i in range(first, end):
        line = lines[i]
        body = line.lstrip(" ")
        if refs is not None and body.startswith("- "):  # the bulk: "- conda: <url>" of one platform
            kind, sep, ref = body[2:].partition(": ")
            if not sep or kind not in _KINDS:
                raise Unsupported(line)
            refs.append((kind, _value(ref.rstrip())))
            continue
        stripped = body.rstrip()
        if not stripped or stripped.startswith("#"):
            continue
        ind = len(line) - len(body)
        if env_indent < 0:
            env_indent = ind
        if ind == env_indent:
            if not stripped.endswith(":"):
                raise Unsupported(line)
            env = _scalar(stripped[:-1])
            envs[env], channels[env] = {}, []
            section, refs, section_indent = None, None, -1
            continue
        if env is None:
            raise Unsupported(line)
        if section_indent < 0 or (ind == section_indent and not stripped.startswith("- ")):
            section_indent, section, refs = ind, stripped.split(":", 1)[0], None
            if section == "packages" and stripped.replace(" ", "") not in ("packages:", "packages:{}"):
                raise Unsupported(line)
            continue
        if section == "channels" and stripped.startswith("- url:"):
            channels[env].append(_scalar(stripped[6:].strip()))
        elif section == "packages":
            if stripped.startswith("- ") or not (stripped.endswith(":") or stripped.endswith(": []")):
                raise Unsupported(line)
            refs = envs[env].setdefault(_scalar(stripped.split(":", 1)[0]), [])
    return envs, channels


def _scan_packages(lines: list[str], first: int, end: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    entry: dict[str, Any] = {}
    item = key_at = ""
    list_key: str | None = None
    for i in range(first, end):
        line = lines[i]
        if not item:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            indent = len(line) - len(line.lstrip(" "))
            item, key_at = " " * indent + "- ", " " * (indent + 2)
        if line.startswith(item):
            entry = {}
            entries.append(entry)
            body = line[len(item):]
            list_key = None
        elif line.startswith(key_at):
            body = line[len(key_at):]
            first_char = body[:1]
            if first_char == " " or first_char == "-":  # a list item, or content nested deeper
                item_text = body.lstrip(" ")
                if list_key is not None and item_text.startswith("- ") and (first_char == "-" or body.startswith("  ")):
                    entry[list_key].append(_value(item_text[2:].rstrip()))
                continue
            if first_char == "#":
                continue
        else:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            raise Unsupported(line)
        key, _, rest = body.partition(":")
        list_key = None
        if key in _KEEP:
            entry[key] = _value(rest.strip())
        elif key in _LIST_KEYS:
            rest = rest.strip()
            if rest not in ("", "[]"):
                raise Unsupported(line)
            entry[key] = []
            list_key = key if rest == "" else None
    return entries


def parse_pixi(path: Path, text: str) -> Lockfile:
    """The scanner; raises ``Unsupported`` on text it does not read (the caller uses rattler)."""
    lines = text.split("\n")
    sections = _sections(text, len(lines))
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
    built: dict[tuple[str, str], LockedPackage] = {}  # one template per entry, copied per reference
    packages: list[LockedPackage] = []
    env_platforms: dict[str, list[str]] = {}
    for env, plats in envs.items():
        env_platforms[env] = [subdirs.get(p, p) for p in plats]
        for plat, refs in plats.items():
            platform = subdirs.get(plat, plat)
            for key in refs:
                template = built.get(key)
                if template is None:
                    entry = by_ref.get(key)
                    if entry is None:
                        raise InputError(f"{path}: environment '{env}' ({plat}) lists {key[0]} package {key[1]!r} "
                                         "that the 'packages' section does not describe; re-lock with `pixi lock`.")
                    template = built[key] = _from_entry("", "", key[0], key[1], entry)
                packages.append(_placed(template, env, platform))
    return _lockfile(path, version, env_platforms, packages, channels)


def _placed(t: LockedPackage, env: str, platform: str) -> LockedPackage:
    return LockedPackage(name=t.name, version=t.version, build=t.build, manager=t.manager, platform=platform,
                         url=t.url, sha256=t.sha256, md5=t.md5, channel=t.channel, depends=t.depends,
                         environment=env)


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
