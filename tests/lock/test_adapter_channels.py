"""The solver adapter tells conda-lock's virtual-package channel from real channels without
parsing a real channel's repodata.json (a local conda-forge mirror's holds hundreds of
thousands of records; rattler reads it itself)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envlock.lock.conda import adapter


def _channel(root: Path, names: list[str]) -> Path:
    (root / "linux-64").mkdir(parents=True)
    (root / "noarch").mkdir()
    pkgs = {f"{n}-1-0.tar.bz2": {"name": n, "version": "1", "build": "0", "build_number": 0, "depends": []} for n in names}
    (root / "linux-64" / "repodata.json").write_text(json.dumps({"info": {"subdir": "linux-64"}, "packages": pkgs}))
    (root / "noarch" / "repodata.json").write_text(json.dumps({"info": {"subdir": "noarch"}, "packages": {}}))
    return root


def test_real_channel_repodata_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = _channel(tmp_path / "mirror", ["numpy", "python"])
    virtual = _channel(tmp_path / f"{adapter.VIRTUAL_CHANNEL_PREFIX}abc123", ["__glibc", "__unix"])
    read: list[Path] = []
    original = Path.read_text

    def spy(self: Path, *args: object, **kw: object) -> str:
        read.append(self)
        return original(self, *args, **kw)

    monkeypatch.setattr(Path, "read_text", spy)
    channels, virtual_pkgs = adapter._split_channels([real.as_uri(), virtual.as_uri()], "linux-64")
    assert channels == [real.as_uri()]
    assert sorted(v.name.normalized for v in virtual_pkgs) == ["__glibc", "__unix"]
    assert not [p for p in read if real in p.parents], f"the real channel's repodata was parsed: {read}"


def test_local_channel_of_only_dunder_names_stays_a_channel(tmp_path: Path) -> None:
    """Only conda-lock's own temporary channel becomes virtual packages; a user's channel
    that happens to hold only ``__*`` packages is passed to the solver as a channel."""
    odd = _channel(tmp_path / "my-channel", ["__weird"])
    channels, virtual_pkgs = adapter._split_channels([odd.as_uri()], "linux-64")
    assert channels == [odd.as_uri()] and virtual_pkgs == []
