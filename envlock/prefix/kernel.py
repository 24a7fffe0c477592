"""A Jupyter kernel spec for an environment, written without jupyter_client.

A kernel starts the environment's own ``bin/python -m ipykernel_launcher`` with the spec's
``env`` on top of Jupyter's environment, so the spec carries the environment's activation
variables (the same ``envlock activate`` prints, PATH aside) — with the startup hook, the
kernel's Keras is the profile's either way.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from envlock.core.errors import InputError
from envlock.core.files import write_atomic
from envlock.prefix.activation import activation_vars, python_of
from envlock.prefix.startup_hook import site_packages

NAME_RE = re.compile(r"[A-Za-z0-9._-]+")
LAUNCHER = "ipykernel_launcher"


def jupyter_data_dir() -> Path:
    """Jupyter's per-user data directory (jupyter_core.paths.jupyter_data_dir's rules)."""
    if os.environ.get("JUPYTER_DATA_DIR"):
        return Path(os.environ["JUPYTER_DATA_DIR"]).expanduser()
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Jupyter"
    if sys.platform == "win32":
        appdata = os.environ.get("APPDATA")
        return Path(appdata) / "jupyter" if appdata else home / ".jupyter" / "data"
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else home / ".local" / "share") / "jupyter"


def kernel_spec(prefix: Path, display_name: str) -> dict:
    return {
        "argv": [str(python_of(prefix)), "-m", LAUNCHER, "-f", "{connection_file}"],
        "display_name": display_name,
        "language": "python",
        "env": activation_vars(prefix),
        "metadata": {"debugger": True, "envlock": {"prefix": str(prefix)}},
    }


def install_kernel(prefix: Path, profile: str, name: str | None, profile_file: Path) -> tuple[Path, dict]:
    """Write ``<data dir>/kernels/<name>/kernel.json``; its path and contents."""
    name = name or f"envlock-{profile}"
    if not NAME_RE.fullmatch(name):
        raise InputError(f"--name {name!r}: a kernel name may hold only letters, digits, '.', '_' and '-'; pick another --name.")
    site = site_packages(prefix)
    if site is None or not (site / f"{LAUNCHER}.py").is_file():
        raise InputError(f"{prefix}: ipykernel is not installed in this environment, so Jupyter cannot start a kernel there; "
                         f"add `ipykernel` to the `pip:` list of {profile_file}, then `envlock lock --profile {profile}` "
                         f"and `envlock create --profile {profile}`.")
    spec = kernel_spec(prefix, f"Python ({profile}, envlock)")
    target = jupyter_data_dir() / "kernels" / name
    path = target / "kernel.json"
    try:
        target.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(spec, indent=1) + "\n")
    except OSError as exc:
        raise InputError(f"{target}: cannot write the kernel spec ({exc.strerror or exc}); set JUPYTER_DATA_DIR "
                         "to a writable Jupyter data directory.") from None
    return path, spec
