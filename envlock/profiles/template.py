"""``environment.template.yml``, the shared base of every profile: read and checked field by
field, so a wrong type is one line naming the field, not an exception from deeper down."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from envlock.core.errors import InputError
from envlock.core.messages import one_line
from envlock.core.project import Project
from envlock.core.yaml_load import load_yaml_file

# A template or profile is a few hundred bytes; these bounds only stop hostile input.
INPUT_MAX_BYTES = 1024 * 1024
INPUT_MAX_VALUES = 100_000


@dataclass(frozen=True)
class Template:
    channels: list[str]
    conda: list[str]  # conda specs from dependencies
    pip: list[str]    # specs from the dependencies' pip: list
    variables: dict[str, str]


def read_mapping(path: Path, what: str) -> dict:
    """A profile's or the template's YAML, which must be a mapping (InputError otherwise)."""
    data = load_yaml_file(path, what=what, max_bytes=INPUT_MAX_BYTES, max_values=INPUT_MAX_VALUES)
    if not isinstance(data, dict):
        raise InputError(f"{path}: a {what} must be a YAML mapping of fields, not {kind(data)}.")
    return data


def kind(value: object) -> str:
    """What a YAML value is, in words for a message."""
    return "empty" if value is None else f"a {type(value).__name__}"


def spec_problem(spec: object) -> str | None:
    """Why ``spec`` cannot be a package spec (None: it can)."""
    if not isinstance(spec, str):
        return f"{one_line(repr(spec), 60)} is not a spec string"
    if not spec.strip():
        return "an empty spec"
    if any(c in spec for c in "\n\r\x00"):
        return f"'{one_line(spec, 60)}' spans more than one line"
    return None


def _spec_list(path: Path, field: str, value: object) -> list[str]:
    if not isinstance(value, list):
        raise InputError(f"{path}: field '{field}' must be a list of spec strings, not {kind(value)}.")
    for i, spec in enumerate(value):
        if problem := spec_problem(spec):
            raise InputError(f"{path}: field '{field}[{i}]' is {problem}; write a spec like \"numpy>=1.26\".")
    return list(value)


def load_template(project: Project) -> Template:
    path = project.template_path
    if not path.is_file():
        raise InputError(f"{path}: the shared template is missing. Create a plain environment.yml there (channels + dependencies).")
    data = read_mapping(path, "environment template")
    channels = data.get("channels") or []
    if not isinstance(channels, list) or not all(isinstance(c, str) and c.strip() and spec_problem(c) is None for c in channels):
        raise InputError(f"{path}: field 'channels' must be a list of channel names or URLs, "
                         f"e.g. [conda-forge]; got {one_line(repr(channels), 80)}.")
    deps = data.get("dependencies") or []
    if not isinstance(deps, list):
        raise InputError(f"{path}: field 'dependencies' must be a list of specs, not {kind(deps)}.")
    conda: list[str] = []
    pip: list[str] = []
    for i, dep in enumerate(deps):
        if isinstance(dep, dict) and list(dep) == ["pip"]:
            pip += _spec_list(path, f"dependencies[{i}].pip", dep["pip"])
        elif (problem := spec_problem(dep)) is None:
            conda.append(dep)
        else:
            raise InputError(f"{path}: field 'dependencies[{i}]' is {problem}; "
                             "write a spec string or a 'pip:' list of specs.")
    variables = data.get("variables") or {}
    if not isinstance(variables, dict):
        raise InputError(f"{path}: field 'variables' must be a mapping of NAME: \"value\", not {kind(variables)}.")
    for key, value in variables.items():
        if not isinstance(key, str) or not isinstance(value, str) or spec_problem(key) or "\n" in value:
            raise InputError(f"{path}: field 'variables.{one_line(key, 60)}' must be a one-line string; "
                             f"quote it, e.g. {one_line(key, 60)}: \"{one_line(value, 40)}\".")
    return Template(channels=list(channels), conda=conda, pip=pip, variables=dict(variables))
