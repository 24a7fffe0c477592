"""Data files shipped with envlock (compatibility facts, name mappings)."""

from __future__ import annotations

from pathlib import Path

COMPAT_FILE = "tensorflow.yml"
# The PyPI -> conda name mapping handed to conda-lock (it would download one otherwise).
PYPI_TO_CONDA_FILE = Path(__file__).resolve().parent / "pypi_to_conda.json"


def compat_data_bytes() -> bytes:
    """Raw bytes of the TensorFlow compatibility data; part of every lock's input hash.
    A plain file read (envlock installs as files; importlib.resources costs ~3 ms of import)."""
    return (Path(__file__).parent / COMPAT_FILE).read_bytes()
