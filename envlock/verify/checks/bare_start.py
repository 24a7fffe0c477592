"""The Keras check for a bare start: the environment's interpreter started without activation
and with a minimal environment (PATH and HOME only), as IDEs, Jupyter kernels, cron jobs,
shebang scripts and ``subprocess`` calls with a cleared environment start it.  A second, small
probe run (TensorFlow and ``tf.keras`` only) must resolve ``tf.keras`` to the profile's Keras;
the startup hook (``envlock.prefix.startup_hook``) is what makes that true for variable-routed Keras."""

from __future__ import annotations

from collections.abc import Callable

from envlock.prefix.activation import python_of
from envlock.prefix.startup_hook import PTH_NAME, hook_problems, read_record
from envlock.verify.checks.context import Context
from envlock.verify.checks.stack import KIND_TEXT, _expected_keras_kind
from envlock.verify.model import Check, ProbeRun

NAME = "keras.bare_start"
# the probe's own measurements, restricted; "bare" makes the runner clear the environment
BARE_CONFIG = {"bench": False, "bare": True, "measurements": ["environment", "tensorflow", "keras"]}


def _cause(ctx: Context) -> str:
    """Why a bare start may differ: the state of the startup hook."""
    fix = f"re-create the environment (`envlock create --profile {ctx.profile.name}`), which writes the hook"
    record = read_record(ctx.prefix)
    if record is None:
        return f"the environment has no envlock startup hook (site-packages/{PTH_NAME}) to set its activation variables without activation: {fix}."
    env_vars = record.get("env_vars")
    problems = hook_problems(ctx.prefix, env_vars if isinstance(env_vars, dict) else {})
    if problems:
        listed = ", ".join(f"{path} {kind}" for path, kind in problems)
        return f"the environment's startup hook was changed ({listed}); `envlock check` shows it: {fix}."
    return f"the startup hook is in place but does not give this Keras; compare `envlock activate --profile {ctx.profile.name}` with the hook's variables and {fix}."


def check_bare_start(ctx: Context, run_probe: Callable[..., ProbeRun], timeout_s: float) -> list[Check]:
    """Run the bare probe (only when the activated probe imported TensorFlow) and judge its Keras."""
    if ctx.doc.status("tensorflow") != "ok":
        return []  # the activated start already failed; a second TensorFlow import adds nothing
    want = _expected_keras_kind(ctx.profile)
    expected = f"{KIND_TEXT[want]} from `{python_of(ctx.prefix)}` without activation"
    run = run_probe(ctx.prefix, dict(BARE_CONFIG), timeout_s=timeout_s)
    if run.doc is None:
        return [Check(name=NAME, ok=False, expected=expected, actual=run.problem or "no report",
                      message="the environment's interpreter could not run the probe when started without activation; see the stderr tail.")]
    doc = run.doc
    if doc.status("tensorflow") != "ok" or doc.status("keras") != "ok":
        step = "tensorflow" if doc.status("tensorflow") != "ok" else "keras"
        err = doc.error(step)
        actual = f"{err.get('type', 'error')}: {err.get('message', doc.status(step))}"
        return [Check(name=NAME, ok=False, expected=expected, actual=actual,
                      message=f"`import tensorflow; tf.keras` works when activated but not in a bare start: {_cause(ctx)}")]
    k = doc.value("keras")
    kind = str(k.get("resolves_to"))
    actual = f"{KIND_TEXT.get(kind, kind)} {k.get('version')} [{k.get('module')}]"
    if kind == want:
        return [Check(name=NAME, ok=True, expected=expected, actual=actual)]
    legacy = doc.value("environment").get("TF_USE_LEGACY_KERAS")
    seen = f"TF_USE_LEGACY_KERAS={legacy!r}" if legacy is not None else "TF_USE_LEGACY_KERAS unset"
    return [Check(name=NAME, ok=False, expected=expected, actual=actual,
                  message=(f"started without activation (as IDEs, Jupyter, cron and shebang scripts start it; {seen}), "
                           f"tf.keras is {KIND_TEXT.get(kind, kind)}, not the profile's {KIND_TEXT[want]}: {_cause(ctx)}"))]
