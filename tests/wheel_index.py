"""PYTEST_DONT_REWRITE. A real PEP 503 package index with real wheels, served over HTTP from 127.0.0.1: what uv
locks and installs the pip part of a profile from in offline tests (PyPI stands behind it in
the e2e tests).  ``stall`` makes wheel downloads hang (a slow mirror) until released."""

from __future__ import annotations

import base64
import functools
import hashlib
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import profile_doc, write_project
from create_support import envlock


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(dest: Path, name: str, version: str, modules: dict[str, str],
                console_scripts: dict[str, str] | None = None) -> Path:
    """A pure-Python wheel ``name-version-py3-none-any.whl`` holding ``modules`` (path -> text)."""
    dist = f"{name.replace('-', '_')}-{version}.dist-info"
    files = {path: text.encode() for path, text in modules.items()}
    files[f"{dist}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    files[f"{dist}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: envlock-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    if console_scripts:
        files[f"{dist}/entry_points.txt"] = ("[console_scripts]\n" + "".join(
            f"{k} = {v}\n" for k, v in console_scripts.items())).encode()
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\n" for p, d in files.items()) + f"{dist}/RECORD,,\n"
    files[f"{dist}/RECORD"] = record.encode()
    dest.mkdir(parents=True, exist_ok=True)
    wheel = dest / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for path, data in files.items():
            z.writestr(path, data)
    return wheel


def write_index(root: Path, wheels: list[Path]) -> Path:
    """``root/simple/<name>/index.html`` linking each wheel (in ``root/files``) with its sha256."""
    by_name: dict[str, list[Path]] = {}
    for w in wheels:
        by_name.setdefault(w.name.split("-")[0].replace("_", "-").lower(), []).append(w)
    for name, ws in by_name.items():
        page = root / "simple" / name
        page.mkdir(parents=True, exist_ok=True)
        links = "".join(f'<a href="../../files/{w.name}#sha256={hashlib.sha256(w.read_bytes()).hexdigest()}">{w.name}</a>\n'
                        for w in ws)
        (page / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
    return root


class WheelIndex:
    """``root`` served over HTTP; ``url`` is the simple index.  ``stall()``: wheel downloads
    hang from now on (``requested`` is set when one arrives) until ``release()``."""

    def __init__(self, root: Path) -> None:
        self.requested = threading.Event()
        self._released = threading.Event()
        self._released.set()
        index = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path.endswith(".whl") and not index._released.is_set():
                    index.requested.set()
                    index._released.wait(120)
                super().do_GET()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/simple"

    def stall(self) -> None:
        self.requested.clear()
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()


# --- fixtures (``pytest_plugins = ["wheel_index"]``) ----------------------------------------

@pytest.fixture
def wheel_index(tmp_path: Path):
    wheels = tmp_path / "index" / "files"
    build_wheel(wheels, "tinypkg", "1.0", {"tinypkg/__init__.py": "VALUE = 42\n", "tinypkg/data.txt": "x" * 5000},
                console_scripts={"tinytool": "tinypkg:main"})
    index = WheelIndex(write_index(tmp_path / "index", sorted(wheels.iterdir())))
    yield index
    index.close()


def pip_env(index: WheelIndex, uv_cache: Path) -> dict:
    return {"UV_INDEX_URL": index.url, "UV_CACHE_DIR": str(uv_cache), "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}


@pytest.fixture
def pip_project(tmp_path: Path, tf_channel: Path, wheel_index: WheelIndex) -> Path:
    project = write_project(tmp_path / "pip-project", {"t": profile_doc("t", tf_channel, pip=["tinypkg==1.0"])})
    r = envlock(project, "lock", "--profile", "t", cache=tmp_path / "unused", extra_env=pip_env(wheel_index, tmp_path / "uv-lock"))
    assert r.returncode == 0, r.stderr
    return project
