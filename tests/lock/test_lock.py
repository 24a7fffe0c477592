"""``envlock lock`` against a real local channel (real archives indexed by py-rattler), with
conda-lock doing the locking and py-rattler answering its conda solve; no conda installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from channel_factory import PackageSpec, index_channel, write_package
from conftest import ENVLOCK, OFFLINE, PY, PYMM, profile_doc, write_project

from envlock.lockfile import read_lockfile


def envlock(project: Path, *args: str, offline: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, **OFFLINE} if offline else None
    return subprocess.run([*ENVLOCK, *args, "--project", str(project)], capture_output=True, text=True, env=env)


def lock_of(project: Path, name: str) -> dict:
    return yaml.safe_load((project / "locks" / f"{name}.conda-lock.yml").read_text())


def pkg(lock: dict, name: str, platform: str = "linux-64") -> dict:
    [entry] = [p for p in lock["package"] if p["name"] == name and p["platform"] == platform]
    return entry


def test_variant_follows_profile_and_virtual_packages(make_project) -> None:
    project = make_project({
        "cpu": {"virtual_packages": {"linux-64": {"__cuda": "12.8"}}},  # a driver, but a cpu profile
        "gpu": {"tensorflow": {"version": "2.19.*", "source": "conda", "variant": "cuda"},
                "virtual_packages": {"linux-64": {"__cuda": "12.4"}}},
        "old": {"tensorflow": {"version": "2.18.*", "source": "conda", "variant": "cpu"}},
    })
    r = envlock(project, "lock")
    assert r.returncode == 0, r.stderr
    assert pkg(lock_of(project, "cpu"), "tensorflow")["url"].endswith(f"tensorflow-2.19.0-cpu_py{PYMM}h1_0.conda")
    gpu = lock_of(project, "gpu")
    assert "cuda128" in pkg(gpu, "tensorflow")["url"]
    assert pkg(gpu, "cuda-version")["version"] == "12.8"
    assert pkg(lock_of(project, "old"), "tensorflow")["version"] == "2.18.0"
    for entry in gpu["package"]:
        assert entry["hash"]["sha256"] and entry["hash"]["md5"]


def test_cuda_build_only_when_driver_declared(make_project) -> None:
    """A cuda profile whose target machines declare an 11.x driver cannot get the cuda128
    build (cuda-version 12.8 constrains __cuda >=12): the solver's explanation is shown."""
    project = make_project({"gpu": {"tensorflow": {"version": "2.19.*", "source": "conda", "variant": "cuda"},
                                    "virtual_packages": {"linux-64": {"__cuda": "11.4"}}}})
    r = envlock(project, "lock", "--profile", "gpu")
    assert r.returncode == 2
    assert "gpu.yml: conda part of profile 'gpu' could not be locked" in r.stderr
    assert "__cuda" in r.stderr and "Traceback" not in r.stderr
    assert not (project / "locks" / "gpu.conda-lock.yml").exists()


def test_two_platforms_one_file_and_explicit_files(make_project) -> None:
    project = make_project({"both": {"platforms": ["linux-64", "osx-arm64"],
                                     "virtual_packages": {"linux-64": {"__glibc": "2.28"}, "osx-arm64": {"__osx": "14.0"}}}})
    r = envlock(project, "lock", "--profile", "both")
    assert r.returncode == 0, r.stderr
    lock = lock_of(project, "both")
    assert lock["version"] == 1 and lock["metadata"]["platforms"] == ["linux-64", "osx-arm64"]
    assert "/osx-arm64/tensorflow-2.19.0-cpu" in pkg(lock, "tensorflow", "osx-arm64")["url"]
    assert "/linux-64/python-" in pkg(lock, "python", "linux-64")["url"]
    # the unified file is readable by conda-lock itself
    from conda_lock.lockfile import parse_conda_lock_file

    parsed = parse_conda_lock_file(project / "locks" / "both.conda-lock.yml")
    assert {p.platform for p in parsed.package} == {"linux-64", "osx-arm64"}
    for plat in ("linux-64", "osx-arm64"):
        text = (project / "locks" / "both" / f"{plat}.lock").read_text()
        assert "@EXPLICIT" in text
        urls = [ln for ln in text.splitlines() if ln.startswith("file://")]
        assert len(urls) == sum(1 for p in lock["package"] if p["platform"] == plat)
        for line in urls:  # every line carries the archive's md5, as conda's explicit format wants
            url, md5 = line.split("#")
            assert md5 == next(p["hash"]["md5"] for p in lock["package"] if p["url"] == url)


