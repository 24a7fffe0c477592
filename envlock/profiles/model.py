"""The profile schema: what a profile file may say, and the facts derived from it.

A profile describes one kind of target machine; ``LockSpec`` is what a lock is computed from
(the template with one profile laid over it, see ``render``)."""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from envlock.compat import table as compat
from envlock.compat.table import spec_major
from envlock.core.messages import one_line
from envlock.profiles.template import spec_problem

KNOWN_PLATFORMS = (
    "linux-64", "linux-aarch64", "linux-ppc64le", "osx-64", "osx-arm64", "win-64", "noarch",
)
LEGACY_KERAS_VAR = "TF_USE_LEGACY_KERAS"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _one_line(value: str) -> str:
    if any(c in value for c in "\n\r\x00"):
        raise ValueError("must be one line of text")
    return value


def _spec(value: str) -> str:
    if problem := spec_problem(value):
        raise ValueError(f"is {problem}")
    return value


Line = Annotated[str, AfterValidator(_one_line)]
Spec = Annotated[str, AfterValidator(_spec)]
_MINOR_ONLY = re.compile(r"\d+\.\d+")


class TensorFlowSpec(_Strict):
    version: Spec = Field(description='conda-style version of TensorFlow, one minor line, e.g. "2.21.*"')
    source: Literal["pip", "conda"] = "pip"
    variant: Literal["cpu", "cuda", "metal"] = "cpu"

    @field_validator("version")
    @classmethod
    def _minor_line(cls, value: str) -> str:
        """"2.17" means the 2.17 line, "2.17.*", for both sources: conda's solver reads a bare
        "2.17" as ==2.17 and pip as ==2.17.0, neither of which is the line's newest release."""
        value = value.strip()
        return f"{value}.*" if _MINOR_ONLY.fullmatch(value) else value


class VerifySettings(_Strict):
    """What the verifier expects on the target machine."""

    device: Literal["cpu", "gpu", "metal"] = "cpu"
    cpu_features: list[str] = []
    min_gflops: float | None = None
    bench: bool = True
    timeout_s: float = Field(300.0, gt=0, description="kill the probe (a hang) after this many seconds")
    max_slowdown: float = Field(0.25, ge=0, lt=1, description="warn when a benchmark is this much slower than the last verification on comparable hardware")


class Profile(_Strict):
    name: Line
    description: str = ""
    platforms: list[Line]
    channels: list[Spec] | None = None
    python: Spec
    tensorflow: TensorFlowSpec
    keras: Spec
    virtual_packages: dict[Line, dict[Line, Line]] = {}
    conda: list[Spec] = []
    pip: list[Spec] = []
    env_vars: dict[Line, Line] = {}
    verify: VerifySettings = VerifySettings()

    @field_validator("keras", "python")
    @classmethod
    def _has_version(cls, value: str) -> str:
        if not re.search(r"\d", value):
            raise ValueError(f"'{one_line(value, 40)}' is not a version spec; write e.g. \"3.*\" or \"3.11.*\"")
        return value

    @field_validator("platforms")
    @classmethod
    def _known_platforms(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one platform is required, e.g. [linux-64]")
        for p in value:
            if p not in KNOWN_PLATFORMS:
                close = difflib.get_close_matches(p, KNOWN_PLATFORMS, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ValueError(f"unknown platform '{one_line(p, 40)}'{hint}; known: {', '.join(KNOWN_PLATFORMS)}")
        return value

    # --- derived facts -------------------------------------------------------------
    @property
    def release(self) -> compat.Release:
        rel = compat.table().release(self.tensorflow.version)
        assert rel is not None  # guaranteed by check_compatibility at load time
        return rel

    @property
    def keras_major(self) -> int:
        return spec_major(self.keras)

    @property
    def uses_legacy_keras(self) -> bool:
        """Keras 2 on a TensorFlow whose tf.keras is Keras 3: tf-keras + TF_USE_LEGACY_KERAS."""
        return self.keras_major == 2 and self.release.keras.major == 3

    @property
    def activation_vars(self) -> dict[str, str]:
        env = dict(self.env_vars)
        if self.uses_legacy_keras:
            env[LEGACY_KERAS_VAR] = "1"
        return env


class LockSpec(BaseModel):
    """What a lock is computed from: the template with one profile laid over it."""

    name: str
    channels: list[str]
    platforms: list[str]
    conda_specs: list[str]
    pip_specs: dict[str, list[str]]
    pip_excludes: dict[str, list[str]] = {}
    virtual_packages: dict[str, dict[str, str]]
    env_vars: dict[str, str]
