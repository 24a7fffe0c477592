"""The TensorFlow compatibility table (``data/tensorflow.yml``) as typed, queryable data.

Everything envlock knows about which TensorFlow goes with which Keras, Python, CUDA and
platform is read from that file; callers ask questions here instead of writing ``if``s.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

import envlock.compat.data
from envlock.core.yaml_load import safe_load

Variant = Literal["cpu", "cuda", "metal"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PythonRange(_Strict):
    min: str
    max: str

    def allows(self, python: str) -> bool:
        """True when the ``major.minor`` of ``python`` lies inside the range."""
        return version_key(self.min) <= version_key(minor_of(python)) <= version_key(self.max)

    def __str__(self) -> str:
        return f"{self.min}–{self.max}"


class KerasInfo(_Strict):
    major: int
    package: str
    requirement: str


class CondaForgeInfo(_Strict):
    cuda: list[str]
    cudnn_major: int
    python: PythonRange
    keras: str
    estimator: str | None
    platforms: list[str]
    # cuDNN major of a CUDA variant that differs from ``cudnn_major`` (2.10's CUDA 10.2 build: 7).
    cudnn_by_cuda: dict[str, int] = {}

    def cudnn_major_for(self, cuda: str) -> int | None:
        """cuDNN major conda-forge built a CUDA variant with; None for a variant it did not build."""
        if cuda not in self.cuda:
            return None
        return self.cudnn_by_cuda.get(cuda, self.cudnn_major)


class LogHint(_Strict):
    """A TensorFlow log line and the likely cause it names."""

    pattern: str
    cause: str


class Release(_Strict):
    """One TensorFlow minor line, e.g. 2.16 (2.16.1, 2.16.2)."""

    line: str
    versions: list[str]
    python: PythonRange
    keras: KerasInfo
    tf_keras: str | None
    estimator: str | None
    cuda: str
    cudnn: str
    pip_and_cuda: bool
    macos_arm64: Literal["none", "shim", "native"]
    macos_x86_64: bool
    conda_forge: CondaForgeInfo | None
    breaking: list[str]
    source: str

    @property
    def cuda_major(self) -> int:
        return int(self.cuda.split(".")[0])

    @property
    def cudnn_major(self) -> int:
        return int(self.cudnn.split(".")[0])


class CudaRuntime(_Strict):
    minor_must_match: bool = False


class CondaBuildMarkers(_Strict):
    cuda: str
    gpu: list[str]
    cpu: list[str]
    unmarked_cpu_channels: list[str]


class AuditFacts(_Strict):
    """Package roles and build conventions ``envlock audit`` reads locks with."""

    distributions: list[str]
    build_carriers: list[str]
    estimator: str
    tensorboard: str
    keras: str
    tf_keras: str
    metal_plugin: str
    gpu_intent_packages: list[str]
    gpu_selectors: dict[str, str]
    cuda_runtime: dict[str, CudaRuntime]
    cudnn: list[str]
    conda_builds: CondaBuildMarkers
    pip_builds: dict[str, dict[str, str]]


class MetalBreak(_Strict):
    """A TensorFlow line tensorflow-metal does not load with: what happens, and the source."""

    error: str
    source: str


class CompatTable(_Strict):
    schema_: int = 1
    sources: dict[str, str] = {}
    metal_plugin: dict[str, str]
    metal_python_max: str | None = None
    metal_unsupported: dict[str, MetalBreak] = {}
    pip_packages: dict[str, dict[str, str]]
    pip_provides: dict[str, list[str]] = {}
    log_hints: list[LogHint] = []
    variant_platforms: dict[str, list[str]]
    releases: list[Release]
    audit: AuditFacts | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def release(self, version: str) -> Release | None:
        """The release line a concrete or partial version (``2.16.2``, ``2.16``) belongs to."""
        line = minor_of(version)
        return next((r for r in self.releases if r.line == line), None)

    def first_keras3_line(self) -> str:
        """The first line whose ``tf.keras`` is Keras 3 (2.16)."""
        return min((r.line for r in self.releases if r.keras.major == 3), key=version_key)

    def newest_metal_line(self) -> str:
        """The newest TensorFlow line a released tensorflow-metal loads with."""
        return max(self.metal_plugin, key=version_key)

    def oldest(self) -> Release:
        return min(self.releases, key=lambda r: version_key(r.line))

    def newest(self) -> Release:
        return max(self.releases, key=lambda r: version_key(r.line))

    def breaking_between(self, old: str, new: str) -> list[tuple[str, str]]:
        """(line, change) for every line after ``old``'s up to and including ``new``'s."""
        lo, hi = sorted((version_key(minor_of(old)), version_key(minor_of(new))))
        return [
            (r.line, change)
            for r in sorted(self.releases, key=lambda r: version_key(r.line))
            if lo < version_key(r.line) <= hi
            for change in r.breaking
        ]


def data_bytes() -> bytes:
    """Raw bytes of the data file; part of every lock's input hash."""
    return envlock.compat.data.compat_data_bytes()


@lru_cache(maxsize=1)
def table() -> CompatTable:
    raw = safe_load(data_bytes())
    raw["schema_"] = raw.pop("schema", 1)
    return CompatTable.model_validate(raw)


_NUM = re.compile(r"\d+")


def version_key(version: str) -> tuple[int, ...]:
    """A sortable key from the leading numeric components (``2.15.0.post1`` -> (2, 15, 0))."""
    parts: list[int] = []
    for piece in version.split("."):
        m = _NUM.match(piece)
        if not m:
            break
        parts.append(int(m.group()))
    return tuple(parts)


def minor_of(version: str) -> str:
    """``2.16.2`` -> ``2.16``; ``3.11.*`` -> ``3.11``."""
    key = version_key(version.lstrip("=<>!~ "))
    return ".".join(str(p) for p in key[:2])


_MAJOR = re.compile(r"(\d+)")


def spec_major(spec: str) -> int:
    m = _MAJOR.search(spec)
    if not m:
        raise ValueError(f"cannot read a version from '{spec}'")
    return int(m.group(1))


def spec_floor(spec: str) -> tuple[int, ...]:
    """The smallest version a simple spec admits ('3.5.*' -> (3, 5); '>=3.10' -> (3, 10))."""
    m = re.search(r"\d+(?:\.\d+)*", spec)
    return version_key(m.group()) if m else ()
