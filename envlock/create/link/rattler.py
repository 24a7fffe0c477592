"""Link conda packages into a prefix with py-rattler: parallel extraction into the package
cache, then hard links from it (copies where a file embeds the prefix or links cannot cross
filesystems).  Files are built in a staging directory but embed the *final* prefix
(``alternative_target_prefix``), so the staging directory can be renamed into place.
On a warm cache, ``fastlink`` links what rattler already extracted itself (as fast as ``cp -al``)
and rattler only the packages that need its logic (noarch: python, binary placeholders)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from envlock.core.errors import EnvlockError, InputError
from envlock.core.files import write_atomic
from envlock.create.cache import CachedArchive, expected_hash
from envlock.create.link.prepare import LINKER_ENV, PreparedArchives
from envlock.create.link.rattler_cache import (
    entry_of,
    evict,
    finish_modified_scan,
    rattler_has_package,
)


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
        return _without_location(json.loads((await rattler.RepoDataRecord.from_package_archive(item.path)).to_json()))
    raw_path = item.index_json.with_name(item.index_json.name + f".{os.getpid()}.raw")
    try:
        raw_path.write_bytes(bytes(raw))
        return record_from_index_json(item, raw_path)
    finally:
        raw_path.unlink(missing_ok=True)


def record_from_index_json(item: CachedArchive, index_json: Path) -> dict:
    """The package's record from its ``info/index.json`` (read from the archive, or from an
    extraction of the verified archive) with the lock's size and hashes."""
    import rattler

    return _without_location(json.loads(rattler.PackageRecord.from_index_json(
        index_json, size=item.size, sha256=item.package.sha256 or None, md5=item.package.md5 or None).to_json()))


def _without_location(data: dict) -> dict:
    """A record keeps what the package is, not where this run found it."""
    for k in ("url", "channel", "fn"):
        data.pop(k, None)
    return data


def save_record(item: CachedArchive, data: dict) -> None:
    """Keep the record beside the archive (the fast linker's plans start from it)."""
    write_atomic(item.index_json, json.dumps(data))


async def _index_record(item: CachedArchive, pkgs_cache: Path):  # noqa: ANN202 - rattler.RepoDataRecord
    import rattler

    pkg = item.package
    if not item.index_json.exists():
        save_record(item, await _record_fields(item))
    record = rattler.PackageRecord.from_index_json(
        item.index_json, size=item.size,
        sha256=pkg.sha256 if pkg.sha256 else None, md5=pkg.md5 if pkg.md5 else None)
    check_identity(item, record.name.normalized, str(record.version), str(record.build))
    # rattler never re-reads an archive whose extracted copy it holds (same sha256): then the record
    # can carry the lock's URL.  Otherwise it must read our verified copy (rattler does not check
    # the sha256 of file:// archives), and conda-meta gets the lock's URL after linking.
    cached = rattler_has_package(item.package, pkgs_cache)
    url = pkg.url if cached else item.path.as_uri()
    return rattler.RepoDataRecord(record, pkg.filename, url, pkg.channel or ""), cached


def check_identity(item: CachedArchive, name: str, version: str, build: str) -> None:
    """The archive holds the package the lock names."""
    pkg = item.package
    if (name, version, build) != (pkg.name.lower(), pkg.version, pkg.build):
        algorithm, digest = expected_hash(pkg)
        raise EnvlockError(
            f"{item.path}: archive holds {name} {version} {build}, but the lock says {pkg.name} {pkg.version} "
            f"{pkg.build} for this {algorithm} ({digest}); the lock is inconsistent. Regenerate it with `envlock lock`.",
            exit_code=1)


def extract_cold_archives(prepared: PreparedArchives, pkgs_cache: Path) -> int:
    """Cold packages: extracted on every core (``extract``), their records kept,
    and the fast linker's reads started again so that it links them."""
    from envlock.create.link import extract

    todo = extract.to_extract(prepared.archives, pkgs_cache)
    if not todo or os.environ.get(LINKER_ENV) == "rattler":
        return 0
    # nothing reads an archive before its check is done: the extraction hashes what was left to it
    extracted = extract.extract_all(todo, pkgs_cache, check=prepared.verified)
    for item in extracted:
        entry = entry_of(pkgs_cache, item.package)
        data = record_from_index_json(item, entry / "info" / "index.json")
        check_identity(item, str(data.get("name", "")).lower(), data.get("version", ""), data.get("build", ""))
        if not item.index_json.exists():
            save_record(item, data)
    if extracted:
        prepared.restart_preload()
    return len(extracted)


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
        from envlock.create.link import fast as fastlink

        if os.environ.get(LINKER_ENV) == "rattler":
            return False
        plan = fastlink.split_packages(archives, pkgs_cache, platform, staging, lambda a: rattler_has_package(a.package, pkgs_cache),
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
            extract_cold_archives(prepared, pkgs_cache)
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
        if "no python version" in str(exc):  # the lock's fault, not an archive's
            raise InputError(
                f"the lock holds noarch: python packages but no python for {platform}; it is incomplete or was "
                "edited. Regenerate it with `envlock lock`; the previous environment was left untouched.") from None
        raise EnvlockError(
            "linking the conda packages failed: " + (" ".join(text[:6]) or type(exc).__name__)
            + ". A corrupt or truncated archive is the usual cause; the previous environment was left untouched.",
            exit_code=1) from None
    fix_conda_meta_urls(staging, to_fix)
    if linker == "rattler":
        prepared.plan_ahead()
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
