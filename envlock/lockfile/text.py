"""Lockfile bytes as they exist in the wild, decoded to one ``str`` with ``\\n`` line ends.

Windows PowerShell's ``conda list --explicit > env.txt`` writes UTF-16 LE with a byte-order
mark and CRLF line ends; editors add a UTF-8 BOM; files edited on Windows keep CRLF (or a
stray CR).  Every reader sees the same clean text; bytes that are none of these encodings
are refused with a message naming the file.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from envlock.core.errors import InputError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts with UTF-16 LE's
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode(path: Path, raw: bytes) -> str:
    """The text of a lockfile's bytes: BOM-marked UTF-8/16/32 or plain UTF-8, newlines as ``\\n``."""
    encoding, body = "utf-8", raw
    for bom, name in _BOMS:
        if raw.startswith(bom):
            encoding, body = name, raw[len(bom):]
            break
    else:
        if len(raw) >= 4 and raw[1] == 0 and raw[3] == 0 and raw[0] != 0:
            encoding = "utf-16-le"  # UTF-16 without a BOM (Out-File -Encoding Unicode NoBOM)
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError:
        raise InputError(
            f"{path}: is not UTF-8 or BOM-marked UTF-16 text; point envlock at a lockfile, or "
            "re-save it as UTF-8."
        ) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def read_text(path: Path) -> str:
    """The decoded text of the file at ``path``, read with the size bound of ``limits``."""
    from envlock.lockfile.limits import read_limited

    try:
        raw = read_limited(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read lockfile ({exc.strerror}); check the path.") from None
    return decode(path, raw)
