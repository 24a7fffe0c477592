"""Where a project's files live: profiles/, environment.template.yml, locks/, .envs/.

A project is the nearest directory, from the current one upward, that holds
``environment.template.yml`` (like git's ``.git``): every lock needs the template, so it is
what marks a project.  ``--project DIR`` names one explicitly instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from envlock.core.errors import InputError

TEMPLATE_NAME = "environment.template.yml"
PROFILE_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True)
class Project:
    root: Path

    @classmethod
    def at(cls, root: str | Path) -> Project:
        """The project ``--project`` names, as given."""
        path = Path(root).resolve()
        if not path.is_dir():
            raise InputError(f"{path}: --project must be a directory holding profiles/ and {TEMPLATE_NAME}.")
        return cls(path)

    @classmethod
    def open(cls, project_dir: str | Path | None) -> Project:
        """``--project DIR`` as given; without it, the nearest directory upward holding the template."""
        return cls.at(project_dir) if project_dir else cls.find()

    @classmethod
    def find(cls, start: str | Path | None = None) -> Project:
        """The nearest directory from ``start`` (default: the current one) upward that holds
        the template."""
        here = Path(start or ".").resolve()
        for candidate in (here, *here.parents):
            if (candidate / TEMPLATE_NAME).is_file():
                return cls(candidate)
        raise InputError(
            f"{here}: not inside an envlock project (looked for {TEMPLATE_NAME} here and in every "
            f"directory above). Run envlock inside a project, or pass --project DIR naming the "
            f"directory that holds {TEMPLATE_NAME} and profiles/."
        )

    @property
    def profiles_dir(self) -> Path:
        return self.root / "profiles"

    @property
    def template_path(self) -> Path:
        return self.root / TEMPLATE_NAME

    @property
    def locks_dir(self) -> Path:
        return self.root / "locks"

    @property
    def envs_dir(self) -> Path:
        return self.root / ".envs"

    def profile_path(self, name: str) -> Path:
        """``profiles/NAME.yml`` or ``profiles/NAME.yaml``, whichever exists (``.yml`` when
        neither does).  Both existing is an error: which one is the profile?"""
        found = [p for p in self.profile_candidates(name) if p.is_file()]
        if len(found) > 1:
            raise InputError(
                f"{found[0]}: profile '{name}' is defined twice ({found[0].name} and {found[1].name}); "
                f"delete or rename one of them."
            )
        return found[0] if found else self.profiles_dir / f"{name}{PROFILE_SUFFIXES[0]}"

    def profile_candidates(self, name: str) -> list[Path]:
        return [self.profiles_dir / f"{name}{suffix}" for suffix in PROFILE_SUFFIXES]

    def profile_names(self) -> list[str]:
        """Every profile stem in profiles/ (once, even when two files share it)."""
        if not self.profiles_dir.is_dir():
            return []
        return sorted({p.stem for p in self.profiles_dir.iterdir()
                       if p.suffix in PROFILE_SUFFIXES and not p.name.startswith(".")})

    def unified_lock_path(self, name: str) -> Path:
        """conda-lock's unified v1 file holding every platform of the profile."""
        return self.locks_dir / f"{name}.conda-lock.yml"

    def platform_lock_path(self, name: str, platform: str) -> Path:
        """Explicit per-platform file, usable by conda/micromamba alone."""
        return self.locks_dir / name / f"{platform}.lock"

    def lock_meta_path(self, name: str) -> Path:
        """envlock's record of what a lock was computed from (for --check)."""
        return self.locks_dir / name / "envlock-meta.json"

    def default_prefix(self, name: str) -> Path:
        return self.envs_dir / name

    def prefix(self, name: str, given: str | Path | None = None) -> Path:
        """The environment of profile ``name``: ``given`` (``--prefix``) or ``.envs/<name>``, absolute."""
        return (Path(given) if given else self.default_prefix(name)).absolute()

    def require_profile(self, name: str) -> Path:
        path = self.profile_path(name)
        if not path.is_file():
            known = ", ".join(self.profile_names()) or "none"
            raise InputError(
                f"{path}: no profile named '{name}' in {self.profiles_dir} (profiles here: {known}). "
                f"Create profiles/{name}.yml or pass one of the names above to --profile."
            )
        return path
