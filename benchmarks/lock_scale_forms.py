"""The forms a generated channel is served in for ``bench_lock_scale.py``.

- ``file``: ``file://<channel>``, rattler reads ``<subdir>/repodata.json`` from disk.
- ``http-json``: the same directory over http, the shard index hidden (404), so rattler
  downloads ``repodata.json`` (and revalidates its cached copy on later runs).
- ``http-sharded``: the same directory over http with CEP-16 sharded repodata:
  ``<subdir>/repodata_shards.msgpack.zst`` (``{"info": {...}, "shards": {name: sha256}}``)
  and ``<subdir>/shards/<sha256>.msgpack.zst`` (one per package name, ``{"packages": {},
  "packages.conda": {fn: record}, "removed": []}``, checksums as raw bytes), the sha256 being
  that of the compressed shard file.  rattler reads shards only over http(s): for ``file://``
  it always opens ``repodata.json``.
"""

from __future__ import annotations

import email.utils
import hashlib
import http.server
import json
import threading
from collections import defaultdict
from functools import partial
from pathlib import Path

SHARD_INDEX = "repodata_shards.msgpack.zst"
SUBDIRS = ("linux-64", "osx-arm64", "noarch")
FORMS = ("file", "http-json", "http-sharded")


def _packed(record: dict) -> dict:
    out = dict(record)
    for key in ("sha256", "md5"):
        if isinstance(out.get(key), str):
            out[key] = bytes.fromhex(out[key])
    return out


def write_shards(channel: Path) -> None:
    """Write the sharded form of every subdir's ``repodata.json`` next to it."""
    import msgpack
    import zstandard

    compress = zstandard.ZstdCompressor(level=3).compress
    for sd in SUBDIRS:
        repodata = json.loads((channel / sd / "repodata.json").read_text())
        by_name: dict[str, dict[str, dict]] = defaultdict(lambda: {"packages": {}, "packages.conda": {}})
        for key in ("packages", "packages.conda"):
            for fn, rec in (repodata.get(key) or {}).items():
                by_name[rec["name"]][key][fn] = _packed(rec)
        shard_dir = channel / sd / "shards"
        shard_dir.mkdir(parents=True, exist_ok=True)
        index: dict[str, bytes] = {}
        for name, shard in by_name.items():
            blob = compress(msgpack.packb({**shard, "removed": []}))
            digest = hashlib.sha256(blob).digest()
            (shard_dir / f"{digest.hex()}.msgpack.zst").write_bytes(blob)
            index[name] = digest
        info = {"subdir": sd, "base_url": "./", "shards_base_url": "./shards/"}
        (channel / sd / SHARD_INDEX).write_bytes(compress(msgpack.packb({"info": info, "shards": index})))


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with an ETag and Last-Modified on 200 and 304 alike: rattler's HTTP
    cache revalidates with them, and http.server's own 304 carries neither, which rattler
    then takes for a changed file (and fails on the empty body)."""

    hide_shards = False
    etag: str | None = None

    def send_head(self):  # type: ignore[no-untyped-def]
        self.etag = None
        path = Path(self.translate_path(self.path))
        if self.hide_shards and path.name == SHARD_INDEX:
            self.send_error(404)
            return None
        if path.is_file():
            st = path.stat()
            self.etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
            modified = email.utils.formatdate(int(st.st_mtime), usegmt=True)
            since = self.headers.get("If-Modified-Since")
            if self.headers.get("If-None-Match") == self.etag or (
                    since and "If-None-Match" not in self.headers and since == modified):
                self.send_response(304)
                self.send_header("Last-Modified", modified)
                self.end_headers()
                return None
            for header in ("If-None-Match", "If-Modified-Since"):
                del self.headers[header]
        return super().send_head()

    def end_headers(self) -> None:
        if self.etag:
            self.send_header("ETag", self.etag)
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        pass


class Served:
    """One channel directory served over http on 127.0.0.1 until ``close()``."""

    def __init__(self, channel: Path, *, hide_shards: bool) -> None:
        handler = type("Handler", (_Handler,), {"hide_shards": hide_shards})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(channel)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def channel_urls(channel: Path) -> tuple[dict[str, str], list[Served]]:
    """URL per form for ``channel``, and the servers to close when done."""
    json_server = Served(channel, hide_shards=True)
    sharded_server = Served(channel, hide_shards=False)
    urls = {"file": channel.as_uri(), "http-json": json_server.url, "http-sharded": sharded_server.url}
    return urls, [json_server, sharded_server]
