"""Why a profile cannot be satisfied: TensorFlow, Keras, Python, variant and platforms checked
against the compatibility data.  Every fact comes from ``compat``; this module only asks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from envlock.compat import table as compat
from envlock.compat.table import minor_of, spec_floor, version_key

if TYPE_CHECKING:
    from envlock.profiles.model import Profile


def check_compatibility(profile: Profile) -> list[str]:
    """Every reason, from the compatibility data, why this profile cannot be satisfied."""
    table = compat.table()
    tf = profile.tensorflow
    rel = table.release(tf.version)
    if rel is None:
        lines = ", ".join(r.line for r in table.releases)
        return [f"field 'tensorflow.version' '{tf.version}' is not a TensorFlow line envlock knows ({lines}); pin one minor line, e.g. \"{table.newest().line}.*\""]
    out: list[str] = []
    # Python
    py_range = rel.python
    if tf.source == "conda":
        if rel.conda_forge is None:
            cf = [r.line for r in table.releases if r.conda_forge]
            return [f"field 'tensorflow.source' is conda but conda-forge has no TensorFlow {rel.line} (newest there: {cf[-1]}); use source: pip or version \"{cf[-1]}.*\""]
        py_range = rel.conda_forge.python
    if not py_range.allows(profile.python):
        out.append(f"field 'python' {profile.python} is outside what TensorFlow {rel.line} ({tf.source}) supports: Python {py_range}")
    # Keras
    kmajor = profile.keras_major
    if kmajor == 3 and rel.keras.major == 2:
        out.append(f"field 'keras' asks for Keras 3 but tf.keras is Keras 2 up to TensorFlow 2.15 (TensorFlow {rel.line} pins keras {rel.keras.requirement}); use keras: \"2.*\" or TensorFlow 2.16+")
    elif kmajor == 2 and rel.keras.major == 3 and rel.tf_keras is None:
        out.append(f"field 'keras' asks for Keras 2 but TensorFlow {rel.line} has no matching tf-keras")
    elif kmajor not in (2, 3):
        out.append(f"field 'keras' major {kmajor} is not a Keras TensorFlow can use (2 or 3)")
    elif kmajor == rel.keras.major == 3 and spec_floor(profile.keras) < spec_floor(rel.keras.requirement)[: len(spec_floor(profile.keras))]:
        out.append(f"field 'keras' {profile.keras} is older than TensorFlow {rel.line} requires (keras {rel.keras.requirement})")
    # Variant and platforms
    allowed = table.variant_platforms[tf.variant]
    for plat in profile.platforms:
        if plat not in allowed:
            out.append(f"field 'platforms' has {plat} but a {tf.variant} TensorFlow exists only for {', '.join(allowed)}")
            continue
        if tf.source == "pip":
            if plat not in table.pip_packages[tf.variant]:
                out.append(f"field 'platforms' has {plat} but PyPI has no {tf.variant} TensorFlow wheel for it")
            elif plat == "osx-arm64" and rel.macos_arm64 == "none":
                out.append(f"TensorFlow {rel.line} has no macOS arm64 wheel on PyPI (use 2.13+)")
            elif plat == "osx-64" and not rel.macos_x86_64:
                out.append(f"TensorFlow {rel.line} has no macOS x86_64 wheel (the last is 2.16)")
        elif rel.conda_forge is not None and plat not in rel.conda_forge.platforms:
            out.append(f"conda-forge builds TensorFlow {rel.line} only for {', '.join(rel.conda_forge.platforms)}, not {plat}")
    if tf.variant == "cuda" and tf.source == "pip" and not rel.pip_and_cuda:
        out.append(f"tensorflow[and-cuda] exists from 2.14; TensorFlow {rel.line} has no pip CUDA route — use source: conda")
    if tf.variant == "metal":
        out += _metal_problems(profile, rel.line)
    if tf.variant == "cuda" and tf.source == "conda":
        for plat in profile.platforms:
            if "__cuda" not in profile.virtual_packages.get(plat, {}):
                out.append(f"field 'virtual_packages.{plat}.__cuda' is required for a conda CUDA build (the driver's CUDA version, e.g. \"12.4\"); without it the solver cannot pick a CUDA build")
    for plat in profile.virtual_packages:
        if plat not in profile.platforms:
            out.append(f"field 'virtual_packages' names {plat}, which is not in 'platforms'")
    return out


def _metal_problems(profile: Profile, line: str) -> list[str]:
    """A Metal profile needs a TensorFlow line and a Python that tensorflow-metal loads with."""
    table = compat.table()
    works = table.newest_metal_line()
    fix = (f"the newest TensorFlow it loads with is {works} (tensorflow-metal {table.metal_plugin[works]}"
           + (f", Python <= {table.metal_python_max}" if table.metal_python_max else "")
           + f"): set tensorflow.version \"{works}.*\"")
    out: list[str] = []
    if broken := table.metal_unsupported.get(line):
        out.append(f"field 'tensorflow.version': tensorflow-metal does not load with TensorFlow {line} "
                   f"({broken.error}; {broken.source}); {fix}")
    elif line not in table.metal_plugin:
        out.append(f"field 'tensorflow.version': no tensorflow-metal release pairs with TensorFlow {line}; {fix}")
    top = table.metal_python_max
    if top and version_key(minor_of(profile.python)) > version_key(top):
        out.append(f"field 'python' {profile.python}: tensorflow-metal has no wheel for Python above {top}; "
                   f"use python: \"{top}.*\" or older")
    return out
