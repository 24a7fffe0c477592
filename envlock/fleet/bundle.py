"""``envlock pack`` / ``envlock unpack``: one archive that creates an environment with no network.

A bundle is an uncompressed tar (its conda archives and wheels are compressed already)::

    envlock-bundle.json          profile, platforms, the lock's sha256, every file's hash
    project/                     the profile, the template and the lock, byte for byte
    mirror/                      a mirror of exactly the lock's packages (see envlock.fleet)

``unpack`` extracts it (under the package cache, ``bundles/<hash>``, where the archives stay
as the cache's local channel), and runs the ordinary create pipeline with the lock frozen and
the bundle's mirror as ``ENVLOCK_MIRROR``: every archive and wheel is checked against the
lock's hash, and a package the bundle lacks is an error, never a download.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from envlock.core.digests import hash_file
from envlock.core.errors import CheckFailed, InputError
from envlock.core.project import Project

MANIFEST = "envlock-bundle.json"
FORMAT = 1


@dataclass(kw_only=True)
class PackResult:
    bundle: str
    profile: str
    platforms: list[str]
    packages: int
    archives_bytes: int  # the sum of the packages' archives and wheels
    bundle_bytes: int
    seconds: float


def _project_files(project: Project, name: str) -> list[Path]:
    """The profile, the template and the lock files, relative to the project root."""
    lock = project.unified_lock_path(name)
    if not lock.is_file():
        raise InputError(f"{lock}: no lock for profile {name}; run `envlock lock --profile {name}` first.")
    files = [project.require_profile(name), project.template_path, lock]
    lock_dir = project.locks_dir / name
    if lock_dir.is_dir():
        files += sorted(p for p in lock_dir.rglob("*") if p.is_file())
    return [p.relative_to(project.root) for p in files]


def pack(project: Project, name: str, output: Path, *, platform: str | None = None, jobs: int = 8) -> PackResult:
    from envlock.fleet.mirror import locked_packages, mirror_packages
    from envlock.fleet.store import FileStore

    t0 = time.perf_counter()
    packages = locked_packages(project, [name], platform)
    output = output.absolute()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".envlock-pack-", dir=output.parent) as tmp:
        staging = Path(tmp)
        mirrored = mirror_packages(packages, FileStore(staging / "mirror"), jobs=jobs)
        for rel in _project_files(project, name):
            dest = staging / "project" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(project.root / rel, dest)
        files = {p.relative_to(staging).as_posix(): hash_file(p)
                 for p in sorted(staging.rglob("*")) if p.is_file()}
        manifest = {"format": FORMAT, "profile": name, "platforms": mirrored.platforms,
                    "lock_sha256": files[f"project/{project.unified_lock_path(name).relative_to(project.root).as_posix()}"],
                    "files": files}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        part = output.with_name(f".{output.name}.part{os.getpid()}")
        try:
            with tarfile.open(part, "w", format=tarfile.PAX_FORMAT) as tar:
                tar.add(staging / MANIFEST, MANIFEST)
                for rel in files:
                    tar.add(staging / rel, rel, recursive=False)
            os.replace(part, output)
        finally:
            part.unlink(missing_ok=True)
    return PackResult(bundle=str(output), profile=name, platforms=mirrored.platforms, packages=mirrored.packages,
                      archives_bytes=mirrored.uploaded_bytes, bundle_bytes=output.stat().st_size,
                      seconds=round(time.perf_counter() - t0, 3))


def _read_manifest(bundle: Path, tar: tarfile.TarFile) -> dict:
    try:
        member = tar.getmember(MANIFEST)
        data = json.loads(tar.extractfile(member).read())  # type: ignore[union-attr]
        assert data["format"] == FORMAT and isinstance(data["files"], dict) and isinstance(data["profile"], str)
    except (KeyError, ValueError, AssertionError, AttributeError, TypeError):
        raise InputError(f"{bundle}: not an envlock bundle (no readable {MANIFEST}); make one with "
                         "`envlock pack --profile P -o FILE`.") from None
    return data


def extract(bundle: Path, dest_root: Path) -> tuple[Path, dict]:
    """The bundle extracted (once per bundle content) and its manifest; every file is checked
    against the manifest's hash, and nothing outside the manifest is extracted."""
    if not bundle.is_file():
        raise InputError(f"{bundle}: no such bundle file; pass the file `envlock pack -o` wrote.")
    try:
        tar = tarfile.open(bundle, "r:")  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, OSError) as exc:
        raise InputError(f"{bundle}: not a readable bundle ({exc}); pass the file `envlock pack -o` wrote.") from None
    with tar:
        manifest = _read_manifest(bundle, tar)
        dest = dest_root / "bundles" / manifest["lock_sha256"][:16]
        staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=_mkdir(dest_root / "bundles")))
        try:
            members = [m for m in tar.getmembers() if m.name in manifest["files"]]
            missing = sorted(set(manifest["files"]) - {m.name for m in members})
            if missing:
                raise CheckFailed(f"{bundle}: the bundle lacks {len(missing)} file(s) its manifest lists "
                                  f"({', '.join(missing[:3])}); it is truncated or damaged. Pack it again.")
            for m in members:
                if not m.isfile():
                    raise InputError(f"{bundle}: {m.name} is not a regular file; this is not a bundle envlock wrote.")
                tar.extract(m, staging, filter="data")
                got = hash_file(staging / m.name)
                if got != manifest["files"][m.name]:
                    raise CheckFailed(f"{bundle}: {m.name} fails its sha256 check (manifest {manifest['files'][m.name]}, "
                                      f"bundle {got}); the bundle was changed or damaged. Pack it again.")
            if dest.exists():
                shutil.rmtree(dest)
            os.replace(staging, dest)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return dest, manifest


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def unpack(bundle: Path, *, prefix: Path | None = None, platform: str | None = None, verify: bool = False,
           jobs: int = 8, progress=None):  # noqa: ANN001, ANN201 - a Progress; a CreateResult
    """Create the bundle's environment at ``prefix`` (default ``.envs/<profile>`` here) offline."""
    from envlock.create import cache
    from envlock.create.mirror_source import MIRROR_ENV
    from envlock.create.pipeline import create_environment

    dest, manifest = extract(bundle.absolute(), cache.cache_root())
    name = manifest["profile"]
    target = (prefix or Path(".envs") / name).absolute()
    saved = os.environ.get(MIRROR_ENV)
    os.environ[MIRROR_ENV] = (dest / "mirror").as_uri()
    try:
        return create_environment(Project(dest / "project"), name, prefix=target, platform=platform, frozen=True,
                                  verify=verify, progress=progress, jobs=jobs)
    finally:
        if saved is None:
            os.environ.pop(MIRROR_ENV, None)
        else:
            os.environ[MIRROR_ENV] = saved
