"""Extract package archives into py-rattler's package cache ourselves, on every core.

Why: a cold create spent most of its time in ``rattler.install`` extracting, which decodes
``.tar.bz2`` on one thread per archive with a slower decoder than GNU tar's ``bzip2`` (a cold
create from a ``.tar.bz2`` channel was slower than ``tar -xjf`` of the same archives one after
another), and left every package of a channel that mixes formats to rattler's slower linking.
Here each archive is unpacked by ``tar -x`` fed by a decoder outside the GIL — for
``.tar.bz2`` a native process (``ibzip2`` from indexed_bzip2, a faster decoder, else ``lbzip2``,
else ``bzip2``), for ``.conda`` python-zstandard in a thread — as many at a time as there are
cores, the largest first.  An extraction is written the way rattler writes one (the directory
``<name>-<version>-<build>``, then its ``.lock`` holding a revision and the archive's sha256),
so rattler and the fast linker both take it as their own.  Only archives already checked
against the lock's sha256 are extracted, and nothing lands under its final name before the
extraction is complete.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from envlock.core.child import die_with_parent, is_gone
from envlock.core.errors import EnvlockError
from envlock.core.files import write_atomic
from envlock.create.cache import CachedArchive
from envlock.create.link.rattler_cache import entry_of, entry_stamp_path
from envlock.lockfile import LockedPackage

REVISION = 1  # what rattler writes for a first extraction (big-endian u64 before the sha256)
FORMATS = (".tar.bz2", ".conda")
POLL = 0.005
CHUNK = 1 << 20


def decoder(threads: int) -> list[str] | None:
    """The fastest bzip2 decoder command on this machine (archive path appended), or None."""
    beside = Path(sys.executable).parent / "ibzip2"
    ibzip2 = str(beside) if beside.is_file() else shutil.which("ibzip2")
    if ibzip2:
        return [ibzip2, "-d", "-c", "-q", "-P", str(threads)]
    if lbzip2 := shutil.which("lbzip2"):
        return [lbzip2, "-d", "-c", "-n", str(threads)]
    if bzip2 := shutil.which("bzip2"):
        return [bzip2, "-d", "-c"]
    return None


def extractable(pkg: LockedPackage, pkgs_cache: Path) -> bool:
    """A package with a sha256, in a format extracted here, that rattler's cache does not hold
    at all (an entry that is there, valid or not, is rattler's to judge)."""
    return bool(pkg.sha256) and pkg.filename.endswith(FORMATS) and not os.path.lexists(entry_of(pkgs_cache, pkg))


def to_extract(archives: Sequence[CachedArchive], pkgs_cache: Path) -> list[CachedArchive]:
    return [a for a in archives if extractable(a.package, pkgs_cache)]


def extract_all(archives: Sequence[CachedArchive], pkgs_cache: Path, *, jobs: int | None = None,
                check: Callable[[CachedArchive], CachedArchive] | None = None) -> list[CachedArchive]:
    """Extract ``archives`` (see ``to_extract``) into ``pkgs_cache``; returns those now there
    (none without ``tar``: rattler extracts them; a ``.tar.bz2`` without a bzip2 decoder is left to
    rattler too).  ``check``: verifies an archive not checked yet (hashes it), on a worker
    thread right before it is unpacked — the disk read that the unpacking then finds in the page
    cache.  Every process is started from this thread, so it dies with this process."""
    cores = os.cpu_count() or 1
    jobs = max(1, min(jobs or cores, len(archives) or 1))
    tar = shutil.which("tar")
    bz2 = decoder(max(1, cores // jobs))
    todo = [a for a in archives if bz2 is not None or not a.package.filename.endswith(".tar.bz2")]
    if not todo or tar is None:
        return []
    staging = pkgs_cache / ".extracting"
    staging.mkdir(parents=True, exist_ok=True)
    _prune(staging)
    waiting = sorted(todo, key=lambda a: a.size, reverse=True)
    running: list[_Extraction] = []
    extracted: list[CachedArchive] = []
    feeders = ThreadPoolExecutor(max_workers=jobs)
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                running.append(_Extraction(waiting.pop(0), pkgs_cache, staging, bz2, tar, feeders, check))
            done = [x for x in running if x.finished()]
            if not done:
                time.sleep(POLL)
                continue
            for x in done:
                running.remove(x)
                x.settle()
                extracted.append(x.item)
    finally:
        for x in running:
            x.abandon()
        feeders.shutdown(wait=True)
    return extracted


class _Extraction:
    """One archive unpacked by ``tar -x`` into a work directory, then renamed into place."""

    def __init__(self, item: CachedArchive, pkgs_cache: Path, staging: Path, bz2: list[str] | None, tar: str,
                 feeders: ThreadPoolExecutor, check: Callable[[CachedArchive], CachedArchive] | None) -> None:
        import tempfile

        self.item, self._bz2, self._tar_exe, self._feeders = item, bz2, tar, feeders
        self.entry = entry_of(pkgs_cache, item.package)
        self.work = staging / f"{self.entry.name}-{os.getpid()}-{os.urandom(4).hex()}"
        self.work.mkdir()
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed by settle() or abandon()
        self.dec: subprocess.Popen | None = None
        self.tar: subprocess.Popen | None = None
        self.feeder: Future | None = None
        self.checking: Future | None = None
        if check is not None and not item.verified:
            self.checking = feeders.submit(check, item)
        else:
            self._unpack()

    def _unpack(self) -> None:
        item, bz2 = self.item, self._bz2
        untar = [self._tar_exe, "-x", "-f", "-", "-p", "--no-same-owner", "-C", str(self.work)]
        if item.package.filename.endswith(".tar.bz2"):
            assert bz2 is not None
            self.dec = subprocess.Popen([*bz2, str(item.path)], stdout=subprocess.PIPE, stderr=self.errors,
                                        preexec_fn=die_with_parent())
            try:
                self.tar = subprocess.Popen(untar, stdin=self.dec.stdout, stderr=self.errors, preexec_fn=die_with_parent())
            except BaseException:
                self.dec.kill()
                raise
            finally:
                self.dec.stdout.close()  # type: ignore[union-attr]  # tar holds the pipe now
        else:  # .conda: its two zstd tarballs, one after the other (-i: read past the first one's end)
            self.tar = subprocess.Popen([*untar, "-i"], stdin=subprocess.PIPE, stderr=self.errors,
                                        preexec_fn=die_with_parent())
            self.feeder = self._feeders.submit(_feed_conda, item.path, self.tar.stdin)

    def finished(self) -> bool:
        if self.checking is not None:
            if not self.checking.done():
                return False
            if self.checking.exception() is not None:
                return True  # settle() raises it
            self.item, self.checking = self.checking.result(), None
            self._unpack()
        assert self.tar is not None
        return ((self.feeder is None or self.feeder.done()) and self.tar.poll() is not None
                and (self.dec is None or self.dec.poll() is not None))

    def settle(self) -> None:
        """Put the finished extraction in place, or raise what went wrong."""
        pkg, work = self.item.package, self.work
        try:
            if self.checking is not None:
                self.checking.result()  # raises what the check found (a changed archive)
            assert self.tar is not None
            fed = None if self.feeder is None else self.feeder.exception()
            if fed is not None or (self.dec is not None and self.dec.returncode) or self.tar.returncode:
                self.errors.seek(0)
                why = self.errors.read(4000).decode(errors="replace").strip().splitlines()
                if fed is not None:
                    why.insert(0, str(fed) or type(fed).__name__)
                raise EnvlockError(
                    f"{self.item.path}: extracting {pkg.name} {pkg.version}-{pkg.build} failed "
                    f"({' '.join(why[:3]) or 'no message'}). The archive passed its sha256 check, so the disk is the "
                    "likely cause (full, or read-only); nothing was installed.", exit_code=1)
            if not (work / "info" / "index.json").is_file():
                raise EnvlockError(
                    f"{self.item.path}: {pkg.name} {pkg.version}-{pkg.build} has no info/index.json; it is not a conda "
                    "package. Regenerate the lock with `envlock lock`; nothing was installed.", exit_code=1)
            try:
                os.rename(work, self.entry)
            except OSError:  # another create extracted it meanwhile: that one is as good
                return
            write_atomic(entry_stamp_path(self.entry), REVISION.to_bytes(8, "big") + bytes.fromhex(pkg.sha256))
        finally:
            self.errors.close()
            shutil.rmtree(work, ignore_errors=True)

    def abandon(self) -> None:
        if self.checking is not None:
            self.checking.exception()  # a hash running on a worker: let it end
        for proc in (self.dec, self.tar):
            if proc is not None and proc.poll() is None:
                proc.kill()
            if proc is not None:
                proc.wait()
        if self.feeder is not None:
            self.feeder.exception()  # the killed tar ends its feeding (a broken pipe)
        self.errors.close()
        shutil.rmtree(self.work, ignore_errors=True)


def _feed_conda(archive: Path, sink) -> None:  # noqa: ANN001 - tar's stdin
    """Decode a ``.conda``'s ``info-*`` and ``pkg-*`` tarballs into ``sink`` (zstd outside the GIL)."""
    import zipfile

    import zstandard

    try:
        with zipfile.ZipFile(archive) as zf:
            members = sorted((n for n in zf.namelist() if n.endswith(".tar.zst")), key=lambda n: not n.startswith("info-"))
            if not members:
                raise ValueError("no .tar.zst member: not a .conda package")
            for name in members:
                with zf.open(name) as src:
                    zstandard.ZstdDecompressor().copy_stream(src, sink, read_size=CHUNK, write_size=CHUNK)
    finally:
        sink.close()


def _prune(staging: Path) -> None:
    """Remove work directories of extractions whose process is gone (killed runs)."""
    for leftover in staging.iterdir():
        try:
            pid = int(leftover.name.rsplit("-", 2)[1])
        except (ValueError, IndexError):
            continue
        if is_gone(pid):
            shutil.rmtree(leftover, ignore_errors=True)
