"""What the fast linker needs of one extracted package, worked out once and cached beside its
archive (``archives/<sha256>/<filename>.linkplan``).

Why: on a warm create the work that is not the kernel's (parsing 30,000 ``paths.json`` entries,
checking them, rendering them into ``conda-meta`` records) took ~0.25 s of CPU on a 2-core
machine whose cores are busy linking.  A plan holds the paths split by how they are linked and
the record's ``files``/``paths_data`` text already rendered, with a slot for each file whose
record depends on the prefix (text placeholders).  It is derived from the archive's own
``info/paths.json`` and symlink targets, so it is valid for any faithful extraction of the archive
with that hash; a package the fast linker does not handle is cached as such (``handled: false``).

On disk: one JSON line (version, the package's record, the paths by kind), then, after a
``\x1e``, the rendered ``files`` text and, after another, the rendered ``paths`` text with a NUL
at each slot.  One read per package, and the 12 MB of rendered text of a TensorFlow
environment is not JSON-decoded (that alone took 27 ms).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from json.encoder import encode_basestring  # type: ignore[attr-defined]  # C-accelerated, keeps UTF-8 as is
from pathlib import Path

PLAN_VERSION = 2
SLOT = "\0"  # marks where a prefix-dependent entry goes; JSON text never holds a raw NUL
SECTION = "\x1e"  # between the header and the rendered texts; never raw in JSON text either

_KNOWN_KEYS = {"_path", "path_type", "sha256", "size_in_bytes", "file_mode", "prefix_placeholder"}
# the key order of rattler's PathsEntry in conda-meta (serde field order)
_ENTRY_ORDER = ("_path", "path_type", "sha256", "sha256_in_prefix", "size_in_bytes", "file_mode", "prefix_placeholder")


@dataclass(frozen=True)
class LinkPlan:
    record: dict  # the package's record (index.json + size and hashes), as rattler serializes it
    hard: list[str]  # plain hard links
    soft: list[list[str]]  # [path, target]: symlinks recreated with the same target
    text: list[dict]  # paths.json entries of text-placeholder files (copied with the prefix written in)
    files: str  # the record's "files" array body, rendered
    paths: list[str]  # the record's "paths" array body, split at the text files' entries (SLOT)

    @property
    def all_paths(self) -> list[str]:
        return [*self.hard, *(s[0] for s in self.soft), *(t["_path"] for t in self.text)]


def plan_path(index_json: Path) -> Path:
    return index_json.with_name(index_json.name.removesuffix(".index.json") + ".linkplan")


def handled_entries(paths_doc: dict | None) -> list[dict] | None:
    """The paths entries when every one is of a kind linked here exactly, else None."""
    if not paths_doc or paths_doc.get("paths_version") != 1 or not isinstance(paths_doc.get("paths"), list):
        return None
    out = paths_doc["paths"]
    for p in out:
        if not isinstance(p, dict) or not set(p) <= _KNOWN_KEYS or not isinstance(p.get("_path"), str):
            return None
        kind = p.get("path_type")
        if kind == "softlink":
            if "prefix_placeholder" in p:
                return None
        elif kind == "hardlink":
            if "prefix_placeholder" in p and p.get("file_mode") != "text":
                return None  # binary (C-string) replacement: rattler's business
        else:
            return None  # directory entries and anything newer
        if p["_path"].startswith("/") or ".." in p["_path"].split("/"):
            return None
    return out


def render_entry(e: dict) -> str:
    parts = []
    for k in _ENTRY_ORDER:
        if k in e:
            v = e[k]
            parts.append(f'        "{k}": {str(v) if isinstance(v, int) else encode_basestring(v)}')
    return "      {\n" + ",\n".join(parts) + "\n      }"


def derive(entry: Path, record: dict, entries: list[dict]) -> LinkPlan:
    """The plan for an extracted package whose ``paths.json`` entries are all handled."""
    import hashlib

    hard: list[str] = []
    soft: list[list[str]] = []
    text: list[dict] = []
    rendered: list[str] = []
    # record order: rattler sorts paths by component, like a Rust PathBuf
    for e in sorted(entries, key=lambda e: e["_path"].split("/")):
        rel = e["_path"]
        if e["path_type"] == "softlink":
            target = os.readlink(entry / rel)
            soft.append([rel, target])
            raw = os.fsencode(target)
            rendered.append(render_entry({**e, "sha256_in_prefix": hashlib.sha256(raw).hexdigest(), "size_in_bytes": len(raw)}))
        elif "prefix_placeholder" in e:
            text.append(e)
            rendered.append(SLOT)
        else:
            hard.append(rel)
            rendered.append(render_entry(e))
    files = ",\n".join("    " + encode_basestring(e["_path"]) for e in sorted(entries, key=lambda e: e["_path"].split("/")))
    return LinkPlan(record, hard, soft, text, files, ",\n".join(rendered).split(SLOT))


def load(index_json: Path) -> LinkPlan | bool | None:
    """The cached plan; False: cached as not handled here; None: nothing (usable) cached."""
    try:
        with open(plan_path(index_json), encoding="utf-8") as f:
            data = f.read()
        header, _, rest = data.partition(SECTION)
        doc = json.loads(header)
        if doc.get("version") != PLAN_VERSION:
            return None
        if not doc["handled"]:
            return False
        files, sep, paths = rest.partition(SECTION)
        if not sep or not isinstance(doc["record"], dict):
            return None
        plan = LinkPlan(doc["record"], doc["hard"], doc["soft"], doc["text"], files, paths.split(SLOT))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return plan if len(plan.paths) == len(plan.text) + 1 else None


def save(index_json: Path, plan: LinkPlan | None) -> None:
    """Cache ``plan`` (None: not handled); best effort, written whole or not at all."""
    doc: dict = {"version": PLAN_VERSION, "handled": plan is not None}
    text = ""
    if plan is not None:
        doc.update(record=plan.record, hard=plan.hard, soft=plan.soft, text=plan.text)
        text = SECTION + plan.files + SECTION + SLOT.join(plan.paths)
    path = plan_path(index_json)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(doc, ensure_ascii=False) + text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def render_paths(plan: LinkPlan, text_entries: list[dict]) -> str:
    """The record's "paths" array body with the text files' entries (in ``plan.text`` order) in place."""
    if not text_entries:
        return plan.paths[0]
    out = [plan.paths[0]]
    for e, seg in zip(text_entries, plan.paths[1:], strict=True):
        out.append(render_entry(e))
        out.append(seg)
    return "".join(out)
