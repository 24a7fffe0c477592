"""YAML loading, through libyaml when PyYAML has it (the pure-Python loader takes ~60 ms for
the compat data alone, which every ``create`` and ``lock --check`` reads).

``safe_load`` is for envlock's own data.  ``load_yaml`` / ``load_yaml_file`` are for input
from users and from other tools: they bound the input's size, the values it expands to (an
alias "bomb" is small as text and loads cheaply, but anything that walks it — validation, an
error message, JSON — never finishes) and its nesting, and turn every failure into one
``InputError`` line naming the file; never a traceback, never a multi-line PyYAML message.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from envlock.core.errors import InputError
from envlock.core.messages import one_line

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_BYTES = 32 * 1024 * 1024
MAX_VALUES = 2_000_000
MAX_DEPTH = 64


def safe_load(text: str | bytes) -> object:
    """``yaml.safe_load`` (same types, same errors), C-accelerated where available."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader


class _Limited(SafeLoader):  # type: ignore[misc, valid-type]
    """Merge keys (``<<: [*a, *a]``) copy the merged pairs into the node while constructing,
    so a chain of them grows exponentially before any value exists: cap the pairs per node."""

    max_pairs = MAX_VALUES

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        super().flatten_mapping(node)
        if len(node.value) > self.max_pairs:
            raise _TooBig(f"a mapping merges in more than {self.max_pairs:,} keys (YAML merge keys '<<')")


class _TooBig(Exception):
    """The document exceeds a limit; the message says which."""


def load_yaml(
    data: str | bytes, source: str | Path, *, what: str = "file",
    max_bytes: int = MAX_BYTES, max_values: int = MAX_VALUES, max_depth: int = MAX_DEPTH,
) -> object:
    """Parse one YAML document from user input.

    ``source`` names the input in messages (a path); ``what`` says what it is ("profile",
    "lockfile").  Limits: ``max_bytes`` of text, ``max_values`` values after expanding every
    alias (each scalar, list and mapping counts one), ``max_depth`` levels of nesting.
    Raises ``InputError`` (exit 2) with a one-line message for anything it cannot accept.
    """
    if len(data) > max_bytes:
        raise InputError(f"{source}: is {len(data):,} bytes, more than the {max_bytes:,} a {what} may have; "
                         f"this is not a {what} envlock wrote or can use.")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{source}: is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                             f"save this {what} as UTF-8.") from None
    loader = _Limited(data)
    loader.max_pairs = max_values
    try:
        doc = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "unreadable"
        raise InputError(f"{source}: is not valid YAML{at} ({one_line(problem)}); fix the syntax of this {what}.") from None
    except yaml.reader.ReaderError as exc:
        raise InputError(f"{source}: is not valid YAML at character {exc.position} (character #x{exc.character:04x}: "
                         f"{one_line(exc.reason)}); remove that character from this {what}.") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: is not valid YAML ({one_line(str(exc))}); fix the syntax of this {what}.") from None
    except _TooBig as exc:
        raise InputError(f"{source}: {exc}; this {what} is not one envlock can use — write the values out.") from None
    except Exception as exc:  # noqa: BLE001 - PyYAML's constructors raise whatever their parsing raises
        # A tag or number whose text cannot be a value: !!timestamp 2024-99-99, !!int 0x, an empty
        # !!bool (KeyError), 5000 digits.
        detail = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
        raise InputError(f"{source}: holds a value YAML cannot read ({one_line(detail)}); "
                         f"fix or quote that value in this {what}.") from None
    finally:
        loader.dispose()
    try:
        _check_expansion(doc, max_values, max_depth)
    except _TooBig as exc:
        raise InputError(f"{source}: {exc}; this {what} is not one envlock can use.") from None
    return doc


def load_yaml_file(path: Path, *, what: str = "file", max_bytes: int = MAX_BYTES,
                   max_values: int = MAX_VALUES, max_depth: int = MAX_DEPTH) -> object:
    """``load_yaml`` of a file, reading at most ``max_bytes`` + 1 bytes of it."""
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read this {what} ({exc.strerror or exc}).") from None
    return load_yaml(data, path, what=what, max_bytes=max_bytes, max_values=max_values, max_depth=max_depth)


def _children(value: object) -> list[object] | None:
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    if isinstance(value, list):
        return value
    return None


def _check_expansion(root: object, max_values: int, max_depth: int) -> None:
    """Count the values ``root`` stands for with every alias expanded, without expanding it:
    an aliased list or mapping is one Python object, measured once and counted per use."""
    if _children(root) is None:
        return
    measured: dict[int, int] = {}
    on_path = {id(root)}
    stack: list[tuple[object, list[object], int, list[int]]] = [(root, _children(root) or [], 0, [1])]
    while stack:
        obj, children, start, total = stack[-1]
        descended = False
        for i in range(start, len(children)):
            child = children[i]
            kids = _children(child)
            if kids is None:
                total[0] += 1
            elif id(child) in measured:
                total[0] += measured[id(child)]
            elif id(child) in on_path:
                raise _TooBig("a value contains itself (a recursive YAML alias)")
            elif len(stack) >= max_depth:
                raise _TooBig(f"values are nested more than {max_depth} levels deep")
            else:
                stack[-1] = (obj, children, i + 1, total)
                on_path.add(id(child))
                stack.append((child, kids, 0, [1]))
                descended = True
                break
            if total[0] > max_values:
                raise _TooBig(f"holds more than {max_values:,} values (counting each use of a YAML alias)")
        if descended:
            continue
        stack.pop()
        on_path.discard(id(obj))
        measured[id(obj)] = total[0]
        if stack:
            stack[-1][3][0] += total[0]
            if stack[-1][3][0] > max_values:
                raise _TooBig(f"holds more than {max_values:,} values (counting each use of a YAML alias)")
