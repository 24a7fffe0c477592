"""The TensorFlow stack of one platform of a lock, read with the facts in ``compat``.

Rules ask questions of a ``PlatformStack`` ("which TensorFlow? built for which CUDA? which
Keras?") instead of scanning packages themselves.  Every name and build convention comes from
``data/tensorflow.yml``; what a package does not say is ``None`` (unknown), never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from envlock.compat import defaults_channel
from envlock.compat import table as compat
from envlock.core.names import canonical_name
from envlock.lockfile import LockedPackage
from envlock.lockfile.versions import minor_line

BuildVariant = Literal["cpu", "cuda", "unknown"]


def facts() -> compat.AuditFacts:
    audit = compat.table().audit
    assert audit is not None, "data/tensorflow.yml lacks its audit: section"
    return audit


@dataclass
class PlatformStack:
    platform: str
    packages: list[LockedPackage]
    by_name: dict[str, LockedPackage] = field(init=False)

    def __post_init__(self) -> None:
        # A name locked twice (conda and pip) keeps both reachable; the conda one wins the slot.
        self.by_name = {}
        for pkg in sorted(self.packages, key=lambda p: p.manager != "conda"):
            self.by_name.setdefault(canonical_name(pkg.name), pkg)

    def get(self, name: str) -> LockedPackage | None:
        return self.by_name.get(canonical_name(name))

    # --- TensorFlow itself ------------------------------------------------------------
    @cached_property
    def distributions(self) -> list[LockedPackage]:
        names = {canonical_name(n) for n in facts().distributions}
        return [p for p in self.packages if canonical_name(p.name) in names]

    @cached_property
    def tensorflow(self) -> LockedPackage | None:
        """The package whose build is TensorFlow's build (tensorflow-base on conda-forge)."""
        for name in facts().build_carriers:
            if pkg := self.get(name):
                return pkg
        return self.distributions[0] if self.distributions else None

    @cached_property
    def release(self) -> compat.Release | None:
        return compat.table().release(self.tensorflow.version) if self.tensorflow else None

    @property
    def line(self) -> str:
        return minor_line(self.tensorflow.version) if self.tensorflow else ""

    @cached_property
    def source(self) -> str:
        """``pip`` or the conda channel name TensorFlow came from."""
        tf = self.tensorflow
        return "" if tf is None else ("pip" if tf.manager == "pip" else tf.channel_name)

    @cached_property
    def variant(self) -> BuildVariant:
        tf = self.tensorflow
        if tf is None:
            return "unknown"
        if tf.manager == "pip":
            table = facts().pip_builds.get(canonical_name(tf.name), {})
            return _variant(table.get(self.platform, table.get("*", "unknown")))
        # The carrier may be unmarked (anaconda metapackages); any marked TF build decides.
        carriers = [tf] + [p for p in self.distributions if p is not tf and p.manager == "conda"]
        for pkg in carriers:
            marked = conda_build_variant(pkg.build)
            if marked != "unknown":
                return marked
        if tf.channel_name in facts().conda_builds.unmarked_cpu_channels:
            return "cpu"
        return "unknown"

    @cached_property
    def build_cuda(self) -> str | None:
        """The CUDA ``major.minor`` TensorFlow was built for, when the build says so."""
        tf = self.tensorflow
        if tf is None or self.variant != "cuda":
            return None
        if tf.manager == "pip":
            # The tested-configuration table describes the PyPI wheels (and only them).
            return self.release.cuda if self.release else None
        for pkg in [tf, *self.distributions]:
            if cuda := conda_build_cuda(pkg.build):
                return cuda
        built = defaults_channel.gpu_build(tf)  # anaconda's gpu_ builds name no CUDA
        return built[0] if built else None

    @cached_property
    def build_python(self) -> str | None:
        """``3.10`` from a ``py310`` (conda) or ``cp310`` (wheel) tag of TensorFlow's build."""
        tf = self.tensorflow
        if tf is None:
            return None
        text = tf.build if tf.manager == "conda" else tf.filename
        m = re.search(r"(?:^|[^a-z])(?:py|cp)(3)(\d{1,2})(?!\d)", text)
        return f"{m.group(1)}.{m.group(2)}" if m else None

    # --- around it ---------------------------------------------------------------------
    @property
    def estimator(self) -> LockedPackage | None:
        return self.get(facts().estimator)

    @property
    def tensorboard(self) -> LockedPackage | None:
        return self.get(facts().tensorboard)

    @property
    def keras(self) -> LockedPackage | None:
        return self.get(facts().keras)

    @property
    def tf_keras(self) -> LockedPackage | None:
        return self.get(facts().tf_keras)

    @property
    def python(self) -> LockedPackage | None:
        return self.get("python")

    @property
    def numpy(self) -> LockedPackage | None:
        return self.get("numpy")

    @cached_property
    def cuda_runtime(self) -> list[LockedPackage]:
        names = {canonical_name(n) for n in facts().cuda_runtime}
        return [p for p in self.packages if canonical_name(p.name) in names]

    @cached_property
    def cudnn(self) -> LockedPackage | None:
        return next((p for n in facts().cudnn if (p := self.get(n))), None)

    @cached_property
    def gpu_intent(self) -> list[LockedPackage]:
        """Packages that ask for a GPU TensorFlow, whatever TensorFlow was locked."""
        audit = facts()
        asked = [p for n in audit.gpu_intent_packages if (p := self.get(n))]
        for name, build in audit.gpu_selectors.items():
            if (sel := self.get(name)) and sel.build.startswith(build):
                asked.append(sel)
        return asked

    @cached_property
    def stack_packages(self) -> list[LockedPackage]:
        extra = [self.estimator, self.tensorboard, self.keras, self.tf_keras]
        return self.distributions + [p for p in extra if p is not None]

    def recorded_requirements(self, name: str) -> list[tuple[LockedPackage, str]]:
        """(TensorFlow package, spec) for every dependency on ``name`` the lock records."""
        want = canonical_name(name)
        return [
            (pkg, spec)
            for pkg in self.distributions
            for dep, spec in pkg.depends.items()
            if canonical_name(dep) == want
        ]


def _variant(value: str) -> BuildVariant:
    return value if value in ("cpu", "cuda") else "unknown"  # type: ignore[return-value]


def conda_build_variant(build: str) -> BuildVariant:
    markers = facts().conda_builds
    if re.match(markers.cuda, build) or any(re.match(p, build) for p in markers.gpu):
        return "cuda"
    if any(re.match(p, build) for p in markers.cpu):
        return "cpu"
    return "unknown"


def conda_build_cuda(build: str) -> str | None:
    """``cuda112py310h…`` -> ``11.2``; ``cuda129_py312…`` -> ``12.9`` (last digit is the minor)."""
    m = re.match(facts().conda_builds.cuda, build)
    if not m or len(m.group(1)) < 2:
        return None
    digits = m.group(1)
    return f"{int(digits[:-1])}.{digits[-1]}"


def stacks_of(packages_by_platform: dict[str, list[LockedPackage]]) -> dict[str, PlatformStack]:
    return {plat: PlatformStack(plat, pkgs) for plat, pkgs in packages_by_platform.items()}
