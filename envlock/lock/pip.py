"""Lock the pip part of a profile per platform with uv, one wheel (URL + sha256) per package.

conda-lock's own pip solver cannot pick manylinux_2_27 wheels (TensorFlow 2.21) and needs
PyPI's JSON API; uv resolves for any target platform in well under a second and reports the
exact wheel with its hash (``--format pylock.toml``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from pydantic import BaseModel

from envlock.core.child import die_with_parent
from envlock.core.errors import InputError
from envlock.core.names import canonical_name
from envlock.core.uv import uv_executable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# conda subdir -> (uv --python-platform template, virtual package that sets its version)
_TARGETS = {
    "linux-64": ("x86_64-manylinux_{glibc}", "__glibc"),
    "linux-aarch64": ("aarch64-manylinux_{glibc}", "__glibc"),
    "osx-arm64": ("aarch64-apple-darwin", "__osx"),
    "osx-64": ("x86_64-apple-darwin", "__osx"),
    "win-64": ("x86_64-pc-windows-msvc", None),
}
DEFAULT_GLIBC = "2.28"  # what conda-lock assumes for linux when no __glibc is given


class PipPin(BaseModel):
    name: str
    version: str
    url: str
    sha256: str


def target_args(platform: str, virtual: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    if platform not in _TARGETS:
        raise InputError(f"pip packages cannot be locked for platform {platform}; supported: {', '.join(_TARGETS)}")
    template, vp = _TARGETS[platform]
    env: dict[str, str] = {}
    if vp == "__glibc":
        major, minor = (virtual.get("__glibc") or DEFAULT_GLIBC).split(".")[:2]
        template = template.format(glibc=f"2_{minor}" if major == "2" else f"{major}_{minor}")
    elif vp == "__osx" and virtual.get("__osx"):
        env["MACOSX_DEPLOYMENT_TARGET"] = virtual["__osx"]
    return ["--python-platform", template], env


def _run_uv(args: list[str], env_extra: dict[str, str], what: str) -> None:
    env = dict(os.environ, **env_extra)
    proc = subprocess.run([uv_executable(), *args], capture_output=True, text=True, env=env, preexec_fn=die_with_parent())
    if proc.returncode != 0:
        tail = "\n".join(line for line in proc.stderr.strip().splitlines()[-8:])
        raise InputError(f"{what}: the pip packages cannot be resolved —\n{tail}")


def lock_pip(
    requirements: list[str], *, platform: str, python_version: str, virtual: dict[str, str],
    conda_pins: dict[str, str], excludes: list[str] = (), previous: list[PipPin] = (),
    update: set[str] = frozenset(), what: str,
) -> list[PipPin]:
    """Resolve ``requirements`` for one platform.  ``conda_pins`` (python packages the conda
    part already provides) constrain the resolution and are left out of the result;
    ``excludes`` are left out of the resolution entirely (a requested distribution already
    provides them); ``previous`` pins are kept unless named in ``update`` (``--update``)."""
    if not requirements:
        return []
    plat_args, env = target_args(platform, virtual)
    with tempfile.TemporaryDirectory(prefix="envlock-pip-") as tmp:
        d = Path(tmp)
        (d / "requirements.in").write_text("\n".join(requirements) + "\n")
        (d / "constraints.txt").write_text("".join(f"{n}=={v}\n" for n, v in sorted(conda_pins.items())))
        (d / "excludes.txt").write_text("".join(f"{n}\n" for n in excludes))
        common = ["pip", "compile", "-q", "--no-header", "--python-version", python_version, *plat_args,
                  "-c", str(d / "constraints.txt"), "--excludes", str(d / "excludes.txt"), str(d / "requirements.in")]
        if previous:
            # Let uv move only the named packages (and what they force): it prefers the pins
            # already in its output file and upgrades those passed as --upgrade-package.
            prefs = d / "previous.txt"
            prefs.write_text("".join(f"{p.name}=={p.version}\n" for p in previous))
            upgrades = [a for name in sorted(update) for a in ("--upgrade-package", name)]
            _run_uv([*common, "-o", str(prefs), *upgrades], env, what)
            (d / "constraints.txt").write_text(
                (d / "constraints.txt").read_text() + "".join(
                    line + "\n" for line in prefs.read_text().splitlines() if "==" in line and not line.startswith("#")
                )
            )
        out = d / "pylock.toml"
        _run_uv([*common, "--format", "pylock.toml", "-o", str(out)], env, what)
        data = tomllib.loads(out.read_text())
    pins: list[PipPin] = []
    provided = {canonical_name(n) for n in conda_pins}
    for pkg in data.get("packages", []):
        if canonical_name(pkg["name"]) in provided:
            continue
        artifact = (pkg.get("wheels") or [None])[0] or pkg.get("sdist")
        if not artifact or "sha256" not in artifact.get("hashes", {}):
            raise InputError(f"{what}: {pkg['name']} {pkg.get('version')} has no wheel or sdist with a sha256 on the index; it cannot be locked.")
        pins.append(PipPin(name=pkg["name"], version=str(pkg["version"]), url=artifact["url"], sha256=artifact["hashes"]["sha256"]))
    return pins
