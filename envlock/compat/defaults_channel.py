"""TensorFlow on anaconda's defaults channel (``data/tensorflow_defaults.yml``): which CUDA
toolkit and cuDNN each ``gpu_`` build of ``tensorflow-base`` was built with, read from
AnacondaRecipes/tensorflow_recipes.  A build the data does not list stays unknown."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from envlock.core.yaml_load import safe_load
from envlock.lockfile import LockedPackage

DATA_FILE = Path(__file__).resolve().parent / "data" / "tensorflow_defaults.yml"


@lru_cache(maxsize=1)
def facts() -> dict[str, Any]:
    return safe_load(DATA_FILE.read_bytes())


def is_defaults_gpu_build(pkg: LockedPackage) -> bool:
    data = facts()
    prefixes = [p for p, variant in data["build_variants"].items() if variant == "cuda"]
    return pkg.manager == "conda" and pkg.channel_name == data["channel"] and pkg.build.startswith(tuple(prefixes))


def gpu_build(pkg: LockedPackage) -> tuple[str, int] | None:
    """(CUDA ``major.minor``, cuDNN major) a defaults ``gpu_`` build was built with."""
    if not is_defaults_gpu_build(pkg):
        return None
    entry = facts()["gpu_builds"].get(pkg.version)
    if entry is None:
        return None
    return str(entry["cudatoolkit"]), int(str(entry["cudnn"]).split(".")[0])
