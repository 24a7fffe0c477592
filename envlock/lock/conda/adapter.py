"""The small part of conda's CLI that conda-lock calls, answered with py-rattler.

conda-lock runs ``<exe> --version``, ``<exe> create --prefix P --dry-run --json
--override-channels --channel URL ... SPECS`` (``install``/``update`` for ``--update`` against
a fake prefix holding ``conda-meta/*.json``), ``<exe> list -p P --json`` and sometimes
``<exe> info --json``, with ``CONDA_SUBDIR`` naming the target platform.  It reads
``actions.FETCH`` (name, version, url, md5, sha256, depends).  Virtual packages arrive as one
more local channel whose packages are all ``__*``; rattler wants them as virtual packages.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlparse

from envlock.lock.conda.solve_client import FAKE_VERSION, is_version_query

ERROR_FILE_VAR = "ENVLOCK_SOLVER_ERROR_FILE"
# A JSON file {platform: [{"name", "version", "build"}, ...]}: the packages of the lock being
# replaced, which a ``create`` solve prefers (keeps) unless the specs force them to move.
PREFER_FILE_VAR = "ENVLOCK_SOLVER_PREFER_FILE"
# A file each solve appends one JSON line to: pid, command, platform, start and end (time.time()).
TRACE_FILE_VAR = "ENVLOCK_SOLVER_TRACE"


def _parse(argv: list[str]) -> tuple[str, dict[str, object], list[str]]:
    cmd, rest = argv[0], argv[1:]
    opts: dict[str, object] = {"channels": []}
    specs: list[str] = []
    i = 0
    while i < len(rest):
        a = rest[i]
        if a in ("-c", "--channel"):
            opts["channels"].append(rest[i + 1])  # type: ignore[union-attr]
            i += 2
        elif a in ("-p", "--prefix", "-n", "--name"):
            opts["prefix"] = rest[i + 1]
            i += 2
        elif a.startswith("-"):
            opts[a.lstrip("-")] = True
            i += 1
        else:
            specs.append(a)
            i += 1
    return cmd, opts, specs


# conda-lock writes its virtual-package channel into a temporary directory of this name
VIRTUAL_CHANNEL_PREFIX = "conda-lock-fake-repodata-"


def _local_repodata(url: str, subdir: str) -> list[dict] | None:
    """Packages of conda-lock's virtual-package channel, or None for any other channel: a
    local mirror's repodata.json can hold hundreds of thousands of records, which rattler
    reads itself; parsing it here only to learn it is not virtual cost seconds per solve."""
    if not url.startswith("file://"):
        return None
    root = Path(unquote(urlparse(url).path))
    if not root.name.startswith(VIRTUAL_CHANNEL_PREFIX):
        return None
    records: list[dict] = []
    for sd in (subdir, "noarch"):
        f = root / sd / "repodata.json"
        if f.is_file():
            data = json.loads(f.read_text())
            records += list((data.get("packages") or {}).values()) + list((data.get("packages.conda") or {}).values())
    return records


def _split_channels(urls: list[str], subdir: str) -> tuple[list[str], list]:
    """(real channels, virtual packages): a local channel holding only __* packages is virtual."""
    import rattler

    channels: list[str] = []
    virtual: list = []
    for url in urls:
        recs = _local_repodata(url, subdir)
        if recs and all(r["name"].startswith("__") for r in recs):
            for r in recs:
                virtual.append(rattler.GenericVirtualPackage(
                    rattler.PackageName(r["name"]), rattler.Version(str(r["version"])),
                    rattler.BuildString(str(r.get("build", "0"))),
                ))
        else:
            channels.append(url)
    return channels, virtual


def _action(rec) -> dict:  # rec: rattler.RepoDataRecord
    url = str(rec.url)
    return {
        "name": rec.name.normalized,
        "version": str(rec.version),
        "build": str(rec.build),
        "build_number": rec.build_number,
        "channel": str(rec.channel) if rec.channel else url.rsplit("/", 2)[0],
        "subdir": rec.subdir,
        "fn": rec.file_name,
        "url": url,
        "md5": rec.md5.hex() if rec.md5 else "",
        "sha256": rec.sha256.hex() if rec.sha256 else None,
        "depends": list(rec.depends),
        "constrains": list(rec.constrains),
    }


def _installed(prefix: str | None) -> list[dict]:
    if not prefix:
        return []
    meta = Path(prefix) / "conda-meta"
    return [json.loads(p.read_text()) for p in sorted(meta.glob("*.json"))] if meta.is_dir() else []


async def _locked_records(gateway, channels: list[str], platform: str, installed: list[dict]) -> list:
    """RepoDataRecords for ``installed`` (name, version, build): the fake prefix's packages
    for --update, or the previous lock's for a re-solve.  ``gateway``: the solve's own, so
    the channel's repodata is read once."""
    import rattler

    if not installed:
        return []
    wanted = {(d["name"], str(d["version"]), d["build"]) for d in installed}
    found = await gateway.query(
        [rattler.Channel(c) for c in channels], [platform, "noarch"], [d["name"] for d in installed], recursive=False
    )
    return [r for per_channel in found for r in per_channel
            if (r.name.normalized, str(r.version), str(r.build)) in wanted]


