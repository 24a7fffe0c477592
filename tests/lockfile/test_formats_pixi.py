"""pixi.lock v4–v7 on real files: every environment × platform, and the line scanner identical
to py-rattler's reader (``rattler.LockFile.from_path``) on every one of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from envlock.core.errors import InputError
from envlock.lockfile import Lockfile, read_lockfile
from envlock.lockfile.pixi import parse_pixi
from envlock.lockfile.pixi_rattler import read_with_rattler
from envlock.lockfile.text import read_text

PIXI = Path(__file__).parents[1] / "realworld" / "pixi"
ALL = sorted(PIXI.glob("*.lock"))

# file -> (format, {environment: platforms}, package references over all environments)
EXPECTED = {
    "Doodleverse__segmentation_gym__pixi.lock": ("pixi-v6", {"default": ["linux-64"]}, 329),
    "2320sharon__CoastSeg__pixi.lock": ("pixi-v6", {e: ["linux-64", "win-64"] for e in ("all", "default", "ml", "test")},
                                        2908),
    "2986002971__deep_learning_course__pixi.lock": ("pixi-v5", {"default": ["linux-64", "win-64"]}, 503),
    "183amir__pixi__examples_multi-machine_pixi.lock": (
        "pixi-v5", {"cuda": ["linux-64", "win-64"], "default": ["linux-64", "osx-64", "osx-arm64", "win-64"],
                    "mlx": ["osx-arm64"]}, 1079),
    "183amir__pixi__tests_satisfiability_solve-groups-pypi_pixi.lock": (
        "pixi-v4", {"default": ["win-64"], "dev": ["win-64"]}, 142),
    "conda__rattler__pixi.lock": ("pixi-v7", {e: ["linux-64", "osx-64", "osx-arm64", "win-64"]
                                              for e in ("default", "lint", "minio", "s3", "semver-check")}, 778),
}


def _rows(lock: Lockfile) -> list[tuple[object, ...]]:
    return sorted((p.environment, p.platform, p.manager, p.name, p.version, p.build, p.url, p.sha256, p.md5,
                   p.channel, tuple(sorted(p.depends.items()))) for p in lock.packages)


def test_every_collected_file_is_listed() -> None:
    assert sorted(p.name for p in ALL) == sorted(EXPECTED)


@pytest.mark.parametrize("path", ALL, ids=[p.name[:40] for p in ALL])
def test_real_pixi_lock_reads_every_environment(path: Path) -> None:
    fmt, envs, count = EXPECTED[path.name]
    lock = read_lockfile(path)
    assert (lock.format, lock.environments, len(lock.packages)) == (fmt, envs, count)
    assert lock.platforms == sorted({p for plats in envs.values() for p in plats})
    for env, plats in envs.items():
        sub = lock.environment(env)
        assert sub.platforms == plats and sub.packages and all(p.environment == env for p in sub.packages)
        assert {p.manager for p in sub.packages} <= {"conda", "pip"}


@pytest.mark.parametrize("path", ALL, ids=[p.name[:40] for p in ALL])
def test_fast_reader_identical_to_rattler(path: Path) -> None:
    text = read_text(path)
    fast, full = parse_pixi(path, text), read_with_rattler(path, text)
    assert _rows(fast) == _rows(full)
    assert (fast.format, fast.environments, fast.platforms, fast.channels) == \
        (full.format, full.environments, full.platforms, full.channels)


def test_conda_and_pypi_entries_carry_what_the_file_says() -> None:
    lock = read_lockfile(PIXI / "2320sharon__CoastSeg__pixi.lock")
    (tf,) = [p for p in lock.packages if p.name == "tensorflow" and p.environment == "ml" and p.platform == "linux-64"]
    assert (tf.manager, tf.version, tf.channel) == ("pip", "2.12.0", "pypi")
    assert tf.sha256 == "357d9d2851188a8d27ee195345b4d175cad970150d1344ba9d9fcc4bf2b68336"
    assert tf.depends["keras"] == "<2.13,>=2.12.0" and "tensorflow-intel" not in tf.depends  # marker: not recorded
    gym = read_lockfile(PIXI / "Doodleverse__segmentation_gym__pixi.lock")
    (base,) = [p for p in gym.packages if p.name == "tensorflow-base"]
    assert (base.build, base.channel_name, base.md5) == ("cuda112py310h1d65785_1", "conda-forge",
                                                         "4aa4b1fa72143cf84ff5776275f8b40d")
    assert base.depends["cudnn"] == ">=8.8.0.121,<9.0a0"


def test_v7_platform_list_and_source_packages() -> None:
    lock = read_lockfile(PIXI / "conda__rattler__pixi.lock")
    sources = [p for p in lock.packages if p.channel == "" and p.manager == "conda"]
    assert sources and {p.name for p in sources} >= {"rattler"}
    assert all(not p.version for p in sources)  # built from the checkout: no version in the lock


def test_scanner_falls_back_to_rattler_on_flow_style(tmp_path: Path) -> None:
    # Same file, one environment's package list rewritten in YAML flow style: the scanner
    # declines and rattler reads it, with the same result as the block-style original.
    original = PIXI / "183amir__pixi__tests_satisfiability_solve-groups-pypi_pixi.lock"
    text = read_text(original)
    start = text.index("      win-64:\n", text.index("  dev:\n"))
    end = text.index("packages:\n", start + 1)
    refs = [line.strip()[2:] for line in text[start:end].splitlines()[1:] if line.strip().startswith("- ")]
    flow = "      win-64: [" + ", ".join("{" + r + "}" for r in refs) + "]\n"
    rewritten = tmp_path / "pixi.lock"
    rewritten.write_text(text[:start] + flow + text[end:])
    assert _rows(read_lockfile(rewritten)) == _rows(read_lockfile(original))


@pytest.mark.parametrize(("text", "reason"), [
    ("version: 3\nenvironments: {}\npackages: []\n", "envlock reads pixi.lock versions 4–7"),
    ("version: 8\nenvironments: {}\npackages: []\n", "newer than envlock reads"),
    ("version: 6\nenvironments:\n  default:\n    channels: []\n    packages:\n      linux-64:\n"
     "      - conda: https://conda.anaconda.org/conda-forge/linux-64/zlib-1.3-h0_0.conda\npackages: []\n",
     "environment 'default' (linux-64) lists conda package"),
])
def test_malformed_pixi_lock_names_file_field_and_fix(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "pixi.lock"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_lockfile(path)
    assert reason in str(info.value) and str(path) in str(info.value) and "pixi lock" in str(info.value)
