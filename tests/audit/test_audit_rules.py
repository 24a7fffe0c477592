"""Each audit rule on synthetic locks: firing where it must, silent where it must not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from envlock.audit import audit_lockfile
from envlock.audit.findings import Finding
from envlock.profiles.model import Profile
from tests.lockfile.test_lockfile_factory import (
    conda,
    pip,
    replace,
    tf214_cuda118,
    unified,
    without,
)


def audit(tmp_path: Path, entries: list[dict[str, Any]], platforms: list[str] | None = None,
          profiles: list[Profile] | None = None) -> list[Finding]:
    return audit_lockfile(unified(tmp_path, entries, platforms), profiles)


def rules(findings: list[Finding]) -> set[tuple[str, str, str | None]]:
    return {(f.rule, f.severity, f.platform) for f in findings}


def cf_cpu(version: str, py: str = "311", platform: str = "linux-64", keras: str | None = None,
           estimator: str | None = None) -> list[dict[str, Any]]:
    """A conda-forge CPU TensorFlow stack without recorded dependencies (as an explicit file gives)."""
    entries = [
        conda("python", f"3.{py[1:]}.0", "h_0_cpython", platform),
        conda("tensorflow-base", version, f"cpu_py{py}h1_0", platform),
        conda("tensorflow", version, f"cpu_py{py}h2_0", platform),
        conda("tensorflow-estimator", estimator or version, f"cpu_py{py}h3_0", platform),
        conda("tensorboard", version, "pyhd8ed1ab_0", platform),
    ]
    if keras:
        entries.append(conda("keras", keras, "pyhd8ed1ab_0", platform))
    return entries


def pip_tf(version: str, name: str = "tensorflow", platform: str = "linux-64", keras: str | None = "3.12.0",
           python: str = "3.11.9", tag: str = "cp311") -> list[dict[str, Any]]:
    wheel = f"{name.replace('-', '_')}-{version}-{tag}-{tag}-manylinux_2_17_x86_64.whl"
    entries = [conda("python", python, "h_0_cpython", platform), pip(name, version, platform, wheel),
               pip("tensorboard", ".".join(version.split(".")[:2]) + ".0", platform)]
    if keras:
        entries.append(pip("keras", keras, platform))
    return entries


# --- the consistent reference --------------------------------------------------------------

def test_consistent_tf214_cuda118_is_clean(tmp_path: Path) -> None:
    assert audit(tmp_path, tf214_cuda118()) == []


def test_consistent_stacks_are_clean(tmp_path: Path) -> None:
    assert audit(tmp_path, cf_cpu("2.11.0", "310", keras="2.11.0")) == []
    assert audit(tmp_path, pip_tf("2.21.0", "tensorflow-cpu")) == []
    legacy = pip_tf("2.21.0", "tensorflow-cpu") + [pip("tf-keras", "2.21.0")]
    assert audit(tmp_path, legacy) == []


# --- tf-stack-mismatch -----------------------------------------------------------------------

def test_estimator_26_with_tf_24_is_an_error(tmp_path: Path) -> None:
    found = audit(tmp_path, cf_cpu("2.4.1", "38", estimator="2.6.0"))
    (f,) = [f for f in found if f.rule == "tf-stack-mismatch"]
    assert f.severity == "error" and "tensorflow-estimator 2.6.0" in f.message and "2.4.*" in f.message


def test_base_and_metapackage_on_different_lines(tmp_path: Path) -> None:
    entries = replace(tf214_cuda118(), "tensorflow", version="2.15.0", depends={})
    assert ("tf-stack-mismatch", "error", "linux-64") in rules(audit(tmp_path, entries))


def test_older_tensorboard_is_a_warning(tmp_path: Path) -> None:
    entries = replace(cf_cpu("2.11.0", "310", keras="2.11.0"), "tensorboard", version="2.10.1")
    assert rules(audit(tmp_path, entries)) == {("tf-stack-mismatch", "warning", "linux-64")}


def test_recorded_dependency_breaks_tensorboard_pin(tmp_path: Path) -> None:
    entries = replace(tf214_cuda118(), "tensorboard", version="2.15.1")
    (f,) = audit(tmp_path, entries)
    assert (f.rule, f.severity) == ("tf-stack-mismatch", "error") and ">=2.14,<2.15" in f.message


def test_conda_forge_estimator_quirk_is_not_a_mismatch(tmp_path: Path) -> None:
    # conda-forge 2.16–2.19 ship an estimator package built from 2.15 sources, or versioned like TF.
    assert audit(tmp_path, cf_cpu("2.16.2", "312", keras="3.5.0", estimator="2.15.0")) == []
    assert audit(tmp_path, cf_cpu("2.16.2", "312", keras="3.5.0")) == []


def test_newer_tensorboard_without_a_recorded_pin_is_fine(tmp_path: Path) -> None:
    entries = replace(cf_cpu("2.6.0", "39", keras="2.6.0"), "tensorboard", version="2.7.0")
    assert "tf-stack-mismatch" not in {f.rule for f in audit(tmp_path, entries)}


# --- tf-keras-mismatch -----------------------------------------------------------------------

@pytest.mark.parametrize(("entries", "severity", "text"), [
    (cf_cpu("2.14.0", keras="3.5.0"), "error", "Keras 3 but tf.keras of TensorFlow 2.14 is Keras 2"),
    (cf_cpu("2.16.2", "312", keras="2.15.0"), "error", "add tf-keras 2.16.* and set TF_USE_LEGACY_KERAS=1"),
    (cf_cpu("2.16.2", "312"), "error", "No keras package"),
    (cf_cpu("2.14.0"), "error", "No keras package"),
    (cf_cpu("2.16.2", "312") + [conda("tf-keras", "2.16.0", "pyhd8ed1ab_0")], "warning", "TF_USE_LEGACY_KERAS=1"),
    (cf_cpu("2.16.2", "312", keras="3.5.0") + [conda("tf-keras", "2.15.0", "pyhd8ed1ab_0")], "error",
     "pin tf-keras 2.16.*"),
    (pip_tf("2.17.0", "tensorflow-cpu", keras="3.1.0"), "error", "keras >=3.2.0"),
    (cf_cpu("2.6.0", "39", keras="3.0.0"), "error", "only works with Keras 2"),
    (cf_cpu("2.13.0", keras="2.12.0"), "error", "keras >=2.13,<2.14"),
])
def test_keras_mismatch_fires(tmp_path: Path, entries: list[dict[str, Any]], severity: str, text: str) -> None:
    found = [f for f in audit(tmp_path, entries) if f.rule == "tf-keras-mismatch"]
    assert [f.severity for f in found] == [severity] and text in found[0].message


def test_keras_silent_cases(tmp_path: Path) -> None:
    # conda-forge pins keras >=3.0 for 2.18, looser than PyPI's >=3.5.0.
    assert audit(tmp_path, cf_cpu("2.18.0", "312", keras="3.1.0")) == []
    assert audit(tmp_path, pip_tf("2.16.2", "tensorflow-cpu", keras="3.5.0")) == []
    # 2.6 predates the compatibility table; its own Requires-Dist (keras ~=2.6) is met.
    assert audit(tmp_path, cf_cpu("2.6.0", "39", keras="2.6.0")) == []


# --- cuda-build-mismatch ------------------------------------------------------------------------

def test_cuda_major_differs_is_an_error(tmp_path: Path) -> None:
    entries = without(tf214_cuda118(), "cudnn")
    entries = replace(entries, "tensorflow-base", depends={})
    entries = replace(entries, "cudatoolkit", version="12.0.0")
    (f,) = audit(tmp_path, entries)
    assert (f.rule, f.severity) == ("cuda-build-mismatch", "error") and "CUDA 11.8" in f.message


def test_cuda_minor_differs_on_cudatoolkit_is_a_warning(tmp_path: Path) -> None:
    entries = replace(tf214_cuda118(), "cudatoolkit", version="11.2.2")
    entries = replace(entries, "tensorflow-base", depends={})
    assert rules(audit(tmp_path, entries)) == {("cuda-build-mismatch", "warning", "linux-64")}


def test_cuda12_minor_versions_are_compatible(tmp_path: Path) -> None:
    entries = [
        conda("python", "3.12.5", "h_0_cpython"), conda("cuda-version", "12.6", "h7480c83_3"),
        conda("cuda-cudart", "12.6.37", "he02047a_0"), conda("cudnn", "8.9.7.29", "h092f7fd_3"),
        conda("tensorflow-base", "2.16.2", "cuda120py312h7059624_0"),
        conda("tensorflow", "2.16.2", "cuda120py312h02ad488_0"), conda("keras", "3.5.0", "pyhd8ed1ab_1"),
        conda("tensorboard", "2.16.2", "pyhd8ed1ab_0"),
    ]
    assert audit(tmp_path, entries) == []


def test_cudnn_major_from_table_when_lock_records_no_dependency(tmp_path: Path) -> None:
    entries = replace(tf214_cuda118(), "tensorflow-base", depends={})
    entries = replace(entries, "cudnn", version="9.1.0.70", depends={})
    (f,) = audit(tmp_path, entries)
    assert (f.rule, f.severity) == ("cuda-build-mismatch", "error") and "cuDNN 8" in f.message


def test_recorded_cudnn_dependency_is_the_judge(tmp_path: Path) -> None:
    entries = replace(tf214_cuda118(), "cudnn", version="9.1.0.70", depends={})
    (f,) = audit(tmp_path, entries)
    assert f.rule == "cuda-build-mismatch" and ">=8.9.7.29,<9.0a0" in f.message


def test_conda_cuda_build_without_runtime(tmp_path: Path) -> None:
    entries = without(replace(tf214_cuda118(), "tensorflow-base", depends={}), "cudatoolkit", "cudnn")
    (f,) = audit(tmp_path, entries)
    assert (f.rule, f.severity) == ("cuda-build-mismatch", "error") and "no CUDA runtime" in f.message


def test_other_distributors_gpu_builds_are_not_second_guessed(tmp_path: Path) -> None:
    entries = [
        conda("python", "3.11.5", "h_0", channel="pkgs/main"),
        conda("cudatoolkit", "11.3.1", "h2bc3f7f_2", channel="pkgs/main"),
        conda("cudnn", "8.2.1", "cuda11.3_0", channel="pkgs/main"),
        conda("tensorflow-base", "2.12.0", "gpu_py311h_0", channel="pkgs/main"),
        conda("tensorflow", "2.12.0", "gpu_py311h_0", channel="pkgs/main"),
        conda("tensorflow-estimator", "2.12.0", "gpu_py311h_0", channel="pkgs/main"),
        conda("tensorboard", "2.12.1", "py311_0", channel="pkgs/main"),
        conda("keras", "2.12.0", "py311_0", channel="pkgs/main"),
    ]
    assert audit(tmp_path, entries) == []


def test_pip_wheels_use_the_tested_configuration(tmp_path: Path) -> None:
    ok = pip_tf("2.16.2", keras="3.5.0") + [pip("nvidia-cuda-runtime-cu12", "12.3.101"),
                                           pip("nvidia-cudnn-cu12", "8.9.7.29")]
    assert audit(tmp_path, ok) == []
    bad_cudnn = [e if e["name"] != "nvidia-cudnn-cu12" else pip("nvidia-cudnn-cu12", "9.1.0.70") for e in ok]
    assert rules(audit(tmp_path, bad_cudnn)) == {("cuda-build-mismatch", "error", "linux-64")}
    old_toolkit = pip_tf("2.16.2", keras="3.5.0") + [conda("cudatoolkit", "11.8.0", "h_0")]
    assert rules(audit(tmp_path, old_toolkit)) == {("cuda-build-mismatch", "error", "linux-64")}


# --- cuda-without-gpu-build -------------------------------------------------------------------

def test_cuda_packages_with_cpu_build_is_a_warning(tmp_path: Path) -> None:
    entries = cf_cpu("2.14.0", keras="2.14.0") + [conda("cudatoolkit", "11.8.0", "h_0")]
    assert rules(audit(tmp_path, entries)) == {("cuda-without-gpu-build", "warning", "linux-64")}
    wheels = pip_tf("2.21.0", "tensorflow-cpu") + [pip("nvidia-cuda-runtime-cu12", "12.5.82")]
    assert rules(audit(tmp_path, wheels)) == {("cuda-without-gpu-build", "warning", "linux-64")}


def test_gpu_requested_cpu_locked_is_an_error(tmp_path: Path) -> None:
    entries = cf_cpu("2.14.0", keras="2.14.0") + [conda("tensorflow-gpu", "2.14.0", "h_0")]
    (f,) = audit(tmp_path, entries)
    assert (f.rule, f.severity) == ("cuda-without-gpu-build", "error") and "tensorflow-gpu 2.14.0" in f.message


def test_cpu_build_without_cuda_and_gpu_build_with_cuda_are_silent(tmp_path: Path) -> None:
    assert audit(tmp_path, cf_cpu("2.14.0", keras="2.14.0")) == []
    assert not [f for f in audit(tmp_path, tf214_cuda118()) if f.rule == "cuda-without-gpu-build"]


# --- python-unsupported -------------------------------------------------------------------------

def test_python_other_than_the_build_tag(tmp_path: Path) -> None:
    entries = replace(tf214_cuda118(), "python", version="3.12.1")
    found = [f for f in audit(tmp_path, entries) if f.rule == "python-unsupported"]
    assert [f.severity for f in found] == ["error"] and "Python 3.11" in found[0].message


def test_python_outside_the_table_range(tmp_path: Path) -> None:
    entries = pip_tf("2.21.0", "tensorflow-cpu", python="3.9.18", tag="py3")
    (f,) = audit(tmp_path, entries)
    assert (f.rule, f.severity) == ("python-unsupported", "error") and "3.10–3.13" in f.message


def test_conda_forge_python_range_differs_from_pypi(tmp_path: Path) -> None:
    # conda-forge 2.11 starts at Python 3.8 (PyPI: 3.7).
    assert rules(audit(tmp_path, cf_cpu("2.11.0", "37", keras="2.11.0"))) == {
        ("python-unsupported", "error", "linux-64")}
    assert audit(tmp_path, pip_tf("2.11.0", "tensorflow-cpu", keras="2.11.0", python="3.7.12", tag="py3")) == []


# --- mixed-channels -----------------------------------------------------------------------------

def test_stack_from_two_channels(tmp_path: Path) -> None:
    entries = replace(tf214_cuda118(), "keras", channel="pkgs/main")
    assert rules(audit(tmp_path, entries)) == {("mixed-channels", "warning", "linux-64")}
    with_pip_keras = without(tf214_cuda118(), "keras") + [pip("keras", "2.14.0")]
    (f,) = audit(tmp_path, with_pip_keras)
    assert f.rule == "mixed-channels" and "pypi: keras" in f.message


def test_pip_tensorflow_on_conda_python_is_not_mixing(tmp_path: Path) -> None:
    assert audit(tmp_path, pip_tf("2.21.0", "tensorflow-cpu")) == []


# --- file rules: missing-tensorflow, platform-version-skew, no-tensorflow --------------------

def test_platform_without_tensorflow(tmp_path: Path) -> None:
    entries = tf214_cuda118() + [conda("python", "3.11.6", "h_0", "osx-arm64")]
    (f,) = audit(tmp_path, entries, ["linux-64", "osx-arm64"])
    assert (f.rule, f.severity, f.platform) == ("missing-tensorflow", "error", "osx-arm64")


def test_declared_platform_with_no_packages_at_all(tmp_path: Path) -> None:
    found = audit(tmp_path, tf214_cuda118(), ["linux-64", "osx-64"])
    assert rules(found) == {("missing-tensorflow", "error", "osx-64")}


def test_version_skew_between_platforms(tmp_path: Path) -> None:
    entries = (cf_cpu("2.14.0", keras="2.14.0", platform="linux-64")
               + cf_cpu("2.14.0", keras="2.14.0", platform="osx-64")
               + cf_cpu("2.14.1", keras="2.14.0", platform="osx-arm64"))
    assert rules(audit(tmp_path, entries)) == {("platform-version-skew", "warning", "osx-arm64")}
    keras_skew = (cf_cpu("2.14.0", keras="2.14.0", platform="linux-64")
                  + cf_cpu("2.14.0", keras="2.14.0", platform="osx-64")
                  + cf_cpu("2.14.0", keras="2.14.1", platform="osx-arm64"))
    (f,) = audit(tmp_path, keras_skew)
    assert f.platform == "osx-arm64" and f.message.startswith("Keras is 2.14.1")


def test_same_versions_everywhere_is_silent(tmp_path: Path) -> None:
    entries = cf_cpu("2.14.0", keras="2.14.0", platform="linux-64") + cf_cpu("2.14.0", keras="2.14.0",
                                                                            platform="osx-arm64")
    assert audit(tmp_path, entries) == []


def test_no_tensorflow_anywhere_is_info(tmp_path: Path) -> None:
    assert rules(audit(tmp_path, [conda("zlib", "1.3.1")])) == {("no-tensorflow", "info", None)}


def test_unknown_release_is_info_only(tmp_path: Path) -> None:
    # 1.14 is older than both the compatibility table and the release history (1.15 on).
    assert rules(audit(tmp_path, cf_cpu("1.14.0", "37"))) == {("tensorflow-unknown-release", "info", "linux-64")}


# --- profile rules ------------------------------------------------------------------------------

def profile(**overrides: Any) -> Profile:
    data: dict[str, Any] = {
        "name": "gpu", "platforms": ["linux-64"], "python": "3.11.*", "keras": "2.*",
        "tensorflow": {"version": "2.14.*", "source": "conda", "variant": "cuda"},
        "virtual_packages": {"linux-64": {"__cuda": "11.8"}},
    }
    data.update(overrides)
    return Profile.model_validate(data)


def test_lock_that_delivers_the_profile_is_clean(tmp_path: Path) -> None:
    assert audit(tmp_path, tf214_cuda118(), profiles=[profile()]) == []


def test_profile_mismatches(tmp_path: Path) -> None:
    cpu_lock = without(cf_cpu("2.15.0", "310", keras="2.15.0"), "python") + [conda("python", "3.10.1", "h_0")]
    found = audit(tmp_path, cpu_lock,
                  profiles=[profile(platforms=["linux-64", "linux-aarch64"],
                                    virtual_packages={"linux-64": {"__cuda": "11.8"},
                                                      "linux-aarch64": {"__cuda": "11.8"}})])
    got = {f.rule for f in found if f.rule.startswith("profile-")}
    assert got == {"profile-platforms", "profile-tensorflow", "profile-variant", "profile-python"}


def test_profile_source_and_keras(tmp_path: Path) -> None:
    want = profile(tensorflow={"version": "2.16.*", "source": "pip", "variant": "cpu"}, keras="3.*",
                   python="3.12.*", virtual_packages={})
    found = audit(tmp_path, cf_cpu("2.16.2", "312", keras="2.15.0") + [conda("tf-keras", "2.16.0", "h_0")],
                  profiles=[want])
    assert {f.rule for f in found if f.rule.startswith("profile-")} == {"profile-tensorflow", "profile-keras"}
