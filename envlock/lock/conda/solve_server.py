"""One warm solver process for all of a lock's conda solves.

conda-lock runs its conda executable once per platform; each run would start Python, import
py-rattler and read the channel's repodata again.  ``solve_conda`` starts this server before
it imports conda-lock: the server loads the repodata the specs reach into one
``rattler.Gateway`` while conda-lock imports, then answers every call of the launcher
(``conda_lock_run._LAUNCHER``) through the adapter's own ``answer`` with that gateway, so each
platform's solve reads what is already in memory and the two platforms share noarch.

Protocol, over a Unix socket: the launcher sends one JSON line ``{"argv": [...], "env":
{...}}`` and reads one JSON line ``{"rc": int, "stdout": str}`` (``solve_client.py``).  Any failure to get that
answer (no server, a crash) makes the launcher run the adapter itself, as without a server.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

READY = b"ready\n"
_LIMIT = 1 << 28


def _names(specs: list[str]) -> list[str]:
    """Package names of the conda specs (one that does not parse is the solve's to report)."""
    import rattler

    names = []
    for s in specs:
        try:
            name = rattler.MatchSpec(s).name
        except Exception:  # noqa: BLE001 - any parse error: nothing to warm for this spec
            continue
        if name is not None and not name.normalized.startswith("__"):
            names.append(name.normalized)
    return names


async def _warm(gateway, channels: list[str], platforms: list[str], specs: list[str]) -> None:
    """Load every record the specs can reach, for all platforms at once."""
    import rattler

    names = _names(specs)
    if channels and names:
        await gateway.query([rattler.Channel(c) for c in channels], [*platforms, "noarch"], names, recursive=True)


async def serve(socket_path: str, channels: list[str], platforms: list[str], specs: list[str]) -> None:
    import rattler

    from envlock.lock.conda.adapter import answer

    gateway = rattler.Gateway()
    warming = asyncio.ensure_future(_warm(gateway, channels, platforms, specs))
    warming.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved: no warning

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = json.loads(await reader.readline())
            await asyncio.wait([warming])  # a failed warm-up is the solve's to report
            code, out = await answer(list(request["argv"]), dict(request["env"]), gateway)
            writer.write(json.dumps({"rc": code, "stdout": out}).encode() + b"\n")
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_unix_server(handle, path=socket_path, limit=_LIMIT)
    sys.stdout.buffer.write(READY)
    sys.stdout.flush()
    async with server:
        # the parent closes our stdin when the lock is done (or dies, which closes it too)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)


def main() -> None:
    socket_path, warm_file = sys.argv[1], Path(sys.argv[2])
    warm = json.loads(warm_file.read_text())
    asyncio.run(serve(socket_path, warm["channels"], warm["platforms"], warm["specs"]))
    sys.stdout.flush()
    os._exit(0)  # as the adapter: py-rattler's tokio threads can crash interpreter finalization


if __name__ == "__main__":
    main()
