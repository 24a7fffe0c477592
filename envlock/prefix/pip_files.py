"""The files of installed pip packages, from each ``*.dist-info/RECORD``: path (relative to the
prefix), sha256 and size, as the installer wrote them.  ``envlock check`` compares them like the
files of conda packages (size first, then a hash only for files changed since the environment
was finished); ``pip_install.retarget_scripts`` keeps the RECORD of a rewritten script true."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RecordEntry:
    path: str  # relative to the prefix, "/"-separated
    sha256: str  # hex
    size: int | None


def site_packages(prefix: Path) -> list[str]:
    """``lib/pythonX.Y/site-packages`` directories of the prefix, relative to it."""
    try:
        pys = sorted(n for n in os.listdir(prefix / "lib") if n.startswith("python"))
    except OSError:
        return []
    return [f"lib/{py}/site-packages" for py in pys if (prefix / "lib" / py / "site-packages").is_dir()]


def _split(line: str) -> tuple[str, str, str] | None:
    if line.startswith('"'):  # a path with a comma or quote: CSV quoting
        import csv

        row = next(csv.reader([line]), [])
    else:
        row = line.rsplit(",", 2)
    return (row[0], row[1], row[2]) if len(row) == 3 else None


def hex_of(record_hash: str) -> str | None:
    """``sha256=<urlsafe base64, unpadded>`` -> hex; None for another algorithm or no hash."""
    algo, _, value = record_hash.partition("=")
    if algo != "sha256" or not value:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()
    except ValueError:
        return None


def record_hash(digest_hex: str) -> str:
    return "sha256=" + base64.urlsafe_b64encode(bytes.fromhex(digest_hex)).rstrip(b"=").decode()


def read_record(prefix: Path, sp_rel: str, dist_info: str) -> Iterator[RecordEntry]:
    """The hashed entries of one RECORD (entries without a hash — RECORD itself, byte code —
    are the installer's own and not compared).  Paths outside the prefix are skipped."""
    try:
        text = (prefix / sp_rel / dist_info / "RECORD").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    for line in text.splitlines():
        parts = _split(line)
        if parts is None:
            continue
        rel, hashed, size = parts
        digest = hex_of(hashed)
        if digest is None:
            continue
        full = os.path.normpath(f"{sp_rel}/{rel}").replace(os.sep, "/")
        if full.startswith("../") or full == ".." or os.path.isabs(full):
            continue
        yield RecordEntry(full, digest, int(size) if size.isdigit() else None)
