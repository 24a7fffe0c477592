"""A bounded, deterministic fuzz run: a few hundred mutations of real lockfiles
(``../shared/realworld`` when present) and of a real envlock lock, fed in this process to
``audit --json``, ``diff --json``, ``lock --check`` and ``create --frozen``.  No traceback, no
hang, exit codes 0/1/2, a rejection is one line, no credential is shown, and a command that
did not succeed wrote nothing (the read-only ones never write).

``../shared/tools/fuzz.py`` is the long campaign (thousands of cases, subprocesses, every
command); this test keeps its lockfile causes from coming back, in well under 30 s.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
import yaml
from fuzz_support import SECRET, copy_project, invoke, lock_project, replace_lock, tree

SEED = 20261129
REALWORLD = Path(__file__).resolve().parents[3] / "shared" / "realworld"

# Raw snippets that broke a reader once: aliases, nesting, control characters, huge values.
SNIPPETS = [
    "&a [x, *a]", "*undefined", "&b [" + ",".join(["&c [y, y, y]"] + ["*c"] * 20) + "]", "[" * 60 + "]" * 60,
    "{a: " * 40 + "1" + "}" * 40, '"\\ud800"', '"a\\nb"', '"\\0"', "!!binary ###", "!!python/name:os.system",
    "'unterminated", "? x", "- a", "a: b: c", "x" * 20_000, ".nan", "-1", "9" * 5000, "[]", "{}", "~",
    f"https://u:{SECRET}@conda.example.org/cf/linux-64/x-1-0.conda", "a" * 300, "linux-64\u202e", "\t",
]
VALUES = [None, "", 0, -1, 3.5, True, [], {}, [None], {"": ""}, "a\nb", "\x1b[31m", "../../etc/passwd",
          "a" * 300, f"https://u:{SECRET}@host/c/linux-64/x-1-0.conda", ["linux-64"] * 3, {"md5": None}]
RAW = [b"\xff", b"\xc3\x28", b"\x00", b"\xed\xa0\x80", b"\r", b"\t", b"\xef\xbb\xbf", b"\x85"]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def mutate_bytes(r: random.Random, data: bytes) -> bytes:
    lines = _lines(data) or [b""]
    kind = r.randrange(7)
    if kind == 0:
        return data[: r.randrange(len(data) + 1)]
    if kind == 1:
        out = bytearray(data)
        for _ in range(r.randint(1, 8)):
            if out:
                out[r.randrange(len(out))] ^= 1 << r.randrange(8)
        return bytes(out)
    if kind == 2:
        i = r.randrange(len(lines))
        return b"".join(lines[:i] + lines[i + r.randint(1, 5):])
    if kind == 3:
        i = r.randrange(len(lines))
        return b"".join(lines[:i] + [lines[i]] * r.randint(2, 4) + lines[i + 1:])
    if kind == 4:
        i = r.randrange(len(data) + 1)
        return data[:i] + r.choice(RAW) + data[i:]
    if kind == 5:  # a snippet as the value of one "key: value" line
        candidates = [i for i, ln in enumerate(lines) if b": " in ln]
        if not candidates:
            return data + r.choice(SNIPPETS).encode()
        i = r.choice(candidates)
        key = lines[i].split(b": ", 1)[0]
        return b"".join(lines[:i] + [key + b": " + r.choice(SNIPPETS).encode() + b"\n"] + lines[i + 1:])
    return b"".join(r.sample(lines, len(lines)))  # lines shuffled


def _paths(node: object, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(node, dict):
        for k, v in list(node.items())[:40]:
            out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:40]):
            out += _paths(v, (*path, i))
    return out


def mutate_document(r: random.Random, doc: object) -> bytes:
    """One value of the parsed document replaced, one key dropped, or a value deeply nested."""
    paths = [p for p in _paths(doc) if p]
    if not paths:
        return yaml.safe_dump(r.choice(VALUES)).encode()
    path = r.choice(paths)
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    kind = r.randrange(3)
    if kind == 0:
        parent[path[-1]] = r.choice(VALUES)
    elif kind == 1 and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        value = parent[path[-1]]
        for _ in range(r.choice([5, 50])):
            value = [value]
        parent[path[-1]] = value
    return yaml.dump(doc, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False, width=10_000).encode()


def mutate(r: random.Random, data: bytes) -> bytes:
    if r.random() < 0.4 and len(data) < 100_000:  # parsing and dumping big files would cost seconds
        try:
            doc = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except (yaml.YAMLError, ValueError):
            doc = None
        if isinstance(doc, dict):
            return mutate_document(r, doc)
    out = mutate_bytes(r, data)
    return mutate_bytes(r, out) if r.random() < 0.3 else out


def seeds(project: Path) -> list[tuple[str, bytes]]:
    files = [project / "locks" / "cpu.conda-lock.yml", *sorted((project / "locks" / "cpu").glob("*.lock"))]
    if REALWORLD.is_dir():
        files += sorted(p for d in ("lockfiles", "format") for p in (REALWORLD / d).iterdir())
    return [(p.name, p.read_bytes()) for p in files]


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory, tf_channel: Path) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    return lock_project(root / "project", tf_channel, root / "cache")


def test_fuzz_lockfile_readers(locked: Path, tmp_path: Path) -> None:
    """320 mutated lockfiles through audit and diff: all judged, nothing written."""
    r = random.Random(SEED)
    corpus = seeds(locked)
    failures: list[str] = []
    codes: set[int | None] = set()
    t0 = time.perf_counter()
    small = [s for s in corpus if len(s[1]) < 100_000]
    large = [s for s in corpus if len(s[1]) >= 100_000] or small
    for n in range(320):
        name, data = r.choice(large if r.random() < 0.15 else small)
        case = tmp_path / f"case{n}"
        case.mkdir()
        path = case / name
        path.write_bytes(mutate(r, data))
        if n % 3 == 2:
            other = case / f"other-{r.choice(corpus)[0]}"
            other.write_bytes(r.choice(corpus)[1])
            args = ["diff", str(path), str(other), "--json"] if r.random() < 0.5 else ["diff", str(other), str(path), "--json"]
        else:
            args = ["audit", str(path), "--json"]
        before = tree(case)
        out = invoke(args, limit_s=10)
        problems = out.problems() + (["wrote"] if tree(case) != before else [])
        if problems:
            failures.append(f"case {n} ({name}, {' '.join(args[:1])}): {problems}")
        codes.add(out.code)
    assert failures == [], "\n".join(failures[:10])
    assert codes == {0, 1, 2}, codes  # readable, flagged and refused files were all among them
    assert time.perf_counter() - t0 < 90


def test_fuzz_project_lock_and_record(locked: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """80 mutated locks and lock records of a real project through `lock --check` and
    `create --frozen`: a create that does not succeed leaves the project as it was."""
    r = random.Random(SEED + 1)
    monkeypatch.setenv("ENVLOCK_CACHE_DIR", str(tmp_path / "cache"))
    lock_text = (locked / "locks" / "cpu.conda-lock.yml").read_bytes()
    meta_text = (locked / "locks" / "cpu" / "envlock-meta.json").read_bytes()
    failures: list[str] = []
    codes: set[tuple[str, int | None]] = set()
    for n in range(80):
        project = copy_project(locked, tmp_path / f"p{n}")
        if r.random() < 0.6:
            replace_lock(project, mutate(r, lock_text))  # recorded as envlock's: create reads it
            target = "lock"
        else:
            (project / "locks" / "cpu" / "envlock-meta.json").write_bytes(mutate(r, meta_text))
            target = "meta"
        cmd = ["create", "--frozen", "--no-verify", "--profile", "cpu", "--json"] if n % 2 else ["lock", "--check"]
        before = tree(project)
        out = invoke([*cmd, "--project", str(project)], limit_s=10)
        problems = out.problems()
        changed = tree(project) != before
        if changed and (cmd[0] == "lock" or out.code != 0):
            problems.append(f"wrote: {sorted(set(tree(project)) ^ set(before))[:3]}")
        if problems:
            failures.append(f"case {n} ({target}, {cmd[0]}): {problems} {out.stderr[-300:]!r}")
        codes.add((cmd[0], out.code))
    assert failures == [], "\n".join(failures[:10])
    assert {("create", 0), ("create", 2), ("lock", 0), ("lock", 2)} <= codes, codes  # both outcomes were exercised
