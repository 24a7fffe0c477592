"""``envlock pack`` / ``envlock unpack``: the unpacking process runs with networking really
disabled (``unshare -n``: a new network namespace with only a down loopback)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml
from conftest import ENVLOCK, OFFLINE
from create_support import envlock
from fleet_support import ChannelsGone, as_json
from wheel_index import WheelIndex

pytest_plugins = ["create_support", "fleet_support", "wheel_index"]


def offline_works() -> bool:
    if not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


needs_unshare = pytest.mark.skipif(not offline_works(), reason="unshare -n needs root (or user namespaces)")


def unpack_offline(bundle: Path, prefix: Path, cache: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **OFFLINE, "ENVLOCK_CACHE_DIR": str(cache)}
    env.pop("ENVLOCK_MIRROR", None)
    return subprocess.run(["unshare", "-n", *ENVLOCK, "unpack", str(bundle), "--prefix", str(prefix), "--no-verify",
                           "--json", *extra], capture_output=True, text=True, env=env)


@needs_unshare
def test_pack_then_unpack_with_no_network(pip_project: Path, wheel_index: WheelIndex, tmp_path: Path) -> None:
    bundle = tmp_path / "t.envlock.tar"
    r = envlock(pip_project, "pack", "--profile", "t", "-o", str(bundle), "--json", cache=tmp_path / "c",
               extra_env={"NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"})
    packed = as_json(r)
    assert r.returncode == 0 and packed["ok"], r.stderr
    lock = yaml.safe_load((pip_project / "locks" / "t.conda-lock.yml").read_text())["package"]
    assert packed["packages"] == len(lock) and any(p["manager"] == "pip" for p in lock)
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
    assert "pypi/simple/tinypkg/index.html" in [n.removeprefix("mirror/") for n in names]
    # the bundle is the archives plus a small overhead (tar headers, lock, indexes)
    assert packed["archives_bytes"] <= packed["bundle_bytes"] <= packed["archives_bytes"] + 64 * 1024

    wheel_index.close()  # nothing to fetch from, even if the namespace let it
    prefix = tmp_path / "env"
    r = unpack_offline(bundle, prefix, tmp_path / "fresh-cache")
    out = as_json(r)
    assert r.returncode == 0 and out["ok"], r.stderr
    assert out["conda_packages"] + out["pip_packages"] == len(lock) and out["pip_packages"] == 1
    assert list(prefix.glob("lib/python*/site-packages/tinypkg/__init__.py")), "the wheel was installed"
    r = envlock(pip_project, "check", "--profile", "t", "--prefix", str(prefix), "--json", cache=tmp_path / "fresh-cache")
    assert r.returncode == 0 and json.loads(r.stdout)["clean"], r.stdout + r.stderr


@needs_unshare
def test_unpack_refuses_a_tampered_bundle(fleet_project: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "t.tar"
    assert envlock(fleet_project, "pack", "--profile", "t", "-o", str(bundle), cache=tmp_path / "c").returncode == 0
    data = bytearray(bundle.read_bytes())
    with tarfile.open(bundle) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(".tar.bz2"))
    data[member.offset_data + member.size // 2] ^= 0xFF  # one flipped byte inside an archive
    bundle.write_bytes(bytes(data))
    with ChannelsGone(fleet_project):
        r = unpack_offline(bundle, tmp_path / "env", tmp_path / "fresh")
    assert r.returncode == 1 and "sha256 check" in r.stderr and member.name in r.stderr, r.stderr
    assert json.loads(r.stdout)["ok"] is False and not (tmp_path / "env").exists()


def test_unpack_of_a_non_bundle_is_usage_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar")
    r = subprocess.run([*ENVLOCK, "unpack", str(junk)], capture_output=True, text=True,
                       env={**os.environ, "ENVLOCK_CACHE_DIR": str(tmp_path / "c")})
    assert r.returncode == 2 and str(junk) in r.stderr and "Traceback" not in r.stderr, r.stderr
