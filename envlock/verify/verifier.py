"""``verify_environment``: run the probe, check its answers, compare with and write the
verification record.  The one entry point for ``envlock verify`` and ``envlock create``."""

from __future__ import annotations

from pathlib import Path

from envlock import __version__
from envlock.core.errors import EnvlockError
from envlock.core.project import Project
from envlock.lockfile import Lockfile, read_lockfile
from envlock.profiles.model import Profile
from envlock.verify import baseline, hardware, record
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
    hardware, first compare with) ``locks/<name>/verified-<platform>.json``.  Whatever ``record`` says, a
    conda prefix remembers the verdict (``envlock.verify.last``): a failed verification is never forgotten.
    """
    report = _verify(project, profile, Path(prefix), bench=bench, record=record, timeout_s=timeout_s)
    _remember(report)
    return report


def _remember(report: VerifyReport) -> None:
    prefix = Path(report.prefix)
    if not (prefix / "conda-meta").is_dir():
        return  # a plain venv: envlock does not write into it
    from envlock.verify import last

    try:
        report.last_verification = last.write(prefix, ok=report.ok, profile=report.profile, failed=[c.name for c in report.failed],
                                              lock_hash=report.lock_hash, envlock_version=__version__)
    except OSError as exc:
        report.warnings.append(f"could not record the verdict in {last.path_of(prefix)}: {exc.strerror or exc}")


def _verify(project: Project, profile: Profile, prefix: Path, *, bench: bool, record: bool,
            timeout_s: float | None) -> VerifyReport:
    bench = bench and profile.verify.bench
    platform = hardware.current_platform()
    run = run_probe(prefix, {"bench": bench}, timeout_s=timeout_s or profile.verify.timeout_s)
    report = VerifyReport(ok=False, profile=profile.name, prefix=str(prefix), platform=platform,
                          checks=[_probe_check(run)], stderr_tail=run.stderr_tail,
                          timings={"probe_s": run.seconds}, probe=run.raw or {})
    if run.doc is None:
        return report
    doc = run.doc
    lock, lock_note = _lock(project, profile.name, platform)
    report.lock_hash = lock.digest(platform) if lock else None
    ctx = Context(profile=profile, doc=doc, prefix=prefix, stderr=run.stderr,
                  driver_cuda=hardware.host_cuda_version(),
                  locked=lock.for_platform(platform) if lock else None, platform=platform, bench=bench)
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
    bases = baseline.baselines_of(old)
    new_figs = _confirmed(report, profile, baseline.for_hardware(bases, report.hardware), record.figures(report.benchmarks))
    if not (write and report.ok):
        return
    now = record.now()
    bases = baseline.updated(bases, report.hardware, new_figs, now)
    mine = baseline.for_hardware(bases, report.hardware)
    rec = record.VerificationRecord(
        profile=profile.name, platform=report.platform, verified_at=now, envlock_version=__version__,
        prefix=str(Path(report.prefix).resolve()), lock_path=lock.path if lock else None,
        lock_hash=lock.digest(report.platform) if lock else None,
        python=doc.value("python").get("version"), tensorflow=report.tensorflow.get("version"),
        keras=report.keras.get("version"), keras_resolves_to=report.keras.get("resolves_to"),
        hardware=report.hardware, benchmarks=mine.benchmarks if mine else [],
        benchmarked_at=mine.benchmarked_at if mine else None, baselines=bases,
    )
    try:
        record.write(path, rec)
    except OSError as exc:
        report.warnings.append(f"could not write the verification record {path}: {exc.strerror or exc}")
        return
    report.record_path = str(path)


def _confirmed(report: VerifyReport, profile: Profile, base: record.Baseline | None,
               figures: list[record.BenchFigure]) -> list[record.BenchFigure]:
    """This run's figures; when one looks slower than the baseline, the benchmark is measured
    again and only a slowdown both measurements show is reported.  Returns the best figures."""
    threshold = profile.verify.max_slowdown
    if not baseline.slower(base, figures, threshold):
        return figures
    again = run_probe(Path(report.prefix), {"bench": True, "measurements": list(REMEASURE)},
                      timeout_s=profile.verify.timeout_s)
    report.timings["remeasure_s"] = again.seconds
    if again.doc is None or again.doc.status("benchmarks") != "ok":
        why = again.problem if again.doc is None else f"its benchmark step: {again.doc.status('benchmarks')}"
        report.warnings.append(f"a benchmark looked slower than this hardware's baseline, but measuring it again failed "
                               f"({why}); not reported as a slowdown.")
        return figures
    best = baseline.best_of(figures, record.figures(again.doc.benchmarks()))
    report.warnings += [baseline.warning(f, prev, base.benchmarked_at if base else None, 2)
                        for f, prev in baseline.slower(base, best, threshold)]
    return best


# what a re-measure runs: the benchmark needs TensorFlow and the device list
REMEASURE = ("tensorflow", "devices", "benchmarks")
