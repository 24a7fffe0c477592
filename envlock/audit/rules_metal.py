"""tensorflow-metal locked beside a TensorFlow it does not load with: the environment cannot
import TensorFlow at all.  Which lines those are comes from ``compat`` (metal_unsupported)."""

from __future__ import annotations

from collections.abc import Iterator

from envlock.audit.findings import Finding
from envlock.audit.registry import finding, platform_rule
from envlock.audit.stack import PlatformStack, facts
from envlock.compat import table as compat


@platform_rule("metal-unsupported", "error", "tensorflow-metal beside a TensorFlow it does not load with")
def metal_unsupported(stack: PlatformStack) -> Iterator[Finding]:
    plugin = stack.get(facts().metal_plugin)
    if plugin is None or stack.tensorflow is None:
        return
    table = compat.table()
    broken = table.metal_unsupported.get(stack.line)
    if broken is None:
        return
    works = table.newest_metal_line()
    yield finding("metal-unsupported", stack.platform,
                  f"{plugin.label()} does not load with TensorFlow {stack.line}: {broken.error} ({broken.source}); "
                  f"lock TensorFlow {works}.* with tensorflow-metal {table.metal_plugin[works]}, or drop tensorflow-metal.",
                  [stack.tensorflow, plugin])
