"""Where uv is: the binary the ``uv`` wheel ships (a dependency of envlock), else one on PATH."""

from __future__ import annotations

import shutil

from envlock.core.errors import EnvlockError


def uv_executable() -> str:
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if not found:
            raise EnvlockError("uv is not installed; envlock needs it for the pip part of a lock (pip install uv).") from None
        return found
