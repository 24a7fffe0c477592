"""Profile schema, compatibility rules from the data file, overlay on the template, and the
TensorFlow spec derivation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from envlock.compat import table as compat
from envlock.core.errors import InputError
from envlock.core.project import Project
from envlock.profiles.load import load_profile, load_profile_file
from envlock.profiles.render import render, tensorflow_specs

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, doc: dict | str, name: str = "p") -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    return path


def base(**over: object) -> dict:
    doc = {"name": "p", "platforms": ["linux-64"], "python": "3.11.*",
           "tensorflow": {"version": "2.21.*", "source": "pip", "variant": "cpu"}, "keras": "3.*"}
    doc.update(over)
    return doc


@pytest.mark.parametrize("name", ["cpu-avx512", "cuda12", "macos-arm64", "cuda12-conda", "legacy-keras2"])
def test_shipped_profiles_load_and_render(name: str) -> None:
    project = Project.at(REPO)
    profile = load_profile(project, name)
    spec = render(project, profile)
    assert spec.platforms == profile.platforms
    assert any(s.startswith("python ") for s in spec.conda_specs)


def test_shipped_profiles_target_newest_tensorflow_of_their_route() -> None:
    """Newest of the route: conda-forge's for conda, PyPI's for pip, and for Metal the newest
    line a released tensorflow-metal loads with (2.19: tf-notes.md section 2)."""
    project = Project.at(REPO)
    table = compat.table()
    newest_conda = max((r.line for r in table.releases if r.conda_forge), key=compat.version_key)
    for name in project.profile_names():
        p = load_profile(project, name)
        if p.tensorflow.variant == "metal":
            expected = table.newest_metal_line()
        else:
            expected = newest_conda if p.tensorflow.source == "conda" else table.newest().line
        assert compat.minor_of(p.tensorflow.version) == expected, name
    assert table.newest_metal_line() == "2.19"


def test_misspelled_field_names_field_and_suggests(tmp_path: Path) -> None:
    doc = base()
    doc["tensorflw"] = doc.pop("tensorflow")
    with pytest.raises(InputError) as e:
        load_profile_file(write(tmp_path, doc))
    msg = str(e.value)
    assert "p.yml" in msg and "'tensorflw'" in msg and "did you mean 'tensorflow'" in msg
    assert "'tensorflow' is required" in msg


def test_not_yaml(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"p\.yml: is not valid YAML at line"):
        load_profile_file(write(tmp_path, "name: [p\nplatforms: linux-64\n"))


def test_unknown_platform_suggests(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unknown platform 'linux64' \(did you mean 'linux-64'\?\)"):
        load_profile_file(write(tmp_path, base(platforms=["linux64"])))


def test_version_fields_need_a_version(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"field 'keras': .*'latest' is not a version spec"):
        load_profile_file(write(tmp_path, base(keras="latest")))


def test_name_must_equal_stem(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="field 'name' is 'other'.*set name: p"):
        load_profile_file(write(tmp_path, base(name="other")))


@pytest.mark.parametrize(("over", "needle"), [
    ({"keras": "3.*", "tensorflow": {"version": "2.15.*", "source": "pip", "variant": "cpu"}}, "tf.keras is Keras 2 up to TensorFlow 2.15"),
    ({"python": "3.9.*"}, "Python 3.10–3.13"),
    ({"platforms": ["osx-arm64"], "tensorflow": {"version": "2.21.*", "source": "pip", "variant": "cuda"}}, "cuda TensorFlow exists only for linux-64"),
    ({"tensorflow": {"version": "2.21.*", "source": "conda", "variant": "cpu"}}, "conda-forge has no TensorFlow 2.21"),
    ({"tensorflow": {"version": "2.9.*", "source": "pip", "variant": "cpu"}}, "not a TensorFlow line envlock knows"),
    ({"platforms": ["osx-arm64"], "tensorflow": {"version": "2.12.*", "source": "pip", "variant": "cpu"}, "keras": "2.*"}, "no macOS arm64 wheel"),
    ({"keras": "3.5.*"}, "older than TensorFlow 2.21 requires (keras >=3.12.0)"),
    ({"tensorflow": {"version": "2.19.*", "source": "conda", "variant": "cuda"}, "python": "3.12.*"}, "virtual_packages.linux-64.__cuda' is required"),
    ({"tensorflow": {"version": "2.13.*", "source": "pip", "variant": "cuda"}, "keras": "2.*"}, "tensorflow[and-cuda] exists from 2.14"),
])
def test_impossible_combinations_rejected_with_reason(tmp_path: Path, over: dict, needle: str) -> None:
    with pytest.raises(InputError) as e:
        load_profile_file(write(tmp_path, base(**over)))
    assert needle in str(e.value)
    assert "p.yml: impossible combination" in str(e.value)


def test_compatible_combinations_accepted(tmp_path: Path) -> None:
    load_profile_file(write(tmp_path, base(keras="2.*")))  # tf-keras route
    load_profile_file(write(tmp_path, base(keras="3.12.*")))
    load_profile_file(write(tmp_path, base(python="3.9.*", keras="2.*", tensorflow={"version": "2.15.*", "source": "pip", "variant": "cpu"})))


@pytest.mark.parametrize(("tf", "platform", "conda", "pip"), [
    ({"version": "2.21.*", "source": "pip", "variant": "cpu"}, "linux-64", [], ["tensorflow-cpu==2.21.*", "keras==3.*"]),
    ({"version": "2.21.*", "source": "pip", "variant": "cpu"}, "osx-arm64", [], ["tensorflow==2.21.*", "keras==3.*"]),
    ({"version": "2.21.0", "source": "pip", "variant": "cuda"}, "linux-64", [], ["tensorflow[and-cuda]==2.21.0", "keras==3.*"]),
    ({"version": "2.19.*", "source": "pip", "variant": "metal"}, "osx-arm64", [], ["tensorflow==2.19.*", "tensorflow-metal==1.2.*", "keras==3.*"]),
    ({"version": "2.17", "source": "pip", "variant": "cpu"}, "linux-64", [], ["tensorflow-cpu==2.17.*", "keras==3.*"]),
    ({"version": "2.19", "source": "conda", "variant": "cpu"}, "linux-64", ["tensorflow 2.19.* cpu*", "keras 3.*"], []),
    ({"version": "2.19.*", "source": "conda", "variant": "cuda"}, "linux-64", ["tensorflow 2.19.* cuda*", "cuda-version 12.*", "keras 3.*"], []),
    ({"version": "2.19.*", "source": "conda", "variant": "cpu"}, "linux-64", ["tensorflow 2.19.* cpu*", "keras 3.*"], []),
])
def test_tensorflow_spec_derivation(tmp_path: Path, tf: dict, platform: str, conda: list, pip: list) -> None:
    vp = {platform: {"__cuda": "12.8"}} if tf["variant"] == "cuda" else {}
    python = "3.12.*" if tf["source"] == "conda" else "3.11.*"
    profile = load_profile_file(write(tmp_path, base(platforms=[platform], tensorflow=tf, virtual_packages=vp, python=python)))
    assert tensorflow_specs(profile, platform) == (conda, pip)


def test_legacy_keras_adds_tf_keras_and_activation_variable(tmp_path: Path) -> None:
    profile = load_profile_file(write(tmp_path, base(keras="2.*")))
    assert tensorflow_specs(profile, "linux-64") == ([], ["tensorflow-cpu==2.21.*", "tf-keras==2.21.*"])
    assert profile.activation_vars == {"TF_USE_LEGACY_KERAS": "1"}
    old = load_profile_file(write(tmp_path, base(keras="2.*", python="3.11.*", tensorflow={"version": "2.15.*", "source": "pip", "variant": "cpu"})))
    assert old.activation_vars == {}  # Keras 2 is tf.keras there; no tf-keras needed
    assert tensorflow_specs(old, "linux-64") == ([], ["tensorflow-cpu==2.15.*"])


def test_overlay_replaces_channels_python_and_appends(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "profiles").mkdir(parents=True)
    (root / "environment.template.yml").write_text(yaml.safe_dump({
        "channels": ["conda-forge", "nodefaults"],
        "dependencies": ["python 3.10.*", "pip", "h5py", {"pip": ["rich"]}],
        "variables": {"TF_CPP_MIN_LOG_LEVEL": "2"},
    }))
    doc = base(channels=["https://example.invalid/mirror"], conda=["scipy"], pip=["pandas>=2"], keras="2.*")
    (root / "profiles" / "p.yml").write_text(yaml.safe_dump(doc))
    project = Project.at(root)
    spec = render(project, load_profile(project, "p"))
    assert spec.channels == ["https://example.invalid/mirror"]
    assert spec.conda_specs == ["pip", "h5py", "python 3.11.*", "scipy"]
    assert spec.pip_specs == {"linux-64": ["rich", "tensorflow-cpu==2.21.*", "tf-keras==2.21.*", "pandas>=2"]}
    assert spec.env_vars == {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_USE_LEGACY_KERAS": "1"}
    # tf-keras requires `tensorflow`; tensorflow-cpu provides it (compat data: pip_provides)
    assert spec.pip_excludes == {"linux-64": ["tensorflow"]}
    # Without profile channels the template's are kept.
    doc.pop("channels")
    (root / "profiles" / "p.yml").write_text(yaml.safe_dump(doc))
    assert render(project, load_profile(project, "p")).channels == ["conda-forge", "nodefaults"]


def test_compat_table_matches_reference_csv() -> None:
    """Every TensorFlow version in the reference matrix is in the data file, with the same
    Keras major and Python range."""
    import csv
    import re

    csv_path = REPO.parent / "shared" / "reference" / "tf-matrix.csv"
    if not csv_path.is_file():
        pytest.skip("../shared/reference not beside the project")
    table = compat.table()
    for row in csv.DictReader(csv_path.open()):
        rel = table.release(row["tf_version"])
        assert rel is not None and row["tf_version"] in rel.versions, row["tf_version"]
        assert f"Keras {rel.keras.major}" in row["keras_default"]
        lo, hi = re.search(r"docs (\d\.\d+)-(\d\.\d+)", row["python_versions"]).groups()
        assert (rel.python.min, rel.python.max) == (lo, hi), row["tf_version"]
        assert row["cuda"].startswith(rel.cuda) and row["cudnn"].startswith(rel.cudnn), row["tf_version"]
