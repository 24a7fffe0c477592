"""Link the pip part of a warm create from uv's cache without running uv.

After uv installed the lock's wheels into a staging prefix, the files it hard-linked from its
cache (``archive-v*/<id>/...``) and the few it wrote itself (RECORD, INSTALLER, entry points,
``direct_url.json``) are recorded in a manifest in envlock's cache, keyed by everything that
shapes uv's output: the pip requirements (URLs and hashes), the conda part under them, the
final prefix (entry points name it), uv itself and its cache directory.  The next create of the
same key links the same files from the same cache entries with a few threads — as fast as
``cp -al`` — and copies the small written ones from the manifest's own store.  The manifest
holds no wheel contents (a CI cache of both caches stores them once, in uv's).

Before linking, every cache entry the manifest names must still hold its probe file at its
recorded size; otherwise (``uv cache clean``, a pruned cache) uv installs as before and the
manifest is written again.  ``create --reinstall`` never uses a manifest."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from envlock.core.digests import sha256
from envlock.core.errors import EnvlockError
from envlock.lockfile import LockedPackage

FORMAT = 1
SNAPSHOTS_DIR = "pip-trees"
MAX_STORED_BYTES = 64 << 20  # what uv wrote itself: RECORDs, entry points, a few KB per wheel


def key(pip_pkgs: Sequence[LockedPackage], conda_pkgs: Sequence[LockedPackage], target: Path, uv: str) -> str:
    st = os.stat(uv)
    parts = [f"format {FORMAT}", str(target), f"uv {uv} {st.st_size} {st.st_mtime_ns}",
             f"UV_CACHE_DIR={os.environ.get('UV_CACHE_DIR', '')}", f"XDG_CACHE_HOME={os.environ.get('XDG_CACHE_HOME', '')}",
             f"HOME={os.environ.get('HOME', '')}"]
    parts += sorted(f"pip {p.name} {p.url} {p.sha256}" for p in pip_pkgs)
    parts += sorted(f"conda {p.url} {p.sha256 or p.md5}" for p in conda_pkgs)
    return sha256("\n".join(parts).encode()).hexdigest()[:32]


def snapshot_dir(cache_root: Path, snapshot_key: str) -> Path:
    return cache_root / SNAPSHOTS_DIR / snapshot_key


def dist_infos(staging: Path) -> dict[str, set[str]]:
    """site-packages (relative) -> the ``*.dist-info`` directories in it; "" -> the files at
    the prefix's top (uv leaves its ``.lock`` there)."""
    from envlock.prefix.pip_files import site_packages

    out: dict[str, set[str]] = {"": {e.name for e in os.scandir(staging) if not e.is_dir(follow_symlinks=False)}}
    for sp in site_packages(staging):
        out[sp] = {n for n in os.listdir(staging / sp) if n.endswith(".dist-info")}
    return out


def _installed_paths(staging: Path, before: dict[str, set[str]]) -> list[str]:
    """Every path (relative to the prefix) that the RECORDs of the newly installed dists name."""
    from envlock.prefix.pip_files import _split

    after = dist_infos(staging)
    paths: set[str] = set(after.pop("") - before.get("", set()))
    for sp, dists in after.items():
        for dist in sorted(dists - before.get(sp, set())):
            text = (staging / sp / dist / "RECORD").read_text(encoding="utf-8")
            for line in text.splitlines():
                parts = _split(line) if line else None
                if parts is None:
                    continue
                rel = os.path.normpath(f"{sp}/{parts[0]}").replace(os.sep, "/")
                if rel.startswith("../") or os.path.isabs(rel):
                    raise ValueError(f"{dist}: RECORD names {parts[0]}, outside the prefix")
                paths.add(rel)
    return sorted(paths)


def _uv_archives(new_dists: set[str], uv_cache: Path) -> list[Path]:
    """The entries of uv's cache that hold one of ``new_dists`` (unpacked wheels)."""
    found: list[Path] = []
    for bucket in sorted(uv_cache.glob("archive-v*")):
        for entry in os.scandir(bucket):
            try:
                if entry.is_dir() and any(n in new_dists for n in os.listdir(entry.path)):
                    found.append(Path(entry.path))
            except OSError:
                continue
    return found


