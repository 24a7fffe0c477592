"""Link conda packages into a prefix with py-rattler: parallel extraction into the package
cache, then hard links from it (copies where a file embeds the prefix or links cannot cross
filesystems).  Files are built in a staging directory but embed the *final* prefix
(``alternative_target_prefix``), so the staging directory can be renamed into place.
On a warm cache, ``fastlink`` links what rattler already extracted itself (as fast as ``cp -al``)
and rattler only the packages that need its logic (noarch: python, binary placeholders)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path

from envlock.create.cache import CachedArchive, expected_hash
from envlock.errors import EnvlockError
from envlock.lockfile import LockedPackage


async def _record_fields(item: CachedArchive) -> dict:
    """The package's record as rattler serializes it (index.json, size, sha256).  With the lock's
    sha256 (already checked against the archive) only ``info/index.json`` is read: rattler's
    ``from_package_archive`` would hash the whole archive twice more (~1 s of CPU for a
    TensorFlow environment, on a cold create's critical path)."""
    import rattler

    pkg = item.package
    raw = None
    if pkg.sha256:
        from rattler.package_streaming import PackageArchive

        raw = await (await PackageArchive.from_path(item.path)).read_file("info/index.json")
    if raw is None:
        data = json.loads((await rattler.RepoDataRecord.from_package_archive(item.path)).to_json())
    else:
        raw_path = item.index_json.with_name(item.index_json.name + f".{os.getpid()}.raw")
        try:
            raw_path.write_bytes(bytes(raw))
            data = json.loads(rattler.PackageRecord.from_index_json(raw_path, size=item.size, sha256=pkg.sha256).to_json())
        finally:
            raw_path.unlink(missing_ok=True)
    for k in ("url", "channel", "fn"):
        data.pop(k, None)
    return data


async def _index_record(item: CachedArchive, pkgs_cache: Path):  # noqa: ANN202 - rattler.RepoDataRecord
    import rattler

    pkg = item.package
    if not item.index_json.exists():
        data = await _record_fields(item)
        tmp = item.index_json.with_name(item.index_json.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(item.index_json)
    algorithm, digest = expected_hash(pkg)
    record = rattler.PackageRecord.from_index_json(
        item.index_json, size=item.size,
        sha256=pkg.sha256 if pkg.sha256 else None, md5=pkg.md5 if pkg.md5 else None)
    if (record.name.normalized, str(record.version), str(record.build)) != (pkg.name.lower(), pkg.version, pkg.build):
        raise EnvlockError(
            f"{item.path}: archive holds {record.name.normalized} {record.version} {record.build}, but the lock "
            f"says {pkg.name} {pkg.version} {pkg.build} for this {algorithm} ({digest}); the lock is inconsistent. "
            "Regenerate it with `envlock lock`.", exit_code=1)
    # rattler never re-reads an archive whose extracted copy it holds (same sha256): then the record
    # can carry the lock's URL.  Otherwise it must read our verified copy (rattler does not check
    # the sha256 of file:// archives), and conda-meta gets the lock's URL after linking.
    cached = _rattler_has(item, pkgs_cache)
    url = pkg.url if cached else item.path.as_uri()
    return rattler.RepoDataRecord(record, pkg.filename, url, pkg.channel or ""), cached


def _package_entry(pkgs_cache: Path, pkg: LockedPackage) -> Path:
    return pkgs_cache / f"{pkg.name}-{pkg.version}-{pkg.build}"


def _entry(pkgs_cache: Path, item: CachedArchive) -> Path:
    return _package_entry(pkgs_cache, item.package)


def _extracted_ns(entry: Path) -> int | None:
    try:
        return entry.with_name(entry.name + ".lock").stat().st_mtime_ns
    except OSError:
        return None


def start_modified_scan(packages: Sequence[LockedPackage], pkgs_cache: Path) -> subprocess.Popen | None:
    """Look, with one ``find`` running alongside the linking, for files of extracted packages
    written after their extraction (extraction keeps the archives' old mtimes, so an in-place
    edit through a hard link in some environment stands out).  ``envlock check``'s size+mtime
    fast path relies on the linked copies having been clean."""
    if not sys.platform.startswith("linux"):
        return None
    entries = [(e, t) for p in packages if (t := _extracted_ns(e := _package_entry(pkgs_cache, p))) is not None]
    if not entries:
        return None
    oldest = min(t for _e, t in entries) // 1_000_000_000
    cmd = ["find", *(str(e) for e, _t in entries), "-type", "f", "-newermt", f"@{oldest}", "-print0"]
    try:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except FileNotFoundError:  # no find(1): the scan is skipped, as on other systems
        return None


def finish_modified_scan(proc: subprocess.Popen | None, archives: Sequence[CachedArchive],
                         pkgs_cache: Path) -> list[CachedArchive]:
    if proc is None:
        return []
    out, _ = proc.communicate()
    by_entry = {_entry(pkgs_cache, a).name: a for a in archives}
    found: dict[str, CachedArchive] = {}
    base = str(pkgs_cache) + os.sep
    for raw in out.split(b"\0"):
        path = os.fsdecode(raw)
        if not path.startswith(base):
            continue
        name, _, rel = path[len(base):].partition(os.sep)
        item = by_entry.get(name)
        if item is None or name in found or rel.startswith("info" + os.sep):
            continue  # info/ (rattler's own records) is never linked into environments
        extracted = _extracted_ns(pkgs_cache / name)
        try:
            if extracted is None or os.lstat(path).st_mtime_ns > extracted:
                found[name] = item
        except OSError:
            continue
    return list(found.values())


def evict(items: Sequence[CachedArchive], pkgs_cache: Path) -> list[str]:
    """Move extracted packages out of rattler's cache so they are extracted again from the
    verified archives (a rename: a concurrent create still linking from them fails cleanly)."""
    import shutil

    graveyard = pkgs_cache / ".evicted"
    names = []
    for item in items:
        entry = _entry(pkgs_cache, item)
        graveyard.mkdir(exist_ok=True)
        try:
            os.rename(entry, graveyard / f"{entry.name}-{os.getpid()}-{id(item)}")
        except OSError:
            continue
        entry.with_name(entry.name + ".lock").unlink(missing_ok=True)
        names.append(item.package.name)
    shutil.rmtree(graveyard, ignore_errors=True)
    return names


def _rattler_has(item: CachedArchive, pkgs_cache: Path) -> bool:
    return rattler_has_package(item.package, pkgs_cache)


def rattler_has_package(pkg: LockedPackage, pkgs_cache: Path, *, check_info: bool = True) -> bool:
    """py-rattler's cache entry ``<name>-<version>-<build>`` is valid for this sha256
    (its ``.lock`` file is an 8-byte revision followed by the 32-byte sha256).  ``check_info``
    False: its ``info/`` is not looked at (the fast linker, once a link plan is cached, reads
    nothing there: a payload file gone fails its link, and rattler then checks the entry)."""
    if not pkg.sha256:
        return False
    stem = _package_entry(pkgs_cache, pkg)
    try:
        with open(stem.with_name(stem.name + ".lock"), "rb") as f:
            head = f.read(40)
    except OSError:
        return False
    return (len(head) == 40 and head[8:] == bytes.fromhex(pkg.sha256)
            and (not check_info or (stem / "info" / "index.json").is_file()))


class _Reporter:
    """Adapter from rattler's InstallerReporter callbacks to a simple ``on_linked(name)``."""

    def __new__(cls, on_linked: Callable[[str], None] | None):  # noqa: ANN204
        import rattler

        class Reporter(rattler.InstallerReporter):
            def __init__(self) -> None:
                super().__init__()
                self.names: dict[int, str] = {}

            def on_link_start(self, operation: int, package_name: str) -> int:
                self.names[operation] = package_name
                return operation

            def on_link_complete(self, index: int) -> None:
                if on_linked:
                    on_linked(self.names.get(index, "?"))

        return Reporter()


LINKER_ENV = "ENVLOCK_LINKER"  # "rattler": never the fast path (tests compare the two)


def preload(packages: Sequence[LockedPackage], root: Path, platform: str):  # noqa: ANN201 - fastlink.Preload | None
    """Start reading what the fast linker needs of each package while ``cache.fetch_all`` checks
    the archives (``link_packages(..., preloaded=)``); None where the fast linker cannot run."""
    from envlock.create import cache, fastlink, host_platform

    if not sys.platform.startswith("linux") or platform != host_platform() or os.environ.get(LINKER_ENV) == "rattler":
        return None
    from envlock.create import linkplan

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
    (``on_done`` per archive).  The modified-file scan (``scan``) starts here too: on 2 cores
    the linking is bound by the kernel's CPU, and the scan's share of it runs best while the
    threads above wait for the disk.  A context manager: leaving it stops the background work."""

    def __init__(self, root: Path, packages: Sequence[LockedPackage], platform: str, *, jobs: int,
                 on_done: Callable[[LockedPackage, bool, int], None] | None = None,
                 on_checked: Callable[[LockedPackage, bool, int], None] | None = None) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from envlock.create import cache, linkplan

        self.preloaded = preload(packages, root, platform)
        self.scan = start_modified_scan(packages, cache.pkgs_dir(root))
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
                pool = ThreadPoolExecutor(max_workers=1)
                self._pending = pool.submit(cache.fetch_all, root, [p for p in packages if id(p) in trusted],
                                            jobs=jobs, on_done=on_checked)
                pool.shutdown(wait=False)
            fetched = iter(cache.fetch_all(root, [p for p in packages if id(p) not in trusted], jobs=jobs, on_done=on_done))
        except BaseException:
            if self._pending is not None:
                self._pending.cancel()
            self.close()
            raise
        self.archives = [trusted.get(id(p)) or next(fetched) for p in packages]

    def verified(self, item: CachedArchive) -> CachedArchive:
        """``item`` once its archive's check is done, for when something must read the archive
        after all; raises what the check found."""
        if item.verified or self._pending is None:
            return item
        return {id(a.package): a for a in self._pending.result()}[id(item.package)]

    def wait_checks(self) -> None:
        """Raise what a background archive check found (a tampered or missing archive)."""
        if self._pending is not None:
            self._pending.result()

    def close(self) -> None:
        if self.preloaded is not None:
            self.preloaded.close()
        if self.scan is not None and self.scan.returncode is None:  # link_packages never took it (an error came first)
            self.scan.kill()
            self.scan.communicate()

    def __enter__(self) -> PreparedArchives:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def link_packages(
    prepared: PreparedArchives, staging: Path, final_prefix: Path, pkgs_cache: Path, platform: str,
    on_linked: Callable[[str], None] | None = None, on_evicted: Callable[[list[str]], None] | None = None,
) -> str:
    """Warm cache: packages rattler already extracted and validated are linked by ``fastlink``,
    the rest (noarch: python, binary placeholders, ...) by ``rattler.install`` first, into the
    same staging prefix.  Cold cache, or any surprise in the fast path: rattler links everything.
    Returns who linked: "fast", "fast+rattler" or "rattler"."""
    archives, verify = prepared.archives, prepared.verified
    linker = "rattler"
    to_fix: list[CachedArchive] = []

    async def run(subset: Sequence[CachedArchive]) -> None:
        import asyncio

        import rattler

        pairs = await asyncio.gather(*(_index_record(a, pkgs_cache) for a in subset))
        to_fix.extend(a for a, (_rec, cached) in zip(subset, pairs, strict=True) if not cached)
        await rattler.install(
            [rec for rec, _cached in pairs], target_prefix=staging, cache_dir=pkgs_cache, installed_packages=[],
            platform=getattr(rattler, "Subdir", rattler.Platform)(platform), execute_link_scripts=False, show_progress=False,
            reporter=_Reporter(on_linked), alternative_target_prefix=final_prefix)

    def rattler_install(subset: Sequence[CachedArchive]) -> None:
        import asyncio  # ~9 ms of import that a warm create linked by fastlink alone never needs

        asyncio.run(run([verify(a) for a in subset]))  # rattler may read an archive: check it first

    def fast() -> bool:
        nonlocal linker
        from envlock.create import fastlink

        if os.environ.get(LINKER_ENV) == "rattler":
            return False
        plan = fastlink.plan(archives, pkgs_cache, platform, staging, lambda a: _rattler_has(a, pkgs_cache),
                             prepared.preloaded)
        if plan is None:
            return False
        try:
            if plan.slow:
                rattler_install(plan.slow)
            fastlink.link(plan.fast, staging, final_prefix, on_linked)
            if prepared.preloaded is not None:
                prepared.preloaded.save_set()
        except fastlink.Fallback:
            _empty(staging)
            to_fix.clear()
            return False
        linker = "fast+rattler" if plan.slow else "fast"
        return True

    try:
        try:
            if not fast():
                rattler_install(archives)
        finally:
            modified = finish_modified_scan(prepared.scan, archives, pkgs_cache)
        if modified:  # rare: link again, those packages freshly extracted from the verified archives
            names = evict(modified, pkgs_cache)
            if on_evicted:
                on_evicted(names)
            _empty(staging)
            to_fix.clear()
            linker = "rattler"
            rattler_install(archives)
    except EnvlockError:
        raise
    except Exception as exc:  # rattler raises its own exception types; keep the message
        text = str(exc).strip().splitlines()
        raise EnvlockError(
            "linking the conda packages failed: " + (" ".join(text[:6]) or type(exc).__name__)
            + ". A corrupt or truncated archive is the usual cause; the previous environment was left untouched.",
            exit_code=1) from None
    fix_conda_meta_urls(staging, to_fix)
    return linker


def _empty(directory: Path) -> None:
    import shutil  # only after a fallback: not imported on a create's usual path

    for entry in os.scandir(directory):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)


def fix_conda_meta_urls(prefix: Path, archives: Sequence[CachedArchive]) -> None:
    """Point conda-meta records at the lock's URLs (rattler saw our cache's file:// copies)."""
    meta = prefix / "conda-meta"
    for a in archives:
        pkg = a.package
        path = meta / f"{pkg.name}-{pkg.version}-{pkg.build}.json"
        try:
            text = path.read_text()
        except OSError:
            continue
        cache_url = json.dumps(a.path.as_uri())
        new = text.replace(f'"url": {cache_url}', f'"url": {json.dumps(pkg.url)}', 1)
        new = new.replace('"channel": null', f'"channel": {json.dumps(pkg.channel)}', 1)
        if new != text:
            path.write_text(new)
