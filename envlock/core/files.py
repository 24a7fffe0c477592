"""Writing a file whole or not at all: a temporary name beside it, then a rename.

The rename also gives the file a new inode, so a write never reaches through a hard link into
a package cache.  Plain ``os`` only: this sits on create's fast path."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: Path, data: bytes | str, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` (str is written as UTF-8); on any failure the old file
    stays and the temporary one is removed.  ``mode``: the new file's permission bits."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(3).hex()}.tmp")
    try:
        with open(tmp, "xb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
