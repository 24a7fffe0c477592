"""A locked CUDA runtime newer than the driver: a warning naming CUDA_ERROR_UNSUPPORTED_PTX_VERSION
(minor-version compatibility), an error for a newer major — in ``audit --profile`` (the
profile's ``__cuda``) and in ``verify`` (the host's driver).  The lock is real: conda-lock over
the local channel, whose CUDA TensorFlow build needs ``cuda-version >=12.8`` while the
profile's driver says 12.4.  Mocked only because no GPU exists here: the host's driver version."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import ENVLOCK, OFFLINE

from envlock.cli.group import main
from envlock.core.project import Project
from envlock.lockfile import read_lockfile
from envlock.verify.checks import Context
from envlock.verify.checks.runtime import check_cuda_runtime
from envlock.verify.model import ProbeDoc

VP = {"linux-64": {"__glibc": "2.28", "__cuda": "12.4"}}


@pytest.fixture(scope="module")
def cuda_project(tmp_path_factory: pytest.TempPathFactory, tf_channel: Path) -> Path:
    import os

    from conftest import profile_doc, write_project

    root = tmp_path_factory.mktemp("cuda") / "project"
    doc = profile_doc("gpu", tf_channel, tensorflow={"version": "2.19.*", "source": "conda", "variant": "cuda"},
                      virtual_packages=VP)
    write_project(root, {"gpu": doc})
    r = subprocess.run([*ENVLOCK, "lock", "--profile", "gpu", "--project", str(root)], capture_output=True, text=True,
                       env={**os.environ, **OFFLINE})
    assert r.returncode == 0, r.stderr
    return root


def set_driver(root: Path, cuda: str) -> None:
    path = root / "profiles" / "gpu.yml"
    doc = yaml.safe_load(path.read_text())
    doc["virtual_packages"]["linux-64"]["__cuda"] = cuda
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def audit(root: Path) -> tuple[int, list[dict]]:
    r = CliRunner().invoke(main, ["audit", "--project", str(root), "--profile", "gpu", "--json"])
    findings = [f for file in json.loads(r.stdout)["files"] for f in file["findings"] if f["rule"] == "profile-cuda-driver"]
    return r.exit_code, findings


def test_audit_minor_newer_is_a_warning_major_newer_an_error(cuda_project: Path) -> None:
    locked = {p.name: p.version for p in read_lockfile(Project(cuda_project).unified_lock_path("gpu")).for_platform("linux-64")}
    assert locked["cuda-version"] == "12.8"  # the solver took 12.8 although the profile's driver is 12.4
    set_driver(cuda_project, "12.4")
    code, [f] = audit(cuda_project)
    assert f["severity"] == "warning" and "CUDA_ERROR_UNSUPPORTED_PTX_VERSION" in f["message"]
    assert "minor-version compatibility" in f["message"] and "cuda-version 12.8" in f["message"]
    set_driver(cuda_project, "11.8")
    code, [f] = audit(cuda_project)
    assert code == 1 and f["severity"] == "error" and "older CUDA major" in f["message"]
    set_driver(cuda_project, "12.8")
    assert audit(cuda_project)[1] == []
    set_driver(cuda_project, "12.4")


@pytest.mark.parametrize(("driver", "ok", "words"), [
    ("12.4", True, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"), ("11.8", False, "older CUDA major"), ("12.9", True, ""),
])
def test_verify_compares_the_lock_with_the_host_driver(cuda_project: Path, tmp_path: Path, driver, ok, words) -> None:
    from envlock.profiles.load import load_profile

    project = Project(cuda_project)
    locked = read_lockfile(project.unified_lock_path("gpu")).for_platform("linux-64")
    ctx = Context(profile=load_profile(project, "gpu"), doc=ProbeDoc(), prefix=tmp_path, driver_cuda=driver, locked=locked)
    [check] = check_cuda_runtime(ctx)
    assert check.name == "cuda.runtime" and check.ok is ok and words in check.message
    assert (words in " ".join(ctx.notes)) if words and ok else not ctx.notes
