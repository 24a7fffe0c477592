"""Text from an input file made safe to show inside a one-line message."""

from __future__ import annotations

import re
from typing import Any

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")


def one_line(text: object, limit: int = 160) -> str:
    """``text`` on one line: control characters (newlines included) escaped, at most ``limit``
    characters (then cut with '…'), so a key or value from a file cannot break a message."""
    s = _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text))
    return s if len(s) <= limit else s[: limit - 1] + "…"


def shown(value: Any, limit: int = 60) -> str:
    """``value`` as it may appear in a one-line message: escaped (no raw newlines or control
    characters), at most ``limit`` characters."""
    text = value if isinstance(value, str) else type(value).__name__ if isinstance(value, (list, dict)) else str(value)
    text = text.encode("unicode_escape", "backslashreplace").decode("ascii")
    return text if len(text) <= limit else text[: limit - 1] + "…"
