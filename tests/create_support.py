"""Fixtures and helpers for the create/check/run tests: a locked project against the shared
local channel plus a small extra channel (a package with a text prefix placeholder and a
payload), copied per test; the envlock CLI run as a subprocess with its own package cache.

PYTEST_DONT_REWRITE: the test modules import helpers from here before pytest loads it as
their plugin, so pytest could not rewrite its asserts anyway (every assert has a message).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from channel_factory import PREFIX_PLACEHOLDER, PackageSpec, build_channel, payload
from conftest import ENVLOCK, OFFLINE, profile_doc, write_project

TOOL = "ptool"


def extra_specs() -> list[PackageSpec]:
    script = f"#!{PREFIX_PLACEHOLDER}/bin/python\nimport sys\nprint('ptool', sys.prefix)\n".encode()
    return [
        PackageSpec(TOOL, "1.0", "h0_0", fmt="conda", text_prefix_files=["bin/ptool", "etc/ptool.conf"],
                    files={"bin/ptool": script, "etc/ptool.conf": f"root={PREFIX_PLACEHOLDER}\n".encode(),
                           **payload(40, 2048, "ptool")},
                    symlinks={"bin/ptool-link": "ptool"}),
        PackageSpec("pdata", "2.0", "h0_0", files=payload(30, 4096, "pdata")),
    ]


def envlock(project: Path, *args: str, cache: Path, offline: bool = True, extra_env: dict | None = None,
            **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, **(OFFLINE if offline else {}), "ENVLOCK_CACHE_DIR": str(cache), **(extra_env or {})}
    env.pop("ENVLOCK_TEST_FAULT", None) if not (extra_env and "ENVLOCK_TEST_FAULT" in extra_env) else None
    cmd = [*ENVLOCK, args[0], "--project", str(project), *args[1:]]  # before a `--` of `envlock run`
    return subprocess.run(cmd, capture_output=True, text=True, env=env, **kw)


@pytest.fixture(scope="module")
def extra_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_channel(tmp_path_factory.mktemp("extra-channel"), extra_specs())


@pytest.fixture(scope="module")
def locked_template(tmp_path_factory: pytest.TempPathFactory, tf_channel: Path, extra_channel: Path) -> Path:
    """A project with profile ``t`` (conda TensorFlow stand-in + ptool + pdata), locked once per module."""
    root = tmp_path_factory.mktemp("locked") / "project"
    doc = profile_doc("t", tf_channel, conda=[TOOL, "pdata"], env_vars={"FOO": "bar baz"})
    doc["channels"] = [tf_channel.as_uri(), extra_channel.as_uri()]
    write_project(root, {"t": doc})
    r = envlock(root, "lock", "--profile", "t", cache=root / "unused-cache")
    assert r.returncode == 0, r.stderr
    return root


@pytest.fixture
def project(tmp_path: Path, locked_template: Path) -> Path:
    dest = tmp_path / "project"
    shutil.copytree(locked_template, dest, symlinks=True)
    return dest


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "pkg-cache"


@pytest.fixture
def env(project: Path, cache: Path) -> tuple[Path, Path, Path]:
    """Profile ``t`` created (without the verifier): (project, prefix, cache)."""
    r = envlock(project, "create", "--profile", "t", "--no-verify", cache=cache)
    assert r.returncode == 0, r.stderr
    return project, env_prefix(project), cache


def lock_entry(project: Path, name: str, profile: str = "t") -> dict:
    import yaml

    lock = yaml.safe_load((project / "locks" / f"{profile}.conda-lock.yml").read_text())
    [entry] = [p for p in lock["package"] if p["name"] == name]
    return entry


def channel_file(url: str) -> Path:
    from urllib.parse import urlparse
    from urllib.request import url2pathname

    return Path(url2pathname(urlparse(url).path))


def env_prefix(project: Path, name: str = "t") -> Path:
    return project / ".envs" / name


def leftovers(project: Path, name: str = "t") -> list[str]:
    envs = project / ".envs"
    if not envs.is_dir():
        return []
    return sorted(n for n in os.listdir(envs) if n.startswith(f".{name}.") and not n.endswith(".envlock-lock"))


def snapshot(prefix: Path) -> dict:
    """What 'untouched' means: a marker file's inode and contents, and the conda-meta listing."""
    marker = prefix / "MARKER"
    if not marker.exists():
        marker.write_text("previous environment\n")
    return {"ino": marker.stat().st_ino, "text": marker.read_text(),
            "meta": sorted(os.listdir(prefix / "conda-meta")), "tool": (prefix / "bin" / "ptool").read_bytes()}


def invalidate_stamp(prefix: Path) -> None:
    """Make the next create rebuild (as if the lock had changed) without touching anything else."""
    (prefix / "conda-meta" / "envlock.stamp").unlink()


def summary(r: subprocess.CompletedProcess) -> dict:
    return json.loads(r.stdout)


def tree(prefix: Path) -> dict[str, tuple]:
    """Every path below the prefix: kind, permission bits, contents hash or link target."""
    out: dict[str, tuple] = {}
    for dirpath, dirs, files in os.walk(prefix):
        for name in [*dirs, *files]:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, prefix)
            if rel == os.path.join("conda-meta", "envlock.stamp"):
                continue  # holds the finish time
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                digest = hashlib.sha256(Path(full).read_bytes()).hexdigest()
                out[rel] = ("file", stat.S_IMODE(st.st_mode), digest)
    return out


def records(prefix: Path) -> dict[str, str]:
    meta = prefix / "conda-meta"
    return {p.name: p.read_text() for p in sorted(meta.glob("*.json"))}
