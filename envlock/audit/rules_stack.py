"""Rules on the TensorFlow stack itself: one release, the right Keras, a supported Python,
one channel.  Each rule is a small function over one platform's ``PlatformStack``; every
TensorFlow fact comes from ``compat`` (data/tensorflow.yml)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from envlock.audit.findings import Finding
from envlock.audit.registry import finding, platform_rule
from envlock.audit.requirements import unmet_findings
from envlock.audit.rules_history import tensorboard_ranges
from envlock.audit.stack import PlatformStack, facts
from envlock.compat import history
from envlock.compat import table as compat
from envlock.core.names import canonical_name
from envlock.lockfile import LockedPackage
from envlock.lockfile.versions import compare, major, minor_line, satisfies


@platform_rule("tensorflow-unknown-release", "info", "TensorFlow line missing from the compatibility table")
def unknown_release(stack: PlatformStack) -> Iterator[Finding]:
    if stack.tensorflow is not None and stack.release is None and history.release_for(stack.tensorflow.version) is None:
        table = compat.table()
        yield finding("tensorflow-unknown-release", stack.platform,
                      f"TensorFlow {stack.line} is outside envlock's compatibility table "
                      f"({table.oldest().line}–{table.newest().line}) and release history "
                      f"({history.known_lines()[0]}–{history.known_lines()[-1]}), so the Keras, Python and CUDA "
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
            flagged.add(canonical_name(other.name))
            yield finding("tf-stack-mismatch", stack.platform,
                          f"{other.label()} is not TensorFlow {stack.line} like {tf.label()}; all "
                          f"TensorFlow packages must be one release — pin {other.name} {stack.line}.*.",
                          [tf, other])
    if (est := stack.estimator) and minor_line(est.version) not in _estimator_lines(stack):
        flagged.add(canonical_name(est.name))
        yield finding("tf-stack-mismatch", stack.platform,
                      f"{est.label()} does not belong to TensorFlow {stack.line} (import fails on a "
                      f"mismatched tensorflow_estimator); pin tensorflow-estimator {stack.line}.*.", [tf, est])
    board = stack.tensorboard
    if board and not stack.recorded_requirements(board.name) and (wanted := tensorboard_ranges(stack)):
        broken = [r for r in wanted if satisfies(board.version, r) is False]
        if broken:  # the release's own Requires-Dist range (TF 2.7 takes tensorboard ~=2.6)
            flagged.add(canonical_name(board.name))
            yield finding("tf-stack-mismatch", stack.platform,
                          f"{board.label()} does not meet TensorFlow {tf.version}'s tensorboard {','.join(broken)}; "
                          f"pin tensorboard {','.join(broken)}.", [tf, board], severity="warning")
    for name in ("tensorflow-base", "tensorflow", facts().estimator, facts().tensorboard):
        yield from unmet_findings("tf-stack-mismatch", stack, name, flagged)


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
        flagged.update(canonical_name(label.split()[0]) for label in f.packages)
        yield f
    if (tfk := stack.tf_keras) and minor_line(tfk.version) != stack.line:
        flagged.add(canonical_name(tfk.name))
        yield finding("tf-keras-mismatch", stack.platform,
                      f"{tfk.label()} pins TensorFlow {minor_line(tfk.version)}, not {stack.line}; "
                      f"pin tf-keras {stack.line}.*.", [stack.tensorflow, tfk])
    for name in (facts().keras, facts().tf_keras):
        yield from unmet_findings("tf-keras-mismatch", stack, name, flagged)


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
