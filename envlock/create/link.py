"""Link conda packages into a prefix with py-rattler: parallel extraction into the package
cache, then hard links from it (copies where a file embeds the prefix or links cannot cross
filesystems).  Files are built in a staging directory but embed the *final* prefix
(``alternative_target_prefix``), so the staging directory can be renamed into place."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from pathlib import Path

from envlock.create.cache import CachedArchive, expected_hash
from envlock.errors import EnvlockError


async def _index_record(item: CachedArchive, pkgs_cache: Path):  # noqa: ANN202 - rattler.RepoDataRecord
    import rattler

    pkg = item.package
    if not item.index_json.exists():
        rec = await rattler.RepoDataRecord.from_package_archive(item.path)
        data = json.loads(rec.to_json())
        for k in ("url", "channel", "fn"):
            data.pop(k, None)
        tmp = item.index_json.with_name(item.index_json.name + ".tmp")
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


def _rattler_has(item: CachedArchive, pkgs_cache: Path) -> bool:
    """py-rattler's cache entry ``<name>-<version>-<build>`` is valid for this sha256
    (its ``.lock`` file is an 8-byte revision followed by the 32-byte sha256)."""
    pkg = item.package
    if not pkg.sha256:
        return False
    stem = pkgs_cache / f"{pkg.name}-{pkg.version}-{pkg.build}"
    try:
        with open(stem.with_name(stem.name + ".lock"), "rb") as f:
            head = f.read(40)
    except OSError:
        return False
    return len(head) == 40 and head[8:] == bytes.fromhex(pkg.sha256) and (stem / "info" / "index.json").is_file()


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
    archives: Sequence[CachedArchive], staging: Path, final_prefix: Path, pkgs_cache: Path, platform: str,
    on_linked: Callable[[str], None] | None = None,
) -> None:
    import rattler

    to_fix: list[CachedArchive] = []

    async def run() -> None:
        pairs = await asyncio.gather(*(_index_record(a, pkgs_cache) for a in archives))
        to_fix.extend(a for a, (_rec, cached) in zip(archives, pairs, strict=True) if not cached)
        await rattler.install(
            [rec for rec, _cached in pairs], target_prefix=staging, cache_dir=pkgs_cache, installed_packages=[],
            platform=getattr(rattler, "Subdir", rattler.Platform)(platform), execute_link_scripts=False, show_progress=False,
            reporter=_Reporter(on_linked), alternative_target_prefix=final_prefix)

    try:
        asyncio.run(run())
    except EnvlockError:
        raise
    except Exception as exc:  # rattler raises its own exception types; keep the message
        text = str(exc).strip().splitlines()
        raise EnvlockError(
            "linking the conda packages failed: " + (" ".join(text[:6]) or type(exc).__name__)
            + ". A corrupt or truncated archive is the usual cause; the previous environment was left untouched.",
            exit_code=1) from None
    fix_conda_meta_urls(staging, to_fix)


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