def record(cache_root: Path, snapshot_key: str, staging: Path, before: dict[str, set[str]], uv_cache: Path) -> bool:
    """Write the manifest of what uv just installed into ``staging``; False when it cannot be
    described exactly (then the next create runs uv again, as without a manifest)."""
    dest = snapshot_dir(cache_root, snapshot_key)
    if load(cache_root, snapshot_key) is not None:  # a concurrent create wrote it: others may be linking from it
        return True
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        paths = _installed_paths(staging, before)
        new_dists = {d for sp, ds in dist_infos(staging).items() if sp for d in ds - before.get(sp, set())}
        by_inode: dict[tuple[int, int], tuple[int, str]] = {}
        archives = _uv_archives(new_dists, uv_cache)
        for i, archive in enumerate(archives):
            cut = len(str(archive)) + 1
            for dirpath, _dirs, names in os.walk(archive):
                for n in names:
                    full = f"{dirpath}/{n}"
                    st = os.lstat(full)
                    by_inode[(st.st_dev, st.st_ino)] = (i, full[cut:])
        links: list[list] = []
        copies: list[list] = []
        stored_bytes = 0
        shutil.rmtree(tmp, ignore_errors=True)
        for rel in paths:
            full = f"{staging}/{rel}"
            st = os.lstat(full)
            src = by_inode.get((st.st_dev, st.st_ino)) if st.st_nlink > 1 else None
            if src is not None:
                links.append([src[0], src[1], rel])
            elif stat.S_ISLNK(st.st_mode):
                copies.append([rel, "symlink", os.readlink(full)])
            else:
                stored_bytes += st.st_size
                if stored_bytes > MAX_STORED_BYTES:  # uv copied instead of linking: nothing to gain
                    raise ValueError("uv did not link from its cache")
                stored = tmp / "files" / rel
                stored.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(full, stored)
                copies.append([rel, "file", st.st_mode & 0o7777])
        probes = []
        for archive in archives:
            probe = next((f"{d}/METADATA" for d in sorted(os.listdir(archive)) if d in new_dists), None)
            probes.append([str(archive), probe, os.stat(archive / probe).st_size if probe else -1])
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / "manifest.json").write_text(json.dumps(
            {"format": FORMAT, "archives": probes, "links": links, "copies": copies}))
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp, dest)
        return True
    except (OSError, ValueError, UnicodeDecodeError):
        shutil.rmtree(tmp, ignore_errors=True)
        return False


def load(cache_root: Path, snapshot_key: str) -> dict | None:
    """The manifest, when every uv cache entry it links from is still there."""
    try:
        doc = json.loads((snapshot_dir(cache_root, snapshot_key) / "manifest.json").read_bytes())
        if doc.get("format") != FORMAT:
            return None
        for archive, probe, size in doc["archives"]:
            if probe is not None and os.stat(os.path.join(archive, probe)).st_size != size:
                return None
        return doc
    except (OSError, ValueError, KeyError, TypeError):
        return None


def link(cache_root: Path, snapshot_key: str, doc: dict, staging: Path, *, jobs: int = 4) -> None:
    """Lay the manifest's files into ``staging`` (whose conda part is linked).  A file that
    vanished from uv's cache meanwhile fails the create (the caller removes the staging)."""
    store = snapshot_dir(cache_root, snapshot_key) / "files"
    root = str(staging)
    archives = [a for a, _p, _s in doc["archives"]]
    wanted = {os.path.dirname(rel) for _i, _s, rel in doc["links"]} | {os.path.dirname(c[0]) for c in doc["copies"]}
    by_depth: dict[int, set[str]] = {}
    for d in wanted:
        while d and d not in by_depth.setdefault(d.count("/"), set()):
            by_depth[d.count("/")].add(d)
            d = os.path.dirname(d)

    def make(batch: list[str]) -> None:
        for d in batch:
            try:
                os.mkdir(os.path.join(root, d))
            except FileExistsError:
                if not os.path.isdir(os.path.join(root, d)):
                    raise

    def place(batch: list[list]) -> None:
        for i, src, rel in batch:
            dst = os.path.join(root, rel)
            try:
                os.link(os.path.join(archives[i], src), dst)
            except FileExistsError:  # uv replaces a file the conda part put there; so do we
                os.unlink(dst)
                os.link(os.path.join(archives[i], src), dst)

    links = doc["links"]
    step = max(1, len(links) // (jobs * 4) + 1)
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for depth in sorted(by_depth):  # each level's parents exist: its directories in parallel
                level = sorted(by_depth[depth])
                n = max(1, len(level) // jobs + 1)
                list(pool.map(make, [level[k:k + n] for k in range(0, len(level), n)]))
            list(pool.map(place, [links[k:k + step] for k in range(0, len(links), step)]))
        for rel, kind, value in doc["copies"]:
            dst = os.path.join(root, rel)
            if os.path.lexists(dst):
                os.unlink(dst)
            if kind == "symlink":
                os.symlink(value, dst)
            else:
                shutil.copyfile(store / rel, dst)
                os.chmod(dst, value)
    except OSError as exc:
        shutil.rmtree(snapshot_dir(cache_root, snapshot_key), ignore_errors=True)
        raise EnvlockError(f"linking the pip packages from uv's cache failed ({exc}); the cache changed while "
                           "envlock read it. Run the create again (uv will install them).", exit_code=1) from exc


def uv_cache_dir(uv: str) -> Path | None:
    import subprocess

    proc = subprocess.run([uv, "cache", "dir", "--no-config"], capture_output=True, text=True, check=False)
    return Path(proc.stdout.strip()) if proc.returncode == 0 and proc.stdout.strip() else None
