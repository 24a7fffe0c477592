"""Where a project's files live: profiles/, environment.template.yml, locks/, .envs/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from envlock.errors import InputError

TEMPLATE_NAME = "environment.template.yml"


@dataclass(frozen=True)
class Project:
    root: Path

    @classmethod
    def at(cls, root: str | Path | None) -> Project:
        path = Path(root or ".").resolve()
        if not path.is_dir():
            raise InputError(f"{path}: --project must be a directory holding profiles/ and {TEMPLATE_NAME}.")
        return cls(path)

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
        return self.profiles_dir / f"{name}.yml"

    def profile_names(self) -> list[str]:
        if not self.profiles_dir.is_dir():
            return []
        return sorted(p.stem for p in self.profiles_dir.glob("*.yml"))

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

    def require_profile(self, name: str) -> Path:
        path = self.profile_path(name)
        if not path.is_file():
            known = ", ".join(self.profile_names()) or "none"
            raise InputError(
                f"{path}: no profile named '{name}' in {self.profiles_dir} (profiles here: {known}). "
                f"Create profiles/{name}.yml or pass one of the names above to --profile."
            )
        return path
