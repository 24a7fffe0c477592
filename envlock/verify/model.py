"""The verifier's data: the probe's document (as the host reads it), checks, benchmark
results and the report every output format is rendered from."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Check(BaseModel):
    """One named verdict. ``message`` explains a failure (likely cause and fix) or adds a note."""

    name: str
    ok: bool
    expected: str | None = None
    actual: str | None = None
    message: str = ""


class Benchmark(BaseModel):
    device: str
    op: str
    dtype: str
    gflops: float | None = None
    max_abs_error: float | None = None
    reference_max_abs: float | None = None
    median_s: float | None = None
    wall_s: float | None = None
    runs: int | None = None
    shape: list[int] = []
    placed_on: str | None = None
    error: str | None = None

    @property
    def rel_error(self) -> float | None:
        if self.max_abs_error is None or not self.reference_max_abs:
            return None
        return self.max_abs_error / self.reference_max_abs

    @property
    def key(self) -> str:
        return f"{self.device}|{self.op}|{self.dtype}"


class ProbeDoc(BaseModel):
    """The probe's JSON: ``{"probe_version", "measurements": {name: {status, value|error|reason}}}``."""

    probe_version: int = 1
    measurements: dict[str, dict[str, Any]] = {}
    total_seconds: float | None = None

    def status(self, name: str) -> str:
        return str(self.measurements.get(name, {}).get("status", "missing"))

    def value(self, name: str) -> dict[str, Any]:
        entry = self.measurements.get(name, {})
        return entry.get("value") or {} if entry.get("status") == "ok" else {}

    def error(self, name: str) -> dict[str, Any]:
        return self.measurements.get(name, {}).get("error") or {}

    def seconds(self, name: str) -> float | None:
        return self.measurements.get(name, {}).get("seconds")

    def benchmarks(self) -> list[Benchmark]:
        return [Benchmark.model_validate(r) for r in self.value("benchmarks").get("results", [])]


class ProbeRun(BaseModel):
    """How the probe process went, whatever happened to it."""

    ok: bool
    command: list[str]
    returncode: int | None = None
    signal: str | None = None
    timed_out: bool = False
    seconds: float = 0.0
    stderr_tail: str = ""
    stderr: str = Field("", exclude=True)
    last_step: str | None = None
    problem: str = ""
    doc: ProbeDoc | None = None
    raw: dict[str, Any] | None = Field(None, exclude=True)  # the document exactly as the probe printed it


class VerifyReport(BaseModel):
    ok: bool
    profile: str
    prefix: str
    platform: str
    checks: list[Check]
    tensorflow: dict[str, Any] = Field(default_factory=lambda: {"version": None})
    keras: dict[str, Any] = Field(default_factory=lambda: {"version": None, "resolves_to": None})
    benchmarks: list[Benchmark] = []
    libraries: list[dict[str, Any]] = []
    hardware: dict[str, Any] = {}
    timings: dict[str, float | None] = {}
    warnings: list[str] = []
    record_path: str | None = None
    lock_hash: str | None = None
    last_verification: dict[str, Any] | None = None  # what the environment now remembers (conda prefixes)
    stderr_tail: str = ""
    probe: dict[str, Any] = Field(default_factory=dict, exclude=True)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document (the keys the issue fixes come first; the rest are extras)."""
        return {
            "ok": self.ok,
            "profile": self.profile,
            "checks": [c.model_dump() for c in self.checks],
            "tensorflow": self.tensorflow,
            "keras": self.keras,
            "benchmarks": [
                {"device": b.device, "op": b.op, "dtype": b.dtype, "gflops": b.gflops,
                 "max_abs_error": b.max_abs_error, "median_s": b.median_s, "placed_on": b.placed_on,
                 "error": b.error}
                for b in self.benchmarks
            ],
            "prefix": self.prefix,
            "platform": self.platform,
            "warnings": self.warnings,
            "libraries": self.libraries,
            "hardware": self.hardware,
            "timings": self.timings,
            "record": self.record_path,
            "last_verification": self.last_verification,
        }
