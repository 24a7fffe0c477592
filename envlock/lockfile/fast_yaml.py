"""A fast reader for the block-style YAML that conda-lock (and envlock) write.

libyaml still builds and resolves every node in Python: a 10,000-entry ``conda-lock.yml``
takes seconds.  The ``package:`` list those tools write uses a tiny subset of YAML — one
mapping per entry, plain or quoted scalars, one level of nested mappings (``hash:``,
``dependencies:``, ``source:``) — which a line scanner reads in a fraction of the time.
Anything outside that subset raises ``Unsupported`` and the caller falls back to the full
YAML loader, so the result is always what ``yaml.BaseLoader`` gives (all scalars strings).
"""

from __future__ import annotations

from typing import Any


class Unsupported(Exception):
    """The text uses YAML this scanner does not read; use the full loader."""


class TooMany(Exception):
    """The list holds more entries than the caller's limit."""


def _scalar(text: str) -> str:
    if not text:
        return ""
    first = text[0]
    if first == "'":
        end = text.rfind("'")
        if end == 0 or text[end + 1 :].strip(" ").split("#", 1)[0].strip():
            raise Unsupported(text)
        return text[1:end].replace("''", "'")
    if first == '"':
        end = text.rfind('"')
        inner = text[1:end]
        if end == 0 or "\\" in inner:
            raise Unsupported(text)
        return inner
    if first in "{[|>&*!%@`":
        raise Unsupported(text)
    cut = text.find(" #")
    return (text[:cut] if cut >= 0 else text).rstrip()


_SPECIAL_START = frozenset("'\"{[|>&*!%@`?")


def _key_value(text: str) -> tuple[str, str]:
    """``key: value`` -> (key, raw value); the common plain case stays on the fast path."""
    key, sep, rest = text.partition(": ")
    if not sep:
        if not text.endswith(":"):
            raise Unsupported(text)
        key, rest = text[:-1], ""
    if key[:1] in _SPECIAL_START:
        raise Unsupported(text)
    return key, rest.strip()


def _value(rest: str) -> str:
    if rest[:1] in _SPECIAL_START or " #" in rest:
        return _scalar(rest)
    return rest


def parse_package_list(lines: list[str], max_items: int | None = None) -> list[dict[str, Any]]:
    """The entries of a block sequence of mappings (the lines after ``package:``); ``TooMany``
    as soon as there are more than ``max_items``."""
    items: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    item_indent = key_indent = sub_indent = -1
    open_key: str | None = None  # a "key:" line whose nested mapping may follow
    filled = False
    for line in lines:
        stripped = line.lstrip(" ")
        if not stripped or stripped[0] == "#":
            continue
        indent = len(line) - len(stripped)
        if stripped[:2] == "- ":
            if item_indent < 0:
                item_indent = indent
            elif indent != item_indent:
                raise Unsupported(line)
            if current is not None and open_key is not None and not filled:
                current[open_key] = ""  # "key:" with nothing below: BaseLoader's ""
            current = {}
            items.append(current)
            if max_items is not None and len(items) > max_items:
                raise TooMany(len(items))
            body = stripped[2:]
            stripped = body.lstrip(" ")
            indent = key_indent = indent + 2 + len(body) - len(stripped)
            sub_indent, open_key = -1, None
        if current is None:
            raise Unsupported(line)
        key, rest = _key_value(stripped.rstrip())
        if indent == key_indent:
            if open_key is not None and not filled:
                current[open_key] = ""
            if rest == "":
                current[key], open_key, filled, sub_indent = {}, key, False, -1
            else:
                current[key] = {} if rest == "{}" else _value(rest)
                open_key = None
        elif indent > key_indent and open_key is not None:
            if sub_indent < 0:
                sub_indent = indent
            elif indent != sub_indent:
                raise Unsupported(line)
            if rest == "" or rest == "{}":
                raise Unsupported(line)  # deeper nesting is not in the subset
            current[open_key][key] = _value(rest)
            filled = True
        else:
            raise Unsupported(line)
    if current is not None and open_key is not None and not filled:
        current[open_key] = ""
    return items


def split_top_level(text: str) -> tuple[str, list[str] | None]:
    """(the text without its ``package:`` section, that section's lines or None)."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.rstrip() == "package:"), None)
    if start is None:
        return text, None
    end = start + 1
    while end < len(lines):
        ln = lines[end]
        if ln and ln[0] not in " -#":
            break
        end += 1
    rest = "\n".join(lines[:start] + lines[end:])
    return rest, lines[start + 1 : end]


def _flow_or_value(rest: str) -> Any:
    if rest == "[]":
        return []
    if rest == "{}":
        return {}
    if rest[:1] not in _SPECIAL_START and (rest == "-" or rest.startswith("- ") or ": " in rest.split(" #", 1)[0]):
        raise Unsupported(rest)  # not a plain scalar there: let the full loader say what it is
    return _value(rest)


def parse_block_mapping(text: str) -> dict[str, Any]:
    """A small block-style document of mappings, sequences and scalars (the ``version:`` and
    ``metadata:`` part of a conda-lock file), as ``yaml.BaseLoader`` reads it; ``Unsupported``
    for anything else.  Saves importing PyYAML on ``create``'s path (~10 ms on a cold disk)."""
    items: list[tuple[int, str]] = []
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if not stripped or stripped[0] == "#":
            continue
        if stripped[0] == "\t" or "\t" in line[: len(line) - len(stripped)]:
            raise Unsupported(line)
        items.append((len(line) - len(stripped), stripped.rstrip()))
    pos = 0

    def is_entry(content: str) -> bool:
        return content == "-" or content.startswith("- ")

    def block(indent: int) -> Any:
        return sequence(indent) if is_entry(items[pos][1]) else mapping(indent)

    def mapping(indent: int) -> dict[str, Any]:
        nonlocal pos
        out: dict[str, Any] = {}
        while pos < len(items) and items[pos][0] == indent and not is_entry(items[pos][1]):
            key, rest = _key_value(items[pos][1])
            if key in out:
                raise Unsupported(key)  # a duplicate key: the loaders differ on it
            pos += 1
            if rest:
                out[key] = _flow_or_value(rest)
            elif pos < len(items) and (items[pos][0] > indent or (items[pos][0] == indent and is_entry(items[pos][1]))):
                out[key] = block(items[pos][0])  # nested block (a sequence may sit at the key's indent)
            else:
                out[key] = ""  # "key:" with nothing below: BaseLoader's ""
        if pos < len(items) and items[pos][0] > indent:
            raise Unsupported(items[pos][1])  # e.g. a plain scalar continued on the next line
        return out

    def sequence(indent: int) -> list[Any]:
        nonlocal pos
        out: list[Any] = []
        while pos < len(items) and items[pos][0] == indent and is_entry(items[pos][1]):
            body = items[pos][1][2:]
            inner = body.lstrip(" ")
            if not inner:
                raise Unsupported(items[pos][1])
            if ": " in inner or inner.endswith(":"):  # "- key: value": a mapping starts here
                items[pos] = (indent + 2 + len(body) - len(inner), inner)
                out.append(mapping(items[pos][0]))
            else:
                out.append(_flow_or_value(inner))
                pos += 1
        return out

    if not items:
        return {}
    if items[0][0] != 0:
        raise Unsupported(items[0][1])
    doc = mapping(0)
    if pos != len(items):
        raise Unsupported(items[pos][1])  # "---", a top-level sequence, ...
    return doc
