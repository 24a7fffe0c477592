"""The TensorFlow release history (data/tensorflow_history.yml, generated from PyPI metadata),
the defaults-channel facts, and the rules that judge old releases by their own ranges."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from envlock.audit import audit_lockfile
from envlock.audit.findings import Finding
from envlock.audit.stack import stacks_of
from envlock.compat import history
from envlock.compat.defaults_channel import facts as defaults_facts
from tests.lockfile.test_lockfile_factory import conda, pip, unified


def audit(tmp_path: Path, entries: list[dict[str, Any]]) -> list[Finding]:
    return audit_lockfile(unified(tmp_path, entries))


def rules(found: list[Finding]) -> set[tuple[str, str]]:
    return {(f.rule, f.severity) for f in found}


# --- the generated data -----------------------------------------------------------------------

def test_history_covers_every_line_from_115_to_221_and_only_222_candidates() -> None:
    lines = history.known_lines()
    assert lines == ["1.15"] + [f"2.{n}" for n in range(0, 23)]
    for rel in history.releases():
        if rel.line == "2.22":
            assert rel.prerelease and re.fullmatch(r"2\.22\.0rc\d+", rel.version)
        else:
            assert not rel.prerelease
        assert rel.python and rel.source.startswith("PyPI wheel tensorflow-" + rel.version)
    assert [r.version for r in history.releases() if r.line == "2.16"] == ["2.16.1", "2.16.2"]  # no 2.16.0


@pytest.mark.parametrize(("version", "name", "spec"), [
    ("2.7.0", "tensorboard", "~=2.6"),              # the case the old heuristic got wrong
    ("2.6.0", "keras", "~=2.6"),
    ("2.12.0", "numpy", "<1.24,>=1.22"),
    ("2.12.1", "numpy", "<=1.24.3,>=1.22"),
    ("1.15.0", "tensorflow-estimator", "==1.15.1"),
    ("2.16.1", "keras", ">=3.0.0"),
    ("2.21.0", "keras", ">=3.12.0"),
])
def test_recorded_ranges_match_the_wheel_metadata(version: str, name: str, spec: str) -> None:
    rel = history.release_for(version)
    assert rel is not None and rel.version == version
    assert rel.ranges(name, "linux-64", "3.10") == [spec]


def test_tensorflow_221_and_222rc_dropped_tensorboard() -> None:
    assert "tensorboard" not in history.release_for("2.21.0").requires  # type: ignore[union-attr]
    assert history.release_for("2.22.0rc0").python[-1] == "3.14"  # type: ignore[union-attr]


def test_marker_ranges_follow_the_locked_python() -> None:
    rel = history.release_for("2.16.2")
    assert rel is not None
    assert rel.ranges("numpy", "linux-64", "3.11") == ["<2.0.0,>=1.23.5"]
    assert rel.ranges("numpy", "linux-64", "3.12") == ["<2.0.0,>=1.26.0"]
    assert rel.ranges("numpy", "linux-64", None) is None  # a marker on Python, Python unknown


def test_rebuild_version_maps_to_its_pypi_release() -> None:
    assert history.release_for("2.4.1").version == "2.4.1"  # type: ignore[union-attr]
    assert history.release_for("2.9.9").version == "2.9.3"  # type: ignore[union-attr]
    assert history.release_for("1.14.0") is None


def test_defaults_facts_name_their_sources_and_pins() -> None:
    data = defaults_facts()
    assert set(data["sources"]) >= {"recipes", "observed"}
    assert data["build_variants"] == {"gpu_": "cuda", "mkl_": "cpu", "eigen_": "cpu"}
    assert data["gpu_builds"]["2.1.0"]["cudatoolkit"] == "10.1"
    assert all(re.fullmatch(r"[0-9a-f]{12}", b["commit"]) for b in data["gpu_builds"].values())


# --- rules ------------------------------------------------------------------------------------

def conda_tf(version: str, board: str, keras: str | None = None, py: str = "39") -> list[dict[str, Any]]:
    entries = [conda("python", f"3.{py[1:]}.7", "h_0_cpython"),
               conda("tensorflow-base", version, f"cpu_py{py}h1_0"), conda("tensorflow", version, f"cpu_py{py}h2_0"),
               conda("tensorflow-estimator", version, f"cpu_py{py}h3_0"),
               conda("tensorboard", board, "pyhd8ed1ab_0")]
    return entries + ([conda("keras", keras, "pyhd8ed1ab_0")] if keras else [])


def test_tf27_with_tensorboard_26_is_fine(tmp_path: Path) -> None:
    assert audit(tmp_path, conda_tf("2.7.0", "2.6.0", keras="2.7.0")) == []


def test_tensorboard_outside_the_release_range_is_a_warning_naming_it(tmp_path: Path) -> None:
    (f,) = audit(tmp_path, conda_tf("2.6.2", "2.7.0", keras="2.6.0"))
    assert (f.rule, f.severity) == ("tf-stack-mismatch", "warning")
    assert "2.6.2's tensorboard <2.7,>=2.6.0" in f.message


def test_old_release_keras_checked_with_its_own_range(tmp_path: Path) -> None:
    (f,) = audit(tmp_path, conda_tf("2.7.0", "2.7.0", keras="2.8.0"))
    assert (f.rule, f.severity) == ("tf-requirement-unmet", "error")
    assert "TensorFlow 2.7.0 requires keras <2.8,>=2.7.0rc0" in f.message


def pip_tf(version: str, py: str, **pins: str) -> list[dict[str, Any]]:
    whl = f"tensorflow-{version}-cp{py.replace('.', '')}-cp{py.replace('.', '')}-manylinux2014_x86_64.whl"
    entries = [conda("python", f"{py}.4", "h_0_cpython"), pip("tensorflow", version, filename=whl)]
    return entries + [pip(name.replace("_", "-"), v) for name, v in pins.items()]


def test_pip_numpy_outside_an_old_release_range_is_an_error(tmp_path: Path) -> None:
    found = audit(tmp_path, pip_tf("2.5.0", "3.8", tensorboard="2.5.0", tensorflow_estimator="2.5.0",
                                   numpy="1.21.0", h5py="3.1.0"))
    (f,) = [f for f in found if f.rule == "tf-requirement-unmet"]
    assert "requires numpy ~=1.19.2" in f.message and f.severity == "error"


def test_pip_python_without_a_wheel_for_an_old_release(tmp_path: Path) -> None:
    found = audit(tmp_path, pip_tf("2.5.0", "3.10", tensorboard="2.5.0", tensorflow_estimator="2.5.0",
                                   numpy="1.19.5", h5py="3.1.0"))
    assert rules(found) == {("python-outside-release", "error")}
    assert "wheels for Python 3.6, 3.7, 3.8, 3.9 only" in found[0].message


def test_conda_build_numpy_is_not_judged_by_pypi_ranges(tmp_path: Path) -> None:
    entries = conda_tf("2.5.0", "2.5.0") + [conda("numpy", "1.21.0", "py39h_0")]
    assert audit(tmp_path, entries) == []


def defaults_gpu(version: str, toolkit: str, cudnn: str) -> list[dict[str, Any]]:
    return [conda("python", "3.7.6", "h_0_cpython", channel="pkgs/main"),
            conda("_tflow_select", "2.1.0", "gpu", channel="pkgs/main"),
            conda("tensorflow-base", version, "gpu_py37h6c5654b_0", channel="pkgs/main"),
            conda("tensorflow", version, "gpu_py37h7a4bb67_0", channel="pkgs/main"),
            conda("tensorflow-estimator", version, "pyhd54b08b_0", channel="pkgs/main"),
            conda("tensorboard", version, "py3_0", channel="pkgs/main"),
            conda("cudatoolkit", toolkit, "h6bb024c_0", channel="pkgs/main"),
            conda("cudnn", cudnn, "cuda10.1_0", channel="pkgs/main")]


def test_defaults_gpu_build_with_its_toolkit_is_clean(tmp_path: Path) -> None:
    entries = defaults_gpu("2.1.0", "10.1.243", "7.6.5")
    assert audit(tmp_path, entries) == []
    stack = stacks_of(unified(tmp_path, entries).by_platform())["linux-64"]
    assert (stack.variant, stack.build_cuda) == ("cuda", "10.1")


def test_defaults_gpu_build_with_other_toolkit_and_cudnn(tmp_path: Path) -> None:
    found = audit(tmp_path, defaults_gpu("2.1.0", "10.0.130", "8.0.5"))
    messages = " ".join(f.message for f in found if f.rule == "cuda-build-mismatch")
    assert "built for CUDA 10.1 but cudatoolkit 10.0.130" in messages
    assert "built with cuDNN 7 but cudnn 8.0.5" in messages


# --- the generator (offline parts) -------------------------------------------------------------

def _generator() -> Any:
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "scripts" / "gen_tf_history.py"
    spec = importlib.util.spec_from_file_location("gen_tf_history", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_selects_the_releases_the_issue_names() -> None:
    wanted = _generator().wanted
    assert all(wanted(v) for v in ("1.15.0", "2.0.0", "2.15.0.post1", "2.21.0", "2.22.0rc0"))
    assert not any(wanted(v) for v in ("1.14.0", "2.21.0rc1", "2.22.0", "2.23.0rc0", "2.16.0rc0"))


def test_generator_reads_old_and_new_metadata_spellings() -> None:
    metadata = ("Metadata-Version: 2.1\nName: tensorflow\nRequires-Python: >=3.9\n"
                "Requires-Dist: numpy (<2.0,>=1.16.0)\nRequires-Dist: tensorboard ~=2.6\n"
                "Requires-Dist: numpy<2.0.0,>=1.26.0 ; python_version >= \"3.12\"\n"
                "Requires-Dist: nvidia-cudnn-cu12==9.3.0.75 ; extra == \"and-cuda\"\n"
                "Requires-Dist: keras>=3.0.0\n")
    requires_python, found = _generator().requirements(metadata)
    assert requires_python == ">=3.9"
    assert found == {"numpy": ["<2.0,>=1.16.0", '<2.0.0,>=1.26.0 ; python_version >= "3.12"'],
                     "tensorboard": ["~=2.6"], "keras": [">=3.0.0"]}
