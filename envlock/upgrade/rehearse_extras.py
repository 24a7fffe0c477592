"""The parts of a rehearsal around the model runs: which environments the two sides are
(profiles — created when they have none yet — or bare prefixes, with their variables), the lock diff between two profiles, and
the static code scan (``envlock.upgrade.scan``, when this build has it)."""

from __future__ import annotations

from pathlib import Path

from envlock.core.errors import InputError
from envlock.core.project import Project
from envlock.upgrade.rehearse_run import Side


def parse_env(pairs: list[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key or not key.replace("_", "a").isalnum():
            raise InputError(f"{option} {pair!r}: expected KEY=VALUE (e.g. TF_USE_LEGACY_KERAS=1).")
        out[key] = value
    return out


def resolve_side(label: str, option: str, project: Project | None, profile_name: str | None, prefix: str | None,
                 env_pairs: list[str]) -> Side:
    """A profile (its created environment, or ``prefix``) with its activation variables, or a bare prefix."""
    extra = parse_env(env_pairs, f"--{option}-env")
    if profile_name is None and prefix is None:
        raise InputError(f"--{option}: give a profile name or --{option}-prefix DIR (a conda environment or venv).")
    env_vars: dict[str, str] = {}
    where: Path
    if profile_name is not None:
        from envlock.profiles.load import load_profile

        assert project is not None
        profile = load_profile(project, profile_name)
        env_vars.update(profile.activation_vars)
        where = project.prefix(profile.name, prefix)
        if not where.is_dir():
            _create(project, profile.name, where)
    else:
        where = Path(prefix or "")
        if not where.is_dir():
            raise InputError(f"{where}: --{option}-prefix: no such directory; pass a conda environment or venv.")
    env_vars.update(extra)
    if not (where / "bin" / "python").exists() and not (where / "python.exe").exists():
        raise InputError(f"{where}: --{option}-prefix: no Python interpreter in it (bin/python); pass a conda environment or venv.")
    return Side(label=label, prefix=where.absolute(), env_vars=env_vars, profile=profile_name)


def _create(project: Project, name: str, prefix: Path) -> None:
    """A side's profile has no environment yet: create it from its lock (locking first when the
    lock is missing or stale), as ``envlock create`` does; verification is ``envlock verify``'s."""
    import sys

    from envlock.create.pipeline import create_environment
    from envlock.create.progress import LineProgress

    sys.stderr.write(f"{prefix}: profile {name} has no environment there; creating it\n")
    create_environment(project, name, prefix=prefix, verify=False, progress=LineProgress())


def lock_diff(project: Project | None, old: Side, new: Side) -> tuple[dict | None, str | None]:
    """The lock diff when both sides are profiles with a unified lock; else why not."""
    if project is None or not (old.profile and new.profile):
        return None, "no lock diff: both sides must be profiles (--from/--to) with locks"
    paths = [project.unified_lock_path(p) for p in (old.profile, new.profile)]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        return None, f"no lock diff: {', '.join(missing)} missing (run `envlock lock`)"
    from envlock.audit.diff import diff_lockfiles
    from envlock.lockfile import read_lockfile

    return diff_lockfiles(read_lockfile(paths[0]), read_lockfile(paths[1])).model_dump(), None


def _minor(versions: dict | None) -> str | None:
    tf = (versions or {}).get("tensorflow")
    return ".".join(str(tf).split(".")[:2]) if tf else None


def scan_code(code: list[str], old_versions: dict | None, new_versions: dict | None) -> dict | None:
    """Findings of ``envlock scan`` over ``--code`` between the two TensorFlow versions the probes
    saw; a new side whose version is unknown is a failed check (asked for, not done)."""
    if not code:
        return None
    for path in code:
        if not Path(path).exists():
            raise InputError(f"{path}: --code: no such file or directory.")
    result: dict = {"paths": code, "from": _minor(old_versions), "to": _minor(new_versions)}
    if result["to"] is None:
        return {**result, "available": False, "ok": False,
                "note": "the code was not scanned: the new environment's TensorFlow version is unknown"}
    from envlock.upgrade.scan import scan_paths
    from envlock.upgrade.scan_target import UNKNOWN_OLD, tensorflow_side

    old = tensorflow_side(result["from"], "--from", target=False) if result["from"] else UNKNOWN_OLD
    report = scan_paths([Path(p) for p in code], old, tensorflow_side(result["to"], "--to", target=True))
    data = report.to_json()
    return {**result, "available": True, "ok": data["ok"], "findings": data["findings"]}
