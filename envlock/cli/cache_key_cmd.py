"""``envlock cache-key``: a stable CI cache key from the lock content of one platform."""

from __future__ import annotations

import click

from envlock.cli._common import (
    handles_errors,
    json_option,
    open_project,
    print_json,
    profile_option,
    project_option,
)

KEY_VERSION = "v1"


@click.command("cache-key")
@profile_option
@click.option("--platform", default=None, help="Conda platform [default: this machine's].")
@project_option
@json_option
@handles_errors
def command(name: str, platform: str | None, project_dir: str, as_json: bool) -> None:
    """Print envlock-v1-<profile>-<platform>-<hash>, e.g. envlock-v1-cpu-linux-64-756a5f4d3b28a153e92bc705fa8eb767
    (<hash>: 32 hex digits of what the lock installs on that platform). It changes exactly when
    those packages change; use it as is to key the package cache (ENVLOCK_CACHE_DIR) in CI."""
    from envlock.core.host import host_platform
    from envlock.create.cache import cache_root
    from envlock.lock.state import read_platform_lock

    project = open_project(project_dir)
    project.require_profile(name)
    plat = platform or host_platform()
    path = project.unified_lock_path(name)
    lock = read_platform_lock(path, plat, name)
    key = f"envlock-{KEY_VERSION}-{name}-{plat}-{lock.digest(plat)[:32]}"
    if as_json:
        print_json({"key": key, "profile": name, "platform": plat, "lock": str(path), "cache_dir": str(cache_root())})
    else:
        click.echo(key)
