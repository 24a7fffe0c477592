"""Rules across the platforms of one file: every platform has TensorFlow, and the same one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from envlock.audit.findings import Finding
from envlock.audit.registry import file_rule, finding
from envlock.audit.stack import PlatformStack


@file_rule("no-tensorflow", "info", "no platform of the file holds TensorFlow")
def no_tensorflow(stacks: dict[str, PlatformStack]) -> Iterator[Finding]:
    if stacks and all(s.tensorflow is None for s in stacks.values()):
        yield finding("no-tensorflow", None, "No platform of this lock holds TensorFlow, so the TensorFlow "
                      "checks did not apply; audit the lock of a TensorFlow environment.")


@file_rule("missing-tensorflow", "error", "a declared platform has no TensorFlow while another has")
def missing_tensorflow(stacks: dict[str, PlatformStack]) -> Iterator[Finding]:
    having = sorted(p for p, s in stacks.items() if s.tensorflow is not None)
    if not having:
        return
    for plat, stack in stacks.items():
        if stack.tensorflow is None:
            yield finding("missing-tensorflow", plat,
                          f"The lock declares {plat} but holds no TensorFlow for it (it does for "
                          f"{', '.join(having)}); an environment created there cannot import tensorflow — "
                          f"re-lock, or drop {plat} from the platforms.", [])


@file_rule("platform-version-skew", "warning", "TensorFlow or Keras versions differ between platforms")
def version_skew(stacks: dict[str, PlatformStack]) -> Iterator[Finding]:
    for what, pick in (("TensorFlow", lambda s: s.tensorflow), ("Keras", lambda s: s.keras)):
        versions = {p: pkg.version for p, s in stacks.items() if (pkg := pick(s)) is not None}
        if len(set(versions.values())) < 2:
            continue
        common = Counter(versions.values()).most_common(1)[0][0]
        others = ", ".join(f"{p}: {v}" for p, v in sorted(versions.items()))
        for plat, version in sorted(versions.items()):
            if version != common:
                yield finding("platform-version-skew", plat,
                              f"{what} is {version} on {plat} but {common} elsewhere ({others}); one lock "
                              f"should give every platform the same {what} — pin it and re-lock.",
                              [pick(stacks[plat])])
