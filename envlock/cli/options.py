"""The options of ``create`` and ``run``, declared once: the click commands are built from these
tables (``_common.click_options``) and so is the click-free fast path (``fastpath``).  What a
command receives is one options object (``CreateOptions``, ``RunOptions``).  Click-free."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

# "flag"; "text"; "int" (1-64); "dir"/"file": a path that must not be a file/a directory, given
# as a Path; "dir-text": as "dir", given as the string.
Kind = Literal["flag", "text", "int", "dir", "file", "dir-text"]


@dataclass(frozen=True)
class OptionSpec:
    flag: str
    dest: str
    kind: Kind
    help: str
    default: Any = None
    required: bool = False
    metavar: str | None = None


PROFILE = OptionSpec("--profile", "name", "text", "Profile name (profiles/NAME.yml).", required=True, metavar="NAME")
PREFIX = OptionSpec("--prefix", "prefix", "dir", "Environment directory [default: .envs/NAME in the project].")
PROJECT = OptionSpec("--project", "project_dir", "dir-text",
                     "Project directory holding profiles/, environment.template.yml, locks/ "
                     "[default: the nearest directory upward holding environment.template.yml].")
JSON = OptionSpec("--json", "as_json", "flag", "Print one JSON document for machines.", default=False)

CREATE: tuple[OptionSpec, ...] = (
    PROFILE, PREFIX,
    OptionSpec("--platform", "platform", "text", "Conda platform of the lock to install [default: this machine's]."),
    OptionSpec("--lock", "lock_file", "file", "Install this conda-lock file instead of the profile's lock (never re-locked)."),
    OptionSpec("--frozen", "frozen", "flag", "Never lock; fail (exit 1) if the lock is missing or stale. For CI.", default=False),
    OptionSpec("--force", "force", "flag", "Replace a prefix that exists but is not a conda environment.", default=False),
    OptionSpec("--no-verify", "no_verify", "flag", "Skip the verification run after creating.", default=False),
    OptionSpec("--reinstall", "reinstall", "flag",
               "Rebuild the environment from the lock even if it looks current: restores modified and deleted "
               "files, removes packages the lock does not have (the fix `envlock check` names).", default=False),
    OptionSpec("--full", "full", "flag",
               "With --reinstall: hash every file of the environment and of the cached packages first "
               "(catches an edit that kept its size and mtime).", default=False),
    OptionSpec("--jobs", "jobs", "int", "Parallel downloads.", default=8),
    OptionSpec("--mirror", "mirror", "text",
               "Fetch packages from this envlock mirror (file://, s3://, http(s)://) instead of the lock's URLs; "
               "hashes still checked, a missing package is an error [default: $ENVLOCK_MIRROR].", metavar="URL"),
    PROJECT, JSON,
)
RUN: tuple[OptionSpec, ...] = (PROFILE, PREFIX, PROJECT)


@dataclass(frozen=True, kw_only=True)
class CreateOptions:
    name: str
    prefix: Path | None = None
    platform: str | None = None
    lock_file: Path | None = None
    frozen: bool = False
    force: bool = False
    no_verify: bool = False
    reinstall: bool = False
    full: bool = False
    jobs: int = 8
    mirror: str | None = None
    project_dir: str | None = None
    as_json: bool = False


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    name: str
    cmd: tuple[str, ...]
    prefix: Path | None = None
    project_dir: str | None = None
