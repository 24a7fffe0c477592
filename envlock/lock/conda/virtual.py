"""The virtual packages each platform's solve sees: conda-lock's defaults, then the profile's."""

from __future__ import annotations

from envlock.profiles.model import LockSpec

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


def virtual_packages(spec: LockSpec, platform: str) -> dict[str, str]:
    return {**_BASE_VIRTUAL.get(platform, {}), **spec.virtual_packages.get(platform, {})}
