"""What the fast linker needs of one extracted package, worked out once and cached beside its
archive (``archives/<sha256>/<filename>.linkplan``).

Why: on a warm create, parsing every ``paths.json`` entry, checking it and rendering it into a
``conda-meta`` record is CPU taken from the cores that are linking.  A plan holds the paths split by how they are linked and
the record's ``files``/``paths_data`` text already rendered, with a slot for each file whose
record depends on the prefix (text placeholders).  It is derived from the archive's own
``info/paths.json`` and symlink targets, so it is valid for any faithful extraction of the archive
with that hash; a package the fast linker does not handle is cached as such (``handled: false``).

On disk: one JSON line (version, the package's record, the paths by kind), then the rendered
``files`` text and, after a ``\x1e``, the rendered ``paths`` text with a NUL at each slot.  The
JSON line is all that deciding and linking need; the texts (12 MB for a TensorFlow environment,
never JSON-decoded) are read only when the package's record is written, while other packages
are still being linked.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from json.encoder import encode_basestring  # type: ignore[attr-defined]  # C-accelerated, keeps UTF-8 as is
from pathlib import Path

from envlock.core.digests import sha256
from envlock.core.files import write_atomic

PLAN_VERSION = 3
SLOT = b"\0"  # marks where a prefix-dependent entry goes; JSON text never holds a raw NUL
SECTION = b"\x1e"  # between the two rendered texts; never raw in JSON text either

_KNOWN_KEYS = {"_path", "path_type", "sha256", "size_in_bytes", "file_mode", "prefix_placeholder"}
# the key order of rattler's PathsEntry in conda-meta (serde field order)
_ENTRY_ORDER = ("_path", "path_type", "sha256", "sha256_in_prefix", "size_in_bytes", "file_mode", "prefix_placeholder")


class PlanUnreadable(Exception):  # noqa: N818 - a cache entry to work out again, not a user error
    """The rendered texts of a cached plan are missing or do not fit its header."""


@dataclass
class LinkPlan:
    record: dict  # the package's record (index.json + size and hashes), as rattler serializes it
    hard: list[str]  # plain hard links
    soft: list[list[str]]  # [path, target]: symlinks recreated with the same target
    text: list[dict]  # paths.json entries of text-placeholder files (copied with the prefix written in)
    files: bytes | None = None  # the record's "files" array body, rendered UTF-8 (None: not read yet)
    paths: list[bytes] | None = None  # its "paths" array body, split at the text files' entries (SLOT)
    source: tuple[Path, int] | None = None  # where the texts are: plan file and offset
    source_size: int | None = None  # the plan file's size when the header was read (a set checks it)
    plan_set: Path | None = None  # the plan set this header came from (removed with unreadable texts)

    @property
    def all_paths(self) -> list[str]:
        return [*self.hard, *(s[0] for s in self.soft), *(t["_path"] for t in self.text)]

    def rendered(self) -> tuple[bytes, list[bytes]]:
        """The rendered ``files`` and ``paths`` texts (UTF-8, never decoded here: they are only
        copied into records), read from the plan file on first use."""
        if self.files is None or self.paths is None:
            try:
                assert self.source is not None
                with open(self.source[0], "rb") as f:
                    f.seek(self.source[1] - 1)
                    # the header this plan came from ends right there, and the file is the one it
                    # was read from (a plan file worked out again by a newer rattler differs in size)
                    if f.read(1) != b"\n" or self.source_size not in (None, os.fstat(f.fileno()).st_size):
                        raise PlanUnreadable(f"{self.source[0]}: not the file this plan's header came from")
                    files, sep, paths = f.read().partition(SECTION)
            except (OSError, AssertionError) as exc:
                raise PlanUnreadable(str(exc)) from None
            segments = paths.split(SLOT)
            if not sep or len(segments) != len(self.text) + 1:
                raise PlanUnreadable(f"{self.source[0]}: rendered texts do not fit the header")
            self.files, self.paths = files, segments
        return self.files, self.paths


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
    hard: list[str] = []
    soft: list[list[str]] = []
    text: list[dict] = []
    rendered: list[str] = []
    # record order: rattler sorts paths by component, like a Rust PathBuf
    ordered = sorted(entries, key=lambda e: e["_path"].split("/"))
    for e in ordered:
        rel = e["_path"]
        if e["path_type"] == "softlink":
            target = os.readlink(entry / rel)
            soft.append([rel, target])
            raw = os.fsencode(target)
            rendered.append(render_entry({**e, "sha256_in_prefix": sha256(raw).hexdigest(), "size_in_bytes": len(raw)}))
        elif "prefix_placeholder" in e:
            text.append(e)
            rendered.append("\0")
        else:
            hard.append(rel)
            rendered.append(render_entry(e))
    files = ",\n".join("    " + encode_basestring(e["_path"]) for e in ordered)
    return LinkPlan(record, hard, soft, text, files.encode(), [seg.encode() for seg in ",\n".join(rendered).split("\0")])


def load(index_json: Path) -> LinkPlan | bool | None:
    """The cached plan (its texts read later: ``LinkPlan.rendered``); False: cached as not
    handled here; None: nothing (usable) cached."""
    path = plan_path(index_json)
    try:
        with open(path, "rb") as f:
            header = f.readline()
            offset = f.tell()
            size = os.fstat(f.fileno()).st_size
        doc = json.loads(header)
        if doc.get("version") != PLAN_VERSION:
            return None
        if not doc["handled"]:
            return False
        plan = LinkPlan(doc["record"], doc["hard"], doc["soft"], doc["text"], source=(path, offset), source_size=size)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    ok = (isinstance(plan.record, dict) and isinstance(plan.hard, list) and isinstance(plan.soft, list)
          and isinstance(plan.text, list))
    return plan if ok else None


def save(index_json: Path, plan: LinkPlan | None) -> None:
    """Cache ``plan`` (None: not handled); best effort, written whole or not at all.  On success
    ``plan`` learns where its texts now are (so a plan set can point there)."""
    doc: dict = {"version": PLAN_VERSION, "handled": plan is not None}
    text = b""
    if plan is not None:
        files, paths = plan.rendered()
        doc.update(record=plan.record, hard=plan.hard, soft=plan.soft, text=plan.text)
        text = files + SECTION + SLOT.join(paths)
    path = plan_path(index_json)
    try:
        header = (json.dumps(doc, ensure_ascii=False) + "\n").encode()
        write_atomic(path, header + text)
        if plan is not None:
            plan.source, plan.source_size = (path, len(header)), len(header) + len(text)
    except OSError:
        pass  # best effort: the next create works the plan out again


def render_paths(plan: LinkPlan, text_entries: list[dict]) -> list[bytes]:
    """The record's "paths" array body, in pieces, with the text files' entries (in ``plan.text``
    order) in place."""
    _files, paths = plan.rendered()
    out = [paths[0]]
    for e, seg in zip(text_entries, paths[1:], strict=True):
        out.append(render_entry(e).encode())
        out.append(seg)
    return out


# --- plan sets --------------------------------------------------------------------------------
# Why: opening every package's plan file (and its directory) before linking can start costs a
# read of a cold disk per package.  A plan set holds the headers of the plans of one list of
# packages (one lock's platform) in one file; the texts stay in the packages' plan files, which
# are checked when read (``LinkPlan.rendered``).  Keyed by the packages' sha256s: as content-
# addressed as the plans themselves.

def set_path(archives_dir: Path, sha256s: list[str]) -> Path:
    key = sha256(f"plan-set {PLAN_VERSION}\n{chr(10).join(sorted(sha256s))}".encode()).hexdigest()
    return archives_dir / ".plansets" / f"{key}.json"


def set_entry(plan: LinkPlan | bool) -> dict | None:
    """What a set keeps of a package's plan (False: not handled here); None: nothing settled
    (a plan whose file was not written)."""
    if plan is False:
        return {"handled": False}
    if not isinstance(plan, LinkPlan) or plan.source is None or plan.source_size is None:
        return None
    return {"handled": True, "record": plan.record, "hard": plan.hard, "soft": plan.soft, "text": plan.text,
            "offset": plan.source[1], "size": plan.source_size}


def load_set(path: Path) -> dict[str, dict] | None:
    """sha256 -> set entry; None: no (usable) set."""
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("version") != PLAN_VERSION or not isinstance(doc.get("plans"), dict):
        return None
    return doc["plans"]


def from_set(entry: object, plan_file: Path, set_file: Path) -> LinkPlan | bool | None:
    """Like ``load``, from a set entry whose texts are in ``plan_file``."""
    if not isinstance(entry, dict):
        return None
    if entry.get("handled") is False:
        return False
    record, hard, soft, text = entry.get("record"), entry.get("hard"), entry.get("soft"), entry.get("text")
    offset, size = entry.get("offset"), entry.get("size")
    if not (isinstance(record, dict) and isinstance(hard, list) and isinstance(soft, list) and isinstance(text, list)
            and isinstance(offset, int) and isinstance(size, int) and 0 < offset <= size):
        return None
    return LinkPlan(record, hard, soft, text, source=(plan_file, offset), source_size=size, plan_set=set_file)


SET_MAX_AGE_S = 30 * 86400  # sets not written for this long are pruned when a new one is written


def save_set(path: Path, entries: dict[str, dict]) -> None:
    """Best effort, written whole or not at all.  Old sets (locks long replaced) are pruned:
    one that is still used is merely written again by the next create."""
    import time

    cutoff = time.time() - SET_MAX_AGE_S
    try:
        path.parent.mkdir(exist_ok=True)
        for old in os.scandir(path.parent):
            if old.stat().st_mtime < cutoff:
                Path(old.path).unlink(missing_ok=True)
        write_atomic(path, json.dumps({"version": PLAN_VERSION, "plans": entries}, ensure_ascii=False))
    except OSError:
        pass  # best effort, like the plans themselves