def test_check_fresh_then_stale_for_each_input(make_project, tf_channel: Path) -> None:
    project = make_project({"a": {}, "b": {}})
    assert envlock(project, "lock", "--check").returncode == 1  # missing
    assert envlock(project, "lock").returncode == 0
    r = envlock(project, "lock", "--check")
    assert r.returncode == 0, r.stdout + r.stderr
    before = {p: p.read_bytes() for p in (project / "locks").rglob("*") if p.is_file()}

    # profile change -> only that profile is stale
    prof = project / "profiles" / "a.yml"
    doc = yaml.safe_load(prof.read_text())
    doc["conda"] = ["numpy"]
    prof.write_text(yaml.safe_dump(doc))
    r = envlock(project, "lock", "--check", "--json")
    assert r.returncode == 1
    states = {s["profile"]: s["state"] for s in json.loads(r.stdout)["profiles"]}
    assert states == {"a": "stale", "b": "fresh"}
    after = {p: p.read_bytes() for p in (project / "locks").rglob("*") if p.is_file()}
    assert after == before  # --check writes nothing

    # template change -> every profile is stale
    assert envlock(project, "lock", "--profile", "a").returncode == 0
    tpl = project / "environment.template.yml"
    tpl.write_text(tpl.read_text().replace("- pip", "- pip\n- numpy"))
    r = envlock(project, "lock", "--check", "--json")
    assert {s["state"] for s in json.loads(r.stdout)["profiles"]} == {"stale"}

    # a hand-edited lockfile is stale too
    assert envlock(project, "lock").returncode == 0
    lockfile = project / "locks" / "b.conda-lock.yml"
    lockfile.write_text(lockfile.read_text() + "\n# edited\n")
    r = envlock(project, "lock", "--check")
    assert r.returncode == 1 and "b.conda-lock.yml was modified" in r.stdout


def test_check_is_stale_when_compat_data_changes(make_project, monkeypatch: pytest.MonkeyPatch) -> None:
    from envlock.compat import data as envlock_data
    from envlock.core.project import Project
    from envlock.lock.state import lock_state

    project = make_project({"a": {}})
    assert envlock(project, "lock").returncode == 0
    assert lock_state(Project.at(project), "a").state == "fresh"
    original = envlock_data.compat_data_bytes()
    monkeypatch.setattr(envlock_data, "compat_data_bytes", lambda: original + b"\n# new fact\n")
    assert lock_state(Project.at(project), "a").state == "stale"


def test_raw_input_fast_path_and_semantic_fallback(make_project) -> None:
    """Byte-identical inputs: fresh without parsing the profile (the record has platforms and
    variables).  A comment-only edit: the fast path steps aside and the semantic hash says fresh.
    A real edit: stale either way."""
    from envlock.core.project import Project
    from envlock.lock.state import lock_state, quick_meta

    project = make_project({"a": {}})
    assert envlock(project, "lock").returncode == 0
    proj = Project.at(project)
    meta = quick_meta(proj, "a")
    assert meta is not None and meta.platforms and meta.source_sha256
    prof = project / "profiles" / "a.yml"
    prof.write_text(prof.read_text() + "\n# a comment changes no field\n")
    assert quick_meta(proj, "a") is None
    assert lock_state(proj, "a").state == "fresh"
    assert envlock(project, "lock", "--check").returncode == 0
    doc = yaml.safe_load(prof.read_text())
    doc["conda"] = ["numpy"]
    prof.write_text(yaml.safe_dump(doc))
    assert quick_meta(proj, "a") is None
    assert lock_state(proj, "a").state == "stale"


