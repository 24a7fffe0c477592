"""Package names compared across conda and PyPI: one normal form for both."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[-_.]+")


def canonical_name(name: str) -> str:
    """PEP 503's normal form (``tf_keras``, ``TF.Keras`` and ``tf-keras`` are one name);
    conda names compare in the same form."""
    return _SEPARATORS.sub("-", name).lower()
