"""Judging one model × format: the OLD side's record and the NEW side's measurements in, one
verdict out (identical / equal within tolerance / different / does not load), with the
numbers, the cause and the fix.  Configuration differences are reported but do not decide the
verdict (Keras 3 rewrites most serialized configs); a different parameter count does."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel

Verdict = Literal["identical", "equal within tolerance", "different", "does not load", "not written", "crashed", "error"]
FAILING: frozenset[str] = frozenset({"different", "does not load", "crashed", "error"})


class Fix(BaseModel):
    id: str
    match: str
    fix: str
    source: str


class ConfigChange(BaseModel):
    layer: int
    layer_class: str
    key: str
    kind: Literal["changed", "added", "dropped", "renamed"]
    old: Any = None
    new: Any = None


class ArtifactVerdict(BaseModel):
    model: str
    format: str
    verdict: Verdict
    loader: str | None = None
    cause: str | None = None
    fix: str | None = None
    fix_id: str | None = None
    with_fix: str | None = None  # how the artifact fares through the fallback loader
    max_abs: float | None = None
    max_rel: float | None = None
    loss_old: float | None = None
    loss_new: float | None = None
    loss_diff: float | None = None
    speed_ratio: float | None = None  # NEW inference time / OLD
    params_old: int | None = None
    params_new: int | None = None
    config_changes: list[ConfigChange] = []

    @property
    def failing(self) -> bool:
        return self.verdict in FAILING


@cache
def known_fixes() -> tuple[Fix, ...]:
    import yaml

    text = resources.files("envlock.upgrade").joinpath("rehearse_fixes.yml").read_text()
    return tuple(Fix.model_validate(entry) for entry in yaml.safe_load(text))


def fix_for(error: str) -> Fix | None:
    return next((f for f in known_fixes() if re.search(f.match, error)), None)


# --- configuration differences ---------------------------------------------------------

def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, sub in value.items():
            out.update(_flatten(sub, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def config_changes(old_arch: dict, new_arch: dict) -> list[ConfigChange]:
    """Layer by layer (by position), keys whose value changed, appeared or went away; a key
    that went away while another with the same value appeared is a rename."""
    changes: list[ConfigChange] = []
    old_n, new_n = len(old_arch.get("layers", [])), len(new_arch.get("layers", []))
    if old_n != new_n:
        changes.append(ConfigChange(layer=-1, layer_class="(model)", key="number of layers", kind="changed", old=old_n, new=new_n))
    for i, (old, new) in enumerate(zip(old_arch.get("layers", []), new_arch.get("layers", []), strict=False)):
        a, b = _flatten(old.get("config", {})), _flatten(new.get("config", {}))
        cls = new.get("class", "?") if new.get("class") == old.get("class") else f"{old.get('class')} -> {new.get('class')}"
        added = {k: b[k] for k in b.keys() - a.keys()}
        for key in sorted(a.keys() - b.keys()):
            twin = next((k for k, v in added.items() if v == a[key] and v not in (None, False, True)), None)
            if twin is not None:
                changes.append(ConfigChange(layer=i, layer_class=cls, key=f"{key} -> {twin}", kind="renamed", old=a[key], new=added.pop(twin)))
            else:
                changes.append(ConfigChange(layer=i, layer_class=cls, key=key, kind="dropped", old=a[key]))
        changes += [ConfigChange(layer=i, layer_class=cls, key=k, kind="added", new=v) for k, v in sorted(added.items())]
        changes += [ConfigChange(layer=i, layer_class=cls, key=k, kind="changed", old=a[k], new=b[k])
                    for k in sorted(a.keys() & b.keys()) if a[k] != b[k]]
    return changes


# --- the verdict -----------------------------------------------------------------------

def _close(old: float, new: float, rtol: float, atol: float) -> bool:
    return abs(new - old) <= atol + rtol * abs(old)


def _judge_numbers(row: dict, old: dict, rtol: float, atol: float) -> tuple[Verdict, str | None]:
    outputs = row.get("outputs") or {}
    if "error" in outputs:
        return "different", f"the outputs could not be computed: {outputs['error']}"
    if not outputs.get("shapes_match", False):
        return "different", f"output shapes differ: {outputs.get('old_shapes')} -> {outputs.get('new_shapes')}"
    train, old_train = row.get("train") or {}, old.get("train") or {}
    if "error" in train:
        return "different", f"the training step failed: {train['error']}"
    losses_equal = losses_close = True
    if "skipped" not in train:
        pairs = [(old_train.get(k), train.get(k)) for k in ("loss", "loss_after")]
        if any(a is None or b is None for a, b in pairs):
            return "different", "the training-step loss is missing on one side"
        losses_equal = all(a == b for a, b in pairs)
        losses_close = all(_close(a, b, rtol, atol) for a, b in pairs)
    params_old, params_new = old.get("architecture", {}).get("params"), (row.get("architecture") or {}).get("params")
    if params_new is not None and params_old != params_new:
        return "different", f"parameter count {params_old} -> {params_new}"
    if outputs.get("identical") and losses_equal:
        return "identical", None
    if outputs.get("within") and losses_close:
        return "equal within tolerance", None
    what = [] if outputs.get("within") else [f"outputs max abs error {outputs['max_abs']:.3g} (rel {outputs['max_rel']:.3g})"]
    if not losses_close:
        what.append(f"training-step loss {old_train.get('loss'):.6g} -> {train.get('loss'):.6g}")
    return "different", "; ".join(what)


def judge(model: str, fmt: str, old: dict, row: dict | None, rtol: float, atol: float) -> ArtifactVerdict:
    """``old`` is the OLD side's record of the model; ``row`` the NEW side's for this format
    (None when the NEW side never reported it, which is a failure, never a pass)."""
    v = ArtifactVerdict(model=model, format=fmt, verdict="error", params_old=old.get("architecture", {}).get("params"),
                        loss_old=(old.get("train") or {}).get("loss"))
    if row is None:
        v.cause = "the new environment reported nothing for this artifact"
        return v
    if row.get("crashed"):
        v.verdict, v.cause = "crashed", row.get("error")
        return v
    if row.get("ok") is False:
        v.cause = row.get("error")
        return v
    if not row.get("loaded"):
        v.verdict, v.cause = "does not load", row.get("error")
        found = fix_for(v.cause or "")
        v.fix, v.fix_id = (found.fix, found.id) if found else ("no known fix: see the cause", None)
        return v
    v.loader = row.get("loader")
    verdict, detail = _judge_numbers(row, old, rtol, atol)
    outputs, train = row.get("outputs") or {}, row.get("train") or {}
    v.max_abs, v.max_rel = outputs.get("max_abs"), outputs.get("max_rel")
    v.loss_new = train.get("loss")
    if v.loss_old is not None and v.loss_new is not None:
        v.loss_diff = v.loss_new - v.loss_old
    if row.get("seconds") and old.get("seconds"):
        v.speed_ratio = row["seconds"] / old["seconds"]
    if row.get("architecture"):
        v.params_new = row["architecture"].get("params")
        v.config_changes = config_changes(old.get("architecture", {}), row["architecture"])
    if row.get("problem"):  # the plain loader failed; a documented fallback worked
        found = fix_for(row["problem"])
        v.verdict, v.cause = "does not load", row["problem"]
        v.fix, v.fix_id = (found.fix, found.id) if found else (f"load it with {v.loader}", None)
        v.with_fix = f"{v.loader}: {verdict}" + (f" ({detail})" if detail else "")
        return v
    v.verdict, v.cause = verdict, detail
    return v
