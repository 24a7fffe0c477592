"""``envlock create`` against real local channels: linking, prefix embedding, no-op, --frozen,
and every fault of the issue (each: clear message, non-zero exit, previous env untouched)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import yaml
from channel_factory import index_channel, serve, write_package
from create_support import (
    ENVLOCK,
    OFFLINE,
    channel_file,
    env_prefix,
    envlock,
    extra_specs,
    invalidate_stamp,
    leftovers,
    lock_entry,
    snapshot,
    summary,
)

pytest_plugins = ["create_support"]  # fixtures: project, cache, locked_template, extra_channel


def test_create_builds_real_prefix_with_final_paths(project: Path, cache: Path) -> None:
    r = envlock(project, "create", "--profile", "t", "--json", cache=cache)
    # the verifier runs after the drift check; this channel's TensorFlow is a stand-in, so it
    # must fail — the environment stays (it matches its lock) and the exit code says so
    assert r.returncode == 1, r.stderr
    assert "created (and matches its lock), but verification failed" in r.stderr
    assert "Traceback" not in r.stderr
    prefix = env_prefix(project)
    r = envlock(project, "create", "--profile", "t", "--json", "--no-verify", cache=cache)
    assert r.returncode == 0, r.stderr
    assert summary(r)["action"] == "up-to-date" and summary(r)["prefix"] == str(prefix)
    assert envlock(project, "check", "--profile", "t", cache=cache).returncode == 0
    # text prefix placeholder replaced by the FINAL prefix, not the staging directory
    tool = (prefix / "bin" / "ptool").read_text()
    assert tool.startswith(f"#!{prefix}/bin/python\n")
    assert (prefix / "etc" / "ptool.conf").read_text() == f"root={prefix}\n"
    assert os.readlink(prefix / "bin" / "ptool-link") == "ptool"
    # hard links from the shared cache (payload files are not prefix-replaced)
    payload_file = next((prefix / "share" / "ptool").iterdir())
    assert payload_file.stat().st_nlink >= 2
    # conda-meta names the lock's URL, not our cache copy
    meta = json.loads(next((prefix / "conda-meta").glob("ptool-1.0-h0_0.json")).read_text())
    assert meta["url"] == lock_entry(project, "ptool")["url"]
    # activation variables recorded the conda way
    state = json.loads((prefix / "conda-meta" / "state").read_text())
    assert state["env_vars"]["FOO"] == "bar baz"
    # the environment's python is usable
    out = subprocess.run([str(prefix / "bin" / "python"), "-c", "import sys; print(sys.prefix)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(prefix)
    assert leftovers(project) == []
    assert (cache / "archives").is_dir() and (cache / "pkgs").is_dir()


def test_second_create_is_noop_until_something_changes(project: Path, cache: Path) -> None:
    assert envlock(project, "create", "--profile", "t", "--no-verify", cache=cache).returncode == 0
    prefix = env_prefix(project)
    ino = (prefix / "conda-meta").stat().st_ino
    r = envlock(project, "create", "--profile", "t", "--json", "--no-verify", cache=cache)
    assert r.returncode == 0, r.stderr
    assert summary(r)["action"] == "up-to-date"
    assert (prefix / "conda-meta").stat().st_ino == ino
    # importing python modules (bytecode caches) does not invalidate the stamp
    subprocess.run([str(prefix / "bin" / "python"), "-c", "import json"], check=True)
    assert summary(envlock(project, "create", "--profile", "t", "--json", "--no-verify", cache=cache))["action"] == "up-to-date"
    # a package installed behind envlock's back does
    sp = next((prefix / "lib").glob("python*/site-packages"))
    (sp / "intruder-1.0.dist-info").mkdir()
    r = envlock(project, "create", "--profile", "t", "--json", "--no-verify", cache=cache)
    assert r.returncode == 0, r.stderr
    assert summary(r)["action"] == "replaced" and summary(r)["downloaded"] == 0
    assert not (sp / "intruder-1.0.dist-info").exists()
    assert leftovers(project) == []


def test_frozen_fails_on_missing_or_stale_lock(project: Path, cache: Path) -> None:
    prof = project / "profiles" / "t.yml"
    doc = yaml.safe_load(prof.read_text())
    doc["env_vars"] = {"FOO": "changed"}
    prof.write_text(yaml.safe_dump(doc))
    r = envlock(project, "create", "--profile", "t", "--frozen", cache=cache)
    assert r.returncode == 1
    assert "stale" in r.stderr and "--frozen" in r.stderr and "Traceback" not in r.stderr
    assert not env_prefix(project).exists()
    for f in (project / "locks").rglob("*"):
        if f.is_file():
            f.unlink()
    r = envlock(project, "create", "--profile", "t", "--frozen", cache=cache)
    assert r.returncode == 1 and "missing" in r.stderr


def test_create_locks_first_when_lock_missing(project: Path, cache: Path) -> None:
    (project / "locks" / "t.conda-lock.yml").unlink()
    r = envlock(project, "create", "--profile", "t", "--json", "--no-verify", cache=cache)
    assert r.returncode == 0, r.stderr
    assert (project / "locks" / "t.conda-lock.yml").is_file()
    assert summary(r)["action"] == "created"


@pytest.fixture
def built(env: tuple[Path, Path, Path]) -> tuple[Path, Path, dict]:
    """A created environment with a marker file, then its stamp removed so the next create rebuilds."""
    project, prefix, _cache = env
    invalidate_stamp(prefix)
    return project, prefix, snapshot(prefix)


def assert_untouched(project: Path, prefix: Path, before: dict) -> None:
    assert snapshot(prefix) == before
    assert leftovers(project) == []


@pytest.fixture
def restore_channel_file(project: Path):
    saved: dict[Path, bytes] = {}

    def tamper(name: str, data_fn) -> Path:  # noqa: ANN001
        path = channel_file(lock_entry(project, name)["url"])
        saved[path] = path.read_bytes()
        path.write_bytes(data_fn(saved[path]))
        return path

    yield tamper
    for path, data in saved.items():
        path.write_bytes(data)


def test_tampered_package_at_url(built, tmp_path: Path, restore_channel_file) -> None:
    project, prefix, before = built
    restore_channel_file("ptool", lambda b: b[:-1] + bytes([b[-1] ^ 1]))
    r = envlock(project, "create", "--profile", "t", "--no-verify", cache=tmp_path / "cold-cache")
    assert r.returncode == 1
    assert "sha256 mismatch for ptool 1.0-h0_0" in r.stderr and "Traceback" not in r.stderr
    assert_untouched(project, prefix, before)
    assert not list((tmp_path / "cold-cache" / "archives").rglob("ptool-1.0-h0_0.conda"))
    # its check runs where it is extracted (one read of the archive): nothing of it is extracted
    assert not list((tmp_path / "cold-cache" / "pkgs").glob("ptool-*"))


def test_truncated_package_at_url(built, tmp_path: Path, restore_channel_file) -> None:
    project, prefix, before = built
    restore_channel_file("pdata", lambda b: b[: len(b) // 2])
    r = envlock(project, "create", "--profile", "t", "--no-verify", cache=tmp_path / "cold-cache")
    assert r.returncode == 1
    assert "mismatch for pdata" in r.stderr and "truncated" in r.stderr
    assert_untouched(project, prefix, before)


@pytest.fixture
def http_channels(project: Path, tmp_path_factory: pytest.TempPathFactory):
    """The test channels served over HTTP from 127.0.0.1 (standing in for a remote channel, which
    these machines cannot reach), and the project's lock rewritten to those URLs, as a mirror's
    lock would be; ``create --lock`` installs it as is."""
    base = tmp_path_factory.getbasetemp()
    server = serve(base)
    lock = project / "locks" / "t.conda-lock.yml"
    http_lock = project / "t-over-http.conda-lock.yml"
    http_lock.write_text(lock.read_text().replace(base.as_uri(), f"http://127.0.0.1:{server.server_port}"))
    assert "http://127.0.0.1" in http_lock.read_text()
    yield http_lock, {"NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    server.shutdown()


def test_tampered_package_in_cache(project: Path, cache: Path, http_channels) -> None:
    """A downloaded archive changed in the cache is found, quarantined, and downloaded again."""
    http_lock, env = http_channels
    create = ("create", "--profile", "t", "--lock", str(http_lock), "--no-verify", "--json")
    r = envlock(project, *create, cache=cache, extra_env=env)
    assert r.returncode == 0, r.stderr
    assert summary(r)["downloaded"] == summary(r)["conda_packages"]
    prefix = env_prefix(project)
    invalidate_stamp(prefix)  # the next create rebuilds
    before = snapshot(prefix)
    [archive] = list((cache / "archives").rglob("pdata-2.0-h0_0.tar.bz2"))
    with open(archive, "ab") as f:
        f.write(b"evil")
    r = envlock(project, "create", "--profile", "t", "--lock", str(http_lock), "--no-verify", cache=cache, extra_env=env)
    assert r.returncode == 1
    assert "cached archive of pdata 2.0-h0_0 fails its sha256 check" in r.stderr
    assert_untouched(project, prefix, before)
    assert not archive.exists() and list((cache / "quarantine").iterdir())
    # the next run downloads a good copy
    r = envlock(project, *create, cache=cache, extra_env=env)
    assert r.returncode == 0, r.stderr
    assert summary(r)["downloaded"] == 1 and summary(r)["action"] == "replaced"


def test_restored_cache_is_not_hashed_again(project: Path, cache: Path, http_channels, tmp_path: Path) -> None:
    """A package cache saved and restored by CI (new inodes, the same sizes and mtimes, as
    ``tar --posix`` restores them) is trusted as it is: no archive is hashed again (their stamps
    stay as they were); one changed after the restore still is."""
    http_lock, env = http_channels
    create = ("create", "--profile", "t", "--lock", str(http_lock), "--no-verify", "--json")
    assert envlock(project, *create, cache=cache, extra_env=env).returncode == 0
    restored = tmp_path / "restored-cache"
    subprocess.run(f"tar --posix -cf - -C {cache} . | (mkdir {restored} && tar -xf - -C {restored})",
                   shell=True, check=True)
    stamps = sorted(restored.rglob("*.stamp.json"))
    assert stamps and all(p.stat().st_ino != (cache / p.relative_to(restored)).stat().st_ino for p in stamps)
    before = {p: p.read_bytes() for p in stamps}
    shutil.rmtree(env_prefix(project))
    r = envlock(project, *create, cache=restored, extra_env=env)
    assert r.returncode == 0, r.stderr
    assert summary(r)["downloaded"] == 0 and summary(r)["linker"].startswith("fast")
    assert {p: p.read_bytes() for p in stamps} == before  # rewritten only after a rehash
    [archive] = list(restored.rglob("pdata-2.0-h0_0.tar.bz2"))
    with open(archive, "ab") as f:
        f.write(b"evil")
    shutil.rmtree(env_prefix(project))
    r = envlock(project, *create[:-1], cache=restored, extra_env=env)
    assert r.returncode == 1 and "cached archive of pdata 2.0-h0_0 fails its sha256 check" in r.stderr


def test_local_channel_is_read_in_place_and_rechecked_when_touched(built, cache: Path, restore_channel_file) -> None:
    """A local (file://) channel's archives are checked where they lie, not copied into the cache;
    a channel file changed after that is hashed again and refused, and the channel file stays."""
    project, prefix, before = built
    assert not list((cache / "archives").rglob("*.conda")) and not list((cache / "archives").rglob("*.tar.bz2"))
    assert list((cache / "archives").rglob("*.stamp.json"))
    path = restore_channel_file("pdata", lambda b: b + b"evil")
    r = envlock(project, "create", "--profile", "t", "--no-verify", cache=cache)
    assert r.returncode == 1
    assert "sha256 mismatch for pdata 2.0-h0_0" in r.stderr and "the channel holds" in r.stderr
    assert_untouched(project, prefix, before)
    assert path.exists() and not (cache / "quarantine").exists()


def test_corrupt_archive_with_matching_hash(tmp_path: Path, tf_channel: Path, cache: Path) -> None:
    """The lock's hash is of a broken archive (info readable, payload not): linking fails cleanly."""
    from conftest import profile_doc, write_project

    ch = tmp_path / "broken-channel"
    spec = extra_specs()[0]
    path = write_package(ch, spec)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for n, data in members.items():
            zf.writestr(n, data[: len(data) // 3] if n.startswith("pkg-") else data)
    index_channel(ch)
    doc = profile_doc("t", tf_channel, conda=["ptool"])
    doc["channels"] = [tf_channel.as_uri(), ch.as_uri()]
    project = write_project(tmp_path / "p", {"t": doc})
    assert envlock(project, "lock", "--profile", "t", cache=cache).returncode == 0
    r = envlock(project, "create", "--profile", "t", "--no-verify", cache=cache)
    assert r.returncode == 1, r.stderr
    assert "linking the conda packages failed" in r.stderr and "corrupt or truncated" in r.stderr
    assert not env_prefix(project).exists()
    assert leftovers(project) == []


def test_profile_or_lock_for_another_platform(project: Path, cache: Path) -> None:
    r = envlock(project, "create", "--profile", "t", "--platform", "osx-arm64", cache=cache)
    assert r.returncode == 2
    assert "covers linux-64, not osx-arm64" in r.stderr
    r = envlock(project, "cache-key", "--profile", "t", "--platform", "osx-arm64", cache=cache)
    assert r.returncode == 2 and "covers linux-64" in r.stderr
    assert not env_prefix(project).exists()


def test_lock_that_is_not_conda_lock(project: Path, cache: Path, tmp_path: Path) -> None:
    for name, text in (("environment.yml", "name: x\ndependencies: [python]\n"), ("notes.yml", "just: [notes\n")):
        bogus = tmp_path / name
        bogus.write_text(text)
        r = envlock(project, "create", "--profile", "t", "--lock", str(bogus), "--no-verify", cache=cache)
        assert r.returncode == 2, r.stderr
        assert f"{bogus}:" in r.stderr and "lock" in r.stderr and "Traceback" not in r.stderr
    assert not env_prefix(project).exists()
    # a valid lock given with --lock is installed as is
    r = envlock(project, "create", "--profile", "t", "--lock", str(project / "locks" / "t.conda-lock.yml"),
                "--no-verify", "--json", cache=cache)
    assert r.returncode == 0, r.stderr
    assert summary(r)["action"] == "created"


def test_prefix_that_is_not_an_environment(project: Path, cache: Path, tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.mkdir()
    (target / "thesis.tex").write_text("years of work\n")
    r = envlock(project, "create", "--profile", "t", "--prefix", str(target), cache=cache)
    assert r.returncode == 2
    assert "is not a conda environment" in r.stderr and "--force" in r.stderr
    assert (target / "thesis.tex").read_text() == "years of work\n"
    r = envlock(project, "create", "--profile", "t", "--prefix", str(target), "--force", "--no-verify", cache=cache)
    assert r.returncode == 0, r.stderr
    assert (target / "conda-meta").is_dir() and not (target / "thesis.tex").exists()
    assert [n for n in os.listdir(tmp_path) if n.startswith(".precious.") and "lock" not in n] == []


def test_kill_9_mid_link_then_create_again(built, cache: Path) -> None:
    project, prefix, before = built
    r = envlock(project, "create", "--profile", "t", "--no-verify", cache=cache, extra_env={"ENVLOCK_TEST_FAULT": "kill@link"})
    assert r.returncode == -9
    assert snapshot(prefix) == before
    assert [n for n in leftovers(project) if ".staging-" in n]  # the killed run's staging dir is still there
    r = envlock(project, "create", "--profile", "t", "--json", "--no-verify", cache=cache)
    assert r.returncode == 0, r.stderr
    assert summary(r)["action"] == "replaced"
    assert leftovers(project) == []
    assert not (prefix / "MARKER").exists()  # the new environment replaced the old one
    assert envlock(project, "check", "--profile", "t", cache=cache).returncode == 0


def test_sigterm_mid_create_cleans_up(built, cache: Path) -> None:
    project, prefix, before = built
    r = envlock(project, "create", "--profile", "t", "--no-verify", cache=cache, extra_env={"ENVLOCK_TEST_FAULT": "term@link"})
    assert r.returncode == 130 and "interrupted" in r.stderr
    assert_untouched(project, prefix, before)


def test_concurrent_creates_on_one_prefix(project: Path, cache: Path) -> None:
    env = {**os.environ, **OFFLINE, "ENVLOCK_CACHE_DIR": str(cache), "ENVLOCK_TEST_FAULT": "sleep@locked"}
    cmd = [*ENVLOCK, "create", "--profile", "t", "--json", "--no-verify", "--project", str(project)]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(0.5)
    second = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    outs = [p.communicate(timeout=120) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outs
    actions = sorted(json.loads(o)["action"] for o, _ in outs)
    assert actions == ["created", "up-to-date"], outs
    assert "waiting" in outs[1][1] or "waiting" in outs[0][1]
    assert leftovers(project) == []
    r = envlock(project, "check", "--profile", "t", cache=cache)
    assert r.returncode == 0, r.stdout + r.stderr


def test_cache_key_is_stable_and_follows_lock(project: Path, cache: Path) -> None:
    a = envlock(project, "cache-key", "--profile", "t", cache=cache)
    b = envlock(project, "cache-key", "--profile", "t", "--platform", "linux-64", cache=cache)
    assert a.returncode == 0 and a.stdout == b.stdout
    assert a.stdout.startswith("envlock-v1-t-linux-64-")
    lock = project / "locks" / "t.conda-lock.yml"
    doc = yaml.safe_load(lock.read_text())
    doc["package"] = [p for p in doc["package"] if p["name"] != "pdata"]
    lock.write_text(yaml.safe_dump(doc))
    c = envlock(project, "cache-key", "--profile", "t", cache=cache)
    assert c.returncode == 0 and c.stdout != a.stdout


def test_no_op_path_imports_no_solver_linker_or_pydantic(project: Path, cache: Path) -> None:
    assert envlock(project, "create", "--profile", "t", "--no-verify", cache=cache).returncode == 0
    from envlock.verify import last

    # a passing verification is remembered: the no-op path only reads it
    last.write(env_prefix(project), ok=True, profile="t", failed=[], lock_hash=None, envlock_version="test")
    code = ("import sys; from envlock.cli import main\n"  # main, not entry: entry ends with os._exit
            "try:\n main(['create','--profile','t','--project',sys.argv[1]], prog_name='envlock')\n"
            "except SystemExit: pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rattler','conda_lock','pydantic','rich')))")
    r = subprocess.run([sys.executable, "-c", code, str(project)], capture_output=True, text=True,
                       env={**os.environ, "ENVLOCK_CACHE_DIR": str(cache)})
    assert r.returncode == 0, r.stderr
    assert "up to date" in r.stdout and r.stdout.strip().endswith("[]")


def test_in_place_edit_through_hard_link_does_not_spread(project: Path, cache: Path, tmp_path: Path) -> None:
    """Editing an environment's file in place also edits the package cache's copy (hard link):
    check sees it, and the next create extracts that package again instead of linking the edit."""
    assert envlock(project, "create", "--profile", "t", "--no-verify", cache=cache).returncode == 0
    victim = env_prefix(project) / "share" / "ptool" / "f00005.dat"
    assert victim.stat().st_nlink >= 2
    with open(victim, "r+b") as f:  # same size, same inode
        f.write(b"EDITED")
    r = envlock(project, "check", "--profile", "t", "--json", cache=cache)
    assert r.returncode == 1 and [f["path"] for f in json.loads(r.stdout)["files"]] == ["share/ptool/f00005.dat"]
    other = tmp_path / "other-env"
    r = envlock(project, "create", "--profile", "t", "--prefix", str(other), "--no-verify", cache=cache)
    assert r.returncode == 0, r.stderr
    assert "extracted copies of ptool were modified" in r.stderr
    assert not (other / "share" / "ptool" / "f00005.dat").read_bytes().startswith(b"EDITED")
    r = envlock(project, "check", "--profile", "t", "--prefix", str(other), cache=cache)
    assert r.returncode == 0, r.stdout


def test_partial_downloads_of_dead_runs_are_pruned(tmp_path: Path) -> None:
    from envlock.create.cache import _partial_dir, prune_partials

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    part_dir = _partial_dir(tmp_path)
    part_dir.mkdir(parents=True)
    gone = part_dir / f"abc-x-1.0-0.conda.part-{dead.stdout.strip()}-1"
    kept = part_dir / f"abc-y-1.0-0.conda.part-{os.getpid()}-1"  # a download still running
    for p in (gone, kept):
        p.write_bytes(b"half")
    prune_partials(tmp_path)
    assert not gone.exists() and kept.exists()
