"""Input limits for lockfiles, so that a hostile or broken file is refused in well under a
second instead of exhausting time or memory (a 10^6-platform lock, an alias bomb).

The largest real locks seen (``../shared/realworld``) hold about 1,000 entries in 400 kB;
every limit here leaves a margin of 50 times that or more.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from envlock.core.errors import InputError

MAX_BYTES = 64 << 20
MAX_PACKAGES = 20_000
MAX_PLATFORMS = 64
MAX_CHANNELS = 1_000
# What the full YAML loader may be given: an upper bound of its nodes counted from the
# separators in the text (libyaml builds ~250,000 Python nodes a second on a busy machine);
# the largest real lock counts 28,500.  After loading: nodes with aliases expanded at each
# use, and nesting (a conda-lock file needs 5 levels).
MAX_YAML_TOKENS = 750_000
MAX_NODES = 1_000_000
MAX_DEPTH = 32

# A conda platform (subdir) name: ``linux-64``, ``osx-arm64``, ``noarch``, ``emscripten-wasm32``.
_FIX = "this is not a lockfile envlock (or conda-lock) writes; regenerate it with conda-lock or `envlock lock`."


def read_limited(path: Path) -> bytes:
    """The file's bytes; an ``InputError`` when it is larger than ``MAX_BYTES`` (read with a
    bound, so ``/dev/zero`` or a growing pipe cannot hang the reader)."""
    with open(path, "rb") as f:
        raw = f.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise InputError(f"{path}: is larger than {MAX_BYTES >> 20} MiB, the most envlock reads; {_FIX}")
    return raw


def check_yaml_tokens(path: Path, text: str) -> None:
    """Refuse, before parsing, a YAML text with more nodes than the loader builds in seconds."""
    tokens = sum(text.count(sep) for sep in ("\n", ",", ": ", "- ", "[", "{"))
    if tokens > MAX_YAML_TOKENS:
        raise InputError(f"{path}: holds about {tokens:,} YAML items (envlock reads at most {MAX_YAML_TOKENS:,}); {_FIX}")


def check_count(path: Path, field: str, items: Any, limit: int) -> None:
    """Refuse a list (or mapping) ``field`` with more than ``limit`` items."""
    if isinstance(items, (list, dict)) and len(items) > limit:
        raise InputError(f"{path}: field '{field}' holds {len(items):,} items (envlock reads at most {limit:,}); {_FIX}")


def check_shape(path: Path, data: Any) -> None:
    """Refuse a parsed YAML document that is nested too deep, refers to itself through an
    alias, or expands (aliases counted at every use) to more than ``MAX_NODES`` nodes.
    Iterative and memoized per object, so the check itself is linear in the file's size."""
    sizes: dict[int, int] = {}
    ancestors: set[int] = set()
    stack: list[tuple[Any, bool]] = [(data, False)] if isinstance(data, (list, dict)) else []
    while stack:
        node, finished = stack.pop()
        key = id(node)
        children = list(node.values()) + list(node.keys()) if isinstance(node, dict) else node
        if finished:
            ancestors.discard(key)
            sizes[key] = 1 + sum(sizes.get(id(c), 1) for c in children)
            if sizes[key] > MAX_NODES:
                raise InputError(f"{path}: expands to more than {MAX_NODES:,} YAML nodes (YAML aliases are counted "
                                 f"at each use); {_FIX}")
            continue
        if key in sizes:
            continue
        if key in ancestors:
            raise InputError(f"{path}: a YAML alias refers to a node that contains it (a cycle); {_FIX}")
        if len(ancestors) >= MAX_DEPTH:
            raise InputError(f"{path}: is nested more than {MAX_DEPTH} levels deep; {_FIX}")
        ancestors.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if isinstance(c, (list, dict)))
