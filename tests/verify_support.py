"""Fixtures for the verifier's tests (imported by tests/verify/test_*.py).

End-to-end environments are real venvs with tensorflow-cpu from PyPI, built once and cached
under ``${ENVLOCK_TEST_CACHE:-~/.cache/envlock-tests}`` (uv's own cache makes rebuilds fast).
Tests that need their own activation variables get a *view* of a cached venv: a directory
with its own ``pyvenv.cfg``, ``bin/python`` and ``conda-meta/state`` whose site-packages is a
symlink to the cached venv's, so no test mutates the shared environment.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from envlock.core.project import Project
from envlock.prefix.activation import write_env_vars
from envlock.prefix.startup_hook import install_into

TF_VERSION = "2.21.0"
FIXTURES = Path(__file__).parent / "verify_fixtures"
PY = f"python{sys.version_info.major}.{sys.version_info.minor}"


def cache_dir() -> Path:
    return Path(os.environ.get("ENVLOCK_TEST_CACHE", "~/.cache/envlock-tests")).expanduser()


def uv(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "uv", *args], check=True, capture_output=True, text=True)


def cached_venv(name: str, packages: list[str]) -> Path:
    """A venv with ``packages`` installed, built once (under a file lock) and reused."""
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    target = root / name
    done = target / ".envlock-test-complete"
    with open(root / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.is_file() and (target / "bin" / "python").exists():
            return target
        shutil.rmtree(target, ignore_errors=True)
        try:
            uv("venv", "-q", "-p", sys.executable, str(target))
            uv("pip", "install", "-q", "--python", str(target / "bin" / "python"), *packages)
        except subprocess.CalledProcessError as exc:
            shutil.rmtree(target, ignore_errors=True)
            pytest.fail(f"could not build the test venv {target}: {exc.stderr[-2000:]}")
        done.write_text(json.dumps(packages))
    return target


def view(base: Path, where: Path, env_vars: dict[str, str] | None = None) -> Path:
    """A thin venv sharing ``base``'s site-packages, with its own activation variables (and startup hook)."""
    where.mkdir(parents=True)
    shutil.copy(base / "pyvenv.cfg", where / "pyvenv.cfg")
    (where / "bin").mkdir()
    (where / "bin" / "python").symlink_to(os.path.realpath(base / "bin" / "python"))
    site = where / "lib" / PY / "site-packages"
    site.mkdir(parents=True)  # its own, for the startup hook; the shared one joins through a .pth
    (site / "_view_base.pth").write_text(f"import site; site.addsitedir({str(base / 'lib' / PY / 'site-packages')!r})\n")
    if env_vars:
        write_env_vars(where, env_vars)
        install_into(site, env_vars)  # what envlock create writes: the variables for bare starts too
    return where


def view_with_startup_module(base: Path, where: Path, name: str, source: str) -> Path:
    """A view of ``base`` whose interpreter imports module ``name`` (``source``) at every start,
    through a ``.pth`` file: site-packages is a directory of links to ``base``'s entries plus
    the two files, so the shared venv is not touched."""
    where.mkdir(parents=True)
    shutil.copy(base / "pyvenv.cfg", where / "pyvenv.cfg")
    (where / "bin").mkdir()
    (where / "bin" / "python").symlink_to(os.path.realpath(base / "bin" / "python"))
    site = where / "lib" / PY / "site-packages"
    site.mkdir(parents=True)
    for entry in (base / "lib" / PY / "site-packages").iterdir():
        (site / entry.name).symlink_to(entry)
    (site / f"{name}.py").write_text(source)
    (site / f"zz_{name}.pth").write_text(f"import {name}\n")
    return where


def fake_prefix(where: Path, script: str) -> Path:
    """A 'prefix' whose bin/python is a shell script (a crashing or hanging interpreter)."""
    (where / "bin").mkdir(parents=True)
    py = where / "bin" / "python"
    py.write_text("#!/bin/sh\n" + script + "\n")
    py.chmod(0o755)
    return where


def write_profile(root: Path, name: str, **overrides) -> None:
    """profiles/<name>.yml: a linux-64 pip CPU profile for TensorFlow 2.21, with overrides."""
    data = {
        "name": name, "platforms": ["linux-64"], "python": f"{sys.version_info.major}.{sys.version_info.minor}.*",
        "tensorflow": {"version": "2.21.*", "source": "pip", "variant": "cpu"}, "keras": "3.*",
        "verify": {"device": "cpu"},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    (root / "profiles").mkdir(parents=True, exist_ok=True)
    (root / "profiles" / f"{name}.yml").write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture(scope="session")
def tf_venv() -> Path:
    return cached_venv(f"tf-{TF_VERSION}-cpu", [f"tensorflow-cpu=={TF_VERSION}"])


@pytest.fixture(scope="session")
def tf_keras_venv() -> Path:
    return cached_venv(f"tf-{TF_VERSION}-cpu-tfkeras", [f"tensorflow-cpu=={TF_VERSION}", f"tf-keras=={TF_VERSION}"])


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "proj"
    root.mkdir()
    return Project(root)


def probe_fixture(name: str, prefix: Path) -> dict:
    """A probe document from tests/verify_fixtures with ``{prefix}`` filled in.  Its
    ``_recorded`` (real probe output) or ``_constructed`` (written by hand in the probe's shape,
    for hardware that does not exist here) says which it is; ``_sources`` names each field's API."""
    text = (FIXTURES / name).read_text().replace("{prefix}", str(prefix))
    return json.loads(text)
