"""Extract ``.tar.bz2`` archives into py-rattler's package cache ourselves, on every core.

Why: rattler decodes bzip2 on one thread per archive with a slower decoder than GNU tar's
``bzip2``; a cold create from a ``.tar.bz2`` channel was slower than extracting the same
archives one after another with ``tar -xjf``.  Here each archive is decoded by a native
process (``ibzip2`` from indexed_bzip2, a faster decoder, else ``lbzip2``, else ``bzip2``)
piped into ``tar -x``, as many at a time as there are cores, the largest first.  An
extraction is written the way rattler writes one (the directory ``<name>-<version>-<build>``,
then its ``.lock`` holding a revision and the archive's sha256), so rattler and the fast
linker both take it as their own; ``.conda`` archives are left to rattler, whose zstd path
is fast.  Only archives already checked against the lock's sha256 are extracted, and nothing
lands under its final name before the extraction is complete.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from envlock.core.child import die_with_parent
from envlock.core.errors import EnvlockError
from envlock.core.files import write_atomic
from envlock.create.cache import CachedArchive
from envlock.create.link.rattler_cache import entry_of, entry_stamp_path

REVISION = 1  # what rattler writes for a first extraction (big-endian u64 before the sha256)
SUFFIX = ".tar.bz2"


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


def to_extract(archives: Sequence[CachedArchive], pkgs_cache: Path) -> list[CachedArchive]:
    """The ``.tar.bz2`` archives with a sha256 whose package rattler's cache does not hold at all
    (an entry that is there, valid or not, is rattler's to judge)."""
    return [a for a in archives if a.package.filename.endswith(SUFFIX) and a.package.sha256
            and not os.path.lexists(entry_of(pkgs_cache, a.package))]


def extract_all(archives: Sequence[CachedArchive], pkgs_cache: Path, *, jobs: int | None = None,
                on_extracted: Callable[[CachedArchive], None] | None = None) -> int:
    """Extract ``archives`` (see ``to_extract``) into ``pkgs_cache``; returns how many were.
    Without ``tar`` or a bzip2 decoder nothing is done (rattler extracts them).  The pipelines
    are started from this thread (so they die with this process) and polled, not waited on
    from pool threads."""
    cores = os.cpu_count() or 1
    jobs = max(1, min(jobs or cores, len(archives) or 1))
    tar = shutil.which("tar")
    command = decoder(max(1, cores // jobs))
    if not archives or tar is None or command is None:
        return 0
    staging = pkgs_cache / ".extracting"
    staging.mkdir(parents=True, exist_ok=True)
    _prune(staging)
    waiting = sorted(archives, key=lambda a: a.size, reverse=True)
    running: list[_Extraction] = []
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                running.append(_Extraction(waiting.pop(0), pkgs_cache, staging, command, tar))
            done = [x for x in running if x.finished()]
            if not done:
                time.sleep(POLL)
                continue
            for x in done:
                running.remove(x)
                x.settle()
                if on_extracted:
                    on_extracted(x.item)
    finally:
        for x in running:
            x.abandon()
    return len(archives)


POLL = 0.005


class _Extraction:
    """One archive: ``decoder archive | tar -x`` into a work directory, renamed into place."""

    def __init__(self, item: CachedArchive, pkgs_cache: Path, staging: Path, decode: list[str], tar: str) -> None:
        import tempfile

        self.item = item
        self.entry = entry_of(pkgs_cache, item.package)
        self.work = staging / f"{self.entry.name}-{os.getpid()}-{os.urandom(4).hex()}"
        self.work.mkdir()
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed by settle() or abandon()
        self.dec = subprocess.Popen([*decode, str(item.path)], stdout=subprocess.PIPE, stderr=self.errors,
                                    preexec_fn=die_with_parent())
        try:
            self.tar = subprocess.Popen([tar, "-x", "-f", "-", "-p", "--no-same-owner", "-C", str(self.work)],
                                        stdin=self.dec.stdout, stderr=self.errors, preexec_fn=die_with_parent())
        except BaseException:
            self.dec.kill()
            raise
        finally:
            self.dec.stdout.close()  # type: ignore[union-attr]  # tar holds the pipe now

    def finished(self) -> bool:
        return self.tar.poll() is not None and self.dec.poll() is not None

    def settle(self) -> None:
        """Put the finished extraction in place, or raise what went wrong."""
        pkg, work = self.item.package, self.work
        try:
            if self.dec.returncode or self.tar.returncode:
                self.errors.seek(0)
                why = self.errors.read(4000).decode(errors="replace").strip().splitlines()
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
        for proc in (self.dec, self.tar):
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        self.errors.close()
        shutil.rmtree(self.work, ignore_errors=True)


def _prune(staging: Path) -> None:
    """Remove work directories of extractions whose process is gone (killed runs)."""
    for leftover in staging.iterdir():
        try:
            pid = int(leftover.name.rsplit("-", 2)[1])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(leftover, ignore_errors=True)
        except (ValueError, IndexError, OSError):
            continue
