"""Rules from each TensorFlow release's own ``Requires-Dist`` (``history``): what the release
declares it needs, checked against what the lock holds — for every release 1.15–2.21.

The PyPI ranges are TensorFlow's own for a pip TensorFlow.  A conda build is judged by its
own recorded dependencies (``requirements``); where a lock records none (explicit files,
exports), only Keras is taken from the PyPI range, because conda builds repin NumPy, protobuf
and h5py to their channel's builds.  A range the lock already records, or that another rule
judges (tensorboard and tensorflow-estimator in ``rules_stack``, Keras for lines in the
compatibility table), is left to that rule.
"""

from __future__ import annotations

from collections.abc import Iterator

from envlock.audit.findings import Finding
from envlock.audit.registry import finding, platform_rule
from envlock.audit.stack import PlatformStack, facts
from envlock.compat import history
from envlock.lockfile.versions import minor_line, satisfies

PIP_ONLY = ("numpy", "protobuf", "h5py")


@platform_rule("tf-requirement-unmet", "error", "a package is outside the range its TensorFlow release requires")
def requirement_unmet(stack: PlatformStack) -> Iterator[Finding]:
    tf = stack.tensorflow
    if tf is None or (past := history.release_for(tf.version)) is None:
        return
    names = [] if stack.release is not None else [facts().keras]
    if tf.manager == "pip":
        names += list(PIP_ONLY)
    python = minor_line(stack.python.version) if stack.python else None
    for name in names:
        locked = stack.get(name)
        if locked is None or stack.recorded_requirements(name):
            continue
        ranges = past.ranges(name, stack.platform, python)
        if not ranges:
            continue  # no requirement, or a marker this lock cannot decide
        broken = [r for r in ranges if satisfies(locked.version, r) is False]
        if broken:
            yield finding("tf-requirement-unmet", stack.platform,
                          f"TensorFlow {past.version} requires {name} {','.join(broken)} but {locked.label()} is "
                          f"locked; pin {name} {','.join(broken)} and re-lock.", [tf, locked])


@platform_rule("python-outside-release", "error", "no wheel of that TensorFlow release exists for the locked Python")
def python_outside_release(stack: PlatformStack) -> Iterator[Finding]:
    tf, python = stack.tensorflow, stack.python
    if tf is None or python is None or tf.manager != "pip" or stack.release is not None:
        return  # lines in the compatibility table are judged by python-unsupported
    past = history.release_for(tf.version)
    runs = minor_line(python.version)
    if past is not None and past.python and runs not in past.python:
        yield finding("python-outside-release", stack.platform,
                      f"TensorFlow {past.version} has wheels for Python {', '.join(past.python)} only, but "
                      f"{python.label()} is locked; pick one of those Pythons or another TensorFlow.", [tf, python])


def tensorboard_ranges(stack: PlatformStack) -> list[str] | None:
    """The tensorboard range TensorFlow's release declares here (None: not known)."""
    tf = stack.tensorflow
    past = history.release_for(tf.version) if tf else None
    if past is None:
        return None
    python = minor_line(stack.python.version) if stack.python else None
    return past.ranges(facts().tensorboard, stack.platform, python)
