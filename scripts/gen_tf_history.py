"""Generate envlock/compat/data/tensorflow_history.yml from PyPI's own metadata (re-runnable).

For every ``tensorflow`` release 1.15.x and 2.0–2.21 (finals and post-releases) and every
2.22 release candidate, read the PEP 658 metadata file PyPI serves beside one Linux x86-64
wheel (``<wheel url>.metadata``; no wheel is downloaded) and record its ``Requires-Python``
and the ``Requires-Dist`` lines for the packages envlock's audit checks.  The Python versions
with a Linux x86-64 wheel come from the wheel file names in PyPI's simple index.  Every
release records the wheel and the metadata URL it was read from.

    python scripts/gen_tf_history.py [--out envlock/compat/data/tensorflow_history.yml]

Only the standard library and PyYAML are needed; the network access is pypi.org and
files.pythonhosted.org.
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import sys
import urllib.error
import urllib.request
import zlib
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

import yaml

INDEX = "https://pypi.org/simple/tensorflow/"
TRACKED = ("tensorboard", "tensorflow-estimator", "keras", "numpy", "protobuf", "h5py")
_WHEEL = re.compile(r"^tensorflow-(?P<version>[^-]+)-(?P<py>cp\d+)-[^-]+-(?P<plat>[^/]+)\.whl$")
_LINUX_X86 = re.compile(r"(manylinux.*x86_64|linux_x86_64)")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
OUT = Path(__file__).resolve().parents[1] / "envlock" / "compat" / "data" / "tensorflow_history.yml"


def wanted(version: str) -> bool:
    """1.15.x and 2.0–2.21 finals (post-releases included), and the 2.22 release candidates."""
    m = re.match(r"^(\d+)\.(\d+)\.\d+(?P<tail>.*)$", version)
    if not m:
        return False
    line = (int(m.group(1)), int(m.group(2)))
    tail = m.group("tail")
    if line == (2, 22):
        return bool(re.fullmatch(r"rc\d+", tail))
    final = tail == "" or re.fullmatch(r"\.post\d+", tail) is not None
    return final and (line == (1, 15) or (2, 0) <= line <= (2, 21))


def fetch(url: str, accept: str | None = None) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def py_key(tag: str) -> tuple[int, int]:
    digits = tag[2:]
    return int(digits[0]), int(digits[1:])


def requirements(metadata: str) -> tuple[str | None, dict[str, list[str]]]:
    """(Requires-Python, {tracked name: [requirement text, ...]}) ignoring extras."""
    headers = HeaderParser().parsestr(metadata)
    found: dict[str, list[str]] = {}
    for line in headers.get_all("Requires-Dist") or []:
        if "extra ==" in line or "extra==" in line:
            continue
        m = _NAME.match(line)
        if not m:
            continue
        name = m.group(1).lower().replace("_", "-")
        if name in TRACKED:
            spec = line[m.end():].strip()
            spec = re.sub(r"^\((.*)\)", r"\1", spec).strip()  # old metadata writes "numpy (<2.0,>=1.16.0)"
            found.setdefault(name, []).append(re.sub(r"\s+", "", spec.split(";")[0]) +
                                              (f" ; {spec.split(';', 1)[1].strip()}" if ";" in spec else ""))
    rp = headers.get("Requires-Python")
    return (rp.strip() if rp else None), found


def collect() -> list[dict[str, Any]]:
    index = json.loads(fetch(INDEX, "application/vnd.pypi.simple.v1+json"))
    by_version: dict[str, list[dict[str, Any]]] = {}
    for f in index["files"]:
        m = _WHEEL.match(f["filename"])
        if m and wanted(m.group("version")) and _LINUX_X86.search(m.group("plat")) and not f.get("yanked"):
            by_version.setdefault(m.group("version"), []).append({**f, "py": m.group("py")})
    releases = []
    for version in sorted(by_version, key=_version_key):
        files = by_version[version]
        pythons = sorted({f["py"] for f in files}, key=py_key)
        chosen, metadata, how = _first_metadata(sorted(files, key=lambda f: py_key(f["py"]), reverse=True))
        meta_url = chosen["url"] + (".metadata" if how.startswith("PEP") else "")
        requires_python, requires = requirements(metadata)
        releases.append({
            "version": version,
            "line": ".".join(version.split(".")[:2]),
            "prerelease": "rc" in version,
            "requires_python": requires_python,
            "python": [f"{py_key(p)[0]}.{py_key(p)[1]}" for p in pythons],
            "requires": {name: requires[name] for name in TRACKED if name in requires},
            "source": f"PyPI wheel {chosen['filename']}: {how} ({meta_url.split('/packages/', 1)[-1]})",
        })
        print(f"{version}: {len(requires)} tracked requirements", file=sys.stderr)
    return releases


def _first_metadata(files: list[dict[str, Any]]) -> tuple[dict[str, Any], str, str]:
    """(wheel, METADATA text, how it was read): PyPI's PEP 658 file of the first wheel that has
    one (newest Python first); for releases PyPI never backfilled, the METADATA member of the
    first wheel read with HTTP range requests (zip central directory, then that one member)."""
    for f in files:
        try:
            return f, fetch(f["url"] + ".metadata").decode("utf-8", "replace"), "PEP 658 metadata"
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise
    return files[0], _wheel_member_metadata(files[0]["url"]), "wheel METADATA member (HTTP range read)"


def _range(url: str, start: int, end: int | None = None) -> bytes:
    spec = f"bytes={start}-" if end is None else f"bytes={start}-{end}"
    request = urllib.request.Request(url, headers={"Range": spec})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def _wheel_member_metadata(url: str) -> str:
    with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=60) as response:
        size = int(response.headers["Content-Length"])
    tail = _range(url, max(0, size - 65536), size - 1)
    eocd = tail.rfind(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack("<II", tail[eocd + 12:eocd + 20])
    directory = _range(url, cd_offset, cd_offset + cd_size - 1)
    pos = 0
    while pos < len(directory):
        (method, csize, name_len, extra_len, comment_len, local) = (
            struct.unpack("<H", directory[pos + 10:pos + 12])[0],
            struct.unpack("<I", directory[pos + 20:pos + 24])[0],
            *struct.unpack("<HHH", directory[pos + 28:pos + 34]),
            struct.unpack("<I", directory[pos + 42:pos + 46])[0],
        )
        name = directory[pos + 46:pos + 46 + name_len].decode()
        if name.endswith(".dist-info/METADATA"):
            header = _range(url, local, local + 29)
            skip = 30 + sum(struct.unpack("<HH", header[26:30]))
            data = _range(url, local + skip, local + skip + csize - 1)
            raw = zlib.decompress(data, -15) if method == 8 else data
            return raw.decode("utf-8", "replace")
        pos += 46 + name_len + extra_len + comment_len
    raise SystemExit(f"{url}: no .dist-info/METADATA member")


def _version_key(version: str) -> tuple[Any, ...]:
    nums = [int(n) for n in re.findall(r"\d+", version.split("rc")[0].split(".post")[0])]
    rc = re.search(r"rc(\d+)", version)
    post = re.search(r"post(\d+)", version)
    return (*nums, -1 if rc is None else 0, int(rc.group(1)) if rc else 0, int(post.group(1)) if post else 0) \
        if not rc else (*nums, -2, int(rc.group(1)), 0)


HEADER = """\
# TensorFlow's own requirements, per release, read from PyPI (generated; do not edit).
# Regenerate: python scripts/gen_tf_history.py
# Each release: the wheel METADATA's Requires-Python and its Requires-Dist lines (extras left
# out) for tensorboard, tensorflow-estimator, keras, numpy, protobuf and h5py; `python` lists
# the CPython versions with a Linux x86-64 wheel (PyPI simple index file names).  The
# metadata is PyPI's PEP 658 file beside the wheel named in `source`.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    doc = {
        "schema": 1,
        "sources": {
            "index": f"{INDEX} (PEP 691 JSON)",
            "metadata": "PEP 658 <wheel url>.metadata for one Linux x86-64 wheel per release",
        },
        "releases": collect(),
    }
    args.out.write_text(HEADER + yaml.safe_dump(doc, sort_keys=False, width=200), encoding="utf-8")
    print(f"wrote {args.out} ({len(doc['releases'])} releases)", file=sys.stderr)


if __name__ == "__main__":
    main()
