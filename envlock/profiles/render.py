"""Rendering: the template with one profile laid over it, and the TensorFlow specs derived
from the profile's route and the compatibility table, giving a ``LockSpec``."""

from __future__ import annotations

import re

from envlock.compat import table as compat
from envlock.core.errors import InputError
from envlock.core.project import Project
from envlock.profiles.model import LockSpec, Profile
from envlock.profiles.template import load_template


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
