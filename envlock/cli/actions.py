"""What ``envlock create`` and ``envlock run`` do once their arguments are parsed, free of
click: their click commands and the fast path (``fastpath``) both call these."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from envlock import records
from envlock.cli._support import handles_errors, open_project, print_json, request_fast_exit
from envlock.errors import InputError


@handles_errors
def create(name: str, prefix: Path | None, platform: str | None, lock_file: Path | None, frozen: bool, force: bool,
           no_verify: bool, jobs: int, project_dir: str, as_json: bool, reinstall: bool = False,
           full: bool = False, mirror: str | None = None) -> None:
    """Create (or update) the profile's environment from its lock; one line of summary, or
    (``as_json``) the summary object — also when it fails (``ok`` false, the error)."""
    from envlock.create.core import create_environment
    from envlock.create.progress import make_progress

    if full and not reinstall:
        raise InputError("--full works with --reinstall (it decides how much of the old environment and the "
                         "package caches is hashed before a rebuild); add --reinstall or drop --full.")
    from envlock.create.core import VerificationFailed

    if mirror:  # the download layer reads it (envlock.fleet.mirror_urls), as it reads ENVLOCK_MIRROR from CI
        os.environ["ENVLOCK_MIRROR"] = mirror
    try:
        project = open_project(project_dir)
        progress = make_progress(quiet=as_json)
        try:
            result = create_environment(project, name, prefix=prefix, platform=platform, frozen=frozen, force=force,
                                        verify=not no_verify, progress=progress, jobs=jobs,
                                        lock_file=lock_file, reinstall=reinstall, full=full)
        finally:
            progress.close()
    except (Exception, KeyboardInterrupt) as exc:
        if not as_json:
            raise
        from envlock.cli.json_answer import answer_error

        context = records.to_dict(exc.result) if isinstance(exc, VerificationFailed) else {"profile": name, "action": "failed"}
        answer_error(exc, **context)
    request_fast_exit()
    if as_json:
        print_json({"ok": True, **records.to_dict(result)})
        return
    total = result.seconds.get("total", 0.0)
    # plain lines (no rich markup to render, and rich's import is a tenth of a no-op create)
    if result.action == "up-to-date":
        line = f"{result.prefix}: up to date with {result.lock} ({total:.2f} s)"
    else:
        line = (f"{result.prefix}: {result.action} — {result.conda_packages} conda + {result.pip_packages} pip "
                f"packages, {result.downloaded} downloaded ({total:.1f} s)")
    sys.stdout.write(line + "\n")


def target_prefix(project_dir: str, name: str, prefix: Path | None) -> Path:
    """The profile's environment (``--prefix`` or the project's default), which must exist."""
    if prefix is None:  # an explicit --prefix needs no project
        project = open_project(project_dir)
        project.require_profile(name)
    target = (Path(prefix) if prefix else project.default_prefix(name)).absolute()
    if not (target / "conda-meta").is_dir():
        raise InputError(f"{target}: is not a conda environment (no conda-meta/). Create it first with "
                         f"`envlock create --profile {name}" + (f" --prefix {prefix}" if prefix else "") + "`.")
    return target


@handles_errors
def run(name: str, prefix: Path | None, project_dir: str, cmd: Sequence[str]) -> None:
    """Replace this process with ``cmd`` run inside the environment (Windows: run it, exit with
    its code)."""
    import shutil

    from envlock.activation import activated_environ

    target = target_prefix(project_dir, name, prefix)
    env = activated_environ(target)
    exe = shutil.which(cmd[0], path=env["PATH"]) if os.sep not in cmd[0] else cmd[0]
    if exe is None:
        raise InputError(f"{cmd[0]}: command not found in the environment {target} or on PATH.")
    sys.stdout.flush()
    sys.stderr.flush()
    if sys.platform == "win32":
        import subprocess

        raise SystemExit(subprocess.call([exe, *cmd[1:]], env=env))
    os.execve(exe, [cmd[0], *cmd[1:]], env)
