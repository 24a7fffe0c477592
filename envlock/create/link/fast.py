"""Link already-extracted packages into a staging prefix in plain Python (hard links, symlinks,
text-placeholder copies) and write their ``conda-meta`` records like py-rattler does.

Why: on a warm cache, ``rattler.install`` takes about twice as long as ``cp -al`` of the same
tree, while ``os.link`` from a few threads is as fast as ``cp -al``.  Only what this module
reproduces exactly is linked here; everything else (``noarch: python`` relocation and entry
points, binary placeholders, ``no_link`` copies, directories, packages rattler has not extracted
and validated) is left to ``rattler.install``, and any surprise while linking (a path that
already exists — clobbering —, a link across file systems, a long shebang) raises ``Fallback``
so the caller redoes the whole prefix with rattler.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from json.encoder import encode_basestring  # type: ignore[attr-defined]  # C-accelerated, keeps UTF-8 as is
from pathlib import Path

from envlock.core.digests import sha256
from envlock.create.cache import CachedArchive
from envlock.create.link import plan as linkplan
from envlock.create.link.plan import LinkPlan
from envlock.create.link.rattler_cache import entry_of, entry_stamp
from envlock.lockfile import LockedPackage

# Linux kernels truncate a "#!" line after 127 bytes; rattler rewrites longer ones (to
# /usr/bin/env ...), and so does it for a prefix with a space.  We never guess that rewrite.
MAX_SHEBANG = 127


class Fallback(Exception):  # noqa: N818 - a signal, not an error: "let rattler do it"
    """This prefix cannot be linked here exactly; link it with rattler instead."""


@dataclass
class FastPackage:
    item: CachedArchive
    entry: Path  # the extracted package in rattler's cache
    record: dict  # the package record fields (index.json + hashes), as rattler serializes them
    plan: LinkPlan


@dataclass
class LinkSplit:
    """Which packages the fast linker links and which it leaves to rattler."""

    fast: list[FastPackage]
    slow: list[CachedArchive]  # left to rattler.install


def _read_json(path: Path) -> dict | None:
    try:
        with open(path, "rb") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _link_plan(index_json: Path, entry: Path) -> LinkPlan | bool | None:
    """The package's cached plan, derived (and cached) from its extraction on first use; False
    for a package left to rattler (cached as such too, so its files are not read again); None:
    not known yet (the next create, after rattler wrote its files, tries again)."""
    cached = linkplan.load(index_json)
    if cached is not None:
        return cached
    record = _read_json(index_json)  # rattler's own serialization of the package's record
    paths_json = entry / "info" / "paths.json"
    if record is None or not paths_json.is_file():
        return None  # not cached: the next create (after rattler wrote them) tries again
    entries = None if record.get("noarch") == "python" else linkplan.handled_entries(_read_json(paths_json))
    try:
        plan = None if entries is None else linkplan.derive(entry, record, entries)
    except OSError:  # a symlink gone from the extraction: let rattler validate it
        return None
    linkplan.save(index_json, plan)
    return False if plan is None else plan


def _assemble(item: CachedArchive, entry: Path, plan: LinkPlan) -> FastPackage:
    pkg = item.package
    # the record rattler builds: PackageRecord.from_index_json(..., size, sha256, md5) of the lock
    record = dict(plan.record)
    record["size"] = item.size
    if pkg.sha256:
        record["sha256"] = pkg.sha256
    if pkg.md5:
        record["md5"] = pkg.md5
    for k in ("url", "channel", "fn"):
        record.pop(k, None)
    return FastPackage(item, entry, dict(sorted(record.items())), plan)


class Preload:
    """What ``plan`` reads of each package (is it extracted? its link plan: from the packages'
    plan set, ``set_file``, else a few small files per package), read from a few threads while
    the archives are still being checked."""

    def __init__(self, packages: Sequence[LockedPackage], index_json_of: Callable[[LockedPackage], Path],
                 pkgs_cache: Path, is_extracted: Callable[[LockedPackage], bool], set_file: Path | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=META_THREADS)
        in_set = self._pool.submit(linkplan.load_set, set_file) if set_file else None
        self._set_file, self._count = set_file, len(packages)
        self._settled: dict[str, dict | None] = {}  # sha256 -> what a new plan set would keep
        self._missed = False  # some plan did not come from the set: write one

        def one(pkg: LockedPackage) -> LinkPlan | None | bool:
            entries = in_set.result() if in_set else None
            in_set_entry = entries.get(pkg.sha256) if entries is not None else None
            entry = entry_of(pkgs_cache, pkg)
            stamp = entry_stamp(entry)
            if stamp is None:
                return False
            # the entry's .lock (its archive's sha256) as the set saw it: a stat, not a read
            if not (isinstance(in_set_entry, dict) and in_set_entry.get("lock") == stamp):
                if not is_extracted(pkg):
                    return False
                self._missed = True  # the set is written again, with this stamp
            if "://" not in pkg.channel:
                self._settled[pkg.sha256] = None
                return None  # rattler wants a channel URL in the record; let it say so
            index_json = index_json_of(pkg)
            got = None
            if in_set_entry is not None and set_file is not None:
                got = linkplan.from_set(in_set_entry, linkplan.plan_path(index_json), set_file)
            if got is None:
                self._missed = True
                got = _link_plan(index_json, entry)
                settled = None if got is None else linkplan.set_entry(got)
            else:
                settled = in_set_entry
            self._settled[pkg.sha256] = None if settled is None else {**settled, "lock": stamp}
            return None if got is False else got

        self._futures = {id(pkg): self._pool.submit(one, pkg) for pkg in packages}

    def get(self, pkg: LockedPackage) -> LinkPlan | None | bool:
        """False: not extracted (or not readable: then the archive is checked and rattler
        decides); None: rattler's; else its plan."""
        try:
            return self._futures[id(pkg)].result()
        except Exception:  # noqa: BLE001 - a cache entry we cannot read is one we do not use
            return False

    def has(self, pkg: LockedPackage) -> bool:
        return id(pkg) in self._futures

    def save_set(self) -> None:
        """Once every plan is known sound (a fast link read all their texts, or they were just
        worked out): write the packages' plan set, if some plan did not come from it and every
        plan is settled (the next warm create then opens one file, not ~150)."""
        settled = self._settled
        if self._set_file and self._missed and len(settled) == self._count and all(settled.values()):
            linkplan.save_set(self._set_file, settled)  # type: ignore[arg-type]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def split_packages(archives: Sequence[CachedArchive], pkgs_cache: Path, platform: str, staging: Path,
         is_cached: Callable[[CachedArchive], bool], preload: Preload | None = None) -> LinkSplit | None:
    """Which packages to link here and which to leave to rattler; None: rattler links them all
    (not Linux, another platform's prefix, the cache on another file system, or a package that
    rattler has not extracted yet — a cold create extracts and links in one rattler pass)."""
    from envlock.core.host import host_platform

    if not sys.platform.startswith("linux") or platform != host_platform():
        return None
    try:
        if os.stat(pkgs_cache).st_dev != os.stat(staging).st_dev:
            return None
    except OSError:
        return None

    # packages nobody started reading (no preload from the caller, or no hash to key them by)
    by_id = {id(a.package): a for a in archives}
    missing = [a.package for a in archives if preload is None or not preload.has(a.package)]
    own = Preload(missing, lambda p: by_id[id(p)].index_json, pkgs_cache, lambda p: is_cached(by_id[id(p)])) if missing else None
    try:
        got = [(preload if preload is not None and preload.has(a.package) else own).get(a.package) for a in archives]
    finally:
        if own is not None:
            own.close()
    if any(g is False for g in got):
        return None
    loaded = [g if g is None else _assemble(a, entry_of(pkgs_cache, a.package), g) for a, g in zip(archives, got, strict=True)]
    fast = [x for x in loaded if isinstance(x, FastPackage)]
    slow = [a for a, x in zip(archives, loaded, strict=True) if x is None]
    if slow:
        # rattler needs python among its records to place noarch: python packages
        python = [f for f in fast if f.item.package.name == "python"]
        fast = [f for f in fast if f not in python]
        slow.extend(f.item for f in python)
    return LinkSplit(fast, slow)


