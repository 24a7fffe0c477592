"""The TensorFlow-stack rules.  Each is a small function over one platform's ``PlatformStack``
(or over all platforms of a file), yields findings, and stays silent on what the lock does
not say.  Every TensorFlow fact comes from ``compat`` (data/tensorflow.yml)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from envlock import compat
from envlock.audit.findings import Finding
from envlock.audit.registry import file_rule, finding, platform_rule
from envlock.audit.stack import PlatformStack, facts, normalize
from envlock.lockfile import LockedPackage
from envlock.lockfile.versions import compare, major, minor_line, satisfies, spec_build


def _unmet(stack: PlatformStack, name: str) -> Iterator[tuple[LockedPackage, LockedPackage, str]]:
    """(requirer, locked, spec) for each recorded dependency on ``name`` the lock breaks."""
    locked = stack.get(name)
    if locked is None:
        return
    for requirer, spec in stack.recorded_requirements(name):
        ok = satisfies(locked.version, spec)
        build = spec_build(spec)
        if ok is False or (ok and build is not None and locked.build and build != locked.build):
            yield requirer, locked, spec


def _unmet_findings(rule: str, stack: PlatformStack, name: str, skip: set[str]) -> Iterator[Finding]:
    if normalize(name) in skip:
        return
    for requirer, locked, spec in _unmet(stack, name):
        yield finding(rule, stack.platform,
                      f"{requirer.name} {requirer.version} requires {name} {spec} but {locked.label()} is "
                      f"locked; re-lock so the solver picks a matching {name}.", [requirer, locked])


@platform_rule("tensorflow-unknown-release", "info", "TensorFlow line missing from the compatibility table")
def unknown_release(stack: PlatformStack) -> Iterator[Finding]:
    if stack.tensorflow is not None and stack.release is None:
        table = compat.table()
        yield finding("tensorflow-unknown-release", stack.platform,
                      f"TensorFlow {stack.line} is outside envlock's compatibility table "
                      f"({table.oldest().line}–{table.newest().line}), so the Keras, Python and CUDA "
                      "checks that need it were skipped; upgrade TensorFlow to audit it fully.",
                      [stack.tensorflow])


@platform_rule("tf-stack-mismatch", "error", "TensorFlow packages disagree on the minor line")
def stack_mismatch(stack: PlatformStack) -> Iterator[Finding]:
    tf = stack.tensorflow
    if tf is None:
        return
    flagged: set[str] = set()
    for other in stack.distributions:
        if minor_line(other.version) != stack.line:
            flagged.add(normalize(other.name))
            yield finding("tf-stack-mismatch", stack.platform,
                          f"{other.label()} is not TensorFlow {stack.line} like {tf.label()}; all "
                          f"TensorFlow packages must be one release — pin {other.name} {stack.line}.*.",
                          [tf, other])
    if (est := stack.estimator) and minor_line(est.version) not in _estimator_lines(stack):
        flagged.add(normalize(est.name))
        yield finding("tf-stack-mismatch", stack.platform,
                      f"{est.label()} does not belong to TensorFlow {stack.line} (import fails on a "
                      f"mismatched tensorflow_estimator); pin tensorflow-estimator {stack.line}.*.", [tf, est])
    if (board := stack.tensorboard) and compare(minor_line(board.version), stack.line) < 0:
        flagged.add(normalize(board.name))
        yield finding("tf-stack-mismatch", stack.platform,
                      f"{board.label()} is older than TensorFlow {stack.line}, which needs tensorboard "
                      f">={stack.line}; pin tensorboard {stack.line}.*.", [tf, board], severity="warning")
    for name in ("tensorflow-base", "tensorflow", facts().estimator, facts().tensorboard):
        yield from _unmet_findings("tf-stack-mismatch", stack, name, flagged)


def _estimator_lines(stack: PlatformStack) -> set[str]:
    """Estimator lines that go with this TensorFlow: its own, and conda-forge's quirk (2.16–2.19
    ship an estimator package built from 2.15 sources)."""
    lines = {stack.line}
    rel = stack.release
    if rel and rel.conda_forge and rel.conda_forge.estimator:
        lines.add(rel.conda_forge.estimator)
    return lines


@platform_rule("tf-keras-mismatch", "error", "the locked Keras is not what tf.keras needs")
def keras_mismatch(stack: PlatformStack) -> Iterator[Finding]:
    if stack.tensorflow is None:
        return
    flagged: set[str] = set()
    for f in _keras_findings(stack):
        flagged.update(normalize(label.split()[0]) for label in f.packages)
        yield f
    if (tfk := stack.tf_keras) and minor_line(tfk.version) != stack.line:
        flagged.add(normalize(tfk.name))
        yield finding("tf-keras-mismatch", stack.platform,
                      f"{tfk.label()} pins TensorFlow {minor_line(tfk.version)}, not {stack.line}; "
                      f"pin tf-keras {stack.line}.*.", [stack.tensorflow, tfk])
    for name in (facts().keras, facts().tf_keras):
        yield from _unmet_findings("tf-keras-mismatch", stack, name, flagged)


def _keras_findings(stack: PlatformStack) -> Iterator[Finding]:
    tf, keras, tfk, rel = stack.tensorflow, stack.keras, stack.tf_keras, stack.release
    assert tf is not None
    plat = stack.platform
    keras_major = major(keras.version) if keras else None
    if rel is None:
        if keras_major is not None and keras_major >= 3 and compare(stack.line, compat.table().first_keras3_line()) < 0:
            yield finding("tf-keras-mismatch", plat, f"{keras.label()} is Keras 3 but TensorFlow {stack.line} "
                          "only works with Keras 2; pin keras 2.* to TensorFlow's minor line.", [tf, keras])  # type: ignore[union-attr]
        return
    if keras is None:
        if tfk is not None and rel.keras.major == 3:
            yield finding("tf-keras-mismatch", plat, f"No keras package: tf.keras of TensorFlow {stack.line} "
                          "imports Keras 3 unless TF_USE_LEGACY_KERAS=1 selects tf-keras; set it or add "
                          f"keras {rel.keras.requirement}.", [tf, tfk], severity="warning")
        elif tfk is None:
            yield finding("tf-keras-mismatch", plat, f"No keras package: tf.keras of TensorFlow {stack.line} "
                          f"needs keras {rel.keras.requirement}; add it to the lock.", [tf])
        return
    if keras_major != rel.keras.major:
        if keras_major == 2 and tfk is not None:
            return  # Keras 2 beside tf-keras: the legacy route, judged by tf-keras's own check
        fix = f"add tf-keras {rel.tf_keras}.* and set TF_USE_LEGACY_KERAS=1, or " if keras_major == 2 and rel.tf_keras else ""
        yield finding("tf-keras-mismatch", plat, f"{keras.label()} is Keras {keras_major} but tf.keras of "
                      f"TensorFlow {stack.line} is Keras {rel.keras.major}; {fix}pin keras {rel.keras.requirement}.",
                      [tf, keras])
        return
    requirement = _keras_requirement(stack, rel)
    if satisfies(keras.version, requirement) is False and not stack.recorded_requirements(facts().keras):
        yield finding("tf-keras-mismatch", plat, f"{keras.label()} does not meet TensorFlow {stack.line}'s "
                      f"keras {requirement}; pin keras {requirement}.", [tf, keras])


def _keras_requirement(stack: PlatformStack, rel: compat.Release) -> str:
    if stack.source in facts().conda_builds.unmarked_cpu_channels and rel.conda_forge:
        return rel.conda_forge.keras
    return rel.keras.requirement


@platform_rule("cuda-build-mismatch", "error", "CUDA/cuDNN in the lock differ from TensorFlow's build")
def cuda_mismatch(stack: PlatformStack) -> Iterator[Finding]:
    tf = stack.tensorflow
    if tf is None or stack.variant != "cuda":
        return
    plat = stack.platform
    if tf.manager == "conda" and not stack.cuda_runtime:
        yield finding("cuda-build-mismatch", plat, f"{tf.label()} is a CUDA build but no CUDA runtime "
                      "(cudatoolkit / cuda-version / cuda-cudart) is locked; re-lock so its CUDA dependencies "
                      "are included.", [tf])
    flagged: set[str] = set()
    if built := stack.build_cuda:
        for runtime in stack.cuda_runtime:
            yield from _runtime_vs_build(stack, tf, runtime, built, flagged)
    yield from _cudnn_vs_build(stack, tf, flagged)
    for name in [*facts().cuda_runtime, *facts().cudnn]:
        yield from _unmet_findings("cuda-build-mismatch", stack, name, flagged)


def _runtime_vs_build(stack: PlatformStack, tf: LockedPackage, runtime: LockedPackage, built: str,
                      flagged: set[str]) -> Iterator[Finding]:
    runs = minor_line(runtime.version)
    if major(runs) != major(built):
        flagged.add(normalize(runtime.name))
        yield finding("cuda-build-mismatch", stack.platform,
                      f"{tf.label()} is built for CUDA {built} but {runtime.label()} is CUDA {runs}; a different "
                      f"CUDA major cannot load its libraries — pin {runtime.name} {major(built)}.* or a TensorFlow "
                      f"built for CUDA {major(runs)}.", [tf, runtime])
    elif runs != built and facts().cuda_runtime[normalize(runtime.name)].minor_must_match:
        flagged.add(normalize(runtime.name))
        yield finding("cuda-build-mismatch", stack.platform,
                      f"{tf.label()} is built for CUDA {built} but {runtime.label()} is CUDA {runs}; XLA's JIT "
                      f"then uses another toolkit's ptxas/libdevice and can fail at run time — pin "
                      f"{runtime.name} {built}.*.", [tf, runtime], severity="warning")


def _cudnn_vs_build(stack: PlatformStack, tf: LockedPackage, flagged: set[str]) -> Iterator[Finding]:
    cudnn = stack.cudnn
    if cudnn is None or stack.recorded_requirements(cudnn.name):
        return  # a recorded dependency is the better judge (checked by the caller)
    expected = _expected_cudnn_major(stack)
    if expected is not None and major(cudnn.version) != expected:
        flagged.add(normalize(cudnn.name))
        yield finding("cuda-build-mismatch", stack.platform,
                      f"{tf.label()} was built with cuDNN {expected} but {cudnn.label()} is locked; pin "
                      f"{cudnn.name} {expected}.*.", [tf, cudnn])


def _expected_cudnn_major(stack: PlatformStack) -> int | None:
    rel, tf = stack.release, stack.tensorflow
    if rel is None or tf is None:
        return None
    if tf.manager == "pip":
        return rel.cudnn_major
    if stack.source in facts().conda_builds.unmarked_cpu_channels and rel.conda_forge and stack.build_cuda:
        return rel.conda_forge.cudnn_major_for(stack.build_cuda)
    return None  # other distributors built against cuDNNs we cannot know


@platform_rule("cuda-without-gpu-build", "error", "CUDA is locked or a GPU asked for, but TensorFlow is a CPU build")
def cuda_without_gpu(stack: PlatformStack) -> Iterator[Finding]:
    tf = stack.tensorflow
    if tf is None or stack.variant != "cpu":
        return
    cuda = stack.cuda_runtime + ([stack.cudnn] if stack.cudnn else [])
    if stack.gpu_intent:
        asked = ", ".join(p.label() for p in stack.gpu_intent)
        yield finding("cuda-without-gpu-build", stack.platform,
                      f"A GPU TensorFlow is asked for ({asked}) but {tf.label()} from {stack.source} is a CPU "
                      "build, so TensorFlow will never use the GPU; lock a CUDA build (conda-forge: "
                      "tensorflow=*=cuda*, PyPI: tensorflow[and-cuda]).", [*stack.gpu_intent, tf, *cuda])
    elif cuda:
        yield finding("cuda-without-gpu-build", stack.platform,
                      f"CUDA packages are locked ({', '.join(p.label() for p in cuda)}) but {tf.label()} is a CPU "
                      "build, so TensorFlow will not use the GPU; lock a CUDA build of TensorFlow, or drop the "
                      "CUDA packages if no other library needs them.", [tf, *cuda], severity="warning")


@platform_rule("python-unsupported", "error", "the locked Python is outside what that TensorFlow supports")
def python_unsupported(stack: PlatformStack) -> Iterator[Finding]:
    tf, python = stack.tensorflow, stack.python
    if tf is None or python is None:
        return
    runs = minor_line(python.version)
    if stack.build_python and stack.build_python != runs:
        yield finding("python-unsupported", stack.platform,
                      f"{tf.label()} is built for Python {stack.build_python} but {python.label()} is locked; "
                      f"it will not import — re-lock with python {stack.build_python}.*.", [tf, python])
        return
    rel = stack.release
    if rel is None:
        return
    if tf.manager == "pip":
        supported = rel.python
    elif stack.source in facts().conda_builds.unmarked_cpu_channels and rel.conda_forge:
        supported = rel.conda_forge.python
    else:
        return  # another distributor's Python range is not in the table
    if not supported.allows(runs):
        yield finding("python-unsupported", stack.platform,
                      f"TensorFlow {stack.line} ({stack.source}) supports Python {supported}, but {python.label()} "
                      f"is locked; pick a Python in {supported} or another TensorFlow.", [tf, python])


@platform_rule("mixed-channels", "warning", "the TensorFlow stack comes from more than one channel")
def mixed_channels(stack: PlatformStack) -> Iterator[Finding]:
    members = list(stack.stack_packages)
    if stack.tensorflow and stack.tensorflow.manager == "conda" and stack.python:
        members.append(stack.python)  # a conda TensorFlow is built against its own channel's Python
    sources = Counter(_source(p) for p in members)
    if len(sources) > 1:
        detail = "; ".join(f"{src}: " + ", ".join(p.name for p in members if _source(p) == src) for src in sources)
        yield finding("mixed-channels", stack.platform,
                      f"The TensorFlow stack comes from {len(sources)} sources ({detail}); builds from different "
                      "channels are not made to work together — take the whole stack from one channel.", members)


def _source(pkg: LockedPackage) -> str:
    return pkg.channel_name if pkg.manager == "conda" else "pypi"


@file_rule("no-tensorflow", "info", "no platform of the file holds TensorFlow")
def no_tensorflow(stacks: dict[str, PlatformStack]) -> Iterator[Finding]:
    if stacks and all(s.tensorflow is None for s in stacks.values()):
        yield finding("no-tensorflow", None, "No platform of this lock holds TensorFlow, so the TensorFlow "
                      "checks did not apply; audit the lock of a TensorFlow environment.")


@file_rule("missing-tensorflow", "error", "a declared platform has no TensorFlow while another has")
def missing_tensorflow(stacks: dict[str, PlatformStack]) -> Iterator[Finding]:
    having = sorted(p for p, s in stacks.items() if s.tensorflow is not None)
    if not having:
        return
    for plat, stack in stacks.items():
        if stack.tensorflow is None:
            yield finding("missing-tensorflow", plat,
                          f"The lock declares {plat} but holds no TensorFlow for it (it does for "
                          f"{', '.join(having)}); an environment created there cannot import tensorflow — "
                          f"re-lock, or drop {plat} from the platforms.", [])


@file_rule("platform-version-skew", "warning", "TensorFlow or Keras versions differ between platforms")
def version_skew(stacks: dict[str, PlatformStack]) -> Iterator[Finding]:
    for what, pick in (("TensorFlow", lambda s: s.tensorflow), ("Keras", lambda s: s.keras)):
        versions = {p: pkg.version for p, s in stacks.items() if (pkg := pick(s)) is not None}
        if len(set(versions.values())) < 2:
            continue
        common = Counter(versions.values()).most_common(1)[0][0]
        others = ", ".join(f"{p}: {v}" for p, v in sorted(versions.items()))
        for plat, version in sorted(versions.items()):
            if version != common:
                yield finding("platform-version-skew", plat,
                              f"{what} is {version} on {plat} but {common} elsewhere ({others}); one lock "
                              f"should give every platform the same {what} — pin it and re-lock.",
                              [pick(stacks[plat])])
