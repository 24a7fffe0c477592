"""Checks of the TensorFlow stack: Python, TensorFlow, and the Keras that tf.keras resolves to."""

from __future__ import annotations

from envlock.compat import table as compat
from envlock.prefix.activation import read_env_vars
from envlock.profiles.model import LEGACY_KERAS_VAR, Profile
from envlock.verify.checks.context import Context, minor, version_matches
from envlock.verify.model import Check


def check_python(ctx: Context) -> list[Check]:
    if ctx.doc.status("python") != "ok":
        return []  # the failed step is the check (checks/steps.py)
    actual = ctx.doc.value("python").get("version")
    if actual is None:
        return [Check(name="python", ok=False, expected=ctx.profile.python, actual="no version reported",
                      message="the probe's python step reported no version: the probe is not envlock's; re-run envlock verify.")]
    ok = version_matches(ctx.profile.python, actual)
    msg = "" if ok else (
        f"the environment's Python is {actual}, the profile wants {ctx.profile.python}: "
        f"re-create the environment from the profile's lock (envlock create --profile {ctx.profile.name}) or fix 'python:' in the profile."
    )
    return [Check(name="python", ok=ok, expected=ctx.profile.python, actual=actual, message=msg)]


def check_tensorflow(ctx: Context) -> list[Check]:
    status = ctx.doc.status("tensorflow")
    want = ctx.profile.tensorflow.version
    if status != "ok":
        err = ctx.doc.error("tensorflow")
        text = f"{err.get('type', 'error')}: {err.get('message', status)}"
        if err.get("type") == "ModuleNotFoundError" and "tensorflow" in err.get("message", ""):
            why = (f"TensorFlow is not installed in {ctx.prefix}: create it with `envlock create --profile {ctx.profile.name}` "
                   "or point --prefix at the environment that has it.")
        else:
            why = "`import tensorflow` failed inside the environment; see the error and the stderr tail." + ctx.hint()
        return [Check(name="tensorflow.import", ok=False, expected="import tensorflow succeeds", actual=text, message=why)]
    tf = ctx.doc.value("tensorflow")
    checks = [Check(name="tensorflow.import", ok=True, expected="import tensorflow succeeds",
                    actual=f"ok in {tf.get('import_seconds')} s")]
    version = str(tf.get("version"))
    ok = version_matches(want, version)
    checks.append(Check(
        name="tensorflow.version", ok=ok, expected=want, actual=version,
        message="" if ok else (f"TensorFlow {version} is installed but the profile pins {want}: the environment is not "
                               f"the profile's (re-create it with `envlock create --profile {ctx.profile.name}`) or the lock is stale (`envlock lock`)."),
    ))
    return checks


def _expected_keras_kind(profile: Profile) -> str:
    if profile.uses_legacy_keras:
        return "tf_keras"
    return "keras3" if profile.keras_major == 3 else "keras2"


KIND_TEXT = {"keras3": "Keras 3", "tf_keras": "tf_keras (TF_USE_LEGACY_KERAS)", "keras2": "Keras 2 (keras package)"}


