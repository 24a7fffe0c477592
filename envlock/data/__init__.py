"""Data files shipped with envlock (compatibility facts, name mappings)."""

from __future__ import annotations

from importlib import resources

COMPAT_FILE = "tensorflow.yml"


def compat_data_bytes() -> bytes:
    """Raw bytes of the TensorFlow compatibility data; part of every lock's input hash."""
    return resources.files(__name__).joinpath(COMPAT_FILE).read_bytes()
