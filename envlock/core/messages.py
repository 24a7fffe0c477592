"""Text from an input file made safe to show inside a one-line message."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")


def one_line(text: object, limit: int = 160) -> str:
    """``text`` on one line: control characters (newlines included) escaped, at most ``limit``
    characters (then cut with '…'), so a key or value from a file cannot break a message."""
    s = _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text))
    return s if len(s) <= limit else s[: limit - 1] + "…"
