"""The shared package cache: every conda archive of a lock, downloaded once, hash-checked.

Layout under the cache root (``ENVLOCK_CACHE_DIR`` or the user cache dir + ``envlock``)::

    archives/<sha256 or md5>/<filename>            the archive, exactly as the lock pins it
    archives/<sha256 or md5>/<filename>.stamp.json  size and mtime when it was last hashed
    archives/<sha256 or md5>/<filename>.index.json  the package's record (index.json + hashes)
    pkgs/<name>-<version>-<build>/                  extracted packages (py-rattler's cache)
    quarantine/                                      archives that failed their hash check

An archive is trusted only while its size and mtime (to the nanosecond) equal those recorded
when it was hashed; anything else rehashes it, and a mismatch is reported (and the file
quarantined).  Not the inode: a CI cache restore (``tar --posix``, as actions/cache runs it)
gives every file a new one and keeps the rest, and rehashing 750 MB of archives made the first
create after a restore (every CI job's) 1.05 s instead of 0.60 s.
One download layer serves ``file://`` and ``http(s)://`` URLs; nothing assumes a local channel.
"""

from __future__ import annotations

import contextlib
import os
import sys
import urllib.parse
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from envlock.core import records
from envlock.core.digests import hash_file
from envlock.core.errors import CheckFailed, EnvlockError, InputError
from envlock.core.files import write_atomic
from envlock.create.mirror_source import source_url
from envlock.lockfile import LockedPackage

CACHE_ENV = "ENVLOCK_CACHE_DIR"
CHUNK = 1 << 20


@dataclass(frozen=True, kw_only=True)
class ArchiveStamp:
    """What an archive looked like when its hash was last verified."""

    filename: str
    url: str
    algorithm: str
    digest: str
    size: int
    mtime_ns: int


def cache_root() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_cache_dir("envlock"))


def pkgs_dir(root: Path) -> Path:
    """Where extracted packages live (py-rattler's package cache)."""
    return root / "pkgs"


@dataclass(frozen=True)
class CachedArchive:
    package: LockedPackage
    path: Path
    index_json: Path
    downloaded: bool
    size: int
    # False: not checked this run, because the package is linked from an extraction that
    # rattler made from an archive with the lock's sha256; checked before anything reads it
    verified: bool = True


def expected_hash(pkg: LockedPackage) -> tuple[str, str]:
    if pkg.sha256:
        return "sha256", pkg.sha256.lower()
    if pkg.md5:
        return "md5", pkg.md5.lower()
    raise InputError(f"lock entry {pkg.name} {pkg.version} ({pkg.url}) has no sha256 or md5; "
                     "envlock installs only hash-pinned packages. Regenerate the lock with `envlock lock`.")


def archive_path(root: Path, pkg: LockedPackage) -> Path:
    _, digest = expected_hash(pkg)
    return root / "archives" / digest / pkg.filename


def _stamp_path(archive: Path) -> Path:
    return archive.with_name(archive.name + ".stamp.json")


def _index_path(archive: Path) -> Path:
    return archive.with_name(archive.name + ".index.json")


def index_path(root: Path, pkg: LockedPackage) -> Path:
    """Where the package's record (and, beside it, its link plan) is kept in the cache."""
    return _index_path(archive_path(root, pkg))


def _new_hash(algorithm: str):  # noqa: ANN202 - a hashlib hash object
    import hashlib  # OpenSSL: fast on archives; loaded only when an archive is hashed

    return hashlib.new(algorithm)


def _stamp_matches(archive: Path, algorithm: str, digest: str, *, stamp_of: Path | None = None, url: str = "") -> bool:
    """``archive`` is what it was when its hash was checked (stamp beside ``stamp_of``, which is
    the archive itself unless the archive lives in a local channel)."""
    try:
        stamp = records.from_json(ArchiveStamp, _stamp_path(stamp_of or archive).read_bytes())
        st = archive.stat()
    except (OSError, ValueError):
        return False
    return (stamp.algorithm, stamp.digest, stamp.size, stamp.mtime_ns) == (
        algorithm, digest, st.st_size, st.st_mtime_ns) and (not url or stamp.url == url)


