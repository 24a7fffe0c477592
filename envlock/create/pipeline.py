"""The create pipeline: resolve the lock, fast no-op, then fetch -> link -> pip -> stamp -> swap."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from envlock.core.errors import CheckFailed, InputError
from envlock.core.host import host_platform
from envlock.core.project import Project
from envlock.create.progress import LineProgress, Progress
from envlock.lock.state import LockState, file_sha256, resolve_platform
from envlock.prefix.stamp import EnvStamp, is_current, read_stamp, write_stamp
from envlock.verify.last import needs_verification


@dataclass(kw_only=True)
class CreateResult:
    """What ``create --json`` prints."""

    profile: str
    prefix: str
    platform: str
    lock: str
    action: Literal["created", "replaced", "reinstalled", "up-to-date"]
    conda_packages: int = 0
    pip_packages: int = 0
    downloaded: int = 0
    downloaded_bytes: int = 0
    cache_dir: str = ""
    linker: str = ""  # who linked the conda packages: "fast", "fast+rattler" or "rattler"
    pip_linker: str = ""  # who laid the pip packages: "uv", or "snapshot" (uv's last install, linked again)
    verification: Literal["verifier", "drift-check", "skipped"] = "skipped"
    verification_ok: bool | None = None
    verification_failures: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def ensure_lock(project: Project, name: str, state: LockState, *, frozen: bool, progress: Progress) -> Path:
    """The unified lock, locking first if ``state`` says it is missing or stale (never with --frozen)."""
    path = project.unified_lock_path(name)
    if state.state == "fresh":
        return path
    if frozen:
        raise CheckFailed(f"{path}: the lock is {state.state} ({state.reason}) and --frozen never solves. Run "
                          f"`envlock lock --profile {name}` and commit the lock, or drop --frozen.")
    from envlock.lock.orchestrate import lock_profile

    progress.info(f"lock for {name} is {state.state} ({state.reason}); locking first")
    lock_profile(project, name, progress=progress.info)
    return path


FAULT_ENV = "ENVLOCK_TEST_FAULT"


def _fault(point: str) -> None:
    """Test hook: ``ENVLOCK_TEST_FAULT=kill@link`` SIGKILLs this process after linking,
    ``term@link`` SIGTERMs it, ``sleep@locked`` holds the prefix lock for a second."""
    spec = os.environ.get(FAULT_ENV)
    if not spec or "@" not in spec:
        return
    action, where = spec.split("@", 1)
    if where != point:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "term":
        os.kill(os.getpid(), signal.SIGTERM)
    elif action == "sleep":
        time.sleep(1.5)


def _is_environment(prefix: Path) -> bool:
    return (prefix / "conda-meta").is_dir()


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (CI cancellation) unwinds like Ctrl-C, so the staging directory is removed."""
    def handler(signum, frame):  # noqa: ANN001, ANN202
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def create_environment(
    project: Project, name: str, *, prefix: Path | None = None, platform: str | None = None,
    frozen: bool = False, force: bool = False, verify: bool = True, progress: Progress | None = None,
    jobs: int = 8, lock_file: Path | None = None, reinstall: bool = False, full: bool = False,
) -> CreateResult:
    """``reinstall``: rebuild even an environment that says it is current (its files may have
    drifted), distrusting the package caches' copies of what drifted (``repair``); ``full``:
    hash every file of the old environment and of the cached packages first."""
    from envlock.lock.state import lock_facts

    progress = progress or LineProgress(quiet=True)
    t0 = time.perf_counter()
    times: dict[str, float] = {}
    facts = lock_facts(project, name, use_lock_record=lock_file is None)
    env_vars, profile = facts.env_vars, facts.profile
    plat = resolve_platform(facts.platforms, platform, project.profile_path(name))
    if lock_file is not None:  # an explicit lock file: used as is, never re-locked
        lock_path = Path(lock_file).absolute()
        if not lock_path.is_file():
            raise InputError(f"{lock_path}: --lock names no file.")
    else:
        lock_path = ensure_lock(project, name, facts.state, frozen=frozen, progress=progress)
    target = project.prefix(name, prefix)
    lock_sha = file_sha256(lock_path)
    base = dict(profile=name, prefix=str(target), platform=plat, lock=str(lock_path))

    # fast path: the environment says it was built from exactly this lock, and nothing was installed since
    current = read_stamp(target)
    if not reinstall and is_current(target, current, lock_file_sha256=lock_sha, platform=plat, env_vars=env_vars):
        result = CreateResult(**base, action="up-to-date", seconds=times)
        if verify and current is not None and plat == host_platform() and needs_verification(target, current.lock_digest):
            reverify(project, profile, name, target, result, progress)  # its last verification failed or never ran
        times["total"] = time.perf_counter() - t0
        return result

    if os.path.lexists(target) and not _is_environment(target):
        if target.is_dir() and not any(target.iterdir()):
            pass
        elif not force:
            raise InputError(f"{target}: exists and is not a conda environment (no conda-meta/); refusing to replace it. "
                             "Choose another --prefix, or pass --force to replace it.")

    from envlock.create import cache
    from envlock.lock.state import read_platform_lock
    from envlock.prefix.atomic import new_staging, prefix_guard, recover, remove_tree, swap_in

    lock = read_platform_lock(lock_path, plat, name)
    pkgs = lock.for_platform(plat)
    digest = lock.digest(plat)
    conda_pkgs = [p for p in pkgs if p.manager == "conda"]
    pip_pkgs = [p for p in pkgs if p.manager == "pip"]
    if pip_pkgs and plat != host_platform():
        raise InputError(f"{lock_path}: {len(pip_pkgs)} pip packages for {plat} cannot be installed from a {host_platform()} "
                         f"machine (uv runs the environment's own python). Create this environment on a {plat} machine.")
    stamp = None if reinstall else read_stamp(target)
    if stamp and stamp.lock_digest == digest and is_current(
            target, stamp, lock_file_sha256=stamp.lock_file_sha256, platform=plat, env_vars=env_vars):
        # the lock file changed elsewhere (another platform, metadata) but not for this platform
        write_stamp(target, replace(stamp, lock_file_sha256=lock_sha))
        result = CreateResult(**base, action="up-to-date", seconds=times)
        if verify and plat == host_platform() and needs_verification(target, digest):
            reverify(project, profile, name, target, result, progress)
        times["total"] = time.perf_counter() - t0
        return result

    root = cache.cache_root()
    result = CreateResult(**base, action="created", conda_packages=len(conda_pkgs), pip_packages=len(pip_pkgs),
                          cache_dir=str(root))

    def waiting() -> None:  # shown even with --json (stderr): a silent hang would look like a bug
        sys.stderr.write(f"{target}: another envlock create is running on this prefix; waiting for it\n")
        sys.stderr.flush()

    with _sigterm_as_interrupt(), prefix_guard(target, on_wait=waiting):
        recover(target)
        cache.prune_partials(root)
        _fault("locked")
        if not reinstall and is_current(target, read_stamp(target), lock_file_sha256=lock_sha, platform=plat,
                                        env_vars=env_vars):
            times["total"] = time.perf_counter() - t0  # a concurrent run just built it
            return replace(result, action="up-to-date", seconds=times)
        replaced = os.path.lexists(target)
        modified: dict[str, set[str]] = {}
        if reinstall:
            t = time.perf_counter()
            from envlock.create import repair

            modified = repair.modified_files(repair.old_environment_drift(target, plat, pkgs, full=full))
            evicted_names = repair.distrust_conda_cache(conda_pkgs, cache.pkgs_dir(root), modified, full=full)
            if evicted_names:
                progress.info(f"package cache: extracted copies of {', '.join(sorted(evicted_names))} differ from "
                              "their archives; extracting them again")
            times["distrust"] = time.perf_counter() - t
        staging = new_staging(target)
        try:
            t = time.perf_counter()
            progress.start("download", len(conda_pkgs))

            def counted(pkg, downloaded: bool, size: int) -> None:  # noqa: ANN001
                if downloaded:
                    result.downloaded += 1
                    result.downloaded_bytes += size

            def fetched(pkg, downloaded: bool, size: int) -> None:  # noqa: ANN001
                counted(pkg, downloaded, size)
                progress.advance("download")

            def evicted(names: list[str]) -> None:
                progress.info(f"package cache: extracted copies of {', '.join(sorted(names))} were modified "
                              "(an in-place edit through a hard link?); extracting them again from the verified archives")

            from envlock.create.link.prepare import PreparedArchives
            from envlock.create.link.rattler import link_packages

            # archive checks that linking need not wait for run in the background (counted, not shown)
            with PreparedArchives(root, conda_pkgs, plat, jobs=jobs, on_done=fetched, on_checked=counted) as prepared:
                progress.finish("download", f"{result.downloaded} downloaded, {len(conda_pkgs) - result.downloaded} from cache")
                times["fetch"] = time.perf_counter() - t

                t = time.perf_counter()
                progress.start("link", len(conda_pkgs))
                result.linker = link_packages(prepared, staging, target, cache.pkgs_dir(root), plat,
                                              on_linked=lambda _n: progress.advance("link"), on_evicted=evicted)
            progress.finish("link", f"{len(conda_pkgs)} conda packages")
            times["link"] = time.perf_counter() - t
            _fault("link")

            if pip_pkgs:
                t = time.perf_counter()
                progress.start("pip", len(pip_pkgs))
                from envlock.core.uv import uv_executable
                from envlock.create import pip_snapshot
                from envlock.create.pip_install import install_wheels
                from envlock.prefix.activation import python_of

                snap_key = pip_snapshot.key(pip_pkgs, conda_pkgs, target, uv_executable())
                snap = None if reinstall else pip_snapshot.load(root, snap_key)
                if snap is not None:
                    pip_snapshot.link(root, snap_key, snap, staging)
                    result.pip_linker = "snapshot"
                else:
                    before = pip_snapshot.dist_infos(staging)
                    install_wheels(pip_pkgs, python_of(staging), staging, target)
                    if modified:
                        from envlock.create.repair import pip_packages_to_repair

                        damaged = pip_packages_to_repair(staging, pip_pkgs, modified)
                        if damaged:
                            progress.info(f"uv's cache: {', '.join(p.name for p in damaged)} were modified through a "
                                          "hard link; installing them again")
                            install_wheels(damaged, python_of(staging), staging, target, refresh=True)
                    uv_cache = pip_snapshot.uv_cache_dir(uv_executable())
                    if uv_cache is not None:
                        pip_snapshot.record(root, snap_key, staging, before, uv_cache)
                    result.pip_linker = "uv"
                progress.finish("pip", f"{len(pip_pkgs)} wheels ({result.pip_linker}, --no-deps, hashes)")
                times["pip"] = time.perf_counter() - t

            prepared.wait_checks()  # a tampered or missing archive fails the create here, before the swap

            from envlock.prefix.activation import write_env_vars
            from envlock.prefix.startup_hook import write_hook

            write_env_vars(staging, env_vars)
            write_hook(staging, env_vars)  # the same variables for interpreter starts without activation
            write_stamp(staging, EnvStamp(profile=name, platform=plat, lock_path=str(lock_path),
                                          lock_file_sha256=lock_sha, lock_digest=digest, env_vars=env_vars))
            t = time.perf_counter()
            old = swap_in(staging, target)
        except BaseException:
            remove_tree(staging)
            raise
        if old is not None:
            remove_tree(old)
        times["swap"] = time.perf_counter() - t
    result.action = ("reinstalled" if reinstall else "replaced") if replaced else "created"

    if verify:
        t = time.perf_counter()
        if profile is None:
            from envlock.profiles.load import load_profile

            profile = load_profile(project, name)
        run_verification(project, profile, target, plat, pkgs, env_vars, result, progress)
        times["verify"] = time.perf_counter() - t
    times["total"] = time.perf_counter() - t0
    result.seconds = {k: round(v, 4) for k, v in times.items()}
    return result


