"""Loading a profile file: schema validation with field-named errors, then the compatibility rules."""

from __future__ import annotations

import difflib
from pathlib import Path

from pydantic import BaseModel, ValidationError

from envlock.core.errors import InputError
from envlock.core.messages import one_line
from envlock.core.project import Project
from envlock.profiles.model import Profile
from envlock.profiles.rules import check_compatibility
from envlock.profiles.template import read_mapping


def _explain(path: Path, exc: ValidationError, model: type[BaseModel]) -> InputError:
    lines = []
    for err in exc.errors(include_url=False, include_input=False)[:10]:
        loc = one_line(".".join(str(p) for p in err["loc"]) or "(top level)", 80)
        if err["type"] == "extra_forbidden":
            field = str(err["loc"][-1])
            known = _field_names(model, err["loc"][:-1])
            close = difflib.get_close_matches(field, known, n=1)
            fix = f"did you mean '{close[0]}'?" if close else f"known fields here: {', '.join(known)}"
            lines.append(f"field '{loc}' is not a profile field ({fix})")
        elif err["type"] == "missing":
            lines.append(f"field '{loc}' is required")
        else:
            lines.append(f"field '{loc}': {one_line(err['msg'], 200)}")
    return InputError(f"{path}: invalid profile — " + "; ".join(lines) + ". Fix these fields and run again.")


def _field_names(model: type[BaseModel], loc: tuple) -> list[str]:
    for part in loc:
        info = model.model_fields.get(str(part))
        ann = getattr(info, "annotation", None)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
        else:
            return []
    return list(model.model_fields)


def load_profile(project: Project, name: str) -> Profile:
    path = project.require_profile(name)
    return load_profile_file(path)


def load_profile_file(path: Path) -> Profile:
    data = read_mapping(path, "profile")
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        raise _explain(path, exc, Profile) from None
    if profile.name != path.stem:
        raise InputError(
            f"{path}: field 'name' is '{one_line(profile.name, 60)}' but the file is {path.name}; "
            f"a profile's name must equal its file's stem — set name: {path.stem} or rename the file."
        )
    problems = check_compatibility(profile)
    if problems:
        raise InputError(f"{path}: impossible combination — " + "; ".join(problems) + ".")
    return profile
