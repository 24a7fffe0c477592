"""CUDA rules: the CUDA/cuDNN in the lock against what TensorFlow's build targets, and GPU
intent lost to a CPU build.  "Targets" is what the build says (``cuda118`` in a conda-forge
build string, its recorded dependencies, the tested configuration for PyPI wheels); other
distributors' builds are not second-guessed."""

from __future__ import annotations

from collections.abc import Iterator

from envlock.audit.findings import Finding
from envlock.audit.registry import finding, platform_rule, profile_rule
from envlock.audit.requirements import unmet_findings
from envlock.audit.stack import PlatformStack, facts
from envlock.compat import defaults_channel
from envlock.core.names import canonical_name
from envlock.lockfile import LockedPackage
from envlock.lockfile.versions import major, minor_line
from envlock.profiles.model import Profile


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
        yield from unmet_findings("cuda-build-mismatch", stack, name, flagged)


def _runtime_vs_build(stack: PlatformStack, tf: LockedPackage, runtime: LockedPackage, built: str,
                      flagged: set[str]) -> Iterator[Finding]:
    runs = minor_line(runtime.version)
    if major(runs) != major(built):
        flagged.add(canonical_name(runtime.name))
        yield finding("cuda-build-mismatch", stack.platform,
                      f"{tf.label()} is built for CUDA {built} but {runtime.label()} is CUDA {runs}; a different "
                      f"CUDA major cannot load its libraries — pin {runtime.name} {major(built)}.* or a TensorFlow "
                      f"built for CUDA {major(runs)}.", [tf, runtime])
    elif runs != built and facts().cuda_runtime[canonical_name(runtime.name)].minor_must_match:
        flagged.add(canonical_name(runtime.name))
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
        flagged.add(canonical_name(cudnn.name))
        yield finding("cuda-build-mismatch", stack.platform,
                      f"{tf.label()} was built with cuDNN {expected} but {cudnn.label()} is locked; pin "
                      f"{cudnn.name} {expected}.*.", [tf, cudnn])


def _expected_cudnn_major(stack: PlatformStack) -> int | None:
    rel, tf = stack.release, stack.tensorflow
    if tf is not None and (defaults_build := defaults_channel.gpu_build(tf)):
        return defaults_build[1]
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


@profile_rule("profile-cuda-driver", "error", "the locked CUDA runtime is newer than the profile's driver (__cuda)")
def cuda_driver(stacks: dict[str, PlatformStack], profile: Profile) -> Iterator[Finding]:
    from envlock.compat.cuda_runtime import driver_gap

    for plat, stack in stacks.items():
        driver = profile.virtual_packages.get(plat, {}).get("__cuda")
        gap = driver_gap(stack.packages, driver, f"profile '{profile.name}''s __cuda ({driver})")
        if gap is not None:
            yield finding("profile-cuda-driver", plat, gap.message, [gap.package], severity=gap.severity)
