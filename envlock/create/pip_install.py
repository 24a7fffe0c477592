"""Install the lock's pip packages with uv: exact URLs, ``--require-hashes``, ``--no-deps``,
``--no-build``.  Nothing is resolved at create time; the lock already is the resolution."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from envlock.errors import EnvlockError, InputError
from envlock.lockfile import LockedPackage


def uv_binary() -> str:
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if not found:
            raise EnvlockError("uv is not installed; envlock needs it for the pip part of a lock (pip install uv).") from None
        return found


def requirements(packages: Sequence[LockedPackage]) -> str:
    lines = []
    for p in packages:
        if not p.sha256:
            raise InputError(f"lock entry {p.name} {p.version} (pip, {p.url}) has no sha256; envlock installs only "
                             "hash-pinned wheels. Regenerate the lock with `envlock lock`.")
        lines.append(f"{p.name} @ {p.url} --hash=sha256:{p.sha256}")
    return "\n".join(lines) + "\n"


def install_wheels(packages: Sequence[LockedPackage], python: Path, staging: Path, final_prefix: Path) -> None:
    if not packages:
        return
    if not python.exists():
        raise InputError(f"{python}: the lock has pip packages but its conda part installs no python here; "
                         "add python to the profile.")
    req = staging.parent / f".{staging.name}.requirements.txt"
    req.write_text(requirements(packages))
    cmd = [uv_binary(), "pip", "install", "--python", str(python), "--no-deps", "--require-hashes",
           "--no-build", "--no-config", "--quiet", "-r", str(req)]
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
    env.pop("VIRTUAL_ENV", None)
    env.pop("CONDA_PREFIX", None)
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    finally:
        req.unlink(missing_ok=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-12:])
        raise EnvlockError(f"installing the lock's {len(packages)} pip packages with uv failed "
                           f"(exit {proc.returncode}):\n{tail}", exit_code=1)
    retarget_scripts(staging, final_prefix)


def retarget_scripts(staging: Path, final_prefix: Path) -> int:
    """Entry-point scripts written by the installer name the staging python; point them at the final one."""
    old, new = str(staging).encode(), str(final_prefix).encode()
    count = 0
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
            st = os.stat(entry.path)
            tmp = entry.path + ".envlock-tmp"
            with open(tmp, "wb") as f:
                f.write(data.replace(old, new))
            os.chmod(tmp, st.st_mode)
            os.replace(tmp, entry.path)
            count += 1
    return count
