"""What activating an environment means, computed without conda.

conda keeps per-environment variables in ``<prefix>/conda-meta/state`` (``env_vars``), which
``conda activate`` exports; packages may add ``etc/conda/activate.d/*.sh`` scripts.  We take
the variables from the former and the plain ``export NAME=value`` lines of the latter — the
parts that can be reproduced faithfully without running a shell.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from pathlib import Path

STATE_FILE = Path("conda-meta") / "state"
_EXPORT = re.compile(r"^\s*export\s+([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def bin_dir(prefix: Path) -> Path:
    return prefix / ("Scripts" if sys.platform == "win32" else "bin")


def python_of(prefix: Path) -> Path:
    return prefix / "python.exe" if sys.platform == "win32" else prefix / "bin" / "python"


def read_env_vars(prefix: Path) -> dict[str, str]:
    """The environment's own variables (conda's ``conda env config vars`` store)."""
    path = prefix / STATE_FILE
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    env_vars = state.get("env_vars", {}) if isinstance(state, dict) else {}
    return {str(k): str(v) for k, v in env_vars.items()}


def write_env_vars(prefix: Path, env_vars: dict[str, str]) -> None:
    """Record variables the way ``conda env config vars set`` does, so conda honours them too."""
    path = prefix / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        state = {}
    state["env_vars"] = dict(sorted(env_vars.items()))
    path.write_text(json.dumps(state, indent=2) + "\n")


def script_exports(prefix: Path) -> dict[str, str]:
    """``export NAME=value`` lines of activate.d scripts, in conda's (sorted) order."""
    out: dict[str, str] = {}
    d = prefix / "etc" / "conda" / "activate.d"
    if not d.is_dir():
        return out
    for script in sorted(d.glob("*.sh")):
        try:
            lines = script.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            m = _EXPORT.match(line)
            if not m:
                continue
            # The prefix is the one expansion we can do faithfully; anything else dynamic
            # ($OTHER, `cmd`) needs a shell and is left to `conda activate`.
            raw = re.sub(r"\$\{CONDA_PREFIX\}|\$CONDA_PREFIX\b", lambda _m: str(prefix), m.group(2))
            if "$" in raw or "`" in raw:
                continue
            try:
                words = shlex.split(raw)
            except ValueError:
                continue
            if len(words) == 1:
                out[m.group(1)] = words[0]
    return out


def activation_vars(prefix: Path) -> dict[str, str]:
    """Variables activation adds, besides PATH (script exports first, then env_vars win)."""
    prefix = prefix.resolve()
    env = {"CONDA_PREFIX": str(prefix), "CONDA_DEFAULT_ENV": prefix.name}
    env.update(script_exports(prefix))
    env.update(read_env_vars(prefix))
    return env


def activated_environ(prefix: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of ``base`` (default: os.environ) as it is after activating ``prefix``."""
    env = dict(os.environ if base is None else base)
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONHOME", None)
    env.update(activation_vars(prefix))
    env["PATH"] = os.pathsep.join([str(bin_dir(prefix.resolve())), env.get("PATH", "")]).rstrip(os.pathsep)
    return env


def bare_environ() -> dict[str, str]:
    """A minimal environment, as cron, ``env -i`` or a cleared ``subprocess`` start an
    interpreter with: no activation, no caller variables, only PATH and HOME."""
    env = {"PATH": os.defpath.lstrip(os.pathsep) or "/usr/bin:/bin", "HOME": os.environ.get("HOME", os.path.expanduser("~"))}
    if sys.platform == "win32" and "SYSTEMROOT" in os.environ:  # Windows processes need it to start
        env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
    return env
