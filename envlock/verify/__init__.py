"""The verifier: prove an environment is what its profile promised.

``verify_environment(project, profile, prefix, *, bench=True, record=True) -> VerifyReport``
is the entry point (``envlock verify`` and the end of ``envlock create``).  ``probe.py`` runs
inside the environment; everything else here runs in envlock's own process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from envlock.verify.model import Check, VerifyReport
    from envlock.verify.verifier import verify_environment

__all__ = ["Check", "VerifyReport", "verify_environment"]


def __getattr__(name: str) -> Any:  # lazy: importing envlock.verify stays cheap
    if name == "verify_environment":
        from envlock.verify.verifier import verify_environment

        return verify_environment
    if name in ("VerifyReport", "Check"):
        from envlock.verify import model

        return getattr(model, name)
    raise AttributeError(name)
