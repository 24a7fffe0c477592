"""Hash constructors for small inputs (lock files, records, directory listings) that do not load
OpenSSL.

Why: ``import hashlib`` loads libcrypto, ~9 ms of a warm ``create`` on a cold page cache, only
to hash a few kilobytes.  CPython's built-in sha256 and blake2 modules give the same digests.
Archives (hundreds of MB) are still hashed with ``hashlib``: OpenSSL's sha256 is several times
faster on large inputs."""

from __future__ import annotations

from pathlib import Path

try:  # CPython 3.12+
    from _sha2 import sha256  # type: ignore[import-not-found]
except ImportError:
    try:  # CPython 3.10, 3.11
        from _sha256 import sha256  # type: ignore[import-not-found,no-redef]
    except ImportError:  # another interpreter, or a build without them
        from hashlib import sha256  # type: ignore[assignment]

try:
    from _blake2 import blake2b  # type: ignore[import-not-found]
except ImportError:
    from hashlib import blake2b  # type: ignore[assignment]

__all__ = ["blake2b", "hash_file", "sha256"]


def hash_file(path: str | Path, algorithm: str = "sha256") -> str:
    """The hex digest of a file of any size, read in 1 MiB chunks; OpenSSL's (``hashlib``,
    imported only here) for the speed on archives and package files."""
    import hashlib

    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()
