"""Profiles: the typed schema, loading with clear errors, and the overlay on the template.

A profile describes one kind of target machine.  ``load_profile`` validates it (schema and
TensorFlow/Keras/Python/platform compatibility, from ``compat``); ``render`` overlays it on
``environment.template.yml`` and derives the TensorFlow specs, giving a ``LockSpec``.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from envlock import compat
from envlock.compat import spec_major
from envlock.errors import InputError
from envlock.messages import one_line
from envlock.profile_rules import check_compatibility
from envlock.project import Project
from envlock.template import load_template, read_mapping, spec_problem

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


# --- loading ---------------------------------------------------------------------------

def _explain(path: Path, exc: ValidationError, model: type[BaseModel]) -> InputError:
    lines = []
    for err in exc.errors(include_url=False, include_input=False)[:10]:
        loc = one_line(".".join(str(p) for p in err["loc"]) or "(top level)", 80)
        if err["type"] == "extra_forbidden":
            field = str(err["loc"][-1])
            known = _field_names(model, err["loc"][:-1])
            close = difflib.get_close_matches(field, known, n=1)
            fix = f"did you mean '{close[0]}'?" if close else f"known fields here: {', '.join(known)}"
            lines.append(f"field '{loc}' is not a profile field ({fix})")
        elif err["type"] == "missing":
            lines.append(f"field '{loc}' is required")
        else:
            lines.append(f"field '{loc}': {one_line(err['msg'], 200)}")
    return InputError(f"{path}: invalid profile — " + "; ".join(lines) + ". Fix these fields and run again.")


def _field_names(model: type[BaseModel], loc: tuple) -> list[str]:
    for part in loc:
        info = model.model_fields.get(str(part))
        ann = getattr(info, "annotation", None)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
        else:
            return []
    return list(model.model_fields)


def load_profile(project: Project, name: str) -> Profile:
    path = project.require_profile(name)
    return load_profile_file(path)


def load_profile_file(path: Path) -> Profile:
    data = read_mapping(path, "profile")
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        raise _explain(path, exc, Profile) from None
    if profile.name != path.stem:
        raise InputError(
            f"{path}: field 'name' is '{one_line(profile.name, 60)}' but the file is {path.name}; "
            f"a profile's name must equal its file's stem — set name: {path.stem} or rename the file."
        )
    problems = check_compatibility(profile)
    if problems:
        raise InputError(f"{path}: impossible combination — " + "; ".join(problems) + ".")
    return profile


# --- rendering: template + profile -> LockSpec -----------------------------------------

def _pip_version(spec: str) -> str:
    """conda-style version spec -> PEP 440 ('2.21.*' -> '==2.21.*', '2.21.0' -> '==2.21.0')."""
    spec = spec.strip()
    if spec[0] in "<>=!~":
        return spec
    return f"=={spec}"


def tensorflow_specs(profile: Profile, platform: str) -> tuple[list[str], list[str]]:
    """(conda specs, pip specs) that deliver the profile's TensorFlow on one platform."""
    tf, rel, table = profile.tensorflow, profile.release, compat.table()
    conda: list[str] = []
    pip: list[str] = []
    if tf.source == "conda":
        build = "cuda*" if tf.variant == "cuda" else "cpu*"
        conda.append(f"tensorflow {tf.version} {build}")
        if tf.variant == "cuda":
            assert rel.conda_forge is not None
            majors = sorted({c.split(".")[0] for c in rel.conda_forge.cuda})
            conda.append(f"cuda-version {majors[-1]}.*")
        if profile.uses_legacy_keras:
            conda.append(f"tf-keras {rel.tf_keras}.*")
        elif rel.keras.major == 3:
            conda.append(f"keras {profile.keras}")
    else:
        pip.append(f"{table.pip_packages[tf.variant][platform]}{_pip_version(tf.version)}")
        if tf.variant == "metal":
            pip.append(f"tensorflow-metal{_pip_version(table.metal_plugin[rel.line])}")
        if profile.uses_legacy_keras:
            pip.append(f"tf-keras=={rel.tf_keras}.*")
        elif rel.keras.major == 3:
            pip.append(f"keras{_pip_version(profile.keras)}")
    return conda, pip


def _spec_name(spec: str) -> str:
    return re.split(r"[\s=<>!~\[]", spec.strip(), maxsplit=1)[0].lower()


def render(project: Project, profile: Profile) -> LockSpec:
    template = load_template(project)
    channels = profile.channels if profile.channels is not None else template.channels
    if not channels:
        raise InputError(f"{project.profile_path(profile.name)}: field 'channels' is empty and the template has none; name at least one channel.")
    # The profile's python replaces the template's.
    conda = [d for d in template.conda if _spec_name(d) != "python"] + [f"python {profile.python}"]
    pip_specs: dict[str, list[str]] = {}
    pip_excludes: dict[str, list[str]] = {}
    extra_conda: list[str] = []
    for plat in profile.platforms:
        c, p = tensorflow_specs(profile, plat)
        extra_conda = c  # identical across platforms for the conda route
        pip_specs[plat] = template.pip + p + list(profile.pip)
        provided = compat.table().pip_provides
        excludes = sorted({x for spec in pip_specs[plat] for x in provided.get(_spec_name(spec), [])})
        if excludes:
            pip_excludes[plat] = excludes
    env_vars = dict(template.variables)
    env_vars.update(profile.activation_vars)
    return LockSpec(
        name=profile.name,
        channels=list(channels),
        platforms=list(profile.platforms),
        conda_specs=conda + extra_conda + list(profile.conda),
        pip_specs=pip_specs,
        pip_excludes=pip_excludes,
        virtual_packages={p: dict(profile.virtual_packages.get(p, {})) for p in profile.platforms},
        env_vars=env_vars,
    )
