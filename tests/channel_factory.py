"""Build real conda channels for tests: real package archives (.tar.bz2 and .conda) with
index.json, paths.json (sha256 per file) and real payload files, indexed by py-rattler.

The ``python`` package can be *venv-shaped*: a ``pyvenv.cfg`` plus ``bin/python`` linking to
the host interpreter, so real PyPI wheels install into the resulting conda prefix.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import sys
import sysconfig
import tarfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import zstandard


@dataclass
class PackageSpec:
    name: str
    version: str
    build: str = "0"
    build_number: int = 0
    subdir: str = "linux-64"
    depends: list[str] = field(default_factory=list)
    constrains: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    symlinks: dict[str, str] = field(default_factory=dict)  # path -> target
    track_features: str = ""
    fmt: str = "tar.bz2"  # or "conda"
    noarch: str | None = None
    # paths (keys of ``files``) whose contents hold PREFIX_PLACEHOLDER, replaced at link time
    text_prefix_files: list[str] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return f"{self.name}-{self.version}-{self.build}.{self.fmt}"


# conda-build's placeholder: 255 characters so binary replacement has room; text only here.
PREFIX_PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3" + "_placehold" * 22


def _tarinfo(name: str, data: bytes, mode: int = 0o644) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = mode
    ti.mtime = 1_700_000_000
    return ti


def _info_files(spec: PackageSpec) -> dict[str, bytes]:
    index = {
        "name": spec.name, "version": spec.version, "build": spec.build,
        "build_number": spec.build_number, "depends": spec.depends,
        "constrains": spec.constrains, "subdir": "noarch" if spec.noarch else spec.subdir,
        "license": "BSD-3-Clause", "timestamp": 1_700_000_000_000,
    }
    if spec.noarch:
        index["noarch"] = spec.noarch
    if spec.track_features:
        index["track_features"] = spec.track_features
    paths = [
        {"_path": p, "path_type": "hardlink", "sha256": hashlib.sha256(d).hexdigest(), "size_in_bytes": len(d),
         **({"prefix_placeholder": PREFIX_PLACEHOLDER, "file_mode": "text"} if p in spec.text_prefix_files else {})}
        for p, d in sorted(spec.files.items())
    ] + [{"_path": p, "path_type": "softlink"} for p in sorted(spec.symlinks)]
    all_paths = sorted([*spec.files, *spec.symlinks])
    return {
        "info/index.json": json.dumps(index, indent=2).encode(),
        "info/paths.json": json.dumps({"paths": paths, "paths_version": 1}, indent=2).encode(),
        "info/files": ("\n".join(all_paths) + "\n").encode(),
    }


def _write_tar(tf: tarfile.TarFile, files: dict[str, bytes], symlinks: dict[str, str]) -> None:
    for path, data in sorted(files.items()):
        mode = 0o755 if path.startswith("bin/") else 0o644
        tf.addfile(_tarinfo(path, data, mode), io.BytesIO(data))
    for path, target in sorted(symlinks.items()):
        ti = tarfile.TarInfo(path)
        ti.type = tarfile.SYMTYPE
        ti.linkname = target
        ti.mtime = 1_700_000_000
        tf.addfile(ti)


def write_package(channel: Path, spec: PackageSpec) -> Path:
    subdir = "noarch" if spec.noarch else spec.subdir
    out = channel / subdir / spec.filename
    out.parent.mkdir(parents=True, exist_ok=True)
    info = _info_files(spec)
    if spec.fmt == "tar.bz2":
        with tarfile.open(out, "w:bz2") as tf:
            _write_tar(tf, {**info, **spec.files}, spec.symlinks)
    else:
        def zst_tar(files: dict[str, bytes], links: dict[str, str]) -> bytes:
            raw = io.BytesIO()
            with tarfile.open(fileobj=raw, mode="w") as tf:
                _write_tar(tf, files, links)
            return zstandard.ZstdCompressor(level=3).compress(raw.getvalue())
        stem = out.name[: -len(".conda")]
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr("metadata.json", json.dumps({"conda_pkg_format_version": 2}))
            zf.writestr(f"pkg-{stem}.tar.zst", zst_tar(spec.files, spec.symlinks))
            zf.writestr(f"info-{stem}.tar.zst", zst_tar(info, {}))
    return out


def index_channel(channel: Path) -> None:
    """Write repodata.json for every subdir with py-rattler's indexer (noarch always present)."""
    import rattler.index

    (channel / "noarch").mkdir(parents=True, exist_ok=True)
    asyncio.run(rattler.index.index_fs(channel, write_zst=False, write_shards=False))


def host_python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"


def venv_python_spec(subdir: str = "linux-64", build: str = "0_venv") -> PackageSpec:
    """A ``python`` package shaped like a venv over the host interpreter."""
    exe = Path(os.path.realpath(sys._base_executable if hasattr(sys, "_base_executable") else sys.executable))
    ver = host_python_version()
    mm = f"{sys.version_info.major}.{sys.version_info.minor}"
    cfg = f"home = {exe.parent}\ninclude-system-site-packages = false\nversion = {ver}\n"
    return PackageSpec(
        name="python", version=ver, build=build, subdir=subdir,
        files={
            "pyvenv.cfg": cfg.encode(),
            f"lib/python{mm}/site-packages/_envlock_test_python.pth": b"",
        },
        symlinks={"bin/python": str(exe), "bin/python3": "python", f"bin/python{mm}": "python"},
    )


def stub_python_spec(version: str, subdir: str, build: str = "0") -> PackageSpec:
    """A python package for platforms we cannot run (osx-arm64): real archive, inert payload."""
    mm = ".".join(version.split(".")[:2])
    return PackageSpec(name="python", version=version, build=build, subdir=subdir,
                       files={f"lib/python{mm}/os.py": b"# stand-in\n"})


def payload(n_files: int, size: int, seed: str) -> dict[str, bytes]:
    """Deterministic distinct file contents for synthetic packages."""
    out = {}
    for i in range(n_files):
        h = hashlib.sha256(f"{seed}-{i}".encode()).digest()
        out[f"share/{seed}/f{i:05d}.dat"] = (h * (size // len(h) + 1))[:size]
    return out


def build_channel(root: Path, specs: list[PackageSpec]) -> Path:
    t = time.perf_counter()
    for spec in specs:
        write_package(root, spec)
    index_channel(root)
    _ = time.perf_counter() - t
    return root


def site_packages_rel() -> str:
    return os.path.relpath(sysconfig.get_paths()["purelib"], sys.prefix)


def serve(directory: Path):  # noqa: ANN201 - http.server.ThreadingHTTPServer
    """``directory`` over HTTP from 127.0.0.1, from a daemon thread: a stand-in for a remote
    channel, which these machines cannot reach.  Its URL is ``http://127.0.0.1:<server_port>``;
    ``shutdown()`` it when done."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