def test_update_moves_only_named_package(make_project, tf_channel: Path, tmp_path: Path) -> None:
    channel = tmp_path / "own-channel"
    shutil.copytree(tf_channel, channel)
    project = write_project(tmp_path / "proj", {"u": profile_doc("u", channel)})
    assert envlock(project, "lock").returncode == 0
    first = lock_of(project, "u")
    assert pkg(first, "numpy")["version"] == "2.1.0" and pkg(first, "keras")["version"] == "3.10.0"
    # new releases of numpy and keras appear in the channel
    mm = PY.rsplit(".", 1)[0]
    write_package(channel, PackageSpec("numpy", "2.2.0", f"py{PYMM}_0", depends=[f"python {mm}.*"], files={"lib/n.txt": b"2.2"}))
    write_package(channel, PackageSpec("keras", "3.11.0", "pyh_0", noarch="python", depends=["python >=3.9", "numpy"], files={"site-packages/k/__init__.py": b""}))
    index_channel(channel)
    r = envlock(project, "lock", "--profile", "u", "--update", "numpy")
    assert r.returncode == 0, r.stderr
    second = lock_of(project, "u")
    assert pkg(second, "numpy")["version"] == "2.2.0"
    assert pkg(second, "keras")["version"] == "3.10.0"  # not named: kept as locked
    assert pkg(second, "tensorflow")["url"] == pkg(first, "tensorflow")["url"]
    r = envlock(project, "lock", "--profile", "u", "--update", "nosuchpkg")
    assert r.returncode == 2 and "not in this lock" in r.stderr
    # a plain re-lock of the fresh lock moves nothing; --update-all takes the newest of everything
    assert envlock(project, "lock", "--profile", "u").returncode == 0
    assert pkg(lock_of(project, "u"), "keras")["version"] == "3.10.0"
    assert envlock(project, "lock", "--profile", "u", "--update-all").returncode == 0
    assert pkg(lock_of(project, "u"), "keras")["version"] == "3.11.0"


def test_failed_lock_never_replaces_good_one(make_project) -> None:
    project = make_project({"a": {}})
    assert envlock(project, "lock").returncode == 0
    files = {p: p.read_bytes() for p in (project / "locks").rglob("*") if p.is_file()}
    prof = project / "profiles" / "a.yml"
    doc = yaml.safe_load(prof.read_text())
    doc["conda"] = ["numpy >=99"]
    prof.write_text(yaml.safe_dump(doc))
    r = envlock(project, "lock")
    assert r.returncode == 2 and "numpy >=99" in r.stderr and "Traceback" not in r.stderr
    assert {p: p.read_bytes() for p in (project / "locks").rglob("*") if p.is_file()} == files
    assert not list((project / "locks").rglob("*.tmp"))


def test_unreachable_channel(make_project, tmp_path: Path) -> None:
    project = make_project({"a": {"channels": ["http://127.0.0.1:9/nochannel"]}})
    r = envlock(project, "lock")
    assert r.returncode == 2
    assert "a.yml" in r.stderr and "could not be reached" in r.stderr and "Traceback" not in r.stderr
    assert not (project / "locks" / "a.conda-lock.yml").exists()


@pytest.mark.parametrize(("mutate", "needle"), [
    (lambda d: d.update(platforms=["linux-65"]), "unknown platform 'linux-65'"),
    (lambda d: d.update(name="zzz"), "field 'name' is 'zzz'"),
    (lambda d: d.update(keras="3.*", tensorflow={"version": "2.15.*", "source": "conda", "variant": "cpu"}), "Keras 3"),
    (lambda d: d.pop("python"), "field 'python' is required"),
])
def test_bad_profiles_exit_2_and_write_nothing(make_project, mutate, needle: str) -> None:
    project = make_project({"a": {}})
    prof = project / "profiles" / "a.yml"
    doc = yaml.safe_load(prof.read_text())
    mutate(doc)
    prof.write_text(yaml.safe_dump(doc))
    r = envlock(project, "lock")
    assert r.returncode == 2
    assert "a.yml" in r.stderr and needle in r.stderr and "Traceback" not in r.stderr
    assert not (project / "locks").exists()


def test_unknown_profile_and_bad_yaml(make_project) -> None:
    project = make_project({"a": {}})
    r = envlock(project, "lock", "--profile", "nope")
    assert r.returncode == 2 and "no profile named 'nope'" in r.stderr and "profiles here: a" in r.stderr
    (project / "profiles" / "a.yml").write_text("name: a\n  platforms: [linux-64\n")
    r = envlock(project, "profiles")
    assert r.returncode == 2 and "a.yml: is not valid YAML" in r.stderr


