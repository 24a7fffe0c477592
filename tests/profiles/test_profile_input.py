"""Hostile or broken profiles and templates (the fuzz findings of issue 11 point 13, and the
input handling of point 7): every one is a one-line InputError naming the file, the field and
the fix, never a traceback or a hang."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from envlock.core.errors import InputError
from envlock.core.project import Project
from envlock.core.yaml_load import load_yaml
from envlock.profiles.load import load_profile, load_profile_file
from envlock.profiles.render import render

PROFILE = {"name": "p", "platforms": ["linux-64"], "python": "3.11.*", "keras": "3.*",
           "tensorflow": {"version": "2.21.*", "source": "pip", "variant": "cpu"}}
TEMPLATE = {"channels": ["conda-forge"], "dependencies": ["python 3.11.*", "pip"]}


def project(tmp_path: Path, template: str | bytes | dict | None = None, profile: str | bytes | dict | None = None,
            suffix: str = ".yml") -> Project:
    root = tmp_path / "proj"
    (root / "profiles").mkdir(parents=True)
    for path, doc, default in ((root / "environment.template.yml", template, TEMPLATE),
                               (root / "profiles" / f"p{suffix}", profile, PROFILE)):
        doc = default if doc is None else doc
        if isinstance(doc, dict):
            doc = yaml.safe_dump(doc)
        path.write_bytes(doc if isinstance(doc, bytes) else doc.encode())
    return Project.at(root)


def rejected(tmp_path: Path, **files: object) -> str:
    proj = project(tmp_path, **files)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    with pytest.raises(InputError) as e:
        render(proj, load_profile(proj, "p"))
    assert time.perf_counter() - t0 < 2.0
    msg = str(e.value)
    assert "\n" not in msg and "\r" not in msg, msg
    assert "<unicode string>" not in msg, msg
    return msg


def alias_bomb(levels: int = 12, fan_out: int = 9) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan_out) + "]" for i in range(1, levels)]
    return "\n".join(lines)


# --- the profile ------------------------------------------------------------------------------

def test_profile_not_utf8(tmp_path: Path) -> None:
    msg = rejected(tmp_path, profile=b"name: p\ndescription: caf\xe9\n")
    assert "p.yml: is not UTF-8 text (byte 0xe9 at offset 24); save this profile as UTF-8" in msg


@pytest.mark.parametrize(("text", "needle"), [
    ("name: p\nstarted: !!timestamp 2024-99-99\n", "month must be in 1..12"),
    ("name: p\ncount: !!int 0x\n", "invalid literal for int()"),
    ("name: p\nflag: !!bool\n", "KeyError: ''"),
    ("name: p\nwhen: !!timestamp 99999-01-01\n", "AttributeError"),
    ("name: p\nbig: " + "9" * 5000 + "\n", "Exceeds the limit"),
])
def test_profile_tag_with_an_impossible_value(tmp_path: Path, text: str, needle: str) -> None:
    msg = rejected(tmp_path, profile=text)
    assert "p.yml: holds a value YAML cannot read (" in msg and needle in msg and "fix or quote that value" in msg


def test_profile_syntax_error_is_one_line_with_line_and_column(tmp_path: Path) -> None:
    msg = rejected(tmp_path, profile="name: [p\nplatforms: linux-64\n")
    assert "p.yml: is not valid YAML at line 2, column" in msg and "fix the syntax of this profile" in msg


def test_profile_control_character(tmp_path: Path) -> None:
    msg = rejected(tmp_path, profile="name: p\x00\n")
    assert "p.yml: is not valid YAML at character 7 (character #x0000" in msg


def test_profile_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    doc = yaml.safe_dump(PROFILE) + "x-bomb: &b\n" + "\n".join("  " + line for line in alias_bomb().splitlines())
    msg = rejected(tmp_path, profile=doc)
    assert "p.yml: holds more than 100,000 values (counting each use of a YAML alias)" in msg


def test_profile_recursive_alias(tmp_path: Path) -> None:
    assert "a value contains itself" in rejected(tmp_path, profile="name: &n [p, *n]\n")


def test_profile_keys_with_newlines_stay_on_one_line(tmp_path: Path) -> None:
    doc = {**PROFILE, "bad\nkey\r\n": 1, "python": "3.11.*\nrm -rf /"}
    msg = rejected(tmp_path, profile=yaml.safe_dump(doc))
    assert r"field 'bad\nkey\r\n' is not a profile field" in msg
    assert "field 'python': Value error, is '3.11.*\\nrm -rf /' spans more than one line" in msg


@pytest.mark.parametrize(("field", "value", "needle"), [
    ("pip", ["ok", ""], "field 'pip.1': Value error, is an empty spec"),
    ("conda", [None], "field 'conda.0': Input should be a valid string"),
    ("channels", [None], "field 'channels.0': Input should be a valid string"),
    ("channels", 9, "field 'channels': Input should be a valid list"),
])
def test_profile_field_types(tmp_path: Path, field: str, value: object, needle: str) -> None:
    assert needle in rejected(tmp_path, profile={**PROFILE, field: value})


def test_huge_profile_is_refused_before_parsing(tmp_path: Path) -> None:
    msg = rejected(tmp_path, profile=yaml.safe_dump(PROFILE) + "#" * (2 * 1024 * 1024))
    assert "p.yml: is 1,048,577 bytes, more than the 1,048,576 a profile may have" in msg


# --- the template -----------------------------------------------------------------------------

@pytest.mark.parametrize(("template", "needle"), [
    ({"channels": [None]}, "field 'channels' must be a list of channel names or URLs, e.g. [conda-forge]; got [None]"),
    ({"channels": 9}, "field 'channels' must be a list of channel names or URLs"),
    ({"channels": ["conda-forge"], "dependencies": [{"pip": None}]}, "field 'dependencies[0].pip' must be a list of spec strings, not empty"),
    ({"channels": ["conda-forge"], "dependencies": ["pip", {"pip": [None]}]}, "field 'dependencies[1].pip[0]' is None is not a spec string"),
    ({"channels": ["conda-forge"], "dependencies": [5]}, "field 'dependencies[0]' is 5 is not a spec string"),
    ({"channels": ["conda-forge"], "dependencies": "python"}, "field 'dependencies' must be a list of specs, not a str"),
    ({"channels": ["conda-forge"], "variables": {"LEVEL": 2}}, "field 'variables.LEVEL' must be a one-line string; quote it"),
    ({"channels": ["conda-forge"], "variables": ["X"]}, "field 'variables' must be a mapping"),
    ("- just\n- a list\n", "a environment template must be a YAML mapping of fields, not a list"),
])
def test_template_field_errors(tmp_path: Path, template: object, needle: str) -> None:
    msg = rejected(tmp_path, template=template)
    assert "environment.template.yml: " in msg and needle in msg, msg


def test_template_not_utf8_and_alias_bomb(tmp_path: Path) -> None:
    assert "is not UTF-8 text" in rejected(tmp_path, template=b"channels: [\xff]\n")
    bomb = "x: &b\n" + "\n".join("  " + line for line in alias_bomb().splitlines()) + "\nchannels: *b\n"
    assert "values (counting each use of a YAML alias)" in rejected(tmp_path / "2", template=bomb)


def test_template_pip_list_reaches_every_platform(tmp_path: Path) -> None:
    proj = project(tmp_path, template={"channels": ["c"], "dependencies": ["pip", {"pip": ["rich"]}],
                                       "variables": {"A": "1"}})
    spec = render(proj, load_profile(proj, "p"))
    assert spec.pip_specs["linux-64"][0] == "rich" and spec.env_vars == {"A": "1"}


# --- .yaml profiles and bare versions -----------------------------------------------------------

def test_yaml_suffix_profile_loads(tmp_path: Path) -> None:
    proj = project(tmp_path, suffix=".yaml")
    assert proj.profile_names() == ["p"]
    assert proj.profile_path("p").name == "p.yaml"
    assert load_profile(proj, "p").name == "p"


def test_two_files_for_one_profile_is_an_error(tmp_path: Path) -> None:
    proj = project(tmp_path)
    (proj.profiles_dir / "p.yaml").write_text(yaml.safe_dump(PROFILE))
    assert proj.profile_names() == ["p"]
    with pytest.raises(InputError, match=r"profile 'p' is defined twice \(p\.yml and p\.yaml\); delete or rename one"):
        load_profile(proj, "p")


@pytest.mark.parametrize("source", ["conda", "pip"])
def test_bare_minor_version_means_the_whole_line(tmp_path: Path, source: str) -> None:
    doc = {**PROFILE, "python": "3.12.*", "tensorflow": {"version": "2.19", "source": source, "variant": "cpu"}}
    (tmp_path / "p.yml").write_text(yaml.safe_dump(doc))
    assert load_profile_file(tmp_path / "p.yml").tensorflow.version == "2.19.*"


# --- the loader others call -------------------------------------------------------------------

def test_load_yaml_limits_are_parameters() -> None:
    # values: the mapping, its key, the list and its three items
    assert load_yaml("a: [1, 2, 3]", "x.yml", max_values=6) == {"a": [1, 2, 3]}
    with pytest.raises(InputError, match=r"x\.yml: holds more than 5 values \(counting each use of a YAML alias\)"):
        load_yaml("a: [1, 2, 3]", "x.yml", max_values=5)
    with pytest.raises(InputError, match=r"x\.yml: values are nested more than 3 levels deep"):
        load_yaml("a: [[[[1]]]]", "x.yml", max_depth=3)
    with pytest.raises(InputError, match=r"x\.yml: is 12 bytes, more than the 11 a lockfile may have"):
        load_yaml(b"a: [1, 2, 3]", "x.yml", what="lockfile", max_bytes=11)


def test_load_yaml_keeps_legitimate_aliases() -> None:
    doc = load_yaml("base: &b {k: v}\nuse: *b\nmerged: {<<: *b, j: w}\n", "x.yml")
    assert doc == {"base": {"k": "v"}, "use": {"k": "v"}, "merged": {"k": "v", "j": "w"}}


def test_load_yaml_alias_bomb_is_fast() -> None:
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="holds more than 2,000,000 values"):
        load_yaml(alias_bomb(levels=30), "bomb.yml")
    assert time.perf_counter() - t0 < 1.0
