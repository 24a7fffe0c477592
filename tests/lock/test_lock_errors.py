"""``envlock lock`` when things go wrong: ``--json`` still answers with one object, a bad
``--conda`` is refused at once, an unsatisfiable lock is explained down to its root cause."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from channel_factory import PackageSpec, build_channel
from conftest import profile_doc, tf_channel_specs, write_project

from tests.lock.test_lock import envlock


@pytest.fixture(scope="module")
def glibc_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The TensorFlow channel plus a package chain whose leaf needs a newer glibc, like
    conda-forge's libsystemd0 258 (``__glibc >=2.34``)."""
    return build_channel(tmp_path_factory.mktemp("glibc-channel"), [
        *tf_channel_specs(),
        PackageSpec("libsystemd0", "258", "h0_0", depends=["__glibc >=2.34"]),
        PackageSpec("libudev", "1.0", "h0_0", depends=["libsystemd0 >=257"]),
    ])


def test_unsatisfiable_virtual_package_names_profile_field(glibc_channel: Path, tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"a": profile_doc("a", glibc_channel, conda=["libudev"])})
    r = envlock(project, "lock")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "libsystemd0 258 would require" in r.stderr and "__glibc >=2.34" in r.stderr  # the whole tree, to its leaf
    assert "virtual_packages.linux-64.__glibc" in r.stderr and '__glibc: "2.28"' in r.stderr
    # the field named is the fix: with a newer glibc declared the same profile locks
    prof = project / "profiles" / "a.yml"
    doc = yaml.safe_load(prof.read_text())
    doc["virtual_packages"]["linux-64"]["__glibc"] = "2.34"
    prof.write_text(yaml.safe_dump(doc))
    assert envlock(project, "lock").returncode == 0


def test_long_explanation_is_not_cut(tmp_path: Path) -> None:
    """Not cut after a dozen lines: every conflicting spec is in the message."""
    from envlock.lock.conda.explain import explain_failure

    class Spec:  # the two fields explain_failure reads of a LockSpec
        name, channels, platforms, virtual_packages = "a", ["file:///c"], ["linux-64"], {}

    message = "\n".join(f"   └─ pkg{i} {i}.0 would require dep{i} >=9" for i in range(40))
    error = tmp_path / "err.txt"
    error.write_text("Cannot solve the request because of:\n" + message)
    text = explain_failure(Path("profiles/a.yml"), Spec(), error, "", RuntimeError())  # type: ignore[arg-type]
    assert "pkg39 39.0 would require dep39" in text


def test_json_answers_on_solver_failure_and_bad_input(make_project) -> None:
    project = make_project({"a": {"conda": ["numpy >=99"]}})
    r = envlock(project, "lock", "--json")
    assert r.returncode == 2
    doc = json.loads(r.stdout)  # exactly one JSON document on stdout
    assert doc["ok"] is False and "numpy >=99" in doc["error"]
    r = envlock(project, "lock", "--json", "--profile", "nope")
    assert r.returncode == 2 and json.loads(r.stdout)["ok"] is False
    (project / "profiles" / "a.yml").write_text("name: a\n  platforms: [linux-64\n")
    r = envlock(project, "lock", "--json")
    assert r.returncode == 2
    doc = json.loads(r.stdout)
    assert doc["ok"] is False and "a.yml" in doc["error"]
    r = envlock(project, "lock", "--check", "--json")
    assert r.returncode == 2 and json.loads(r.stdout)["ok"] is False
    r = envlock(project, "lock", "--json", "--no-such-option")  # a usage error too
    assert r.returncode == 2 and json.loads(r.stdout)["ok"] is False


@pytest.mark.parametrize("kind", ["missing", "not-executable", "directory", "not-on-path"])
def test_bad_conda_exits_2_at_once(make_project, tmp_path: Path, kind: str) -> None:
    """Refused before any solve: conda-lock never gets to fall back to downloading a conda
    (offline here, that fallback took a minute and blamed the channel)."""
    conda = tmp_path / "bin" / "micromamba"
    if kind == "not-executable":
        conda.parent.mkdir()
        conda.write_text("#!/bin/sh\n")
    elif kind == "directory":
        conda.mkdir(parents=True)
    elif kind == "not-on-path":
        conda = Path("envlock-test-no-such-conda")
    project = make_project({"a": {}})
    t = time.perf_counter()
    r = envlock(project, "lock", "--conda", str(conda), "--json")
    assert time.perf_counter() - t < 20
    assert r.returncode == 2 and str(conda) in r.stderr and "Traceback" not in r.stderr
    assert "could not be reached" not in r.stderr
    assert json.loads(r.stdout)["ok"] is False
    assert not (project / "locks").exists()