def test_profiles_command_lists_state(make_project) -> None:
    project = make_project({"a": {}, "b": {"keras": "3.5.*"}})
    assert envlock(project, "lock", "--profile", "a").returncode == 0
    r = envlock(project, "profiles", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["ok"] is True
    rows = {row["name"]: row for row in json.loads(r.stdout)["profiles"]}
    assert rows["a"]["lock"] == "fresh" and rows["b"]["lock"] == "missing"
    assert rows["b"]["keras"] == "3.5.*" and rows["a"]["source"] == "conda"
    r = envlock(project, "profiles")
    assert r.returncode == 0 and "fresh" in r.stdout and "missing" in r.stdout


def test_lock_check_is_fast(make_project) -> None:
    """Not a timing assertion on the machine's speed: it asserts --check never imports the
    solver stack (conda-lock, rattler, uv), which is what keeps it well under a second."""
    project = make_project({"a": {}})
    assert envlock(project, "lock").returncode == 0
    code = ("import sys; from click.testing import CliRunner; from envlock.cli import main;"
            f"r = CliRunner().invoke(main, ['lock', '--check', '--project', {str(project)!r}]);"
            "assert r.exit_code == 0, r.output;"
            "bad = [m for m in ('conda_lock', 'rattler', 'uv') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    t = time.perf_counter()
    envlock(project, "lock", "--check")
    assert time.perf_counter() - t < 5  # generous: guards against accidental solving only


@pytest.mark.network
def test_pip_route_tensorflow_221_locks_for_linux_and_macos(make_project) -> None:
    """TensorFlow 2.21's Linux wheels are manylinux_2_27 (conda-lock's own pip solver cannot
    pick them); the pip part must carry one wheel URL + sha256 per package per platform."""
    project = make_project({"tf": {
        "platforms": ["linux-64", "osx-arm64"],
        "tensorflow": {"version": "2.21.*", "source": "pip", "variant": "cpu"},
        "virtual_packages": {"linux-64": {"__glibc": "2.28"}, "osx-arm64": {"__osx": "14.0"}},
    }, "legacy": {"keras": "2.*", "tensorflow": {"version": "2.21.*", "source": "pip", "variant": "cpu"}}})
    r = envlock(project, "lock", offline=False)
    assert r.returncode == 0, r.stderr
    lock = read_lockfile(project / "locks" / "tf.conda-lock.yml")
    for plat, tf_name, wheel_tag in (("linux-64", "tensorflow-cpu", "manylinux_2_27_x86_64"),
                                     ("osx-arm64", "tensorflow", "macosx_12_0_arm64")):
        pip = [p for p in lock.for_platform(plat) if p.manager == "pip"]
        names = [p.name for p in pip]
        assert len(names) == len(set(names)), "one entry per package per platform"
        [tf] = [p for p in pip if p.name == tf_name]
        assert tf.version == "2.21.0" and wheel_tag in tf.url and tf.url.endswith(".whl")
        assert all(p.sha256 and len(p.sha256) == 64 and p.url.startswith("https://") for p in pip)
        keras = next(p for p in pip if p.name == "keras")
        assert keras.version.startswith("3.")
        assert not any(p.name in ("python", "pip") for p in pip)
    text = (project / "locks" / "tf" / "linux-64.lock").read_text()
    assert "# pip tensorflow-cpu @ https://" in text and "#sha256=" in text
    legacy = read_lockfile(project / "locks" / "legacy.conda-lock.yml")
    assert any(p.name in ("tf-keras", "tf_keras") and p.version.startswith("2.21") for p in legacy.packages)
    # tf-keras depends on `tensorflow`; tensorflow-cpu provides it, so no second TensorFlow
    assert "tensorflow" not in {p.name for p in legacy.packages if p.manager == "pip"}
    meta = json.loads((project / "locks" / "legacy" / "envlock-meta.json").read_text())
    assert meta["env_vars"] == {"TF_USE_LEGACY_KERAS": "1"}


@pytest.mark.network
def test_pip_update_keeps_unnamed_pins(make_project) -> None:
    """--update on the pip part: packages not named keep their locked version even when the
    profile would now allow a newer one; the named one moves."""
    project = make_project({"p": {"tensorflow": {"version": "2.21.*", "source": "pip", "variant": "cpu"},
                                  "keras": "3.12.*", "pip": ["absl-py==2.1.0"]}})
    assert envlock(project, "lock", offline=False).returncode == 0
    before = {p.name: p.version for p in read_lockfile(project / "locks" / "p.conda-lock.yml").packages if p.manager == "pip"}
    assert before["keras"].startswith("3.12.") and before["absl-py"] == "2.1.0"
    prof = project / "profiles" / "p.yml"
    doc = yaml.safe_load(prof.read_text())
    doc["keras"], doc["pip"] = "3.*", ["absl-py>=2.1"]
    prof.write_text(yaml.safe_dump(doc))
    r = envlock(project, "lock", "--profile", "p", "--update", "absl-py", offline=False)
    assert r.returncode == 0, r.stderr
    after = {p.name: p.version for p in read_lockfile(project / "locks" / "p.conda-lock.yml").packages if p.manager == "pip"}
    assert after["keras"] == before["keras"]  # allowed to move, not named: kept
    assert after["absl-py"] != "2.1.0"  # named: moved to the newest
    assert {k: v for k, v in after.items() if k != "absl-py"} == {k: v for k, v in before.items() if k != "absl-py"}


def test_conda_option_uses_given_executable(make_project, tmp_path: Path) -> None:
    """--conda PATH hands the conda solve to that executable (here a wrapper that records its
    calls and answers through envlock's adapter, standing in for an installed micromamba)."""
    from envlock.lock.conda.conda_lock_run import write_launcher

    calls = tmp_path / "calls.txt"
    inner = write_launcher(tmp_path / "inner-conda")
    exe = tmp_path / "my-conda"
    exe.write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\nexec {inner} \"$@\"\n")
    exe.chmod(0o755)
    project = make_project({"a": {}})
    r = envlock(project, "lock", "--conda", str(exe))
    assert r.returncode == 0, r.stderr
    logged = calls.read_text()
    assert "--version" in logged and "create" in logged and "--dry-run" in logged
    assert pkg(lock_of(project, "a"), "tensorflow")["version"] == "2.19.0"


@pytest.mark.network
@pytest.mark.parametrize("name", ["cpu-avx512", "cuda12", "macos-arm64", "legacy-keras2"])
def test_shipped_pip_profiles_lock_against_a_mirror(name: str, tf_channel: Path, tmp_path: Path) -> None:
    """The shipped pip-route profiles, unchanged but for their channel (a local mirror stands
    in for conda-forge, which is unreachable here), lock end to end."""
    repo = Path(__file__).resolve().parents[2]
    doc = yaml.safe_load((repo / "profiles" / f"{name}.yml").read_text())
    doc["channels"] = [tf_channel.as_uri()]
    project = write_project(tmp_path / "p", {name: doc})
    r = envlock(project, "lock", offline=False)
    assert r.returncode == 0, r.stderr
    lock = read_lockfile(project / "locks" / f"{name}.conda-lock.yml")
    assert lock.platforms == doc["platforms"]
    for plat in doc["platforms"]:
        pip = {p.name: p for p in lock.for_platform(plat) if p.manager == "pip"}
        tf = pip.get("tensorflow-cpu") or pip["tensorflow"]
        assert tf.version.startswith("2.19." if name == "macos-arm64" else "2.21.")  # Metal: 2.19 (tf-notes.md §2)
        if name == "cuda12":
            assert pip["nvidia-cudnn-cu12"].version.startswith("9.")
            assert pip["nvidia-cuda-runtime-cu12"].version.startswith("12.")
        if name == "macos-arm64":
            assert pip["tensorflow-metal"].version.startswith("1.2.")
        if name == "legacy-keras2":
            assert pip["tf-keras"].version.startswith("2.21.")
    # envlock's own auditor finds nothing wrong with what envlock locked for the profile
    audit = envlock(project, "audit", "--json")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    [report] = json.loads(audit.stdout)["files"]
    findings = [f for f in report["findings"] if f["severity"] != "info"]
    if name == "cuda12":  # tensorflow[and-cuda] 2.21 resolves to a newer CUDA runtime than the profile's driver (12.4)
        [ptx] = [f for f in findings if f["rule"] == "profile-cuda-driver"]
        assert ptx["severity"] == "warning" and "CUDA_ERROR_UNSUPPORTED_PTX_VERSION" in ptx["message"]
        findings.remove(ptx)
    assert findings == []
