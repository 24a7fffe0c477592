"""The environment's startup hook: its activation variables for every interpreter start.

IDEs, Jupyter, cron, shebang scripts and ``subprocess`` with a cleared environment start
``bin/python`` without activation, so variables that decide what the code does (today
``TF_USE_LEGACY_KERAS``: Keras 2 or Keras 3 behind ``tf.keras``) would be missing there.
``site`` runs ``import`` lines of ``*.pth`` files in site-packages at every start (unless
``-S``), so ``_envlock_env.pth`` imports ``_envlock_env``, which sets each variable with
``os.environ.setdefault``: a variable the caller set explicitly still wins.

The files are written as new files (temporary name, then rename), never through an existing
path: in a hard-linked environment that path could be shared with the package cache.  What
was written is recorded in ``conda-meta/envlock-hook`` (no ``.json`` suffix: conda reads
every ``conda-meta/*.json`` as a package record); ``check`` compares the files with what the
profile's variables make them (``prefix.drift`` reports them).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

from envlock.core.files import write_atomic

MODULE = "_envlock_env"
PTH_NAME = f"{MODULE}.pth"
MODULE_NAME = f"{MODULE}.py"
RECORD = Path("conda-meta") / "envlock-hook"
HOOK_PACKAGE = "envlock startup hook"  # how check names the hook's files


def module_source(env_vars: dict[str, str]) -> str:
    pairs = "".join(f"    ({k!r}, {v!r}),\n" for k, v in sorted(env_vars.items()))
    return (
        '"""Written by `envlock create`: the environment\'s activation variables for every interpreter\n'
        'start, activated or not. A variable already set by the caller wins. Do not edit: the\n'
        'profile\'s variables decide this file, and `envlock check` reports any difference."""\n'
        "import os\n\n"
        f"for _name, _value in (\n{pairs}):\n"
        "    os.environ.setdefault(_name, _value)\n"
    )


def hook_files(env_vars: dict[str, str]) -> dict[str, bytes]:
    """File name (in site-packages) -> contents."""
    return {PTH_NAME: f"import {MODULE}\n".encode(), MODULE_NAME: module_source(env_vars).encode()}


def _python_version(prefix: Path) -> str | None:
    """major.minor of the prefix's ``python`` conda package, from its conda-meta record name."""
    try:
        names = os.listdir(prefix / "conda-meta")
    except OSError:
        return None
    for n in names:
        m = re.fullmatch(r"python-(\d+)\.(\d+)[^-]*-[^-]+\.json", n)
        if m:
            return f"{m.group(1)}.{m.group(2)}"
    return None


def site_packages(prefix: Path) -> Path | None:
    """The prefix's site-packages: from its python package's version (the directory may not exist
    yet), else the only ``lib/python*/site-packages``; None when the prefix has no Python."""
    if sys.platform == "win32":
        return prefix / "Lib" / "site-packages"
    version = _python_version(prefix)
    if version is not None:
        return prefix / "lib" / f"python{version}" / "site-packages"
    found = sorted((prefix / "lib").glob("python*/site-packages"))
    return found[0] if len(found) == 1 else None


def install_into(site_dir: Path, env_vars: dict[str, str]) -> dict[str, str]:
    """Write the hook into ``site_dir``; file name -> sha256 of what was written."""
    site_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, data in hook_files(env_vars).items():
        write_atomic(site_dir / name, data)
        written[name] = hashlib.sha256(data).hexdigest()
    return written


def write_hook(prefix: Path, env_vars: dict[str, str]) -> None:
    """Install the hook into ``prefix``'s site-packages and record it (nothing when it has no Python)."""
    site = site_packages(prefix)
    if site is None:
        return
    written = install_into(site, env_vars)
    rel = site.relative_to(prefix).as_posix()
    record = {"version": 1, "env_vars": dict(sorted(env_vars.items())),
              "files": {f"{rel}/{name}": digest for name, digest in written.items()}}
    write_atomic(prefix / RECORD, (json.dumps(record, indent=1) + "\n").encode())


def read_record(prefix: Path) -> dict | None:
    try:
        record = json.loads((prefix / RECORD).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def hook_problems(prefix: Path, env_vars: dict[str, str]) -> list[tuple[str, str]]:
    """(path relative to ``prefix``, "deleted" | "modified") for each hook file (and the record)
    that is not what ``env_vars`` make it; empty when all match or the prefix has no Python."""
    site = site_packages(prefix)
    if site is None:
        return []
    rel = site.relative_to(prefix).as_posix()
    problems = []
    for name, want in hook_files(env_vars).items():
        try:
            have = (site / name).read_bytes()
        except OSError:
            problems.append((f"{rel}/{name}", "deleted"))
            continue
        if have != want:
            problems.append((f"{rel}/{name}", "modified"))
    record = read_record(prefix)
    if record is None:
        problems.append((RECORD.as_posix(), "deleted"))
    elif record.get("env_vars") != dict(sorted(env_vars.items())):
        problems.append((RECORD.as_posix(), "modified"))
    return problems