def _write_stamp(archive: Path, pkg: LockedPackage, algorithm: str, digest: str, *, stamp_of: Path | None = None) -> None:
    st = archive.stat()
    stamp = ArchiveStamp(filename=archive.name, url=pkg.url, algorithm=algorithm, digest=digest,
                         size=st.st_size, mtime_ns=st.st_mtime_ns)
    path = _stamp_path(stamp_of or archive)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, records.to_json(stamp))


def local_archive(url: str) -> Path | None:
    """The file behind a ``file://`` URL (or a plain absolute path), else None."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        return Path(_file_url_path(parsed))
    return Path(url) if parsed.scheme == "" and url.startswith("/") else None


def _file_url_path(parsed: urllib.parse.ParseResult) -> str:
    """``url2pathname`` without importing urllib.request (ssl, http.client: ~17 ms on a cold
    page cache, for a create that downloads nothing)."""
    if sys.platform == "win32":
        from urllib.request import url2pathname

        return url2pathname(parsed.path)
    return urllib.parse.unquote(parsed.path)


def _ensure_local(root: Path, pkg: LockedPackage, local: Path) -> tuple[Path, bool]:
    """An archive in a local channel is checked where it lies and used from there, not copied:
    the copy was a third of what a cold create writes.  Its stamp (kept in the cache) makes the
    next create rehash it if it was touched; a mismatch names the channel file, which is never
    moved or written."""
    algorithm, digest = expected_hash(pkg)
    stamp_of = archive_path(root, pkg)
    if _stamp_matches(local, algorithm, digest, stamp_of=stamp_of, url=pkg.url):
        return local, False
    try:
        got = hash_file(local, algorithm)
    except OSError as exc:
        raise EnvlockError(f"{pkg.url}: reading {pkg.name} {pkg.version} from the local channel failed "
                           f"({exc.strerror}). Check that the channel is there and run create again.", exit_code=1) from None
    if got != digest:
        raise CheckFailed(
            f"{pkg.url}: {algorithm} mismatch for {pkg.name} {pkg.version}-{pkg.build}: the lock pins "
            f"{digest}, the channel holds {got} ({local.stat().st_size} bytes). The package was changed or truncated "
            "after the lock was made; nothing was installed. Re-lock (`envlock lock`) only if you trust the new archive.")
    _write_stamp(local, pkg, algorithm, digest, stamp_of=stamp_of)
    return local, True


def _quarantine(root: Path, archive: Path) -> Path:
    dest = root / "quarantine" / f"{archive.parent.name}-{archive.name}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):  # a concurrent create quarantined it first
        os.replace(archive, dest)
    _stamp_path(archive).unlink(missing_ok=True)
    return dest


def open_url(url: str, timeout: float = 60.0, pkg: LockedPackage | None = None):  # noqa: ANN201 - a binary file-like object
    """The download layer for remote archives (local ones are read in place: ``_ensure_local``);
    ``s3://`` (a mirror) through boto3, imported only then."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "s3":
        from envlock.create.mirror_source import open_s3

        return open_s3(url, pkg)
    if parsed.scheme in ("http", "https"):
        from urllib.request import Request, urlopen  # ssl, http.client: only when downloading

        from envlock.lockfile.urls import (
            authorized_request,  # ${VAR} credentials from the environment
        )

        plain, auth = authorized_request(url)
        return urlopen(Request(plain, headers={"User-Agent": "envlock", **auth}), timeout=timeout)  # noqa: S310
    raise InputError(f"{url}: unsupported URL scheme '{parsed.scheme}' (envlock fetches file://, http:// and https://).")


def _download(root: Path, pkg: LockedPackage, archive: Path, algorithm: str, digest: str, url: str) -> int:
    archive.parent.mkdir(parents=True, exist_ok=True)
    # one directory for every partial download: pruning them lists it, not one directory per archive
    part = _partial_dir(root) / f"{archive.parent.name}-{archive.name}.part-{os.getpid()}-{id(pkg)}"
    part.parent.mkdir(parents=True, exist_ok=True)
    h = _new_hash(algorithm)
    size = 0
    try:
        try:
            with open_url(url, pkg=pkg) as src, open(part, "wb") as dst:
                while chunk := src.read(CHUNK):
                    h.update(chunk)
                    dst.write(chunk)
                    size += len(chunk)
        except OSError as exc:  # urllib.error.URLError is an OSError
            reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
            raise EnvlockError(f"{url}: download of {pkg.name} {pkg.version} failed ({reason}). "
                               "Check that the channel is reachable and run create again.", exit_code=1) from None
        got = h.hexdigest()
        if got != digest:
            raise CheckFailed(
                f"{url}: {algorithm} mismatch for {pkg.name} {pkg.version}-{pkg.build}: the lock pins "
                f"{digest}, the channel served {got} ({size} bytes). The package was changed or truncated "
                "after the lock was made; nothing was installed. Re-lock (`envlock lock`) only if you trust the new archive.")
        os.replace(part, archive)
    finally:
        part.unlink(missing_ok=True)
    _write_stamp(archive, pkg, algorithm, digest)
    return size


