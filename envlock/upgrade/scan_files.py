"""Which files ``envlock scan`` reads, and the Python source in each (notebook code cells with
IPython magics and shell lines made inert)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from envlock.core.errors import InputError

SOURCE_SUFFIXES = (".py", ".pyw")
NOTEBOOK_SUFFIX = ".ipynb"
_SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages"})
# cell magics whose body is Python; any other (%%bash, %%writefile, ...) holds no Python
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "memit"})
_ASSIGN_FROM_SHELL = re.compile(r"^(\s*[\w.,\[\]() ]+?\s*=\s*)[!%].*$")
_HELP = re.compile(r"^(\s*)[\w.]+\?{1,2}\s*$")
_MENTIONS = (b"tensorflow", b"keras")


@dataclass
class Source:
    """Python text to check: a whole file, or one notebook cell (``cell`` 1-based)."""

    file: str
    text: bytes | str
    cell: int | None = None


@dataclass
class Unreadable:
    """A file that could not be read or split into cells: a failed check, never a silent skip."""

    file: str
    reason: str
    cell: int | None = None


def discover(paths: list[Path]) -> list[Path]:
    """The .py and .ipynb files under ``paths``, sorted; skips hidden directories, caches and
    environments (a directory holding pyvenv.cfg or conda-meta)."""
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            if not path.name.endswith((*SOURCE_SUFFIXES, NOTEBOOK_SUFFIX)):
                raise InputError(f"{path}: not a .py or .ipynb file; pass Python files, notebooks or directories to scan.")
            found.append(path)
        elif path.is_dir():
            found.extend(Path(p) for p in _walk(str(path)))
        else:
            raise InputError(f"{path}: no such file or directory; pass existing files or directories to scan.")
    return sorted(set(found))


def _walk(top: str) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = [
            d for d in dirnames
            if not d.startswith(".") and d not in _SKIP_DIRS
            and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg"))
            and not os.path.isdir(os.path.join(dirpath, d, "conda-meta"))
        ]
        for name in filenames:
            if name.endswith((*SOURCE_SUFFIXES, NOTEBOOK_SUFFIX)):
                yield os.path.normpath(os.path.join(dirpath, name))


def sources(path: Path) -> Iterator[Source | Unreadable]:
    """The Python sources of one file that mention TensorFlow or Keras at all (others cannot
    import them, so they need no parse)."""
    shown = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        yield Unreadable(shown, f"cannot read it ({exc.strerror})")
        return
    if not any(word in data for word in _MENTIONS):
        return
    if not shown.endswith(NOTEBOOK_SUFFIX):
        yield Source(shown, data)
        return
    yield from _notebook_cells(shown, data)


def _notebook_cells(shown: str, data: bytes) -> Iterator[Source | Unreadable]:
    try:
        notebook = json.loads(data)
        cells = notebook["cells"]
        if not isinstance(cells, list):
            raise TypeError("cells is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        yield Unreadable(shown, f"not a Jupyter notebook (nbformat 4) ({type(exc).__name__}: {exc})")
        return
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        text = cell.get("source", "")
        text = "".join(text) if isinstance(text, list) else text
        if not isinstance(text, str):
            yield Unreadable(shown, "a code cell's source is not text", number)
            continue
        python = python_of_cell(text)
        if python is not None:
            yield Source(shown, python, number)


def python_of_cell(text: str) -> str | None:
    """The cell as Python with the same line numbers: magic and shell lines become ``pass``
    (assignments from them ``= None``); None for a cell magic whose body is not Python."""
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].lstrip()[2:].split(maxsplit=1)
        if not magic or magic[0] not in _PYTHON_CELL_MAGICS:
            return None
        lines[first] = ""
    out: list[str] = []
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if stripped.startswith(("%", "!")):
            out.append(indent + "pass")
        elif (m := _ASSIGN_FROM_SHELL.match(line)) and not stripped.startswith(("#", "'", '"')):
            out.append(m.group(1) + "None")
        elif _HELP.match(line):
            out.append(indent + "pass")
        else:
            out.append(line)
    return "\n".join(out)
