"""Everything a create needs before linking, gathered with as little waiting as possible: the
archives checked (or downloaded), the fast linker's per-package reads, and the modified-file
scan of the package cache (``PreparedArchives``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path

from envlock.create.cache import CachedArchive
from envlock.create.link.rattler_cache import rattler_has_package, start_modified_scan
from envlock.lockfile import LockedPackage

LINKER_ENV = "ENVLOCK_LINKER"  # "rattler": never the fast path (tests compare the two)


def preload(packages: Sequence[LockedPackage], root: Path, platform: str):  # noqa: ANN201 - fastlink.Preload | None
    """Start reading what the fast linker needs of each package while ``cache.fetch_all`` checks
    the archives; None where the fast linker cannot run."""
    from envlock.core.host import host_platform
    from envlock.create import cache
    from envlock.create.link import fast as fastlink
    from envlock.create.link import plan as linkplan

    if not sys.platform.startswith("linux") or platform != host_platform() or os.environ.get(LINKER_ENV) == "rattler":
        return None

    pkgs_cache = cache.pkgs_dir(root)
    hashed = [p for p in packages if p.sha256 or p.md5]
    plan_set = linkplan.set_path(root / "archives", [p.sha256 for p in hashed]) if all(p.sha256 for p in hashed) else None
    return fastlink.Preload(hashed, lambda p: cache.index_path(root, p), pkgs_cache,
                            lambda p: rattler_has_package(p, pkgs_cache, check_info=False), plan_set)


class PreparedArchives:
    """The archives to link (``archives``, in the packages' order), gathered with as little
    waiting as possible, and what ``link_packages`` needs of them (``preloaded``, ``verified``).

    The fast linker's per-package reads start at once (``preload``).  A package it will link from
    an extraction that rattler made from an archive with the lock's sha256 (its ``.lock`` says
    so; the modified-file scan vouches for its files) does not wait for its archive's check: that
    runs in the background while the linking goes on (``on_checked`` per archive), and the caller
    calls ``wait_checks`` before swapping the environment in, so a tampered cache still fails the
    create.  Every other archive is checked (or downloaded) first, by ``cache.fetch_all``
    (``on_done`` per archive).  The modified-file scan (``scan``) starts here too, from its own
    thread (it stats every extraction's ``.lock`` first): on 2 cores the linking is bound by the
    kernel's CPU, and the scan's share of it runs best while the threads above wait for the
    disk.  A context manager: leaving it stops the background work."""

    def __init__(self, root: Path, packages: Sequence[LockedPackage], platform: str, *, jobs: int,
                 on_done: Callable[[LockedPackage, bool, int], None] | None = None,
                 on_checked: Callable[[LockedPackage, bool, int], None] | None = None) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from envlock.create import cache
        from envlock.create.link import plan as linkplan

        self.preloaded = preload(packages, root, platform)
        scanner = ThreadPoolExecutor(max_workers=1)
        self._scan = scanner.submit(start_modified_scan, packages, cache.pkgs_dir(root))
        scanner.shutdown(wait=False)
        self._pending: Future | None = None
        trusted: dict[int, CachedArchive] = {}
        try:
            for pkg in packages if self.preloaded is not None else ():
                got = self.preloaded.get(pkg) if self.preloaded.has(pkg) else False
                size = got.record.get("size") if isinstance(got, linkplan.LinkPlan) else None
                if isinstance(size, int) and not isinstance(size, bool):
                    path = cache.local_archive(pkg.url) or cache.archive_path(root, pkg)
                    trusted[id(pkg)] = CachedArchive(pkg, path, cache.index_path(root, pkg), False, size, verified=False)
                    if on_done:
                        on_done(pkg, False, size)
            if trusted:
                # one thread per core, not ``jobs`` (downloads): these checks are stamp reads (or,
                # after a cache restore, hashing); more threads take the GIL from the linkers
                checkers = min(jobs, os.cpu_count() or 1)
                pool = ThreadPoolExecutor(max_workers=1)
                self._pending = pool.submit(cache.fetch_all, root, [p for p in packages if id(p) in trusted],
                                            jobs=checkers, on_done=on_checked)
                pool.shutdown(wait=False)
            self._deferred: dict[int, CachedArchive | None] = {}  # hashed by the extraction that reads them
            fetched = iter(cache.fetch_all(root, [p for p in packages if id(p) not in trusted], jobs=jobs, on_done=on_done,
                                           defer=self._extracted_cold(root) if self.preloaded is not None else None))
        except BaseException:
            if self._pending is not None:
                self._pending.cancel()
            self.close()
            raise
        self.archives = [trusted.get(id(p)) or next(fetched) for p in packages]
        self._deferred.update({id(a.package): None for a in self.archives if not a.verified and id(a.package) not in trusted})
        self._root, self._platform = root, platform

    def _extracted_cold(self, root: Path) -> Callable[[LockedPackage], bool]:
        """Which archives ``link/extract.py`` will extract (so they need not be hashed first)."""
        import shutil

        from envlock.create import cache
        from envlock.create.link import extract

        pkgs_cache, has_tar = cache.pkgs_dir(root), shutil.which("tar") is not None
        return lambda p: has_tar and extract.extractable(p, pkgs_cache)

    def verified(self, item: CachedArchive) -> CachedArchive:
        """``item`` once its archive's check is done, for when something must read the archive
        after all; raises what the check found."""
        if item.verified:
            return item
        if id(item.package) in self._deferred:
            return self.check_deferred(item)
        if self._pending is None:
            return item
        return {id(a.package): a for a in self._pending.result()}[id(item.package)]

    def check_deferred(self, item: CachedArchive) -> CachedArchive:
        """Hash an archive whose check was left to its extraction (once; from any thread)."""
        from dataclasses import replace

        from envlock.create import cache

        done = self._deferred.get(id(item.package))
        if done is None:
            path, _ = cache.ensure_archive(self._root, item.package)
            done = self._deferred[id(item.package)] = replace(item, path=path, verified=True)
        return done

    def plan_ahead(self) -> None:
        """After rattler extracted and linked every package (a cold create): work out and cache
        their link plans and plan set now, while the extractions are in the page cache, so the
        next create of this lock is a fully warm one.  Why now: CI saves a package cache once,
        after the cold run, and restores it for every later run; plans worked out by a later
        run would never be saved, and every restore would pay for them again."""
        ahead = preload([a.package for a in self.archives], self._root, self._platform)
        if ahead is None:
            return
        try:
            for item in self.archives:
                ahead.get(item.package)
            ahead.save_set()
        finally:
            ahead.close()

    def restart_preload(self) -> None:
        """Read again what the fast linker needs: packages were extracted since it started."""
        if self.preloaded is not None:
            self.preloaded.close()
            self.preloaded = preload([a.package for a in self.archives], self._root, self._platform)

    def wait_checks(self) -> None:
        """Raise what a background archive check found (a tampered or missing archive); an
        archive left to its extraction and not hashed by it is hashed now."""
        if self._pending is not None:
            self._pending.result()
        for item in self.archives:
            if id(item.package) in self._deferred:
                self.check_deferred(item)

    @property
    def scan(self) -> subprocess.Popen | None:
        """The running modified-file scan (``pkgs_cache.finish_modified_scan`` takes it)."""
        try:
            return self._scan.result()
        except OSError:  # could not be started: as on systems without find(1)
            return None

    def close(self) -> None:
        if self.preloaded is not None:
            self.preloaded.close()
        scan = self.scan
        if scan is not None and scan.returncode is None:  # link_packages never took it (an error came first)
            scan.kill()
            scan.communicate()

    def __enter__(self) -> PreparedArchives:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
