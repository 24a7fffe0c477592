"""Benchmark baselines you can believe: one per hardware, the best figure per benchmark of the
passing runs recorded there (a slow run on a busy machine never lowers it), and a slowdown is
reported only when a second measurement confirms it."""

from __future__ import annotations

from typing import Any

from envlock.verify.record import Baseline, BenchFigure, VerificationRecord, comparable


def baselines_of(rec: VerificationRecord | None) -> list[Baseline]:
    if rec is None:
        return []
    if rec.baselines:
        return list(rec.baselines)
    if rec.benchmarks:  # a record written before baselines: its figures are its hardware's baseline
        return [Baseline(hardware=rec.hardware, benchmarks=rec.benchmarks, benchmarked_at=rec.benchmarked_at or rec.verified_at)]
    return []


def for_hardware(baselines: list[Baseline], hardware: dict[str, Any]) -> Baseline | None:
    return next((b for b in baselines if comparable(b.hardware, hardware)), None)


def best_of(*runs: list[BenchFigure]) -> list[BenchFigure]:
    """Per benchmark, the fastest figure of ``runs`` (in first-seen order)."""
    best: dict[str, BenchFigure] = {}
    for run in runs:
        for f in run:
            if f.key not in best or f.gflops > best[f.key].gflops:
                best[f.key] = f
    return list(best.values())


def slower(base: Baseline | None, figures: list[BenchFigure], threshold: float) -> list[tuple[BenchFigure, BenchFigure]]:
    """(figure, baseline figure) for each benchmark more than ``threshold`` below the baseline."""
    if base is None:
        return []
    before = {f.key: f for f in base.benchmarks}
    return [(f, before[f.key]) for f in figures if f.key in before and f.gflops < before[f.key].gflops * (1.0 - threshold)]


def updated(baselines: list[Baseline], hardware: dict[str, Any], figures: list[BenchFigure], now: str) -> list[Baseline]:
    """``baselines`` with this run's figures folded into its hardware's (best of both)."""
    if not figures:
        return baselines
    out = [b for b in baselines if not comparable(b.hardware, hardware)]
    base = for_hardware(baselines, hardware)
    if base is None:
        return [*out, Baseline(hardware=hardware, benchmarks=figures, benchmarked_at=now)]
    merged = best_of(base.benchmarks, figures)
    before = {f.key: f.gflops for f in base.benchmarks}
    moved = any(f.key not in before or f.gflops > before[f.key] for f in merged)
    return [*out, Baseline(hardware=base.hardware, benchmarks=merged, benchmarked_at=now if moved else base.benchmarked_at)]


def warning(figure: BenchFigure, base: BenchFigure, since: str | None, runs: int) -> str:
    drop = 100.0 * (1.0 - figure.gflops / base.gflops)
    return (f"{figure.op} {figure.dtype} on {figure.device.rsplit('device:', 1)[-1]} is {drop:.0f}% slower than this "
            f"hardware's baseline (best of {runs} measurements now: {figure.gflops:g} vs {base.gflops:g} GFLOP/s, "
            f"best passing run since {since}): look for a CPU fallback, other load, or a slower build after an upgrade.")