# --- linking ----------------------------------------------------------------------------------

def _replace_text(data: bytes, placeholder: bytes, prefix: bytes) -> bytes:
    if data.startswith(b"#!"):
        end = data.find(b"\n")
        first, rest = (data, b"") if end < 0 else (data[:end], data[end:])
        if placeholder in first:
            first = first.replace(placeholder, prefix)
            if len(first) > MAX_SHEBANG or b" " in prefix:
                raise Fallback("shebang too long or with a space after prefix replacement")
        return first + rest.replace(placeholder, prefix)
    return data.replace(placeholder, prefix)


def _copy_replaced(src: str, dst: str, placeholder: str, prefix: str) -> tuple[str, int]:
    with open(src, "rb") as f:
        data = f.read()
        mode = os.fstat(f.fileno()).st_mode & 0o7777
    new = _replace_text(data, placeholder.encode(), prefix.encode())
    with os.fdopen(os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as out:
        out.write(new)
        os.fchmod(out.fileno(), mode)  # the umask must not drop the package's executable bits
    return sha256(new).hexdigest(), len(new)


META_THREADS = 8  # readers of the per-package metadata (I/O-bound on a cold page cache)
CHUNK = 512  # paths per work item: a TensorFlow-sized package is spread over all threads


def _mkdirs(paths: Sequence[str], staging: str, made: set[str]) -> None:
    """The directories of ``paths``, parents first.  ``made`` (shared by the link threads) holds
    the ones already there, with all their parents: without it every work item tried ``lib``,
    ``lib/python3.X``, ... again (an EEXIST and two stats each).  Two threads may still race
    for one directory; the loser sees EEXIST."""
    dirs: set[str] = set()
    for p in paths:
        d = p.rpartition("/")[0]
        while d and d not in dirs and d not in made:
            dirs.add(d)
            d = d.rpartition("/")[0]
    for d in sorted(dirs, key=lambda d: d.count("/")):
        full = staging + os.sep + d
        try:
            os.mkdir(full)
        except FileExistsError:
            if os.path.islink(full) or not os.path.isdir(full):
                raise Fallback(f"{d} exists and is not a directory (clobbering)") from None
        made.add(d)


def _link_hard(pkg: FastPackage, paths: Sequence[str], staging: str, made: set[str]) -> None:
    """Hard-link some paths of one package (their directories made here, in the worker: on a VM
    disk ``mkdir`` costs as much as the links)."""
    _mkdirs(paths, staging, made)
    src_base = str(pkg.entry) + os.sep
    dst_base = staging + os.sep
    link_ = os.link
    for rel in paths:
        link_(src_base + rel, dst_base + rel)


def _link_other(pkg: FastPackage, staging: str, prefix: str, made: set[str]) -> list[dict]:
    """The package's symlinks and text-placeholder copies; the copies' record entries."""
    plan = pkg.plan
    _mkdirs([*(s[0] for s in plan.soft), *(t["_path"] for t in plan.text)], staging, made)
    dst_base = staging + os.sep
    for rel, target in plan.soft:
        os.symlink(target, dst_base + rel)
    out = []
    for e in plan.text:
        digest, size = _copy_replaced(str(pkg.entry / e["_path"]), dst_base + e["_path"], e["prefix_placeholder"], prefix)
        out.append({**e, "sha256_in_prefix": digest, "size_in_bytes": size})
    return out


def link(pkgs: Sequence[FastPackage], staging: Path, final_prefix: Path,
         on_linked: Callable[[str], None] | None = None, jobs: int | None = None) -> None:
    """Link ``pkgs`` into ``staging`` (which may already hold rattler's part of the prefix) and
    write their conda-meta records.  Raises ``Fallback`` on anything not reproduced exactly.
    Four threads or one per core: ``link``/``mkdir`` release the GIL, and with the package
    cache's inodes not in memory each link waits for a disk read; on 2 cores, 4 threads linked
    30,000 files in 0.42 s against 0.47 s with 2 (8: 0.44 s, 16: 0.51 s; ``cp -al``: 0.66 s)."""
    jobs = jobs or min(8, max(4, os.cpu_count() or 4))
    seen: set[str] = set()
    total = 0
    for pkg in pkgs:
        paths = pkg.plan.all_paths
        seen.update(paths)
        total += len(paths)
        if len(seen) < total:
            raise Fallback(f"a path of {pkg.item.package.name} is in more than one package (clobbering)")
    meta = staging / "conda-meta"
    meta.mkdir(exist_ok=True)
    (meta / "history").touch()
    # big packages first, so the last work items are small ones
    order = sorted(pkgs, key=lambda f: -len(f.plan.hard))
    base, prefix = str(staging), str(final_prefix)
    made: set[str] = set()
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        futures = [([pool.submit(_link_hard, pkg, pkg.plan.hard[i:i + CHUNK], base, made)
                     for i in range(0, len(pkg.plan.hard), CHUNK)],
                    pool.submit(_link_other, pkg, base, prefix, made) if pkg.plan.soft or pkg.plan.text else None)
                   for pkg in order]
        for pkg, (chunks, other) in zip(order, futures, strict=True):
            for fut in chunks:
                fut.result()
            write_record(meta, pkg, other.result() if other else [])
            if on_linked:
                on_linked(pkg.item.package.name)
    except linkplan.PlanUnreadable as exc:
        for pkg in pkgs:  # worked out again by the next create
            if pkg.plan.source is not None and pkg.plan.files is None:
                pkg.plan.source[0].unlink(missing_ok=True)
                if pkg.plan.plan_set is not None:
                    pkg.plan.plan_set.unlink(missing_ok=True)
        raise Fallback(f"a cached link plan is unreadable ({exc})") from None
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.EXDEV, errno.EPERM, errno.ENOTDIR, errno.EMLINK, errno.ENOENT):
            raise Fallback(f"{exc.filename}: {exc.strerror}") from None
        raise
    finally:  # on a fallback or Ctrl-C, queued work is dropped rather than linked in vain
        pool.shutdown(wait=True, cancel_futures=True)


