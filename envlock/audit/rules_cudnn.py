"""Two cuDNN libraries in one environment (a conda ``cudnn`` and a PyPI ``nvidia-cudnn-*``
wheel, typically from a pip requirement of the project itself): TensorFlow loads one of them,
the other is dead weight at best and shadows the right one at worst."""

from __future__ import annotations

from collections.abc import Iterator

from envlock.audit.findings import Finding
from envlock.audit.registry import finding, platform_rule
from envlock.audit.stack import PlatformStack, facts
from envlock.lockfile.versions import major


@platform_rule("cudnn-duplicate", "warning", "more than one cuDNN, of different majors, is locked")
def cudnn_duplicate(stack: PlatformStack) -> Iterator[Finding]:
    tf = stack.tensorflow
    locked = [p for name in facts().cudnn for p in stack.packages if p.name == name]
    if tf is None or len({major(p.version) for p in locked}) < 2:
        return
    used = stack.cudnn
    others = [p for p in locked if p is not used]
    yield finding("cudnn-duplicate", stack.platform,
                  f"{len(locked)} cuDNN libraries are locked ({', '.join(p.label() for p in locked)}); "
                  f"{tf.label()} loads {used.label() if used else 'one of them'}, and "
                  f"{', '.join(p.label() for p in others)} only adds a second cuDNN that can shadow it on "
                  "LD_LIBRARY_PATH — drop it or pin it to the same major.", [tf, *locked])
