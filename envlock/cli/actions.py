"""What ``envlock create`` and ``envlock run`` do once their arguments are parsed, free of
click: their click commands and the fast path (``fastpath``) both call these."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from envlock.cli._support import err, handles_errors, open_project, print_json, request_fast_exit
from envlock.cli.options import CreateOptions, RunOptions
from envlock.core import records
from envlock.core.errors import InputError


@handles_errors
def create(opts: CreateOptions) -> None:
    """Create (or update) the profile's environment from its lock; one line of summary, or
    (``as_json``) the summary object — also when it fails (``ok`` false, the error)."""
    from envlock.create.pipeline import create_environment
    from envlock.create.progress import make_progress

    if opts.full and not opts.reinstall:
        raise InputError("--full works with --reinstall (it decides how much of the old environment and the "
                         "package caches is hashed before a rebuild); add --reinstall or drop --full.")
    from envlock.create.pipeline import VerificationFailed

    if opts.mirror:  # the download layer reads it (create.mirror_source), as it reads ENVLOCK_MIRROR from CI
        os.environ["ENVLOCK_MIRROR"] = opts.mirror

    try:
        project = open_project(opts.project_dir)
        progress = make_progress(lambda: err.console, quiet=opts.as_json)
        try:
            result = create_environment(project, opts.name, prefix=opts.prefix, platform=opts.platform,
                                        frozen=opts.frozen, force=opts.force, verify=not opts.no_verify,
                                        progress=progress, jobs=opts.jobs, lock_file=opts.lock_file,
                                        reinstall=opts.reinstall, full=opts.full)
        finally:
            progress.close()
    except (Exception, KeyboardInterrupt) as exc:
        if not opts.as_json:
            raise
        from envlock.cli.json_answer import answer_error

        context = records.to_dict(exc.result) if isinstance(exc, VerificationFailed) else {"profile": opts.name, "action": "failed"}
        answer_error(exc, **context)
    request_fast_exit()
    if opts.as_json:
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
        target = project.prefix(name)
    else:
        target = prefix.absolute()
    if not (target / "conda-meta").is_dir():
        raise InputError(f"{target}: is not a conda environment (no conda-meta/). Create it first with "
                         f"`envlock create --profile {name}" + (f" --prefix {prefix}" if prefix else "") + "`.")
    return target


@handles_errors
def run(opts: RunOptions) -> None:
    """Replace this process with ``cmd`` run inside the environment (Windows: run it, exit with
    its code)."""
    import shutil

    from envlock.prefix.activation import activated_environ

    target = target_prefix(opts.project_dir, opts.name, opts.prefix)
    env = activated_environ(target)
    cmd = opts.cmd
    exe = shutil.which(cmd[0], path=env["PATH"]) if os.sep not in cmd[0] else cmd[0]
    if exe is None:
        raise InputError(f"{cmd[0]}: command not found in the environment {target} or on PATH.")
    sys.stdout.flush()
    sys.stderr.flush()
    if sys.platform == "win32":
        import subprocess

        raise SystemExit(subprocess.call([exe, *cmd[1:]], env=env))
    os.execve(exe, [cmd[0], *cmd[1:]], env)
