"""Atomic replacement of a prefix: a lock file beside it, a staging directory beside it, and a
swap by rename.  Nothing inside the target is touched until the new tree is complete.

Names (all in the target's parent directory, so renames never cross filesystems)::

    .<name>.envlock-lock           flock()ed for the whole create; serializes concurrent runs
    .<name>.staging-<pid>-<hex>    the tree being built
    .<name>.old-<pid>-<hex>        the previous tree during the swap, deleted right after
    ..<name>.staging-<pid>-<hex>.requirements.txt   the pip part's requirements, while uv runs

A run killed with SIGKILL leaves a staging (or old) directory; the next run, holding the
lock, removes them — and if it finds the target missing but an old tree present (killed in
the middle of a non-atomic swap), it puts the old tree back first.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@contextlib.contextmanager
def prefix_guard(prefix: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the prefix's lock file.  A create that leaves no environment behind (it failed
    before the swap) also removes the lock file, and the parent directory when it made it."""
    made_parent = not os.path.isdir(prefix.parent)
    path = prefix.parent / f".{prefix.name}.envlock-lock"
    fd, made_lock = _acquire(path, on_wait)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        if made_lock and not os.path.lexists(prefix):
            with contextlib.suppress(OSError):
                os.unlink(path)  # still held: a waiter sees the unlinked file and reopens (_acquire)
        os.close(fd)  # releases the flock
        if made_parent:
            with contextlib.suppress(OSError):
                os.rmdir(prefix.parent)  # only when empty


def _acquire(path: Path, on_wait: Callable[[], None] | None) -> tuple[int, bool]:
    """(an fd of ``path`` holding its flock, whether this call created the file).  A lock file
    unlinked by its holder while this process waited is not the lock any more: open it again."""
    while True:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            made = True
        except FileExistsError:
            try:
                fd, made = os.open(path, os.O_RDWR), False
            except FileNotFoundError:
                continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait()
                on_wait = None
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd, made
        os.close(fd)


def _siblings(prefix: Path, kind: str) -> list[Path]:
    """``.<name>.<kind>-*`` beside the prefix, and (staging) the files named after a staging
    directory (``..<name>.staging-*``)."""
    parent = prefix.parent
    if not parent.is_dir():
        return []
    starts = (f".{prefix.name}.{kind}-", f"..{prefix.name}.{kind}-") if kind == "staging" else f".{prefix.name}.{kind}-"
    return [parent / n for n in os.listdir(parent) if n.startswith(starts)]


def recover(prefix: Path) -> list[Path]:
    """Under the prefix lock: restore an interrupted swap and remove leftovers. Returns what was removed."""
    olds = sorted(_siblings(prefix, "old"), key=lambda p: p.stat().st_mtime)
    if not os.path.lexists(prefix) and olds:
        os.rename(olds[-1], prefix)  # killed between the two renames: the old tree is the env
        olds = olds[:-1]
    removed = []
    for leftover in [*olds, *_siblings(prefix, "staging")]:
        remove_tree(leftover)
        removed.append(leftover)
    return removed


def new_staging(prefix: Path) -> Path:
    path = prefix.parent / f".{prefix.name}.staging-{os.getpid()}-{os.urandom(4).hex()}"
    path.mkdir(parents=True)
    return path


def _exchange(a: Path, b: Path) -> bool:
    """Linux renameat2(RENAME_EXCHANGE): swap two paths in one atomic step."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # only when replacing an environment (a few ms of import)

    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the process's own symbols: libc is among them
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    if ctypes.get_errno() in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))


def swap_in(staging: Path, prefix: Path) -> Path | None:
    """Put ``staging`` at ``prefix``. Returns the displaced old tree (caller deletes it) or None."""
    if not os.path.lexists(prefix):
        os.rename(staging, prefix)
        return None
    if _exchange(staging, prefix):
        old = prefix.parent / f".{prefix.name}.old-{os.getpid()}-{os.urandom(4).hex()}"
        os.rename(staging, old)  # staging now holds the previous tree
        return old
    old = prefix.parent / f".{prefix.name}.old-{os.getpid()}-{os.urandom(4).hex()}"
    os.rename(prefix, old)
    os.rename(staging, prefix)
    return old


def remove_tree(path: Path) -> None:
    if not os.path.lexists(path):
        return
    if path.is_symlink() or not path.is_dir():
        path.unlink()
        return

    def onerror(func, p, exc_info):  # noqa: ANN001, ANN202 - read-only dirs inside packages
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(p), 0o755)
            os.chmod(p, 0o755)
            func(p)

    import shutil  # not on a create's success path: ~4 ms of import (bz2, lzma) on a cold page cache

    for attempt in range(3):
        shutil.rmtree(path, onerror=onerror)
        if not os.path.lexists(path):
            return
        time.sleep(0.05 * (attempt + 1))