# --- conda-meta records ----------------------------------------------------------------------

def render_record(pkg: FastPackage, text_entries: list[dict]) -> list[bytes]:
    """The record as rattler writes it (serde_json pretty-printing, field order of PrefixRecord):
    package record fields, fn/url/channel, then the prefix fields, as pieces of UTF-8 to write one
    after another.  files/paths come rendered from the link plan (``json.dumps(indent=...)`` is
    pure Python and ~4x slower on 30,000 paths) and stay bytes: joining and encoding megabytes of
    text held the GIL for milliseconds at a time while four threads were linking."""
    item = pkg.item
    head = {**pkg.record, "fn": item.package.filename, "url": item.package.url,
            "channel": item.package.channel or None,
            "extracted_package_dir": str(pkg.entry), "requested_specs": []}
    out = [json.dumps(head, indent=2, ensure_ascii=False)[:-2].encode()]
    files, _paths = pkg.plan.rendered()
    out += [b',\n  "files": [\n', files, b"\n  ],"] if files else [b',\n  "files": [],']
    out.append(b'\n  "paths_data": {\n    "paths_version": 1,\n    "paths": ')
    paths = linkplan.render_paths(pkg.plan, text_entries)
    out += [b"[\n", *paths, b"\n    ]"] if any(paths) else [b"[]"]
    out.append(f'\n  }},\n  "link": {{\n    "source": {encode_basestring(str(pkg.entry))},\n    "type": 1\n  }}\n}}'.encode())
    return out


def write_record(meta: Path, pkg: FastPackage, text_entries: list[dict]) -> None:
    p = pkg.item.package
    # 0o600 like rattler's records (it writes them through a temporary file)
    fd = os.open(meta / f"{p.name}-{p.version}-{p.build}.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.writelines(render_record(pkg, text_entries))
