"""The lock-at-scale benchmark's channel forms are what rattler reads: CEP-16 shards over
http (and only the shards of the names a solve reaches), ``repodata.json`` over http when the
shard index is missing, and ``repodata.json`` alone for ``file://``.  Real py-rattler against a
local http.server."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from lock_scale_forms import SHARD_INDEX, Served, write_shards  # noqa: E402

rattler = pytest.importorskip("rattler")


def _record(name: str, depends: list[str], subdir: str) -> dict:
    digest = f"{abs(hash((name, subdir))):064x}"[-64:]
    return {"name": name, "version": "1.0", "build": "h0_0", "build_number": 0, "depends": depends,
            "md5": digest[:32], "sha256": digest, "size": 1, "subdir": subdir, "timestamp": 1700000000000}


def _channel(root: Path) -> Path:
    recs = {"linux-64": {"app": ["lib"], "lib": [], "unrelated": []}, "noarch": {}}
    for sd, names in recs.items():
        (root / sd).mkdir(parents=True)
        pkgs = {f"{n}-1.0-h0_0.conda": _record(n, deps, sd) for n, deps in names.items()}
        (root / sd / "repodata.json").write_text(json.dumps({"info": {"subdir": sd}, "packages.conda": pkgs}))
    (root / "osx-arm64").mkdir()
    (root / "osx-arm64" / "repodata.json").write_text(json.dumps({"info": {"subdir": "osx-arm64"}}))
    write_shards(root)
    return root


def _solve(url: str, cache: Path) -> list[str]:
    async def go() -> list[str]:
        recs = await rattler.solve(sources=[rattler.Channel(url)], specs=["app"], platforms=["linux-64", "noarch"],
                                   gateway=rattler.Gateway(cache_dir=cache))
        return sorted(r.name.normalized for r in recs)

    return asyncio.run(go())


def test_rattler_reads_the_served_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    channel = _channel(tmp_path / "channel")
    served: list[str] = []
    for hide, expect_shards in ((False, True), (True, False)):
        cache = tmp_path / f"cache-{hide}"
        server = Served(channel, hide_shards=hide)
        handler_class = server.server.RequestHandlerClass.func  # a functools.partial over it
        send_head = handler_class.send_head

        def logging_head(self, send_head=send_head):  # type: ignore[no-untyped-def]
            served.append(self.path)
            return send_head(self)

        monkeypatch.setattr(handler_class, "send_head", logging_head)
        served.clear()
        try:
            assert _solve(server.url, cache) == ["app", "lib"]
            assert _solve(server.url, cache) == ["app", "lib"]  # revalidating rattler's cache works too
        finally:
            server.close()
        shards = [p for p in served if "/shards/" in p]
        if expect_shards:
            assert f"/linux-64/{SHARD_INDEX}" in served and len(shards) == 2  # app and lib, never unrelated
            assert "/linux-64/repodata.json" not in served
        else:
            assert "/linux-64/repodata.json" in served and not shards

    # file:// is read through repodata.json only: shards alone are not a channel to rattler
    for sd in ("linux-64", "noarch", "osx-arm64"):
        (channel / sd / "repodata.json").unlink()
    with pytest.raises(Exception, match="repodata.json"):
        _solve(channel.as_uri(), tmp_path / "cache-file")
