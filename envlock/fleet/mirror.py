"""``envlock mirror``: copy exactly what profiles' locks need into a mirror, incrementally.

Every archive and wheel of every locked platform is fetched through the package cache (so it
is checked against the lock's hash before it is uploaded), written under its mirror key
(``mirror_urls.mirror_key``), recorded in ``envlock-mirror.json`` with its hash, and the
mirror is indexed: py-rattler writes each conda subdir's ``repodata.json``, and a PEP 503
page lists each project's wheels with their sha256.  A file already in the mirror with the
lock's hash on record and its size is not fetched or uploaded again.
"""

from __future__ import annotations

import html
import json
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from envlock.core.errors import EnvlockError, InputError
from envlock.core.project import Project
from envlock.create.mirror_source import MIRROR_ENV, mirror_key
from envlock.fleet.store import FileStore, S3Store
from envlock.lockfile import LockedPackage, read_lockfile

MANIFEST = "envlock-mirror.json"


@dataclass(kw_only=True)
class MirrorResult:
    """What ``mirror --json`` prints."""

    url: str
    profiles: list[str]
    platforms: list[str]
    packages: int = 0
    uploaded: int = 0
    uploaded_bytes: int = 0
    already_there: int = 0
    indexed_subdirs: list[str] = field(default_factory=list)
    seconds: float = 0.0


def locked_packages(project: Project, names: Sequence[str], platform: str | None = None) -> list[LockedPackage]:
    """Every package of the profiles' locks (one platform, or all)."""
    out: list[LockedPackage] = []
    for name in names:
        path = project.unified_lock_path(name)
        if not path.is_file():
            raise InputError(f"{path}: no lock for profile {name}; run `envlock lock --profile {name}` first.")
        lock = read_lockfile(path)
        if platform is not None and platform not in lock.platforms:
            raise InputError(f"{path}: this lock covers {', '.join(lock.platforms)}, not {platform}; "
                             "pass --platform with one of those.")
        out.extend(lock.for_platform(platform) if platform else lock.packages)
    return out


def digest_of(pkg: LockedPackage) -> str:
    """``sha256:<hex>`` (or ``md5:<hex>``), as the manifest records it."""
    from envlock.create.cache import expected_hash

    algorithm, digest = expected_hash(pkg)
    return f"{algorithm}:{digest}"


def by_key(packages: Sequence[LockedPackage]) -> dict[str, LockedPackage]:
    """One package per mirror key; two different files under one key is an error."""
    out: dict[str, LockedPackage] = {}
    for pkg in packages:
        key = mirror_key(pkg)
        seen = out.get(key)
        if seen is not None and digest_of(seen) != digest_of(pkg):
            raise InputError(f"{seen.url} and {pkg.url}: two locked packages with different hashes share the file "
                             f"name {pkg.filename}; a mirror keeps one file per name. Mirror these profiles separately.")
        out[key] = pkg
    return out


def read_manifest(store: FileStore | S3Store) -> dict[str, dict]:
    raw = store.get_bytes(MANIFEST)
    if raw is None:
        return {}
    try:
        data = json.loads(raw)
        files = data["files"]
        assert isinstance(files, dict)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise InputError(f"{store.url}/{MANIFEST}: not an envlock mirror manifest; point --to at an envlock mirror "
                         "or an empty location.") from None
    return files


def simple_pages(files: dict[str, dict]) -> dict[str, bytes]:
    """PEP 503 pages for every wheel in the manifest."""
    projects: dict[str, list[tuple[str, str]]] = {}
    for key, entry in files.items():
        parts = key.split("/")
        if len(parts) == 4 and parts[:2] == ["pypi", "simple"]:
            projects.setdefault(parts[2], []).append((parts[3], entry["digest"].replace(":", "=", 1)))
    pages = {}
    for name, wheels in projects.items():
        links = "".join(f'<a href="{html.escape(f)}#{d}">{html.escape(f)}</a><br/>\n' for f, d in sorted(wheels))
        pages[f"pypi/simple/{name}/index.html"] = (
            f"<!DOCTYPE html>\n<html><head><title>Links for {name}</title></head><body>\n{links}</body></html>\n").encode()
    root_links = "".join(f'<a href="{n}/">{n}</a><br/>\n' for n in sorted(projects))
    pages["pypi/simple/index.html"] = f"<!DOCTYPE html>\n<html><body>\n{root_links}</body></html>\n".encode()
    return pages


