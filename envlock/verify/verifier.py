"""``verify_environment``: run the probe, check its answers, compare with and write the
verification record.  The one entry point for ``envlock verify`` and ``envlock create``."""

from __future__ import annotations

from pathlib import Path

from envlock import __version__
from envlock.errors import EnvlockError
from envlock.lockfile import Lockfile, read_lockfile
from envlock.profiles import Profile
from envlock.project import Project
from envlock.verify import hardware, record
from envlock.verify.checks import Context, run_checks
from envlock.verify.checks.bare_start import check_bare_start
from envlock.verify.model import Check, ProbeRun, VerifyReport
from envlock.verify.runner import run_probe


def _probe_check(run: ProbeRun) -> Check:
    if run.ok:
        return Check(name="probe", ok=True, expected="the probe runs and reports", actual=f"ok in {run.seconds:g} s")
    if run.timed_out:
        why = "the environment hangs (a GPU driver wait, a deadlock in a native library, or a far too slow machine): see the stderr tail; raise verify.timeout_s if the machine is just slow."
    elif run.signal and run.doc is not None:
        why = "every measurement completed, but a native library crashed at interpreter exit (destructor order in an extension); programs in this environment will crash the same way on exit."
    elif run.signal:
        why = "a native library crashed the interpreter (a CPU without the instructions the build needs, mismatched CUDA/cuDNN libraries, or a broken wheel): see the stderr tail."
    elif run.returncode is None:
        why = "point --prefix at a conda prefix or venv that has bin/python."
    else:
        why = "the environment's Python could not run the probe (a broken interpreter or site-packages): see the stderr tail."
    return Check(name="probe", ok=False, expected="the probe runs and reports", actual=run.problem, message=why)


def _lock(project: Project, name: str, platform: str) -> tuple[Lockfile | None, str | None]:
    path = project.unified_lock_path(name)
    if not path.is_file():
        return None, f"no lock at {path}: loaded libraries were not compared with a lock, and the record has no lock hash"
    try:
        lock = read_lockfile(path)
    except EnvlockError as exc:
        return None, f"the lock could not be read ({exc}); loaded libraries were not compared with it"
    if not lock.for_platform(platform):
        return None, f"{path} has no {platform} packages; loaded libraries were not compared with it"
    return lock, None


def verify_environment(project: Project, profile: Profile, prefix: Path, *, bench: bool = True,
                       record: bool = True, timeout_s: float | None = None) -> VerifyReport:
    """Verify the environment at ``prefix`` against ``profile``; never raises for a broken env.

    ``bench``: run the smoke benchmark (also off when the profile sets ``verify.bench: false``).  ``record``: on success write (and, on comparable
    hardware, first compare with) ``locks/<name>/verified-<platform>.json``.
    """
    prefix = Path(prefix)
    bench = bench and profile.verify.bench
    platform = hardware.current_platform()
    run = run_probe(prefix, {"bench": bench}, timeout_s=timeout_s or profile.verify.timeout_s)
    report = VerifyReport(ok=False, profile=profile.name, prefix=str(prefix), platform=platform,
                          checks=[_probe_check(run)], stderr_tail=run.stderr_tail,
                          timings={"probe_s": run.seconds})
    if run.doc is None:
        return report
    doc = run.doc
    lock, lock_note = _lock(project, profile.name, platform)
    ctx = Context(profile=profile, doc=doc, prefix=prefix, stderr=run.stderr,
                  driver_cuda=hardware.host_cuda_version(),
                  locked=lock.for_platform(platform) if lock else None)
    report.checks += run_checks(ctx)
    report.checks += check_bare_start(ctx, run_probe, timeout_s or profile.verify.timeout_s)
    report.ok = all(c.ok for c in report.checks)
    if lock_note:
        report.warnings.append(lock_note)
    report.warnings += ctx.notes
    tf, k = doc.value("tensorflow"), doc.value("keras")
    report.tensorflow = {"version": tf.get("version"), "import_seconds": tf.get("import_seconds"),
                         "onednn_enabled": tf.get("onednn_enabled"), "build_info": doc.value("build_info")}
    report.keras = {"version": k.get("version"), "resolves_to": k.get("resolves_to"), "module": k.get("module")}
    report.benchmarks = doc.benchmarks()
    report.libraries = doc.value("libraries").get("loaded", [])
    cpu = doc.value("cpu")
    report.hardware = hardware.describe(cpu, doc.value("devices"), ctx.driver_cuda)
    report.timings.update({
        "tensorflow_import_s": tf.get("import_seconds"),
        "benchmarks_s": doc.seconds("benchmarks"),
        "libraries_s": doc.seconds("libraries"),
        "probe_measurements_s": doc.total_seconds,
    })
    _peak(report, cpu)
    _record(project, profile, report, lock, doc, write=record)
    return report


def _peak(report: VerifyReport, cpu: dict) -> None:
    peak = hardware.cpu_peak(cpu)
    if peak is None:
        return
    report.hardware["cpu_peak_gflops"] = peak.gflops
    report.hardware["cpu_peak_assumption"] = peak.assumption
    best = max((b.gflops or 0.0 for b in report.benchmarks if "CPU" in b.device and b.op == "matmul"), default=0.0)
    if best:
        report.hardware["cpu_matmul_fraction_of_peak"] = round(best / peak.gflops, 3)
        # The reported clock is often the base clock (VMs hide turbo): a result above the
        # estimate tells the clock the cores really ran at, at least.
        report.hardware["cpu_effective_ghz_min"] = round(best / (peak.cores * peak.flops_per_cycle), 2)


def _record(project: Project, profile: Profile, report: VerifyReport, lock: Lockfile | None, doc, *, write: bool) -> None:
    path = record.record_path(project, profile.name, report.platform)
    old = record.load(path) if path.is_file() else None
    new_figs = record.figures(report.benchmarks)
    if old is not None:
        report.warnings += record.regressions(old, report.hardware, new_figs, profile.verify.max_slowdown)
    if not (write and report.ok):
        return
    rec = record.VerificationRecord(
        profile=profile.name, platform=report.platform, verified_at=record.now(), envlock_version=__version__,
        prefix=str(Path(report.prefix).resolve()), lock_path=lock.path if lock else None,
        lock_hash=lock.digest(report.platform) if lock else None,
        python=doc.value("python").get("version"), tensorflow=report.tensorflow.get("version"),
        keras=report.keras.get("version"), keras_resolves_to=report.keras.get("resolves_to"),
        hardware=report.hardware, benchmarks=new_figs, benchmarked_at=record.now() if new_figs else None,
    )
    record.carry_over(old, report.hardware, rec)
    try:
        record.write(path, rec)
    except OSError as exc:
        report.warnings.append(f"could not write the verification record {path}: {exc.strerror or exc}")
        return
    report.record_path = str(path)
