"""``--conda PATH``: checked before anything runs, so conda-lock never falls back to
downloading a conda of its own (its ensureconda step) when the one named is not usable."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from envlock.core.errors import InputError


def resolve_conda_exe(given: str) -> str:
    """The absolute path of the executable ``--conda`` names (a path, or a name on PATH)."""
    fix = "pass the path of an executable conda, mamba or micromamba, or leave --conda out to solve with py-rattler"
    if os.sep not in given and not Path(given).exists():
        found = shutil.which(given)
        if found is None:
            raise InputError(f"--conda {given}: no such executable on PATH; {fix}.")
        return str(Path(found).resolve())
    path = Path(given).expanduser()
    if not path.exists():
        raise InputError(f"--conda {given}: no such file; {fix}.")
    if not path.is_file() or not os.access(path, os.X_OK):
        raise InputError(f"--conda {given}: is not an executable file; {fix}.")
    return str(path.resolve())
