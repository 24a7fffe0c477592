"""Run conda-lock's conda solve with py-rattler answering as the conda executable.

conda-lock is imported here only, because importing it costs most of a second.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import yaml

from envlock.compat.data import PYPI_TO_CONDA_FILE
from envlock.core.errors import InputError
from envlock.core.yaml_load import safe_load
from envlock.lock.conda.adapter import ERROR_FILE_VAR, PREFER_FILE_VAR
from envlock.lock.conda.conda_exe import resolve_conda_exe
from envlock.lock.conda.explain import explain_failure
from envlock.lock.conda.server_proc import SOCKET_VAR, solve_server
from envlock.lock.conda.virtual import virtual_packages
from envlock.lockfile.urls import conda_build
from envlock.profiles.model import LockSpec

MAPPING_FILE = PYPI_TO_CONDA_FILE


# The executable conda-lock calls.  It answers --version itself, asks the solve server when
# one runs (solve_server.py), and otherwise runs the adapter in a child, retrying when that
# child dies from a signal: py-rattler's tokio workers have been seen to segfault, rarely and
# only under load; the solve itself is deterministic, so a retry gives the same answer.
_LAUNCHER = """#!{python}
import os, subprocess, sys
from envlock.lock.conda.solve_client import FAKE_VERSION, is_version_query, request
if is_version_query(sys.argv[1:]):
    print(FAKE_VERSION)
    sys.exit(0)
if os.environ.get({socket_var!r}):
    try:
        code, out = request(os.environ[{socket_var!r}], sys.argv[1:], dict(os.environ))
    except (OSError, ValueError, KeyError):
        pass
    else:
        print(out)
        sys.exit(code)
from envlock.core.child import die_with_parent, die_with_parent_now
die_with_parent_now()
for _ in range(3):
    p = subprocess.run([{python!r}, "-m", "envlock.lock.conda.adapter", *sys.argv[1:]], capture_output=True,
                       preexec_fn=die_with_parent())
    if p.returncode >= 0:
        break
sys.stdout.buffer.write(p.stdout)
sys.stderr.buffer.write(p.stderr)
sys.exit(p.returncode if p.returncode >= 0 else 1)
"""


def write_launcher(exe: Path) -> Path:
    """Write the conda-compatible executable that answers through py-rattler."""
    exe.write_text(_LAUNCHER.format(python=sys.executable, socket_var=SOCKET_VAR))
    exe.chmod(0o755)
    return exe


def _preferences(previous_lock: dict | None, update: list[str]) -> dict[str, list[dict]]:
    """The previous lock's conda packages per platform, less those named in ``update``."""
    moving = {u.lower() for u in update}
    prefer: dict[str, list[dict]] = {}
    for p in (previous_lock or {}).get("package", []):
        if p.get("manager", "conda") == "conda" and p["name"].lower() not in moving:
            build = str(p.get("build") or conda_build(p["url"]))
            prefer.setdefault(p["platform"], []).append({"name": p["name"], "version": str(p["version"]), "build": build})
    return prefer


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def solve_conda(
    spec: LockSpec, *, previous_lock: dict | None, update: list[str], conda_exe: str | None, source: Path,
    channels: list[str] | None = None,
) -> dict:
    """Lock the conda part of ``spec`` for every platform; returns conda-lock's unified lock
    (v1) as a dict.  With ``previous_lock`` the solve prefers what it holds, except the
    packages named in ``update``, so only what must move moves.  ``channels``: the URLs the
    solver is handed (``spec.channels`` with credentials filled in)."""
    if conda_exe is not None:
        conda_exe = resolve_conda_exe(conda_exe)
    channels = list(channels if channels is not None else spec.channels)
    # envlock's adapter takes the previous lock as solver preferences; another conda gets
    # conda-lock's own --update path (a fake prefix), and a plain re-solve otherwise.
    own_solver = conda_exe is None
    with tempfile.TemporaryDirectory(prefix="envlock-lock-") as tmp_s, contextlib.ExitStack() as stack:
        tmp = Path(tmp_s)
        server = stack.enter_context(solve_server(tmp, channels, spec)) if own_solver else None
        from conda_lock.conda_lock import run_lock  # while the server loads the repodata

        server_env = server.ready_env() if server is not None else {}

        env_file = tmp / "environment.yml"
        env_file.write_text(yaml.safe_dump({
            "name": spec.name, "channels": channels, "platforms": spec.platforms,
            "dependencies": spec.conda_specs + ([] if own_solver else _update_specs(spec, previous_lock, update)),
        }, sort_keys=False))
        vp_file = tmp / "virtual-packages.yml"
        vp_file.write_text(yaml.safe_dump({"subdirs": {
            p: {"packages": virtual_packages(spec, p)} for p in spec.platforms
        }}))
        lock_file = tmp / "conda-lock.yml"
        prefer_file = tmp / "prefer.json"
        prefer_file.write_text(json.dumps(_preferences(previous_lock, update) if own_solver else {}))
        if previous_lock is not None and update and not own_solver:
            kept = dict(previous_lock)
            kept["package"] = [p for p in previous_lock.get("package", []) if p.get("manager", "conda") == "conda"]
            lock_file.write_text(yaml.safe_dump(kept, sort_keys=False))
        error_file = tmp / "solver-error.txt"
        exe = conda_exe or str(write_launcher(tmp / "envlock-conda"))
        log = io.StringIO()
        try:
            with _env({ERROR_FILE_VAR: str(error_file), PREFER_FILE_VAR: str(prefer_file), **server_env}), \
                    contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                run_lock(
                    [env_file], conda_exe=exe, platforms=spec.platforms, kinds=["lock"],
                    lockfile_path=lock_file, virtual_package_spec=vp_file,
                    update=(update or None) if not own_solver else None, mapping_url=str(MAPPING_FILE),
                )
        except (Exception, SystemExit) as exc:
            raise InputError(explain_failure(source, spec, error_file, log.getvalue(), exc)) from None
        return safe_load(lock_file.read_text())


def _update_specs(spec: LockSpec, previous_lock: dict | None, update: list[str]) -> list[str]:
    """conda-lock updates only packages named by a top-level spec; a dependency named in
    --update joins the specs (unconstrained) for this solve so it can move too."""
    if not previous_lock:
        return []
    top = {s.split()[0].lower() for s in spec.conda_specs}
    locked = {p["name"] for p in previous_lock.get("package", []) if p.get("manager", "conda") == "conda"}
    return [name for name in update if name in locked and name.lower() not in top]
