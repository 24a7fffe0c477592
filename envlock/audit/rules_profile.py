"""With ``--profile``: does the lock deliver what the profile asks for?"""

from __future__ import annotations

from collections.abc import Iterator

from envlock.audit.findings import Finding
from envlock.audit.registry import finding, profile_rule
from envlock.audit.stack import PlatformStack, facts
from envlock.lockfile.versions import major, minor_line, satisfies
from envlock.profiles.model import Profile


@profile_rule("profile-platforms", "error", "the lock's platforms are not the profile's")
def platforms(stacks: dict[str, PlatformStack], profile: Profile) -> Iterator[Finding]:
    for plat in profile.platforms:
        if plat not in stacks:
            yield finding("profile-platforms", plat, f"Profile '{profile.name}' targets {plat} but the lock has "
                          f"no {plat} section; re-lock with `envlock lock --profile {profile.name}`.")
    for plat in stacks:
        if plat not in profile.platforms:
            yield finding("profile-platforms", plat, f"The lock holds {plat}, which profile '{profile.name}' does "
                          f"not target; re-lock to drop it.", severity="info")


def _present(stacks: dict[str, PlatformStack], profile: Profile) -> Iterator[PlatformStack]:
    return (stacks[p] for p in profile.platforms if p in stacks and stacks[p].tensorflow is not None)


@profile_rule("profile-tensorflow", "error", "TensorFlow's version or source differs from the profile")
def tensorflow(stacks: dict[str, PlatformStack], profile: Profile) -> Iterator[Finding]:
    want = profile.tensorflow
    for stack in _present(stacks, profile):
        tf = stack.tensorflow
        assert tf is not None
        if satisfies(tf.version, want.version) is False:
            yield finding("profile-tensorflow", stack.platform, f"Profile '{profile.name}' asks for TensorFlow "
                          f"{want.version} but the lock has {tf.label()}; re-lock the profile.", [tf])
        if (tf.manager == "pip") != (want.source == "pip"):
            got = "PyPI" if tf.manager == "pip" else f"conda ({stack.source})"
            yield finding("profile-tensorflow", stack.platform, f"Profile '{profile.name}' takes TensorFlow from "
                          f"{want.source} but the lock has it from {got}; re-lock the profile.", [tf])


@profile_rule("profile-variant", "error", "the TensorFlow build is not the profile's variant")
def variant(stacks: dict[str, PlatformStack], profile: Profile) -> Iterator[Finding]:
    want = profile.tensorflow.variant
    for stack in _present(stacks, profile):
        tf = stack.tensorflow
        assert tf is not None
        if want == "cuda" and stack.variant == "cpu":
            yield finding("profile-variant", stack.platform, f"Profile '{profile.name}' asks for a CUDA TensorFlow "
                          f"but {tf.label()} is a CPU build; re-lock with the __cuda virtual package set.", [tf])
        elif want == "cpu" and stack.variant == "cuda":
            yield finding("profile-variant", stack.platform, f"Profile '{profile.name}' asks for a CPU TensorFlow "
                          f"but {tf.label()} is a CUDA build (larger, needs a driver to use); re-lock the profile.",
                          [tf], severity="warning")
        elif want == "metal" and stack.get(facts().metal_plugin) is None:
            yield finding("profile-variant", stack.platform, f"Profile '{profile.name}' asks for Metal but no "
                          f"{facts().metal_plugin} is locked; re-lock the profile.", [tf])


@profile_rule("profile-keras", "error", "the Keras behind tf.keras is not the profile's")
def keras(stacks: dict[str, PlatformStack], profile: Profile) -> Iterator[Finding]:
    want = profile.keras_major
    for stack in _present(stacks, profile):
        rel = stack.release
        if rel is None:
            continue
        legacy = want == 2 and rel.keras.major == 3
        pkg = stack.tf_keras if legacy else stack.keras
        name = facts().tf_keras if legacy else facts().keras
        if pkg is None:
            yield finding("profile-keras", stack.platform, f"Profile '{profile.name}' wants Keras {want} but no "
                          f"{name} is locked for TensorFlow {stack.line}; re-lock the profile.", [stack.tensorflow])
        elif not legacy and major(pkg.version) != want:
            yield finding("profile-keras", stack.platform, f"Profile '{profile.name}' wants Keras {profile.keras} "
                          f"but {pkg.label()} is locked; re-lock the profile.", [pkg])


@profile_rule("profile-python", "error", "the locked Python is not the profile's")
def python(stacks: dict[str, PlatformStack], profile: Profile) -> Iterator[Finding]:
    for plat in profile.platforms:
        stack = stacks.get(plat)
        py = stack.python if stack else None
        if py is not None and satisfies(minor_line(py.version) + ".0", profile.python) is False \
                and satisfies(py.version, profile.python) is False:
            yield finding("profile-python", plat, f"Profile '{profile.name}' asks for Python {profile.python} but "
                          f"{py.label()} is locked; re-lock the profile.", [py])
