"""The verification record, ``locks/<name>/verified-<platform>.json``: when an environment
last passed, on what hardware, with which lock, and how fast.  It keeps one benchmark baseline
per hardware, the best figures of the passing runs there (``envlock.verify.baseline``); the next
verify on comparable hardware compares with it and warns on a confirmed slowdown (a silent CPU
fallback, a slower build after an upgrade)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from envlock.core.files import write_atomic
from envlock.core.project import Project
from envlock.verify.model import Benchmark

SCHEMA = 1
# Flags that decide which kernels run; others (mitigations, virtualisation) do not matter.
_VECTOR_FLAGS = re.compile(r"avx|fma|amx|sse|sve|neon|asimd|bf16|vnni|f16c")


class BenchFigure(BaseModel):
    device: str
    op: str
    dtype: str
    gflops: float

    @property
    def key(self) -> str:
        return f"{self.device}|{self.op}|{self.dtype}"


class Baseline(BaseModel):
    """The best figure per benchmark of the passing runs on one hardware."""

    hardware: dict[str, Any]
    benchmarks: list[BenchFigure]
    benchmarked_at: str | None = None


class VerificationRecord(BaseModel):
    schema_version: int = SCHEMA
    profile: str
    platform: str
    verified_at: str
    envlock_version: str
    prefix: str
    lock_path: str | None = None
    lock_hash: str | None = None
    python: str | None = None
    tensorflow: str | None = None
    keras: str | None = None
    keras_resolves_to: str | None = None
    hardware: dict[str, Any] = {}
    benchmarks: list[BenchFigure] = []  # this hardware's baseline
    benchmarked_at: str | None = None
    baselines: list[Baseline] = []  # every hardware's


def record_path(project: Project, name: str, platform: str) -> Path:
    return project.locks_dir / name / f"verified-{platform}.json"


def load(path: Path) -> VerificationRecord | None:
    try:
        return VerificationRecord.model_validate_json(path.read_text())
    except (OSError, ValueError, ValidationError):
        return None


def now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def figures(benchmarks: list[Benchmark]) -> list[BenchFigure]:
    return [BenchFigure(device=b.device, op=b.op, dtype=b.dtype, gflops=b.gflops)
            for b in benchmarks if b.gflops and not b.error]


def comparable(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Same CPU model, core count, vector instruction sets, architecture and GPUs."""
    def key(hw: dict[str, Any]) -> tuple:
        flags = sorted(f for f in hw.get("cpu_flags", []) if _VECTOR_FLAGS.search(f))
        return (hw.get("cpu_model"), hw.get("logical_cpus"), hw.get("machine"), tuple(hw.get("gpus", [])), tuple(flags))
    return key(a) == key(b)


def write(path: Path, record: VerificationRecord) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(record.model_dump(), indent=2) + "\n")
