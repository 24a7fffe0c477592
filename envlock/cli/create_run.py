"""What ``envlock create`` does once its arguments are parsed, free of click: the click command
(``create_cmd``) and the fast path (``fastpath``) both run ``create``."""

from __future__ import annotations

import sys
from pathlib import Path

from envlock import records
from envlock.cli._support import handles_errors, open_project, print_json, request_fast_exit


@handles_errors
def create(name: str, prefix: Path | None, platform: str | None, lock_file: Path | None, frozen: bool, force: bool,
           no_verify: bool, jobs: int, project_dir: str, as_json: bool) -> None:
    from envlock.create.core import create_environment
    from envlock.create.progress import make_progress

    project = open_project(project_dir)
    progress = make_progress(quiet=as_json)
    try:
        result = create_environment(project, name, prefix=prefix, platform=platform, frozen=frozen, force=force,
                                    verify=not no_verify, progress=progress, jobs=jobs,
                                    lock_file=lock_file)
    finally:
        progress.close()
    request_fast_exit()
    if as_json:
        print_json(records.to_dict(result))
        return
    total = result.seconds.get("total", 0.0)
    # plain lines (no rich markup to render, and rich's import is a tenth of a no-op create)
    if result.action == "up-to-date":
        line = f"{result.prefix}: up to date with {result.lock} ({total:.2f} s)"
    else:
        line = (f"{result.prefix}: {result.action} — {result.conda_packages} conda + {result.pip_packages} pip "
                f"packages, {result.downloaded} downloaded ({total:.1f} s)")
    sys.stdout.write(line + "\n")
