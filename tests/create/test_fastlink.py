"""The warm-cache fast linker (``envlock.create.link.fast``) against py-rattler: the same prefix,
byte for byte (files, modes, symlinks) and the same conda-meta records, for a channel with plain,
text-prefix-placeholder, softlink and noarch: python packages; and the fallbacks to rattler."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from create_support import env_prefix, envlock, records, summary, tree

pytest_plugins = ["create_support"]  # fixtures: project, cache, locked_template, extra_channel

RATTLER = {"ENVLOCK_LINKER": "rattler"}


def create(project: Path, cache: Path, **env: str) -> dict:
    r = envlock(project, "create", "--profile", "t", "--json", "--no-verify", cache=cache, extra_env=env or None)
    assert r.returncode == 0, r.stderr
    return summary(r)


def test_fast_linked_prefix_equals_rattler_linked(project: Path, cache: Path) -> None:
    prefix = env_prefix(project)
    create(project, cache, **RATTLER)  # cold: rattler extracts and links
    want_tree, want_meta = tree(prefix), records(prefix)
    assert not list(cache.glob("archives/*/*.linkplan"))
    # the first warm create works out each package's link plan, the second uses the cached ones
    for round_ in ("deriving link plans", "from cached link plans"):
        shutil.rmtree(prefix)
        warm = create(project, cache)
        assert warm["linker"] == "fast+rattler", (round_, warm)  # noarch: python packages (and python) by rattler
        got_tree, got_meta = tree(prefix), records(prefix)
        assert sorted(got_tree) == sorted(want_tree), (round_, set(got_tree) ^ set(want_tree))
        diff = [k for k in want_tree if got_tree[k] != want_tree[k]]
        assert not diff, (round_, [(k, want_tree[k], got_tree[k]) for k in diff])
        assert sorted(got_meta) == sorted(want_meta)
        for name, text in want_meta.items():
            want, got = json.loads(text), json.loads(got_meta[name])
            assert got == want, (round_, name, {k: (want.get(k), got.get(k)) for k in set(want) | set(got) if want.get(k) != got.get(k)})
            assert got_meta[name] == text, f"{round_}: {name}: same record, other formatting"
        plans = {p.name: json.loads(p.read_text().partition("\n")[0]) for p in cache.glob("archives/*/*.linkplan")}
        assert any(d["handled"] and d["text"] for d in plans.values()), plans.keys()  # ptool's shebang file
    # the prefix-placeholder file is a copy with the final prefix, the payload hard links
    assert (prefix / "bin" / "ptool").read_text().startswith(f"#!{prefix}/bin/python\n")
    assert (prefix / "bin" / "ptool").stat().st_nlink == 1
    assert next((prefix / "share" / "pdata").iterdir()).stat().st_nlink >= 2
    assert envlock(project, "check", "--profile", "t", cache=cache).returncode == 0
    # conda-meta works for the drift check: a modified fast-linked file is caught
    target = next((prefix / "share" / "pdata").iterdir())
    target.unlink()
    target.write_bytes(b"changed")
    r = envlock(project, "check", "--profile", "t", "--json", cache=cache)
    assert r.returncode == 1 and any(f["kind"] == "modified" for f in json.loads(r.stdout)["files"]), r.stdout


def test_a_cold_create_leaves_the_link_plans_for_the_next(project: Path, cache: Path) -> None:
    """CI saves the package cache once, after the cold run: the link plans and their set must
    be in it, or every restored run would work them out again."""
    prefix = env_prefix(project)
    assert create(project, cache)["linker"] == "fast+rattler"  # cold: envlock extracts, the fast linker links
    made = [*cache.glob("archives/*/*.linkplan"), *cache.glob("archives/.plansets/*.json")]
    assert any(p.parent.name == ".plansets" for p in made) and len(made) > 1
    before = {p: p.stat().st_mtime_ns for p in made}
    want_tree, want_meta = tree(prefix), records(prefix)
    shutil.rmtree(prefix)
    assert create(project, cache)["linker"] == "fast+rattler"
    assert tree(prefix) == want_tree and records(prefix) == want_meta
    assert {p: p.stat().st_mtime_ns for p in made} == before  # used as they were: nothing worked out again


def test_unreadable_link_plans_are_worked_out_again(project: Path, cache: Path) -> None:
    prefix = env_prefix(project)
    create(project, cache)
    shutil.rmtree(prefix)
    create(project, cache)  # warm: writes the link plans
    want_tree, want_meta = tree(prefix), records(prefix)
    plans = sorted(p for p in cache.glob("archives/*/*.linkplan") if json.loads(p.read_text().partition("\n")[0])["handled"])
    assert plans
    [plan_set] = cache.glob("archives/.plansets/*.json")  # the headers of all of them, in one file
    plan_set.unlink()  # first the plan files on their own
    plans[0].write_text("{not json")
    plans[1].write_text(json.dumps({"version": 999}))
    if len(plans) > 2:
        plans[2].write_text(json.dumps({"version": 3, "handled": True, "hard": []}))  # fields and texts missing
    shutil.rmtree(prefix)
    assert create(project, cache)["linker"] == "fast+rattler"
    assert tree(prefix) == want_tree and records(prefix) == want_meta
    assert json.loads(plans[0].read_text().partition("\n")[0])["version"] == 3  # rewritten
    assert plan_set.exists()  # and the set with them
    # a sound header with its rendered texts cut off is found when the record is written:
    # rattler links this prefix, and the plan is dropped and worked out again from its extraction
    plans[0].write_text(plans[0].read_text().partition("\n")[0] + "\n")
    plan_set.unlink()
    shutil.rmtree(prefix)
    assert create(project, cache)["linker"] == "rattler"
    assert tree(prefix) == want_tree and records(prefix) == want_meta
    shutil.rmtree(prefix)
    assert create(project, cache)["linker"] == "fast+rattler"
    assert tree(prefix) == want_tree and records(prefix) == want_meta
    # a plan file changed under its set (here: worked out again with another header length)
    # no longer fits the set's offsets: rattler links, and the plan and the set are made anew
    assert plan_set.exists()
    header, _, texts = plans[0].read_text().partition("\n")
    plans[0].write_text(json.dumps(json.loads(header), indent=1).replace("\n", "") + "\n" + texts)
    shutil.rmtree(prefix)
    assert create(project, cache)["linker"] == "rattler"
    assert tree(prefix) == want_tree and records(prefix) == want_meta
    assert plans[0].read_text().partition("\n")[0] == header and plan_set.exists()
    # an unreadable set is ignored and written again
    for _ in range(2):
        shutil.rmtree(prefix)
        assert create(project, cache)["linker"] == "fast+rattler"
    plan_set.write_text("{not json")
    shutil.rmtree(prefix)
    assert create(project, cache)["linker"] == "fast+rattler"
    assert tree(prefix) == want_tree and records(prefix) == want_meta
    assert json.loads(plan_set.read_text())["version"] == 3
    # with a set, the plan files' headers are not read at all (one file read, not one per package)
    header, _, texts = plans[1].read_text().partition("\n")
    plans[1].write_text("{" + " " * (len(header) - 2) + "}\n" + texts)
    shutil.rmtree(prefix)
    assert create(project, cache)["linker"] == "fast+rattler"
    assert tree(prefix) == want_tree and records(prefix) == want_meta


def test_plan_set_vouches_for_unchanged_lock_files_only(project: Path, cache: Path) -> None:
    """The plan set keeps each cache entry's ``.lock`` stamp (size, mtime), so a warm create only
    stats them; a ``.lock`` rewritten since (here: another archive's sha256 in it) is read
    again, and that entry is not linked from: rattler extracts it anew."""
    prefix = env_prefix(project)
    create(project, cache)
    want_tree, want_meta = tree(prefix), records(prefix)
    shutil.rmtree(prefix)
    assert create(project, cache)["linker"] == "fast+rattler"
    [plan_set] = cache.glob("archives/.plansets/*.json")
    entries = json.loads(plan_set.read_text())["plans"]
    locks = {p.name: p for p in (cache / "pkgs").glob("*.lock")}
    stamped = [e["lock"] for e in entries.values() if e]
    assert len(stamped) == len(entries)
    assert {tuple(s) for s in stamped} <= {(p.stat().st_size, p.stat().st_mtime_ns) for p in locks.values()}
    [ptool_lock] = [p for n, p in locks.items() if n.startswith("ptool-")]
    head = ptool_lock.read_bytes()
    ptool_lock.write_bytes(head[:8] + bytes(32) + head[40:])  # same size, another sha256, new mtime
    shutil.rmtree(prefix)
    assert create(project, cache)["linker"] == "rattler"
    assert tree(prefix) == want_tree and records(prefix) == want_meta
    assert ptool_lock.read_bytes()[8:40] != bytes(32)  # extracted again by rattler


def test_rattler_only_when_forced(project: Path, cache: Path) -> None:
    assert create(project, cache)["linker"] == "fast+rattler"  # cold cache: extracted by envlock, then linked
    shutil.rmtree(env_prefix(project))
    assert create(project, cache, **RATTLER)["linker"] == "rattler"


def test_clobbering_falls_back_to_rattler(project: Path, cache: Path, tmp_path: Path) -> None:
    """Two packages with one path: the fast path notices and rattler links the whole prefix."""
    prefix = env_prefix(project)
    create(project, cache)
    pkgs = cache / "pkgs"
    [ptool] = [d for d in pkgs.iterdir() if d.name.startswith("ptool-") and d.is_dir()]
    [pdata] = [d for d in pkgs.iterdir() if d.name.startswith("pdata-") and d.is_dir()]
    paths = json.loads((pdata / "info" / "paths.json").read_text())
    victim = next(p for p in paths["paths"] if p["_path"].startswith("share/"))
    doc = json.loads((ptool / "info" / "paths.json").read_text())
    doc["paths"].append(dict(victim))
    os.makedirs(ptool / os.path.dirname(victim["_path"]), exist_ok=True)
    os.link(pdata / victim["_path"], ptool / victim["_path"])
    (ptool / "info" / "paths.json").write_text(json.dumps(doc))
    for plan in cache.glob("archives/*/*.linkplan"):  # worked out again, from the edited paths.json
        plan.unlink()
    shutil.rmtree(cache / "archives" / ".plansets")
    shutil.rmtree(prefix)
    r = envlock(project, "create", "--profile", "t", "--json", "--no-verify", cache=cache)
    assert r.returncode == 0, r.stderr
    assert summary(r)["linker"] == "rattler"
    assert (prefix / victim["_path"]).is_file()
    assert not [p for p in prefix.parent.iterdir() if ".staging-" in p.name]


def test_text_replacement_and_shebang_limits() -> None:
    from envlock.create.link.fast import Fallback, _replace_text

    ph, new = b"/opt/placeholder_placeholder", b"/env"
    assert _replace_text(b"#!" + ph + b"/bin/python\nx=" + ph + b"\n", ph, new) == b"#!/env/bin/python\nx=/env\n"
    assert _replace_text(b"a=" + ph + b" b=" + ph, ph, new) == b"a=/env b=/env"
    assert _replace_text(b"#!/bin/sh\necho " + ph, ph, new) == b"#!/bin/sh\necho /env"
    try:  # rattler rewrites a shebang the kernel would truncate; we never guess how
        _replace_text(b"#!" + ph + b"/bin/python\n", ph, b"/" + b"x" * 130)
    except Fallback:
        pass
    else:
        raise AssertionError("a shebang over 127 bytes must fall back to rattler")
    try:
        _replace_text(b"#!" + ph + b"/bin/python\n", ph, b"/with space")
    except Fallback:
        pass
    else:
        raise AssertionError("a prefix with a space in a shebang must fall back to rattler")


def test_paths_kinds_left_to_rattler() -> None:
    from envlock.create.link.plan import handled_entries as _handled

    ok = {"_path": "lib/a.so", "path_type": "hardlink", "sha256": "0" * 64, "size_in_bytes": 1}
    assert _handled({"paths_version": 1, "paths": [ok]}) == [ok]
    for bad in ({**ok, "file_mode": "binary", "prefix_placeholder": "/opt/x"}, {**ok, "no_link": True},
                {**ok, "path_type": "directory"}, {**ok, "_path": "../escape"}, {**ok, "_path": "/abs"}):
        assert _handled({"paths_version": 1, "paths": [ok, bad]}) is None, bad
    assert _handled({"paths_version": 2, "paths": [ok]}) is None


def test_record_from_index_json_equals_rattlers_full_read(tf_channel: Path, extra_channel: Path, tmp_path: Path) -> None:
    """A cold create reads only info/index.json of an archive whose sha256 the lock pinned (and
    the cache checked); the record must be exactly what rattler derives by reading (and hashing)
    the whole archive — for .conda and .tar.bz2 alike."""
    import asyncio

    import rattler

    from envlock.create.cache import CachedArchive
    from envlock.create.link.rattler import _record_fields
    from envlock.lockfile import LockedPackage

    archives = [p for ch in (tf_channel, extra_channel) for p in ch.glob("*/*") if p.name.endswith((".conda", ".tar.bz2"))]
    kinds = {p.name.rsplit(".", 2)[-1] if p.name.endswith(".conda") else "tar.bz2" for p in archives}
    assert kinds == {"conda", "tar.bz2"}, kinds
    for path in archives:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        pkg = LockedPackage(name="x", version="0", platform="linux-64", url=path.as_uri(), sha256=digest)
        item = CachedArchive(pkg, path, tmp_path / (path.name + ".index.json"), False, path.stat().st_size)
        got = asyncio.run(_record_fields(item))
        want = json.loads(asyncio.run(rattler.RepoDataRecord.from_package_archive(path)).to_json())
        for k in ("url", "channel", "fn"):
            want.pop(k, None)
        assert got == want, (path.name, {k: (want.get(k), got.get(k)) for k in set(want) | set(got) if want.get(k) != got.get(k)})
    assert not list(tmp_path.iterdir())  # the raw index.json copies are gone


def test_preload_that_cannot_read_a_package_leaves_it_to_the_full_check(tmp_path: Path) -> None:
    from envlock.create.link.fast import Preload
    from envlock.lockfile import LockedPackage

    pkgs = [LockedPackage(name=n, version="1", build="0", platform="linux-64", url=f"https://x/{n}-1-0.conda",
                          channel="https://x", sha256="0" * 64) for n in ("a", "b")]

    def extracted(pkg: LockedPackage) -> bool:
        if pkg.name == "a":
            raise PermissionError("cache entry not readable")
        return False

    preload = Preload(pkgs, lambda p: tmp_path / f"{p.name}.index.json", tmp_path, extracted)
    try:
        assert preload.get(pkgs[0]) is False and preload.get(pkgs[1]) is False
        assert preload.has(pkgs[0]) and not preload.has(LockedPackage(name="c", version="1", platform="linux-64"))
    finally:
        preload.close()
