"""The create benchmarks' own machinery: the synthetic channel in each archive format, the
sequential ``tar -x`` yardstick over it, and bench_create_scale's size parsing and linearity
figures.  Tiny real channels (real .conda / .tar.bz2 archives, indexed by py-rattler)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from bench_create import build_synthetic_channel, sequential_tar  # noqa: E402
from bench_create_scale import linearity, paired_ratio, parse_sizes  # noqa: E402

TINY = 0.002  # 8 packages + python, 60 files, 3 MB


def archive_names(channel: Path) -> list[str]:
    return sorted(p.name for p in channel.rglob("*") if p.name.endswith((".conda", ".tar.bz2")))


@pytest.mark.parametrize("fmt", ["tar.bz2", "conda"])
def test_single_format_channel_has_only_that_format(tmp_path: Path, fmt: str) -> None:
    channel, names, info = build_synthetic_channel(tmp_path, TINY, 2, fmt)
    archives = archive_names(channel)
    assert len(archives) == len(names) + 1 == info["packages"]  # + python
    assert all(a.endswith(f".{fmt}") for a in archives), archives
    assert info["archive_format"] == fmt
    assert info["archives"][f".{fmt}"] == info["packages"]


def test_mixed_channel_has_both_formats(tmp_path: Path) -> None:
    channel, _names, info = build_synthetic_channel(tmp_path, TINY, 2, "mixed")
    archives = archive_names(channel)
    assert any(a.endswith(".conda") for a in archives) and any(a.endswith(".tar.bz2") for a in archives)
    assert info["archives"][".conda"] + info["archives"][".tar.bz2"] == len(archives)


def test_kept_channel_is_rebuilt_for_another_format(tmp_path: Path) -> None:
    channel, _, _ = build_synthetic_channel(tmp_path, TINY, 2, "conda")
    assert all(a.endswith(".conda") for a in archive_names(channel))
    again, _, info = build_synthetic_channel(tmp_path, TINY, 2, "conda")  # same key: reused as is
    assert again == channel and info["archive_format"] == "conda"
    channel, _, info = build_synthetic_channel(tmp_path, TINY, 2, "tar.bz2")
    assert info["archive_format"] == "tar.bz2"
    assert all(a.endswith(".tar.bz2") for a in archive_names(channel))


@pytest.mark.parametrize("fmt", ["tar.bz2", "mixed"])
def test_sequential_tar_extracts_every_payload_file(tmp_path: Path, fmt: str) -> None:
    channel, _, info = build_synthetic_channel(tmp_path, TINY, 2, fmt)
    dest = tmp_path / "out"
    assert sequential_tar(channel, dest) > 0
    payload = [p for p in (dest / "lib").rglob("f*.py")]
    assert len(payload) == info["files"]
    assert (dest / "info" / "paths.json").is_file()


def test_parse_sizes_sorts_and_rejects_bad_input() -> None:
    assert parse_sizes("30000,5000,5000") == [5000, 30000]
    for bad in ("5k", "", "500"):
        with pytest.raises(argparse.ArgumentTypeError, match="--sizes"):
            parse_sizes(bad)


def size(files: int, warm: float, cp: float, cold: float, tar: float) -> dict:
    return {"environment": {"files": files},
            "median_s": {"envlock_warm": warm, "cp_al": cp, "envlock_cold": cold, "tar_sequential": tar}}


def test_linearity_of_proportional_and_superlinear_columns() -> None:
    # warm: 0.1 s fixed + 20 ms per 1,000 files; cold: quadratic in files
    sizes = [size(n, 0.1 + 2e-5 * n, 1e-5 * n, 1e-9 * n * n, 2e-4 * n) for n in (5000, 15000, 30000, 60000)]
    fits = linearity(sizes)
    assert fits["envlock_warm"]["slope_ms_per_1000_files"] == pytest.approx(20.0)
    assert fits["envlock_warm"]["intercept_s"] == pytest.approx(0.1)
    assert fits["envlock_warm"]["r_squared"] == pytest.approx(1.0)
    assert fits["envlock_warm"]["growth_over_file_growth"] < 1.0  # the fixed cost amortised
    assert fits["cp_al"]["growth_over_file_growth"] == pytest.approx(1.0)
    assert fits["envlock_cold"]["growth_over_file_growth"] == pytest.approx(12.0)
    assert fits["envlock_cold"]["r_squared"] < 0.99


def test_paired_ratio_is_the_median_of_per_round_ratios() -> None:
    runs = {"a": [1.0, 4.0, 3.0], "b": [1.0, 1.0, 2.0]}
    assert paired_ratio(runs, "a", "b") == pytest.approx(1.5)
