"""Install the lock's pip packages with uv: exact URLs, ``--require-hashes``, ``--no-deps``,
``--no-build``.  Nothing is resolved at create time; the lock already is the resolution."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from envlock.core.child import die_with_parent
from envlock.core.digests import sha256
from envlock.core.errors import EnvlockError, InputError
from envlock.core.files import write_atomic
from envlock.core.uv import uv_executable
from envlock.create.mirror_source import MIRROR_ENV
from envlock.lockfile import LockedPackage


def requirements(packages: Sequence[LockedPackage]) -> str:
    lines = []
    for p in packages:
        if not p.sha256:
            raise InputError(f"lock entry {p.name} {p.version} (pip, {p.url}) has no sha256; envlock installs only "
                             "hash-pinned wheels. Regenerate the lock with `envlock lock`.")
        lines.append(f"{p.name} @ {p.url} --hash=sha256:{p.sha256}")
    return "\n".join(lines) + "\n"


def _uv_env() -> dict[str, str]:
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
    env.pop("VIRTUAL_ENV", None)
    env.pop("CONDA_PREFIX", None)
    return env


def install_wheels(packages: Sequence[LockedPackage], python: Path, staging: Path, final_prefix: Path, *,
                   refresh: bool = False) -> None:
    """``refresh``: drop the packages from uv's cache first and reinstall them over what is in
    ``staging`` (their cached copy was edited through a hard link)."""
    if not packages:
        return
    packages = localize_wheels(packages)  # with a mirror: its wheels, hash-checked into the package cache
    if not python.exists():
        raise InputError(f"{python}: the lock has pip packages but its conda part installs no python here; "
                         "add python to the profile.")
    # beside the staging directory, named after it: the next run's recovery removes it with it
    req = staging.parent / f".{staging.name}.requirements.txt"
    req.write_text(requirements(packages))
    cmd = [uv_executable(), "pip", "install", "--python", str(python), "--no-deps", "--require-hashes",
           "--no-build", "--no-config", "--quiet", "-r", str(req)]
    if refresh:
        names = sorted({p.name for p in packages})
        _uv([uv_executable(), "cache", "clean", "--no-config", "--quiet", *names], f"dropping {', '.join(names)} from uv's cache")
        cmd.append("--reinstall")
    try:
        _uv(cmd, f"installing the lock's {len(packages)} pip packages with uv")
    finally:
        req.unlink(missing_ok=True)
    retarget_scripts(staging, final_prefix)


def _uv(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, env=_uv_env(), capture_output=True, text=True, check=False, preexec_fn=die_with_parent())
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-12:])
        raise EnvlockError(f"{what} failed (exit {proc.returncode}):\n{tail}", exit_code=1)


def retarget_scripts(staging: Path, final_prefix: Path) -> int:
    """Entry-point scripts written by the installer name the staging python; point them at the
    final one, and give their RECORD entries the new hash and size (``check`` compares them)."""
    old, new = str(staging).encode(), str(final_prefix).encode()
    rewritten: dict[str, tuple[str, int]] = {}  # "bin/<name>" -> (sha256 hex, size)
    bindir = staging / "bin"
    if not bindir.is_dir():
        return 0
    for entry in os.scandir(bindir):
        if not entry.is_file(follow_symlinks=False):
            continue
        with open(entry.path, "rb") as f:
            head = f.read(2)
            if head != b"#!":
                continue
            data = head + f.read()
        if old in data:
            data = data.replace(old, new)
            write_atomic(Path(entry.path), data, mode=os.stat(entry.path).st_mode)
            rewritten[f"bin/{entry.name}"] = (sha256(data).hexdigest(), len(data))
    if rewritten:
        _fix_records(staging, rewritten)
    return len(rewritten)


def _fix_records(prefix: Path, rewritten: dict[str, tuple[str, int]]) -> None:
    """Rewrite the RECORD lines of ``rewritten`` files (paths relative to the prefix)."""
    from envlock.prefix.pip_files import record_hash, site_packages

    for sp_rel in site_packages(prefix):
        for dist in os.listdir(prefix / sp_rel):
            record = prefix / sp_rel / dist / "RECORD"
            if not dist.endswith(".dist-info") or not record.is_file():
                continue
            lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
            changed = False
            for i, line in enumerate(lines):
                rel, sep, _rest = line.partition(",")
                target = os.path.normpath(f"{sp_rel}/{rel}").replace(os.sep, "/") if sep else ""
                if target in rewritten:
                    digest, size = rewritten[target]
                    lines[i] = f"{rel},{record_hash(digest)},{size}\n"
                    changed = True
            if changed:
                record.write_text("".join(lines), encoding="utf-8")


def localize_wheels(packages: Sequence[LockedPackage]) -> list[LockedPackage]:
    """With a mirror: each wheel fetched from it into the package cache (hash-checked), and the
    packages pointing at those files, for uv; without one: ``packages`` as they are."""
    if not os.environ.get(MIRROR_ENV) or not packages:
        return list(packages)
    from dataclasses import replace

    from envlock.create import cache

    fetched = cache.fetch_all(cache.cache_root(), packages)
    return [replace(a.package, url=a.path.as_uri()) for a in fetched]
