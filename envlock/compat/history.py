"""Every TensorFlow release's own requirements (``data/tensorflow_history.yml``).

Generated from PyPI's wheel metadata by ``scripts/gen_tf_history.py``: for each release
1.15–2.21 (and the 2.22 release candidates) the ``Requires-Dist`` ranges for tensorboard,
tensorflow-estimator, keras, numpy, protobuf and h5py, ``Requires-Python``, and the Pythons
with a Linux x86-64 wheel.  Rules judge a locked stack by the ranges the release itself
declares, old releases with the same precision as new ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from envlock.core.yaml_load import safe_load
from envlock.lockfile.versions import compare, minor_line

DATA_FILE = Path(__file__).resolve().parent / "data" / "tensorflow_history.yml"
# conda subdir -> the values PEP 508 markers test (sys_platform, platform_system, platform_machine).
_MARKER_PLATFORM = {
    "linux-64": ("linux", "Linux", "x86_64"), "linux-aarch64": ("linux", "Linux", "aarch64"),
    "osx-64": ("darwin", "Darwin", "x86_64"), "osx-arm64": ("darwin", "Darwin", "arm64"),
    "win-64": ("win32", "Windows", "AMD64"),
}


@dataclass(frozen=True)
class PastRelease:
    version: str
    line: str
    prerelease: bool
    requires_python: str | None
    python: tuple[str, ...]
    requires: dict[str, tuple[str, ...]]
    source: str

    def ranges(self, name: str, platform: str, python: str | None) -> list[str] | None:
        """The specs on ``name`` that apply here; None when a marker cannot be judged (unknown)."""
        out: list[str] = []
        for text in self.requires.get(name, ()):
            spec, _, marker = text.partition(";")
            if marker.strip():
                applies = _marker_applies(marker.strip(), platform, python)
                if applies is None:
                    return None
                if not applies:
                    continue
            out.append(spec.strip())
        return out


def _marker_applies(marker: str, platform: str, python: str | None) -> bool | None:
    from packaging.markers import InvalidMarker, Marker

    where = _MARKER_PLATFORM.get(platform)
    if where is None or (python is None and "python" in marker):
        return None
    env = {"sys_platform": where[0], "platform_system": where[1], "platform_machine": where[2],
           "python_version": python or "3", "python_full_version": f"{python or '3'}.0", "extra": ""}
    try:
        return Marker(marker).evaluate(env)
    except (InvalidMarker, ValueError):
        return None


@lru_cache(maxsize=1)
def releases() -> tuple[PastRelease, ...]:
    raw = safe_load(DATA_FILE.read_bytes())
    return tuple(
        PastRelease(version=str(r["version"]), line=str(r["line"]), prerelease=bool(r["prerelease"]),
                    requires_python=r.get("requires_python"), python=tuple(str(p) for p in r["python"]),
                    requires={k: tuple(v) for k, v in (r.get("requires") or {}).items()}, source=str(r["source"]))
        for r in raw["releases"]
    )


def release_for(version: str) -> PastRelease | None:
    """The release a locked version is: the exact one, else the newest of its minor line not
    newer than it (a distributor's rebuild such as ``2.12.1`` of a line PyPI has)."""
    exact = [r for r in releases() if r.version == version]
    if exact:
        return exact[0]
    line = minor_line(version)
    same = [r for r in releases() if r.line == line and not r.prerelease and compare(r.version, version) <= 0]
    return max(same, key=lambda r: _key(r.version)) if same else None


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.replace("post", "").split(".") if p.isdigit())


def known_lines() -> list[str]:
    return sorted({r.line for r in releases()}, key=lambda line: tuple(int(p) for p in line.split(".")))
