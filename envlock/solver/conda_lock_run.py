"""Run conda-lock's conda solve with py-rattler answering as the conda executable.

conda-lock is imported here only, because importing it costs most of a second.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path

import yaml

from envlock.errors import InputError
from envlock.profiles import LockSpec
from envlock.solver.adapter import ERROR_FILE_VAR
from envlock.yaml_load import safe_load

# conda-lock's defaults for each platform, minus __cuda: a CUDA driver exists only where the
# profile says so (conda-lock's default would let every linux profile pick CUDA builds).
_BASE_VIRTUAL = {
    "linux-64": {"__unix": "0", "__linux": "5.10", "__archspec": "1 x86_64", "__glibc": "2.28"},
    "linux-aarch64": {"__unix": "0", "__linux": "5.10", "__archspec": "1 aarch64", "__glibc": "2.28"},
    "linux-ppc64le": {"__unix": "0", "__linux": "5.10", "__archspec": "1 ppc64le", "__glibc": "2.28"},
    "osx-64": {"__unix": "0", "__archspec": "1 x86_64", "__osx": "11.0"},
    "osx-arm64": {"__unix": "0", "__archspec": "1 arm64", "__osx": "11.0"},
    "win-64": {"__win": "0", "__archspec": "1 x86_64"},
}
MAPPING_FILE = Path(__file__).resolve().parent.parent / "data" / "pypi_to_conda.json"


def virtual_packages(spec: LockSpec, platform: str) -> dict[str, str]:
    return {**_BASE_VIRTUAL.get(platform, {}), **spec.virtual_packages.get(platform, {})}


# The executable conda-lock calls.  It runs the adapter in a child and retries when that
# child dies from a signal: py-rattler's tokio workers have been seen to segfault, rarely and
# only under load; the solve itself is deterministic, so a retry gives the same answer.
_LAUNCHER = """#!{python}
import subprocess, sys
from envlock.child import die_with_parent, die_with_parent_now
die_with_parent_now()
for _ in range(3):
    p = subprocess.run([{python!r}, "-m", "envlock.solver.adapter", *sys.argv[1:]], capture_output=True,
                       preexec_fn=die_with_parent())
    if p.returncode >= 0:
        break
sys.stdout.buffer.write(p.stdout)
sys.stderr.buffer.write(p.stderr)
sys.exit(p.returncode if p.returncode >= 0 else 1)
"""


def write_launcher(exe: Path) -> Path:
    """Write the conda-compatible executable that answers through py-rattler."""
    exe.write_text(_LAUNCHER.format(python=sys.executable))
    exe.chmod(0o755)
    return exe


def solve_conda(
    spec: LockSpec, *, previous_lock: dict | None, update: list[str], conda_exe: str | None, source: Path,
) -> dict:
    """Lock the conda part of ``spec`` for every platform; returns conda-lock's unified lock
    (v1) as a dict.  ``previous_lock`` + ``update`` re-lock moving only the named packages."""
    from conda_lock.conda_lock import run_lock

    with tempfile.TemporaryDirectory(prefix="envlock-lock-") as tmp_s:
        tmp = Path(tmp_s)
        env_file = tmp / "environment.yml"
        env_file.write_text(yaml.safe_dump({
            "name": spec.name, "channels": spec.channels, "platforms": spec.platforms,
            "dependencies": spec.conda_specs + _update_specs(spec, previous_lock, update),
        }, sort_keys=False))
        vp_file = tmp / "virtual-packages.yml"
        vp_file.write_text(yaml.safe_dump({"subdirs": {
            p: {"packages": virtual_packages(spec, p)} for p in spec.platforms
        }}))
        lock_file = tmp / "conda-lock.yml"
        if previous_lock is not None:
            kept = dict(previous_lock)
            kept["package"] = [p for p in previous_lock.get("package", []) if p.get("manager", "conda") == "conda"]
            lock_file.write_text(yaml.safe_dump(kept, sort_keys=False))
        error_file = tmp / "solver-error.txt"
        exe = conda_exe or str(write_launcher(tmp / "envlock-conda"))
        log = io.StringIO()
        old = os.environ.get(ERROR_FILE_VAR)
        os.environ[ERROR_FILE_VAR] = str(error_file)
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                run_lock(
                    [env_file], conda_exe=exe, platforms=spec.platforms, kinds=["lock"],
                    lockfile_path=lock_file, virtual_package_spec=vp_file,
                    update=update or None, mapping_url=str(MAPPING_FILE),
                )
        except (Exception, SystemExit) as exc:
            raise InputError(_explain_failure(source, spec, error_file, log.getvalue(), exc)) from None
        finally:
            if old is None:
                os.environ.pop(ERROR_FILE_VAR, None)
            else:
                os.environ[ERROR_FILE_VAR] = old
        return safe_load(lock_file.read_text())


def _update_specs(spec: LockSpec, previous_lock: dict | None, update: list[str]) -> list[str]:
    """conda-lock updates only packages named by a top-level spec; a dependency named in
    --update joins the specs (unconstrained) for this solve so it can move too."""
    if not previous_lock:
        return []
    top = {s.split()[0].lower() for s in spec.conda_specs}
    locked = {p["name"] for p in previous_lock.get("package", []) if p.get("manager", "conda") == "conda"}
    return [name for name in update if name in locked and name.lower() not in top]


def _explain_failure(source: Path, spec: LockSpec, error_file: Path, log: str, exc: BaseException) -> str:
    if error_file.is_file():
        message = error_file.read_text().strip()
    else:
        lines = [ln for ln in (log + "\n" + str(exc)).splitlines() if ln.strip()]
        message = "\n".join(lines[-6:]) or type(exc).__name__
    lowered = message.lower()
    if any(w in lowered for w in ("failed to fetch", "error sending request", "dns", "connect", "404 not found", "could not find repodata")):
        hint = f"a channel could not be reached ({', '.join(spec.channels)}); check the channel URLs and the network"
    else:
        hint = "the specs cannot be satisfied together; relax the versions in the profile or its 'conda:' list"
    short = "\n    ".join(message.splitlines()[:12])
    return f"{source}: conda part of profile '{spec.name}' could not be locked — {hint}. Solver says:\n    {short}"
