"""Names from input files: package names compared across conda and PyPI (one normal form for
both), and what can be a conda platform name."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[-_.]+")
_PLATFORM = re.compile(r"[a-z0-9]{1,32}(-[a-z0-9_]{1,32})?")


def canonical_name(name: str) -> str:
    """PEP 503's normal form (``tf_keras``, ``TF.Keras`` and ``tf-keras`` are one name);
    conda names compare in the same form."""
    return _SEPARATORS.sub("-", name).lower()


def is_platform_name(name: str) -> bool:
    """Whether ``name`` can be a conda platform (and so a file name: ``locks/<name>/<platform>.lock``)."""
    return bool(_PLATFORM.fullmatch(name))
