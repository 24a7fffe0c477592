"""What the fleet commands share at the CLI: one summary line, or (``--json``) one object with
``ok`` — also when the command fails."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def answer(as_json: bool, context: dict[str, Any], work: Callable[[], Any], line: Callable[[Any], str]) -> None:
    from envlock.cli._support import print_json
    from envlock.core import records

    try:
        result = work()
    except (Exception, KeyboardInterrupt) as exc:
        if not as_json:
            raise
        from envlock.cli.json_answer import answer_error

        answer_error(exc, **context)
    if as_json:
        print_json({"ok": True, **records.to_dict(result)})
    else:
        sys.stdout.write(line(result) + "\n")