def ensure_archive(root: Path, pkg: LockedPackage) -> tuple[Path, bool]:
    """The verified archive for ``pkg`` (downloaded into the cache if absent; a local channel's
    own file) and whether it was fetched (downloaded, or checked for the first time) now."""
    url = source_url(pkg)  # the mirror's copy with ENVLOCK_MIRROR (create --mirror), else the locked URL
    local = local_archive(url)
    if local is not None:
        return _ensure_local(root, pkg, local)
    algorithm, digest = expected_hash(pkg)
    archive = archive_path(root, pkg)
    if archive.exists():
        if _stamp_matches(archive, algorithm, digest):
            return archive, False
        got = hash_file(archive, algorithm)
        if got != digest:
            moved = _quarantine(root, archive)
            raise CheckFailed(
                f"{archive}: cached archive of {pkg.name} {pkg.version}-{pkg.build} fails its {algorithm} check "
                f"(lock: {digest}, cache: {got}); someone changed the package cache. It was moved to {moved}; "
                "run create again to download a fresh copy.")
        _write_stamp(archive, pkg, algorithm, digest)
        return archive, False
    _download(root, pkg, archive, algorithm, digest, url)
    return archive, True


def unchecked_local(root: Path, pkg: LockedPackage) -> Path | None:
    """The local-channel archive of ``pkg`` when it would have to be hashed now (no matching
    stamp), else None."""
    local = local_archive(source_url(pkg))
    if local is None:
        return None
    algorithm, digest = expected_hash(pkg)
    return None if _stamp_matches(local, algorithm, digest, stamp_of=archive_path(root, pkg), url=pkg.url) else local


def fetch_all(
    root: Path, packages: Sequence[LockedPackage], *, jobs: int = 8,
    on_done: Callable[[LockedPackage, bool, int], None] | None = None,
    defer: Callable[[LockedPackage], bool] | None = None,
) -> list[CachedArchive]:
    """Make every archive present and verified, in parallel; the first failure is raised.
    ``defer(pkg)`` true: a local-channel archive that would be hashed now is returned
    unverified (``verified=False``) instead — its reader hashes it in the same pass
    (``ensure_archive`` before anything else reads it)."""
    def one(pkg: LockedPackage) -> CachedArchive:
        if defer is not None and defer(pkg) and (local := unchecked_local(root, pkg)) is not None:
            size = local.stat().st_size
            if on_done:
                on_done(pkg, True, size)  # as ``ensure_archive``: checked for the first time (later)
            return CachedArchive(pkg, local, index_path(root, pkg), True, size, verified=False)
        path, downloaded = ensure_archive(root, pkg)
        size = path.stat().st_size
        if on_done:
            on_done(pkg, downloaded, size)
        return CachedArchive(pkg, path, index_path(root, pkg), downloaded, size)

    if not packages:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(packages)))) as pool:
        futures = [pool.submit(one, p) for p in packages]
        results, first_error = [], None
        for f in futures:
            try:
                results.append(f.result())
            except BaseException as exc:  # collect, re-raise the first after all settle
                first_error = first_error or exc
        if first_error:
            raise first_error
    return results


def _partial_dir(root: Path) -> Path:
    return root / "archives" / ".partial"


def prune_partials(root: Path) -> None:
    """Remove half-written downloads left by killed runs."""
    base = _partial_dir(root)
    if not base.is_dir():
        return
    from envlock.core.child import is_gone

    for part in base.glob("*.part-*"):
        try:
            pid = int(part.name.rsplit(".part-", 1)[1].split("-", 1)[0])
        except ValueError:
            continue
        if is_gone(pid):
            part.unlink(missing_ok=True)