def check_keras(ctx: Context) -> list[Check]:
    if ctx.doc.status("tensorflow") != "ok":
        return []
    want_kind = _expected_keras_kind(ctx.profile)
    pkgs = ctx.doc.value("packages")
    env = ctx.doc.value("environment")
    legacy = env.get(LEGACY_KERAS_VAR)
    if ctx.doc.status("keras") != "ok":
        err = ctx.doc.error("keras")
        text = f"{err.get('type', 'error')}: {err.get('message', ctx.doc.status('keras'))}"
        if legacy is not None and "tf-keras" not in pkgs:
            origin = "conda-meta/state env_vars" if LEGACY_KERAS_VAR in read_env_vars(ctx.prefix) else "the caller's environment"
            why = (f"{LEGACY_KERAS_VAR}={legacy} is set (from {origin}) but the tf-keras package is not installed, so tf.keras cannot load: "
                   f"install tf-keras~={ctx.release.tf_keras or ctx.release.line} (profiles with keras: \"2.*\" lock it) or unset {LEGACY_KERAS_VAR}.")
        else:
            why = "tf.keras failed to load; see the error." + ctx.hint()
        return [Check(name="keras.resolves", ok=False, expected=KIND_TEXT[want_kind], actual=text, message=why)]
    k = ctx.doc.value("keras")
    kind = str(k.get("resolves_to"))
    ok = kind == want_kind
    if ok:
        why = ""
    elif want_kind == "tf_keras":
        why = (f"the profile wants Keras 2 through tf-keras on TensorFlow {ctx.release.line}, but {LEGACY_KERAS_VAR} is "
               f"{'set to ' + repr(legacy) if legacy is not None else 'not set'} in the environment's activation: "
               f"set {LEGACY_KERAS_VAR}=1 (envlock create writes it to conda-meta/state) and install tf-keras.")
    elif kind == "tf_keras":
        why = f"{LEGACY_KERAS_VAR}={legacy} routes tf.keras to tf_keras but the profile wants {profile_keras(ctx)}: unset {LEGACY_KERAS_VAR} in this environment."
    else:
        why = f"tf.keras resolves to {KIND_TEXT.get(kind, kind)} but the profile wants {KIND_TEXT[want_kind]}: re-lock and re-create the environment from the profile."
    checks = [Check(name="keras.resolves", ok=ok, expected=KIND_TEXT[want_kind],
                    actual=f"{KIND_TEXT.get(kind, kind)} [{k.get('module')}]", message=why)]
    version = str(k.get("version"))
    vok = version_matches(ctx.profile.keras, version)
    checks.append(Check(
        name="keras.version", ok=vok, expected=ctx.profile.keras, actual=version,
        message="" if vok else (
            f"tf.keras is Keras {version} but the profile asks for keras {ctx.profile.keras}: either the environment was not created "
            f"from this profile's lock (re-create it: `envlock create --profile {ctx.profile.name}`) or change 'keras:' in profiles/{ctx.profile.name}.yml."),
    ))
    return checks + _keras_packages(ctx)


def profile_keras(ctx: Context) -> str:
    return f"keras {ctx.profile.keras}"


def _keras_packages(ctx: Context) -> list[Check]:
    """keras / tf-keras packages against the compatibility data for the installed TensorFlow."""
    version = str(ctx.doc.value("tensorflow").get("version"))
    rel = compat.table().release(version)
    pkgs = ctx.doc.value("packages")
    if rel is None:
        return [Check(name="keras.packages", ok=False, expected="a TensorFlow line in envlock's compatibility data",
                      actual=f"tensorflow {version}",
                      message=f"envlock's compatibility data has no TensorFlow {minor(version)}: upgrade envlock or use a known line.")]
    expected = [f"{rel.keras.package} {rel.keras.requirement}"]
    problems: list[str] = []
    kver = pkgs.get(rel.keras.package)
    if kver is None:
        problems.append(f"{rel.keras.package} is not installed")
    elif not version_matches(rel.keras.requirement, kver):
        problems.append(f"{rel.keras.package} {kver} is outside TensorFlow {rel.line}'s requirement {rel.keras.requirement}")
    tfk = pkgs.get("tf-keras")
    if ctx.profile.uses_legacy_keras or tfk is not None:
        expected.append(f"tf-keras {rel.tf_keras}.*" if rel.tf_keras else "no tf-keras")
        if rel.tf_keras is None and tfk is not None:
            problems.append(f"tf-keras {tfk} is installed but no tf-keras pairs with TensorFlow {rel.line}")
        elif tfk is None:
            problems.append("tf-keras is not installed")
        elif rel.tf_keras and minor(tfk) != rel.tf_keras:
            problems.append(f"tf-keras {tfk} pairs with TensorFlow {minor(tfk)}, not {rel.line}")
    actual = ", ".join(f"{n} {pkgs[n]}" for n in ("keras", "tf-keras") if n in pkgs) or "neither installed"
    return [Check(
        name="keras.packages", ok=not problems, expected="; ".join(expected), actual=actual,
        message="" if not problems else "; ".join(problems) + f" (tf-keras pins TensorFlow by minor version): install the versions the lock holds (`envlock create --profile {ctx.profile.name}`).",
    )]