def index_conda(store: FileStore | S3Store, subdirs: set[str]) -> None:
    """py-rattler writes ``repodata.json`` for every subdir (``noarch`` always exists).  In a
    child process: py-rattler's indexer leaves runtime threads that crash the interpreter's
    teardown (SIGABRT/SIGSEGV after the work is done), so the child ends with ``os._exit``."""
    import subprocess
    import sys

    if "noarch" not in subdirs:
        store.put_bytes("conda/noarch/.keep", b"")
    code = "from envlock.fleet.mirror import index_child; index_child()"
    proc = subprocess.run([sys.executable, "-c", code, store.url], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise EnvlockError(f"{store.url}/conda: indexing with py-rattler failed (exit {proc.returncode}):\n{tail}",
                           exit_code=1)


def index_child() -> None:
    """``index_conda``'s child: index the channel at ``sys.argv[1]``'s ``conda/``."""
    import asyncio
    import sys

    import rattler.index

    from envlock.fleet.store import open_store

    code = 0
    try:
        store = open_store(sys.argv[1])
        if isinstance(store, FileStore):
            asyncio.run(rattler.index.index_fs(store.root / "conda", write_zst=False, write_shards=False, force=True))
        else:
            asyncio.run(rattler.index.index_s3(f"{store.url}/conda", credentials=s3_credentials(store),
                                               write_zst=False, write_shards=False, force=True))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which names the mirror
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def s3_credentials(store: S3Store):  # noqa: ANN201 - rattler.index.S3Credentials
    """The credentials and endpoint boto3 resolved, handed to py-rattler's S3 indexer."""
    from rattler.index import S3Credentials

    creds = store.client._request_signer._credentials  # noqa: SLF001 - the ones boto3 resolved for this client
    frozen = creds.get_frozen_credentials() if creds is not None else None
    endpoint = store.client.meta.endpoint_url
    custom = bool(os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3"))
    return S3Credentials(endpoint_url=endpoint, region=store.client.meta.region_name,
                         access_key_id=frozen.access_key if frozen else None,
                         secret_access_key=frozen.secret_key if frozen else None,
                         session_token=frozen.token if frozen else None,
                         addressing_style="path" if custom else "virtual-host")


def mirror_packages(packages: Sequence[LockedPackage], store: FileStore | S3Store, *, jobs: int = 8,
                    on_upload: Callable[[LockedPackage, int], None] | None = None) -> MirrorResult:
    from envlock.create import cache

    t0 = time.perf_counter()
    wanted = by_key(packages)
    result = MirrorResult(url=store.url, profiles=[], platforms=sorted({p.platform for p in packages}),
                          packages=len(wanted))
    files = read_manifest(store)
    present = {**store.sizes("conda/"), **store.sizes("pypi/")}
    todo = [(k, p) for k, p in sorted(wanted.items())
            if not (k in present and files.get(k, {}).get("digest") == digest_of(p)
                    and files[k].get("size") == present[k])]
    result.already_there = len(wanted) - len(todo)
    # fetched from the locked URLs (a mirror is filled from the source, never from itself)
    saved = os.environ.pop(MIRROR_ENV, None)
    root = cache.cache_root()
    try:
        def one(item: tuple[str, LockedPackage]) -> tuple[str, dict]:
            key, pkg = item
            path, _ = cache.ensure_archive(root, pkg)
            size = path.stat().st_size
            store.put_file(key, path)
            if on_upload:
                on_upload(pkg, size)
            return key, {"digest": digest_of(pkg), "size": size, "source": pkg.url}

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for key, entry in pool.map(one, todo):
                files[key] = entry
                result.uploaded += 1
                result.uploaded_bytes += entry["size"]
    finally:
        if saved is not None:
            os.environ[MIRROR_ENV] = saved
    conda_subdirs = {k.split("/")[1] for k in files if k.startswith("conda/")}
    if todo or "conda/noarch/repodata.json" not in present:
        if any(k.startswith("conda/") for k, _ in todo) or "conda/noarch/repodata.json" not in present:
            index_conda(store, conda_subdirs)
            result.indexed_subdirs = sorted(conda_subdirs | {"noarch"})
        for key, page in simple_pages(files).items():
            store.put_bytes(key, page)
        store.put_bytes(MANIFEST, json.dumps({"version": 1, "files": files}, indent=1, sort_keys=True).encode())
    result.seconds = round(time.perf_counter() - t0, 3)
    return result


def mirror_profiles(project: Project, names: Sequence[str], to_url: str, *, platform: str | None = None,
                    jobs: int = 8) -> MirrorResult:
    from envlock.create.mirror_source import check_mirror_url
    from envlock.fleet.store import open_store

    store = open_store(check_mirror_url(to_url, f"--to {to_url}"))
    result = mirror_packages(locked_packages(project, names, platform), store, jobs=jobs)
    result.profiles = list(names)
    return result
