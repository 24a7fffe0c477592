"""A warm create lays the pip part from uv's cache by itself: the files uv hard-linked from its
cache entries at the last install are linked again, the few it wrote are copied from envlock's
manifest store, and the result is the environment uv would have made, byte for byte.  Real
wheels from a real index served over HTTP; real uv."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from create_support import env_prefix, envlock
from wheel_index import WheelIndex, pip_env

from envlock.core.uv import uv_executable

pytest_plugins = ["create_support", "wheel_index"]  # fixtures: tf_channel; wheel_index, pip_project


def tree(prefix: Path) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    for dirpath, _dirs, names in os.walk(prefix):
        for n in names:
            full = Path(dirpath) / n
            rel = str(full.relative_to(prefix))
            if rel.startswith("conda-meta/"):  # holds the stamp (creation time, lock path)
                continue
            st = full.lstat()
            out[rel] = ("link", os.readlink(full)) if full.is_symlink() else ("file", full.read_bytes(), st.st_mode & 0o7777)
    return out


def create(project: Path, cache: Path, uv_env: dict, *extra: str) -> dict:
    r = envlock(project, "create", "--profile", "t", "--no-verify", "--json", *extra, cache=cache, extra_env=uv_env)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def test_warm_create_links_pip_part_like_uv(pip_project: Path, wheel_index: WheelIndex, tmp_path: Path) -> None:
    project, cache, uv_cache = pip_project, tmp_path / "cache", tmp_path / "uv"
    uv_env = pip_env(wheel_index, uv_cache)
    assert create(project, cache, uv_env)["pip_linker"] == "uv"
    prefix = env_prefix(project)
    by_uv = tree(prefix)
    assert any(rel.startswith("bin/tinytool") for rel in by_uv)  # an entry point uv wrote
    shutil.rmtree(prefix)
    assert create(project, cache, uv_env)["pip_linker"] == "snapshot"
    assert tree(prefix) == by_uv
    data = next((prefix / "lib").glob("python*/site-packages")) / "tinypkg" / "data.txt"
    assert data.stat().st_nlink >= 2  # a hard link into uv's cache, as uv makes it
    assert (prefix / "bin" / "tinytool").read_text().splitlines()[0] == f"#!{prefix}/bin/python"
    r = envlock(project, "check", "--profile", "t", "--json", "--full", cache=cache, extra_env=uv_env)
    assert r.returncode == 0 and json.loads(r.stdout)["ok"] is True, r.stdout
    # --reinstall distrusts every cache: uv installs
    assert create(project, cache, uv_env, "--reinstall")["pip_linker"] == "uv"


def test_uv_cache_cleaned_falls_back_to_uv(pip_project: Path, wheel_index: WheelIndex, tmp_path: Path) -> None:
    project, cache, uv_cache = pip_project, tmp_path / "cache", tmp_path / "uv"
    uv_env = pip_env(wheel_index, uv_cache)
    create(project, cache, uv_env)
    prefix = env_prefix(project)
    by_uv = tree(prefix)
    shutil.rmtree(prefix)
    subprocess.run([uv_executable(), "cache", "clean", "--no-config", "tinypkg"], env={**os.environ, **uv_env},
                   check=True, capture_output=True)
    assert create(project, cache, uv_env)["pip_linker"] == "uv"  # the manifest's cache entry is gone
    assert tree(prefix) == by_uv
    shutil.rmtree(prefix)
    assert create(project, cache, uv_env)["pip_linker"] == "snapshot"  # written again for the new entry
    assert tree(prefix) == by_uv


def test_other_prefix_gets_its_own_entry_points(pip_project: Path, wheel_index: WheelIndex, tmp_path: Path) -> None:
    project, cache, uv_cache = pip_project, tmp_path / "cache", tmp_path / "uv"
    uv_env = pip_env(wheel_index, uv_cache)
    create(project, cache, uv_env)
    other = tmp_path / "elsewhere"
    doc = create(project, cache, uv_env, "--prefix", str(other))
    assert doc["pip_linker"] == "uv"  # entry points name the prefix: not the first one's manifest
    assert (other / "bin" / "tinytool").read_text().splitlines()[0] == f"#!{other}/bin/python"
