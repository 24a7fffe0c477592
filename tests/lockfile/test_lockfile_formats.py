"""The reader on every real-world file and on each format edge case."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from envlock.core.errors import InputError
from envlock.lockfile import LockedPackage, Lockfile, read_lockfile
from tests.lockfile.test_lockfile_factory import conda, pip, write_explicit, write_unified

REALWORLD = Path(__file__).resolve().parents[3] / "shared" / "realworld"  # ../shared beside the checkout
needs_realworld = pytest.mark.skipif(not REALWORLD.is_dir(), reason=f"real-world lockfiles not present at {REALWORLD}")


def rw(name: str) -> Path:
    matches = [m for d in ("lockfiles", "format") for m in (REALWORLD / d).glob(f"*{name}*")]
    assert len(matches) == 1, name
    return matches[0]


def pkg(lock: Lockfile, name: str, platform: str | None = None) -> LockedPackage:
    return next(p for p in lock.packages if p.name == name and (platform is None or p.platform == platform))


# (file prefix, format, platforms, package count)
LOADS = [
    ("pangeo-data__pangeo-docker-images__2020-03-29", "explicit", ["linux-64"], 309),
    ("pangeo-data__pangeo-docker-images__2021-08-07", "explicit", ["linux-64"], 366),
    ("pangeo-data__pangeo-docker-images__2021-11-23", "explicit", ["linux-64"], 613),
    ("pangeo-data__pangeo-docker-images__2022-12-16", "conda-lock-v1", ["linux-64"], 663),
    ("pangeo-data__pangeo-docker-images__2024-08-18", "conda-lock-v1", ["linux-64"], 819),
    ("pangeo-data__pangeo-docker-images__ml-notebook", "conda-lock-v1", ["linux-64"], 882),
    ("Dpbm__qml-course", "conda-lock-v1", ["linux-64"], 198),
    ("eds-book__", "conda-lock-v1", ["osx-64", "linux-64", "osx-arm64"], 944),
    ("ai2cm__fv3net", "conda-lock-v1", ["linux-64", "osx-64"], 356),
    ("conda__conda-lock__tests_test-lockfile", "conda-lock-v1", ["linux-64", "osx-64", "osx-arm64"], 430),
    ("conda__conda-lock__tests_test-v2-to-v3-upgrade_conda-lock-v2.5.8", "conda-lock-v1",
     ["linux-64", "linux-aarch64", "linux-ppc64le", "osx-64", "osx-arm64", "win-64"], 314),
    ("conda__conda-lock__tests_test-v2-to-v3-upgrade_conda-lock-v3.0.3", "conda-lock-v1",
     ["linux-64", "linux-aarch64", "linux-ppc64le", "osx-64", "osx-arm64", "win-64"], 314),
    ("conda__conda-lock__tests_test-install-with-pip-deps", "conda-lock-v1", ["linux-64", "linux-aarch64"], 55),
    ("conda__conda-lock__tests_zlib", "explicit", ["linux-64"], 6),
    ("conda__conda-lock__tests_test-update-filter-platform", "conda-lock-v1", ["linux-64", "osx-64"], 2),
    ("conda__conda-lock__tests_test-explicit-toposorted", "conda-lock-v1", ["linux-64"], 127),
    ("mamba-org__mamba__libmamba_tests_data_env_lockfile_good_multiple_categories", "conda-lock-v1", ["linux-64"], 37),
    ("mamba-org__mamba__libmamba_tests_data_env_lockfile_good_one_package_missing_category", "conda-lock-v1",
     ["linux-64", "osx-64", "win-64"], 1),
    ("mamba-org__mamba__libmamba_tests_data_env_lockfile_good_no_package", "conda-lock-v1",
     ["linux-64", "osx-64", "win-64"], 0),
    ("mamba-org__mamba__micromamba_tests_env_lockfiles_test-env-pip-lock", "conda-lock-v1", ["linux-64"], 25),
    ("mamba-org__mamba__micromamba_tests_env_lockfiles_test-env-lock-pip-git-https", "conda-lock-v1",
     ["linux-64", "osx-arm64"], 43),
    ("conda__rattler__test-data_conda-lock_v0_pypi-matplotlib", "conda-lock-v1", ["linux-64", "osx-64", "win-64"], 94),
]

REJECTS = [
    ("conda__rattler__test-data_conda-lock_forward-compatible", ["'version' is 1000", "newer than envlock reads"]),
    ("mamba-org__mamba__libmamba_tests_data_env_lockfile_bad_version", ["'version' is -1"]),
    ("mamba-org__mamba__libmamba_tests_data_env_lockfile_bad_package",
     ["'package[0].manager' is missing", "'package[0].hash' is missing", "_libgcc_mutex"]),
]


@needs_realworld
@pytest.mark.parametrize(("prefix", "fmt", "platforms", "count"), LOADS, ids=[x[0][:48] for x in LOADS])
def test_realworld_file_loads(prefix: str, fmt: str, platforms: list[str], count: int) -> None:
    lock = read_lockfile(rw(prefix))
    assert lock.format == fmt
    assert lock.platforms == platforms
    assert len(lock.packages) == count
    for p in lock.packages:
        assert p.name and p.platform and p.manager in ("conda", "pip")
        if p.manager == "conda":
            assert p.build, p.url  # every conda file name carries its build
            assert p.md5 or p.sha256


@needs_realworld
@pytest.mark.parametrize(("prefix", "reasons"), REJECTS, ids=[x[0][-40:] for x in REJECTS])
def test_realworld_malformed_file_is_rejected_with_reason(prefix: str, reasons: list[str]) -> None:
    path = rw(prefix)
    with pytest.raises(InputError) as info:
        read_lockfile(path)
    message = str(info.value)
    assert str(path) in message
    for reason in reasons:
        assert reason in message
    assert "regenerate" in message or "upgrade envlock" in message  # names the fix


@needs_realworld
def test_explicit_file_fields_from_url_and_fragment() -> None:
    lock = read_lockfile(rw("pangeo-data__pangeo-docker-images__2020-03-29"))
    base = pkg(lock, "tensorflow-base")
    assert (base.version, base.build) == ("2.1.0", "gpu_py37h6c5654b_0")
    assert base.md5 == "e9aae94f08f552435d524c94d16b98a5" and base.sha256 is None
    assert base.channel == "https://repo.anaconda.com/pkgs/main" and base.channel_name == "pkgs/main"
    assert base.filename == "tensorflow-base-2.1.0-gpu_py37h6c5654b_0.conda"
    assert pkg(lock, "python").channel_name == "conda-forge"
    assert lock.content_hash == {}  # this early file has no hash header


@needs_realworld
def test_explicit_headers_env_hash_and_input_hash() -> None:
    assert read_lockfile(rw("pangeo-data__pangeo-docker-images__2021-08-07")).content_hash == {
        "linux-64": "9aac65f37f7bbf0aebf195d8361b3ddc2899656d1553bb43475322018588a415"}
    assert read_lockfile(rw("conda__conda-lock__tests_zlib")).content_hash["linux-64"].startswith("1173e3c9")


@needs_realworld
def test_unified_pip_entries_and_build_from_url() -> None:
    lock = read_lockfile(rw("Dpbm__qml-course"))
    tf = pkg(lock, "tensorflow")
    assert (tf.manager, tf.version, tf.build, tf.channel) == ("pip", "2.17.0", "", "pypi")
    assert tf.depends["keras"] == ">=3.2.0" and tf.sha256 and tf.md5 is None
    py = pkg(lock, "python")
    assert py.build == "h4a871b0_2_cpython" and py.channel_name == "conda-forge"


@needs_realworld
def test_channels_as_strings_and_objects() -> None:
    assert read_lockfile(rw("conda__conda-lock__tests_test-lockfile")).channels == ["conda-forge"]
    assert read_lockfile(rw("ai2cm__fv3net")).channels == ["conda-forge", "defaults"]


@needs_realworld
def test_categories_and_missing_category_default() -> None:
    cats = {p.category for p in read_lockfile(rw("good_multiple_categories")).packages}
    assert {"main", "dev"} <= cats
    assert read_lockfile(rw("good_one_package_missing_category")).packages[0].category == "main"
    v3 = read_lockfile(rw("conda__conda-lock__tests_test-v2-to-v3-upgrade_conda-lock-v2.5.8"))
    assert any(p.optional for p in v3.packages) and "test" in {p.category for p in v3.packages}


@needs_realworld
def test_git_url_pip_entry() -> None:
    lock = read_lockfile(rw("test-env-lock-pip-git-https"))
    dateutil = pkg(lock, "python-dateutil", "linux-64")
    assert dateutil.url.startswith("git+https://") and dateutil.manager == "pip" and dateutil.build == ""


def test_unified_without_version_key_is_v0(tmp_path: Path) -> None:
    lock = read_lockfile(write_unified(tmp_path / "l.yml", [conda("zlib", "1.3.1")], version=None))
    assert lock.format == "conda-lock-v0" and lock.packages[0].build == "h0_0"


def test_versions_stay_strings(tmp_path: Path) -> None:
    path = tmp_path / "l.yml"
    write_unified(path, [conda("python", "3.10", "h_0")])
    path.write_text(path.read_text().replace("version: '3.10'", "version: 3.10"))
    assert "version: 3.10\n" in path.read_text()
    assert read_lockfile(path).packages[0].version == "3.10"  # not 3.1


def test_categories_list_form(tmp_path: Path) -> None:
    entry = conda("pytest", "8.0.0")
    del entry["category"]
    entry["categories"] = ["dev"]
    assert read_lockfile(write_unified(tmp_path / "l.yml", [entry])).packages[0].category == "dev"


def test_explicit_sha256_fragment_noarch_and_pip_lines(tmp_path: Path) -> None:
    path = tmp_path / "linux-64.lock"
    path.write_text(
        "# platform: linux-64\n@EXPLICIT\n"
        "https://mirror.example.org/cf/noarch/keras-3.5.0-pyhd8ed1ab_1.conda#sha256:" + "a" * 64 + "\n"
        "https://conda.anaconda.org/conda-forge/linux-64/python-3.12.5-h2ad013b_0_cpython.tar.bz2\n"
        "# pip tensorflow-cpu @ https://wheels.invalid/p/tensorflow_cpu-2.21.0-cp312-cp312-manylinux_2_27_x86_64.whl"
        "#sha256=" + "b" * 64 + "\n"
    )
    lock = read_lockfile(path)
    keras = pkg(lock, "keras")
    assert (keras.sha256, keras.md5, keras.platform, keras.channel_name) == (
        "a" * 64, None, "linux-64", "https://mirror.example.org/cf")
    assert pkg(lock, "python").md5 is None and pkg(lock, "python").build == "h2ad013b_0_cpython"
    tf = pkg(lock, "tensorflow-cpu")
    assert (tf.manager, tf.version, tf.sha256) == ("pip", "2.21.0", "b" * 64)


def test_explicit_platform_inferred_without_header(tmp_path: Path) -> None:
    path = write_explicit(tmp_path / "x.lock", [conda("zlib", "1.3", platform="osx-arm64")],
                          platform="osx-arm64", header="")
    path.write_text(path.read_text().replace("# platform: osx-arm64\n", ""))
    assert read_lockfile(path).platforms == ["osx-arm64"]


@pytest.mark.parametrize(("text", "reason"), [
    ("just: [a, list", "is not valid YAML"),
    ("- a\n- b\n", "neither a conda-lock file"),
    ("version: 99\nenvironments: {}\npackages: []\n", "pixi.lock field 'version' is"),
    ("# platform: linux-64\n@EXPLICIT\nnot-a-url\n", "line 3 is not a package URL"),
    ("https://x/linux-64/a-1-0.conda\n@EXPLICIT\n", "before the '@EXPLICIT' marker"),
    ("version: 1\nmetadata: {platforms: [linux-64]}\npackage:\n- {name: a, version: '1', manager: npm, "
     "platform: linux-64, url: u, hash: {md5: x}}\n", "'package[0].manager' is invalid"),
])
def test_malformed_input_names_file_and_field(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "lock.yml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_lockfile(path)
    assert reason in str(info.value) and str(path) in str(info.value)


_META = "version: 1\nmetadata:\n  platforms: [linux-64]\n"
_ENTRY = "package:\n- name: a\n  version: '1'\n  manager: conda\n  platform: linux-64\n  url: https://x/linux-64/a-1-0.conda\n"
_SUFFIX = ". This is not a complete conda-lock file: regenerate it with conda-lock or `envlock lock`, or restore the missing fields."


# The messages come from the pydantic schema the reader falls back to; pinned word for word
# so the fast path without pydantic cannot change what the user reads.
@pytest.mark.parametrize(("text", "message"), [
    (_META + _ENTRY, "field 'package[0].hash' is missing (package 'a' for linux-64)"),
    (_META + _ENTRY + "  hash: {md5: x}\n  optional: maybe\n",
     "field 'package[0].optional' is invalid (Input should be a valid boolean, unable to interpret input) "
     "(package 'a' for linux-64)"),
    (_META + _ENTRY + "  hash: {md5: x}\n  dependencies: [b]\n",
     "field 'package[0].dependencies' is invalid (Input should be a valid dictionary) (package 'a' for linux-64)"),
    (_META + "  content_hash: abc\npackage:\n", "field 'metadata.content_hash' is invalid (Input should be a valid dictionary)"),
    ("version: 1\nmetadata:\n  platforms: [linux-64]\n  channels: [{used_env_vars: []}]\npackage:\n",
     "field 'metadata.channels[0]' is invalid (Input should be a valid string); field 'metadata.channels[0].url' is missing"),
    ("version: 1\nmetadata: {}\npackage:\n", "field 'metadata.platforms' is missing"),
])
def test_malformed_unified_message_is_unchanged(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "lock.yml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_lockfile(path)
    assert str(info.value) == f"{path}: {message}{_SUFFIX}"


@pytest.mark.parametrize(("raw", "value"), [("false", False), ("'true'", True), ("True", True), ("no", False),
                                            ("'1'", True), ("OFF", False)])
def test_optional_strings_read_as_booleans(tmp_path: Path, raw: str, value: bool) -> None:
    path = tmp_path / "lock.yml"
    path.write_text(_META + _ENTRY + f"  hash: {{md5: x}}\n  optional: {raw}\n")
    assert read_lockfile(path).packages[0].optional is value


def test_reading_well_formed_locks_does_not_import_pydantic(tmp_path: Path) -> None:
    # pydantic's import costs ~75 ms per process, and `envlock create` reads a lock each run.
    entries = [conda("python", "3.12.5", "h2ad013b_0_cpython"), pip("keras", "3.6.0")]
    files = [write_unified(tmp_path / "conda-lock.yml", entries), write_explicit(tmp_path / "linux-64.lock", entries)]
    if REALWORLD.is_dir():
        files += [rw("conda__conda-lock__tests_test-lockfile"), rw("pangeo-data__pangeo-docker-images__2021-11-23")]
    script = (
        "import sys\nfrom envlock.lockfile import read_lockfile\n"
        f"locks = [read_lockfile(p) for p in {[str(f) for f in files]!r}]\n"
        "assert all(lock.packages for lock in locks)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_missing_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read lockfile"):
        read_lockfile(tmp_path / "nope.yml")


def test_pip_helper_round_trip(tmp_path: Path) -> None:
    lock = read_lockfile(write_unified(tmp_path / "l.yml", [pip("keras", "3.6.0")]))
    assert lock.packages[0].label() == "keras 3.6.0 (pip)"


def test_digest_and_for_platform_are_stable(tmp_path: Path) -> None:
    entries = [conda("zlib", "1.3.1", platform="linux-64"), conda("zlib", "1.3.1", platform="osx-arm64")]
    a = read_lockfile(write_unified(tmp_path / "a.yml", entries))
    b = read_lockfile(write_unified(tmp_path / "b.yml", list(reversed(entries))))
    assert a.digest() == b.digest() and a.digest("linux-64") != a.digest("osx-arm64")
    assert [p.platform for p in a.for_platform("osx-arm64")] == ["osx-arm64"]


def test_envlocks_own_unified_and_explicit_locks(tmp_path: Path) -> None:
    from envlock.lockfile.explicit import explicit_text
    from envlock.lockfile.unified import dump_lock

    entries = [conda("python", "3.12.5", "h2ad013b_0_cpython"), conda("tzdata", "2024a", "h0c530f3_0",
                                                                     subdir="noarch"),
               pip("tensorflow-cpu", "2.21.0", filename="tensorflow_cpu-2.21.0-cp312-cp312-manylinux_2_27_x86_64.whl")]
    entries[2]["hash"] = {"sha256": "c" * 64}
    lock = {"version": 1, "metadata": {"content_hash": {"linux-64": "1" * 64}, "channels": [
        {"url": "conda-forge", "used_env_vars": []}], "platforms": ["linux-64"], "sources": ["x"]},
        "package": entries}
    unified_path = tmp_path / "cpu.conda-lock.yml"
    unified_path.write_bytes(dump_lock(lock))
    explicit_path = tmp_path / "linux-64.lock"
    explicit_path.write_text(explicit_text("cpu", "linux-64", lock, "2" * 64))
    a, b = read_lockfile(unified_path), read_lockfile(explicit_path)
    assert (a.format, b.format) == ("conda-lock-v1", "explicit")
    assert b.content_hash == {"linux-64": "2" * 64}
    key = {(p.manager, p.name, p.version, p.build, p.url.split("#")[0]) for p in a.packages}
    assert key == {(p.manager, p.name, p.version, p.build, p.url) for p in b.packages}
    assert {p.name: p.sha256 for p in b.packages if p.manager == "pip"} == {"tensorflow-cpu": "c" * 64}


@needs_realworld
def test_environment_files_are_refused_as_not_a_lock() -> None:
    path = next((REALWORLD / "envfiles").glob("pangeo-data__*2022-12-16*"))
    with pytest.raises(InputError, match="environment file"):
        read_lockfile(path)