def _preferred(platform: str, environ: Mapping[str, str]) -> list[dict]:
    path = environ.get(PREFER_FILE_VAR)
    if not path:
        return []
    return list(json.loads(Path(path).read_text()).get(platform, []))


async def _solve(cmd: str, opts: dict, specs: list[str], environ: Mapping[str, str], gateway=None) -> dict:
    """conda's dry-run answer; ``gateway``: a rattler.Gateway shared with earlier solves
    (the solve server's), or None for a fresh one."""
    import rattler

    gateway = gateway or rattler.Gateway()
    platform = environ.get("CONDA_SUBDIR") or str(rattler.Subdir.current())
    channels, virtual = _split_channels(list(opts["channels"]), platform)
    installed = _installed(opts.get("prefix")) if cmd in ("install", "update") else []
    if installed:
        locked = await _locked_records(gateway, channels, platform, installed)
        updating = {rattler.MatchSpec(s).name.normalized for s in specs}
        keep = [r for r in locked if r.name.normalized not in updating]
        all_specs = specs + [r.name.normalized for r in keep]
    else:
        # A fresh solve that prefers what the previous lock held: rattler keeps a locked
        # record unless the specs rule it out, so editing one spec moves only what it must.
        preferred = _preferred(platform, environ)
        keep = await _locked_records(gateway, channels, platform, preferred) if preferred else []
        all_specs = specs
    records = await rattler.solve(
        sources=[rattler.Channel(c) for c in channels], specs=all_specs, gateway=gateway,
        platforms=[platform, "noarch"], virtual_packages=virtual, locked_packages=keep,
    )
    before = {(d["name"], str(d["version"]), d["build"]) for d in installed}
    actions = [_action(r) for r in records]
    changed = [a for a in actions if (a["name"], a["version"], a["build"]) not in before]
    return {"success": True, "dry_run": True, "prefix": opts.get("prefix"),
            "actions": {"FETCH": changed, "LINK": changed}}


def _fail(message: str, environ: Mapping[str, str]) -> tuple[int, str]:
    path = environ.get(ERROR_FILE_VAR)
    if path:
        Path(path).write_text(message)
    return 1, json.dumps({"success": False, "message": message, "error": message})


async def answer(argv: list[str], environ: Mapping[str, str], gateway=None) -> tuple[int, str]:
    """(exit code, stdout) of conda for ``argv`` with ``environ`` as its environment."""
    if is_version_query(argv):
        return 0, FAKE_VERSION
    cmd, opts, specs = _parse(argv)
    if cmd == "list":
        return 0, json.dumps(_installed(opts.get("prefix")))
    if cmd in ("info", "config"):
        return 0, json.dumps({"pkgs_dirs": [], "package cache": []})
    if cmd not in ("create", "install", "update"):
        return _fail(f"envlock's solver adapter does not implement '{cmd}'", environ)
    start = time.time()
    try:
        result = await _solve(cmd, opts, specs, environ, gateway)
    except Exception as exc:  # the solver's own explanation goes back to conda-lock verbatim
        return _fail(str(exc).strip() or type(exc).__name__, environ)
    finally:
        _trace(environ, cmd, start)
    return 0, json.dumps(result)


def _trace(environ: Mapping[str, str], cmd: str, start: float) -> None:
    path = environ.get(TRACE_FILE_VAR)
    if path:
        line = {"pid": os.getpid(), "cmd": cmd, "platform": environ.get("CONDA_SUBDIR"), "start": start, "end": time.time()}
        with open(path, "a") as f:
            f.write(json.dumps(line) + "\n")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    code, out = asyncio.run(answer(argv, os.environ))
    print(out)
    return code


def run() -> None:
    """Entry point: exit without interpreter finalization.  py-rattler's tokio worker threads
    can touch Python objects while the interpreter is being torn down (seen here as rare
    SIGSEGVs in tokio-rt-worker after the answer was printed); the answer is complete by then."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
