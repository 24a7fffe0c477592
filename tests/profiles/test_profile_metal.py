"""tensorflow-metal facts (tf-notes.md section 2): it does not load with TensorFlow >= 2.20, so a
Metal profile there is refused at load, the shipped macOS profile stays on 2.19, and audit calls
the pairing an error.  Also: the compatibility data says where each fact comes from."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from envlock.audit import audit_lockfile
from envlock.compat import table as compat
from envlock.core.errors import InputError
from envlock.core.project import Project
from envlock.profiles.load import load_profile, load_profile_file
from tests.lockfile.test_lockfile_factory import conda, pip, unified

REPO = Path(__file__).resolve().parents[2]


def metal_profile(tmp_path: Path, version: str, python: str = "3.11.*") -> Path:
    doc = {"name": "mac", "platforms": ["osx-arm64"], "python": python, "keras": "3.*",
           "tensorflow": {"version": version, "source": "pip", "variant": "metal"}}
    path = tmp_path / "mac.yml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize("version", ["2.20.*", "2.21.*", "2.21.0"])
def test_metal_on_tensorflow_2_20_and_later_is_refused_naming_what_works(tmp_path: Path, version: str) -> None:
    with pytest.raises(InputError) as e:
        load_profile_file(metal_profile(tmp_path, version, python="3.12.*"))
    msg = str(e.value)
    line = compat.minor_of(version)
    assert f"tensorflow-metal does not load with TensorFlow {line}" in msg
    assert "NotFoundError" in msg and "tensorflow/tensorflow PR #126" in msg  # what fails, and the source
    assert 'the newest TensorFlow it loads with is 2.19 (tensorflow-metal 1.2.*, Python <= 3.12): set tensorflow.version "2.19.*"' in msg
    assert "\n" not in msg


def test_metal_refusal_comes_from_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Take 2.20 out of metal_unsupported and put a pairing in: the same profile loads."""
    table = compat.table()
    changed = table.model_copy(update={
        "metal_unsupported": {k: v for k, v in table.metal_unsupported.items() if k != "2.20"},
        "metal_plugin": {**table.metal_plugin, "2.20": "9.9.*"},
    })
    monkeypatch.setattr(compat, "table", lambda: changed)
    assert load_profile_file(metal_profile(tmp_path, "2.20.*")).tensorflow.version == "2.20.*"


def test_metal_python_above_the_plugins_wheels_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"field 'python' 3\.13\.\*: tensorflow-metal has no wheel for Python above 3\.12"):
        load_profile_file(metal_profile(tmp_path, "2.19.*", python="3.13.*"))


def test_shipped_macos_profile_is_tensorflow_2_19_with_metal_1_2() -> None:
    project = Project.at(REPO)
    profile = load_profile(project, "macos-arm64")
    assert profile.tensorflow.version == "2.19.*" and profile.tensorflow.variant == "metal"
    assert compat.table().metal_plugin["2.19"] == "1.2.*"
    assert compat.version_key(compat.minor_of(profile.python)) <= (3, 12)


def _metal_stack(tf: str, metal: str = "1.2.0") -> list[dict]:
    plat = "osx-arm64"
    return [conda("python", "3.11.9", "h_0_cpython", plat),
            pip("tensorflow", tf, plat, f"tensorflow-{tf}-cp311-cp311-macosx_12_0_arm64.whl"),
            pip("tensorboard", ".".join(tf.split(".")[:2]) + ".0", plat),
            pip("keras", "3.12.0", plat),
            pip("tensorflow-metal", metal, plat, f"tensorflow_metal-{metal}-cp311-cp311-macosx_12_0_arm64.whl")]


@pytest.mark.parametrize("tf", ["2.20.0", "2.21.0"])
def test_audit_reports_metal_beside_tensorflow_2_20_and_later_as_an_error(tmp_path: Path, tf: str) -> None:
    findings = [f for f in audit_lockfile(unified(tmp_path, _metal_stack(tf))) if f.rule == "metal-unsupported"]
    assert [(f.severity, f.platform) for f in findings] == [("error", "osx-arm64")]
    assert "does not load with TensorFlow" in findings[0].message and "lock TensorFlow 2.19.*" in findings[0].message


def test_audit_accepts_metal_1_2_with_tensorflow_2_19(tmp_path: Path) -> None:
    findings = audit_lockfile(unified(tmp_path, _metal_stack("2.19.0")))
    assert [f for f in findings if f.rule == "metal-unsupported"] == []


def test_every_compat_fact_says_where_it_comes_from() -> None:
    """Each section of data/tensorflow.yml has a source, each release line and each broken Metal
    pairing its own."""
    raw = yaml.safe_load(compat.data_bytes())
    table = compat.table()
    sections = set(raw) - {"schema", "sources"}
    assert sections <= set(table.sources), sections - set(table.sources)
    assert all(text.strip() for text in table.sources.values())
    assert all(r.source.strip() for r in table.releases)
    assert table.metal_unsupported and all(b.source.strip() and b.error.strip() for b in table.metal_unsupported.values())
    # the broken lines and the pairings never overlap
    assert not set(table.metal_unsupported) & set(table.metal_plugin)
