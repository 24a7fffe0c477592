"""What audit finds in each real-world lockfile — the findings a careful reviewer makes.

pangeo ml-notebook history (pangeo-data/pangeo-docker-images): 2020-03 takes the whole
TensorFlow stack from anaconda's pkgs/main onto a conda-forge Python; 2021-08 asks for
`pkgs/main::tensorflow-gpu` but conda-forge's CPU-only 2.4.1 build got locked beside a CUDA
11.2 toolkit (GPU intent lost); 2021-11 is a consistent conda-forge CUDA 10.2 build;
2022-12 pairs a CUDA 11.2 TensorFlow with cudatoolkit 11.8 (later GPU errors, #511); 2024-08
and today's lock are consistent CUDA 12 builds.  Dpbm (pip TF 2.17 + Keras 3.6) and eds-book
(conda-forge CPU 2.11 on three platforms) are consistent.
"""

from __future__ import annotations

import pytest

from envlock.audit import UNREADABLE, audit_path
from tests.lockfile.test_lockfile_formats import LOADS, REJECTS, needs_realworld, rw

EXPECTED: dict[str, set[tuple[str, str, str | None]]] = {
    "pangeo-data__pangeo-docker-images__2020-03-29": {("mixed-channels", "warning", "linux-64")},
    "pangeo-data__pangeo-docker-images__2021-08-07": {
        ("cuda-without-gpu-build", "error", "linux-64"), ("mixed-channels", "warning", "linux-64")},
    "pangeo-data__pangeo-docker-images__2021-11-23": set(),
    "pangeo-data__pangeo-docker-images__2022-12-16": {("cuda-build-mismatch", "warning", "linux-64")},
    "pangeo-data__pangeo-docker-images__2024-08-18": set(),
    "pangeo-data__pangeo-docker-images__ml-notebook": set(),
    "Dpbm__qml-course": set(),
    "eds-book__": set(),
}
FORMAT_ONLY = [prefix for prefix, *_ in LOADS if prefix not in EXPECTED]


def _found(prefix: str) -> set[tuple[str, str, str | None]]:
    return {(f.rule, f.severity, f.platform) for f in audit_path(rw(prefix)).findings}


@needs_realworld
@pytest.mark.parametrize("prefix", sorted(EXPECTED))
def test_realworld_tensorflow_lock_findings(prefix: str) -> None:
    assert _found(prefix) == EXPECTED[prefix]


@needs_realworld
@pytest.mark.parametrize("prefix", FORMAT_ONLY)
def test_format_fixtures_hold_no_tensorflow(prefix: str) -> None:
    assert _found(prefix) == {("no-tensorflow", "info", None)}


@needs_realworld
@pytest.mark.parametrize("prefix", [r[0] for r in REJECTS])
def test_malformed_file_is_a_finding_not_a_crash(prefix: str) -> None:
    report = audit_path(rw(prefix))
    assert report.format == "unknown" and report.has_errors
    assert [f.rule for f in report.findings] == [UNREADABLE]


@needs_realworld
def test_gpu_intent_lost_names_what_asked_and_what_was_locked() -> None:
    (f,) = [f for f in audit_path(rw("2021-08-07")).findings if f.rule == "cuda-without-gpu-build"]
    assert "tensorflow-gpu 2.4.1 h30adc30_0" in f.packages and "_tflow_select 2.1.0 gpu" in f.packages
    assert "tensorflow-base 2.4.1 py38h83f5f1d_0" in f.packages
    assert "cudatoolkit 11.2.2 he111cf0_8" in f.packages
    assert "CPU build" in f.message and "cuda" in f.message


@needs_realworld
def test_cuda_112_build_with_118_toolkit_message() -> None:
    (f,) = audit_path(rw("2022-12-16")).findings
    assert "CUDA 11.2" in f.message and "CUDA 11.8" in f.message and "pin cudatoolkit 11.2.*" in f.message


@needs_realworld
def test_anaconda_stack_on_conda_forge_python() -> None:
    (f,) = [f for f in audit_path(rw("2020-03-29")).findings if f.rule == "mixed-channels"]
    assert "pkgs/main" in f.message and "conda-forge: python" in f.message
