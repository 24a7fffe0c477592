"""Lockfiles as they exist in the wild: Windows encodings and line ends, old anaconda hosts,
headers in other places, and ``conda env export`` YAML.  Every variant is made from a real
explicit file (pangeo ml-notebook 2020-03: anaconda's GPU TensorFlow 2.1) by the
transformation the tool in question applies, so the packages stay real."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from envlock.audit import audit_path
from envlock.audit.stack import stacks_of
from envlock.core.errors import InputError
from envlock.lockfile import Lockfile, read_lockfile
from envlock.lockfile.urls import split_conda_filename
from tests.lockfile.test_lockfile_formats import needs_realworld, rw

REAL = "pangeo-data__pangeo-docker-images__2020-03-29"


def _rows(lock: Lockfile) -> list[tuple[str, ...]]:
    return [(p.name, p.version, p.build, p.platform, p.md5 or "", p.channel_name) for p in lock.packages]


@needs_realworld
@pytest.mark.parametrize(("encoding", "bom"), [
    ("utf-16-le", codecs.BOM_UTF16_LE),   # PowerShell 5 `conda list --explicit > env.txt`
    ("utf-16-be", codecs.BOM_UTF16_BE),
    ("utf-8", codecs.BOM_UTF8),           # Notepad "UTF-8 with BOM"
])
def test_bom_encodings_with_crlf_read_like_the_original(tmp_path: Path, encoding: str, bom: bytes) -> None:
    original = rw(REAL)
    text = original.read_text(encoding="utf-8").replace("\n", "\r\n")
    saved = tmp_path / "env.txt"
    saved.write_bytes(bom + text.encode(encoding))
    assert _rows(read_lockfile(saved)) == _rows(read_lockfile(original))
    assert {(f.rule, f.platform) for f in audit_path(saved).findings} == \
        {(f.rule, f.platform) for f in audit_path(original).findings}


def test_undecodable_bytes_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "lock.bin"
    path.write_bytes(b"\x80\x81\xfe\x00garbage\xff")
    with pytest.raises(InputError, match=r"lock\.bin: is not UTF-8 or BOM-marked UTF-16"):
        read_lockfile(path)


@needs_realworld
def test_old_continuum_host_and_header_after_marker(tmp_path: Path) -> None:
    original = read_lockfile(rw(REAL))
    text = rw(REAL).read_text()
    lines = [ln for ln in text.splitlines() if not ln.startswith("# platform:")]
    marker = lines.index("@EXPLICIT")
    lines.insert(marker + 1, "# platform: linux-64")
    moved = tmp_path / "old.txt"
    moved.write_text("\n".join(lines).replace("https://repo.anaconda.com/", "https://repo.continuum.io/") + "\n")
    lock = read_lockfile(moved)
    assert lock.platforms == ["linux-64"] and len(lock.packages) == len(original.packages)
    base = next(p for p in lock.packages if p.name == "tensorflow-base")
    assert base.url.startswith("https://repo.continuum.io/pkgs/main/") and base.channel_name == "pkgs/main"
    # the defaults-channel facts apply to the old host as to the new one
    assert stacks_of(lock.by_platform())["linux-64"].build_cuda == "10.1"


def _export(lock: Lockfile, channels: list[str], pip: list[str]) -> str:
    """What `conda env export` writes for the environment the explicit file creates."""
    deps = "".join(f"  - {p.name}={p.version}={p.build}\n" for p in lock.packages)
    pip_part = "  - pip:\n" + "".join(f"    - {p}\n" for p in pip) if pip else ""
    chans = "".join(f"  - {c}\n" for c in channels)
    return f"name: ml\nchannels:\n{chans}dependencies:\n{deps}{pip_part}prefix: /srv/conda/envs/ml\n"


@needs_realworld
def test_conda_env_export_reads_name_version_build(tmp_path: Path) -> None:
    original = read_lockfile(rw(REAL))
    path = tmp_path / "environment.yml"
    path.write_text(_export(original, ["conda-forge", "defaults"], ["keras-tuner==1.0.1"]))
    lock = read_lockfile(path)
    assert lock.format == "conda-env-export" and lock.platforms == ["linux-64"]  # _libgcc_mutex is Linux-only
    conda = [(p.name, p.version, p.build) for p in lock.packages if p.manager == "conda"]
    assert conda == [split_conda_filename(p.filename) for p in original.packages]
    (tuner,) = [p for p in lock.packages if p.manager == "pip"]
    assert (tuner.name, tuner.version) == ("keras-tuner", "1.0.1")
    assert {p.channel for p in lock.packages if p.manager == "conda"} == {""}  # two channels: which is unknown
    found = {(f.rule, f.severity) for f in audit_path(path).findings}
    assert ("mixed-channels", "warning") not in found  # unknown channels are not called mixed


@needs_realworld
def test_single_channel_export_knows_the_channel(tmp_path: Path) -> None:
    original = read_lockfile(rw(REAL))
    path = tmp_path / "environment.yml"
    path.write_text(_export(original, ["defaults"], []))
    base = next(p for p in read_lockfile(path).packages if p.name == "tensorflow-base")
    assert base.channel_name == "pkgs/main"


@pytest.mark.parametrize(("entry", "reason"), [
    ("  - pip:\n    - git+https://example.invalid/x.git\n", "is not 'name==version'"),
    ("  - pip: tensorflow==2.1.0\n", "must be a list of 'name==version'"),
])
def test_export_with_unlocked_pip_entry_is_refused(tmp_path: Path, entry: str, reason: str) -> None:
    path = tmp_path / "environment.yml"
    path.write_text("name: x\nchannels: [conda-forge]\ndependencies:\n  - python=3.11.9=hab00c5b_0_cpython\n" + entry)
    with pytest.raises(InputError, match=reason):
        read_lockfile(path)


@needs_realworld
def test_spec_environment_files_are_still_refused_as_not_a_lock() -> None:
    envfiles = sorted((rw(REAL).parents[1] / "envfiles").glob("*.yml"))
    assert len(envfiles) == 13
    for path in envfiles:
        with pytest.raises(InputError, match="is an environment file"):
            read_lockfile(path)
