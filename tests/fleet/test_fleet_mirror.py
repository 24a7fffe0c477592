"""``envlock mirror`` into a directory and into S3 (moto's real S3 server on 127.0.0.1), and
``envlock create --mirror`` / ``ENVLOCK_MIRROR`` from them with the original channels gone."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml
from create_support import envlock
from fleet_support import ChannelsGone, as_json, make_bucket, s3_object

pytest_plugins = ["create_support", "fleet_support"]


def locked(project: Path) -> list[dict]:
    return yaml.safe_load((project / "locks" / "t.conda-lock.yml").read_text())["package"]


def test_mirror_to_directory_is_a_conda_channel_and_incremental(fleet_project: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    r = envlock(fleet_project, "mirror", "--profile", "t", "--to", mirror.as_uri(), "--json", cache=tmp_path / "c")
    first = as_json(r)
    pkgs = locked(fleet_project)
    assert r.returncode == 0 and first["ok"], r.stderr
    assert first["packages"] == len(pkgs) and first["uploaded"] == len(pkgs) and first["already_there"] == 0
    # a real channel: py-rattler's repodata lists every archive with the lock's sha256
    listed = {}
    for repodata in mirror.glob("conda/*/repodata.json"):
        data = json.loads(repodata.read_text())
        for fn, rec in {**data.get("packages", {}), **data.get("packages.conda", {})}.items():
            listed[fn] = rec["sha256"]
    assert listed == {p["url"].rsplit("/", 1)[1]: p["hash"]["sha256"] for p in pkgs}
    second = as_json(envlock(fleet_project, "mirror", "--profile", "t", "--to", mirror.as_uri(), "--json",
                             cache=tmp_path / "c2"))
    assert second["uploaded"] == 0 and second["already_there"] == len(pkgs), second


def test_create_from_directory_mirror_without_the_channels(fleet_project: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    assert envlock(fleet_project, "mirror", "--to", mirror.as_uri(), cache=tmp_path / "c").returncode == 0
    prefix = tmp_path / "env"
    with ChannelsGone(fleet_project):
        plain = envlock(fleet_project, "create", "--profile", "t", "--no-verify", "--prefix", str(tmp_path / "plain-env"),
                        cache=tmp_path / "c-plain")
        assert plain.returncode != 0  # the lock's own URLs are gone: the mirror below is what works
        r = envlock(fleet_project, "create", "--profile", "t", "--no-verify", "--prefix", str(prefix),
                    "--mirror", mirror.as_uri(), "--json", cache=tmp_path / "c-new")
    out = as_json(r)
    assert r.returncode == 0 and out["ok"], r.stderr
    assert out["downloaded"] == out["conda_packages"] == len(locked(fleet_project))
    # the environment records the lock's URLs, not the mirror's
    meta = [json.loads(p.read_text()) for p in (prefix / "conda-meta").glob("*.json")]
    assert {m["url"] for m in meta} == {p["url"] for p in locked(fleet_project)}


def test_missing_package_in_mirror_is_an_error_naming_it(fleet_project: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    assert envlock(fleet_project, "mirror", "--to", mirror.as_uri(), cache=tmp_path / "c").returncode == 0
    [gone] = list(mirror.glob("conda/*/ptool-1.0-*.conda"))
    gone.unlink()
    r = envlock(fleet_project, "create", "--profile", "t", "--no-verify", "--prefix", str(tmp_path / "env"),
                cache=tmp_path / "c-new", extra_env={"ENVLOCK_MIRROR": mirror.as_uri()})
    assert r.returncode == 1, r.stderr
    assert "ptool 1.0" in r.stderr and "not in the mirror" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "env").exists()


def test_tampered_mirror_file_fails_the_hash_check(fleet_project: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    assert envlock(fleet_project, "mirror", "--to", mirror.as_uri(), cache=tmp_path / "c").returncode == 0
    [victim] = list(mirror.glob("conda/*/pdata-2.0-*"))
    victim.write_bytes(victim.read_bytes()[:-10] + b"x" * 10)
    r = envlock(fleet_project, "create", "--profile", "t", "--no-verify", "--prefix", str(tmp_path / "env"),
                "--mirror", mirror.as_uri(), cache=tmp_path / "c-new")
    assert r.returncode == 1 and "mismatch for pdata" in r.stderr, r.stderr


def test_bad_mirror_url_is_usage_error(fleet_project: Path, tmp_path: Path) -> None:
    r = envlock(fleet_project, "create", "--profile", "t", "--no-verify", "--mirror", "ftp://x/y", cache=tmp_path / "c")
    assert r.returncode == 2 and "ftp://x/y" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_s3_mirror_round_trip(fleet_project: Path, tmp_path: Path, s3_server: tuple[str, dict]) -> None:
    _endpoint, env = s3_server
    make_bucket(env, "fleet")
    url = "s3://fleet/envs/v1"
    r = envlock(fleet_project, "mirror", "--profile", "t", "--to", url, "--json", cache=tmp_path / "c", extra_env=env)
    first = as_json(r)
    n = len(locked(fleet_project))
    assert r.returncode == 0 and first["uploaded"] == n, r.stderr
    repodata = json.loads(s3_object(env, "fleet", "envs/v1/conda/linux-64/repodata.json"))
    assert len(repodata.get("packages", {})) + len(repodata.get("packages.conda", {})) > 0
    again = as_json(envlock(fleet_project, "mirror", "--profile", "t", "--to", url, "--json", cache=tmp_path / "c2",
                            extra_env=env))
    assert again["uploaded"] == 0 and again["already_there"] == n

    prefix = tmp_path / "env"
    with ChannelsGone(fleet_project):
        r = envlock(fleet_project, "create", "--profile", "t", "--no-verify", "--prefix", str(prefix), "--json",
                    cache=tmp_path / "c-new", extra_env={**env, "ENVLOCK_MIRROR": url})
    out = as_json(r)
    assert r.returncode == 0 and out["downloaded"] == n and out["downloaded_bytes"] > 0, r.stderr
    assert (prefix / "bin" / "ptool").is_file()


def test_s3_mirror_missing_object_names_package(fleet_project: Path, tmp_path: Path, s3_server: tuple[str, dict]) -> None:
    _endpoint, env = s3_server
    make_bucket(env, "empty")
    r = envlock(fleet_project, "create", "--profile", "t", "--no-verify", "--prefix", str(tmp_path / "env"),
                "--mirror", "s3://empty/none", cache=tmp_path / "c", extra_env=env)
    assert r.returncode == 1 and "not in the mirror" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not os.path.exists(tmp_path / "env")


def test_create_download_layer_does_not_import_boto3() -> None:
    import subprocess
    import sys

    code = ("import sys, envlock.create.cache, envlock.create.pip_install; "
            "sys.exit(1 if any(m.split('.')[0] in ('boto3', 'botocore') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
