"""The two ends of a scanned move, from a profile or a bare TensorFlow version."""

from __future__ import annotations

import re

from envlock.compat import table as compat
from envlock.core.errors import InputError
from envlock.upgrade.rules import Side

_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")
UNKNOWN_OLD = Side("any older TensorFlow (no --from given)", None, tf_keras_major=2, keras_major=2)


def _line(version: str, option: str) -> str:
    if not _VERSION.match(version.strip()):
        raise InputError(f"{option} {version!r}: not a TensorFlow version; write MAJOR.MINOR, e.g. {option} 2.15.")
    return compat.minor_of(version.strip())


def _keras_major_of_line(line: str) -> int:
    """What ``tf.keras`` and ``import keras`` are with TensorFlow ``line`` by default."""
    release = compat.table().release(line)
    if release is not None:
        return release.keras.major
    first3 = compat.version_key(compat.table().first_keras3_line())
    return 3 if compat.version_key(line) >= first3 else 2


def tensorflow_side(version: str, option: str, *, target: bool) -> Side:
    """A side given as ``--tensorflow X.Y`` (the target: a line envlock knows) or ``--from-tensorflow``."""
    line = _line(version, option)
    if target and compat.table().release(line) is None:
        known = ", ".join(r.line for r in sorted(compat.table().releases, key=lambda r: compat.version_key(r.line)))
        raise InputError(f"{option} {version}: TensorFlow {line} is not in envlock's compatibility table; known lines: {known}.")
    major = _keras_major_of_line(line)
    return Side(f"TensorFlow {line} (Keras {major})", line, tf_keras_major=major, keras_major=major)


def profile_side(project_dir: str | None, name: str) -> Side:
    """A side given as a profile: its TensorFlow line, and tf-keras when it keeps Keras 2."""
    from envlock.core.project import Project
    from envlock.profiles.load import load_profile

    profile = load_profile(Project.open(project_dir), name)
    release = profile.release
    legacy = profile.uses_legacy_keras
    tf_keras = 2 if legacy else release.keras.major
    route = " via tf-keras + TF_USE_LEGACY_KERAS=1" if legacy else ""
    label = f"profile {profile.name} (TensorFlow {release.line}, tf.keras = Keras {tf_keras}{route})"
    return Side(label, release.line, tf_keras_major=tf_keras, keras_major=release.keras.major, legacy_keras=legacy)


def resolve_sides(project_dir: str | None, to_profile: str | None, to_tf: str | None,
                  from_profile: str | None, from_tf: str | None) -> tuple[Side, Side]:
    """(old, new) from the command's options; exactly one target, at most one source."""
    if (to_profile is None) == (to_tf is None):
        raise InputError("scan: give the target as exactly one of --to PROFILE or --tensorflow X.Y.")
    if from_profile is not None and from_tf is not None:
        raise InputError("scan: give the source as at most one of --from PROFILE or --from-tensorflow X.Y.")
    new = profile_side(project_dir, to_profile) if to_profile else tensorflow_side(to_tf or "", "--tensorflow", target=True)
    if from_profile:
        old = profile_side(project_dir, from_profile)
    elif from_tf:
        old = tensorflow_side(from_tf, "--from-tensorflow", target=False)
    else:
        old = UNKNOWN_OLD
    return old, new