def run_verification(project, profile, prefix, plat, pkgs, env_vars, result, progress) -> None:  # noqa: ANN001
    """The drift check (cheap: proves the prefix is exactly the lock), then the verifier
    (``envlock.verify.verify_environment``: imports TensorFlow, checks Keras/CUDA/CPU, benchmarks)."""
    from envlock.prefix.drift import check_prefix

    report = check_prefix(prefix, plat, pkgs, env_vars=env_vars)
    result.verification, result.verification_ok = "drift-check", report.clean
    progress.info(report.summary())
    if not report.clean:
        raise CheckFailed(f"{prefix}: created, but it does not match its lock: {report.summary()}; run `envlock check`.")
    if plat != host_platform():
        return
    _verifier(project, profile, prefix, result, progress, "created (and matches its lock)")


class VerificationFailed(CheckFailed):
    """The environment exists but its verification failed; ``result`` is what ``--json`` prints."""

    def __init__(self, message: str, result: CreateResult) -> None:
        super().__init__(message)
        self.result = result


def reverify(project: Project, profile, name: str, prefix: Path, result: CreateResult, progress: Progress) -> None:  # noqa: ANN001
    """An up-to-date environment whose last verification failed (or never ran) is verified again:
    a retried CI job must not turn a failed verification into "up to date"."""
    if profile is None:
        from envlock.profiles.load import load_profile

        profile = load_profile(project, name)
    progress.info(f"{prefix}: up to date with its lock, but its last verification did not pass; verifying again")
    t = time.perf_counter()
    try:
        _verifier(project, profile, prefix, result, progress, "up to date with its lock")
    finally:
        result.seconds["verify"] = round(time.perf_counter() - t, 4)


def _verifier(project: Project, profile, prefix: Path, result: CreateResult, progress: Progress, state: str) -> None:  # noqa: ANN001
    from envlock.verify import verify_environment

    outcome = verify_environment(project, profile, prefix, bench=True, record=True)
    ok = outcome.ok and bool(outcome.checks)
    result.verification, result.verification_ok = "verifier", ok
    result.verification_failures = [f"{c.name}: {c.message or c.actual}" for c in outcome.failed]
    if not ok:
        lines = "; ".join(result.verification_failures[:5]) or "see the report"
        raise VerificationFailed(f"{prefix}: {state}, but verification failed — {lines}. "
                                 f"Details: `envlock verify --profile {profile.name}`; after a fix, "
                                 f"`envlock create --profile {profile.name}` verifies again.", result)
    progress.info(f"verified: {len(outcome.checks)} checks passed")
