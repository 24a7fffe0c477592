"""The scan rules (``data/api_rules.yml``) as typed data, and when a rule applies to a move
from one TensorFlow/Keras to another."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from envlock.compat.table import version_key
from envlock.core.yaml_load import safe_load

RULES_FILE = Path(__file__).parent / "data" / "api_rules.yml"
Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}
# where a resolved name comes from: the TensorFlow API, tf.keras, the standalone keras package,
# tf-keras imported by name, the tensorflow-estimator package
Root = Literal["tf", "tf.keras", "keras", "tf_keras", "tensorflow_estimator"]
KERAS_ROOTS: tuple[Root, ...] = ("tf.keras", "keras")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PathCondition(_Strict):
    """Which path argument of a call the rule is about: a string literal whose suffix is not in
    ``ok`` and is in ``flag`` (``any``: every other suffix; ``""``: no suffix, a directory)."""

    position: int = 0
    keyword: str = "filepath"
    ok: list[str]
    flag: list[str] | Literal["any"]

    def matches(self, path: str) -> bool:
        lowered = path.lower().rstrip("/")
        if any(lowered.endswith(s) for s in self.ok):
            return False
        if self.flag == "any":
            return True
        name = lowered.rsplit("/", 1)[-1]
        suffix = "." + name.rsplit(".", 1)[1] if "." in name else ""
        return suffix in self.flag


class Rule(_Strict):
    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]+$")
    kind: Literal["symbol", "method", "call", "method_call", "route"]
    symbols: list[str]
    replacements: dict[str, str] = {}
    removed_in: str | None = None
    changed_in: str | None = None
    keras3: bool = False
    severity: Severity
    message: str
    fix: str
    source: str = Field(pattern=r"^https://")
    verify: Literal["attr", "probe", "wheel_api"]
    probe: str | None = None
    wheels: dict[str, str] = {}
    receiver: str | None = None  # the class a `method` rule is about (for its verification)
    path: PathCondition | None = None
    keywords: list[str] = []

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        if sum(x is not None and x is not False for x in (self.removed_in, self.changed_in, self.keras3 or None)) != 1:
            raise ValueError("needs exactly one of removed_in, changed_in, keras3: true")
        if self.kind in ("call", "method_call") and self.path is None and not self.keywords:
            raise ValueError(f"a {self.kind} rule needs `path` or `keywords`")
        if self.verify == "probe" and not self.probe:
            raise ValueError("verify: probe needs `probe: NAME`")
        if self.verify == "wheel_api" and set(self.wheels) != {"old", "new"}:
            raise ValueError("verify: wheel_api needs wheels: {old: ..., new: ...}")
        if unknown := set(self.replacements) - set(self.symbols):
            raise ValueError(f"replacements for symbols the rule does not list: {sorted(unknown)}")
        return self

    @property
    def version(self) -> str | None:
        """The TensorFlow line where the change lands (None for Keras 3 rules: it depends on the route)."""
        return self.removed_in or self.changed_in


class RuleFile(_Strict):
    schema_: int = Field(1, alias="schema")
    rules: list[Rule]

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleFile:
        ids = [r.id for r in self.rules]
        if dupes := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"duplicate rule ids: {dupes}")
        if sum(r.kind == "route" for r in self.rules) != 1:
            raise ValueError("exactly one rule of kind `route` (the tf-keras route) is required")
        return self


@lru_cache(maxsize=1)
def load_rules(path: Path = RULES_FILE) -> RuleFile:
    try:
        return RuleFile.model_validate(safe_load(path.read_bytes()))
    except ValidationError as exc:  # envlock's own data: a bug, said plainly
        raise RuntimeError(f"{path}: invalid rule data: {exc}") from exc


@dataclass(frozen=True)
class Side:
    """One end of the move: a TensorFlow line and which Keras each Keras name means there."""

    label: str
    tensorflow: str | None  # None: unknown, older than any rule (every change may lie ahead)
    tf_keras_major: int  # what `tf.keras` is
    keras_major: int  # what `import keras` is
    legacy_keras: bool = False  # tf.keras is tf-keras through TF_USE_LEGACY_KERAS

    def to_json(self) -> dict:
        return {"label": self.label, "tensorflow": self.tensorflow, "tf_keras_major": self.tf_keras_major,
                "keras_major": self.keras_major, "legacy_keras": self.legacy_keras}


def _keras_major(side: Side, root: Root) -> int:
    if root == "tf.keras":
        return side.tf_keras_major
    if root == "keras":
        return side.keras_major
    return 2 if root == "tf_keras" else 0


def crosses(rule: Rule, root: Root, old: Side, new: Side) -> bool:
    """True when the move from ``old`` to ``new`` crosses ``rule``'s change for a name under ``root``."""
    if rule.keras3:
        if root not in KERAS_ROOTS:
            return False
        return _keras_major(old, root) < 3 <= _keras_major(new, root)
    at = version_key(rule.version or "0")
    if new.tensorflow is None or version_key(new.tensorflow) < at:
        return False
    return old.tensorflow is None or version_key(old.tensorflow) < at


def kept_by_legacy_route(rule: Rule, root: Root, old: Side, new: Side) -> bool:
    """True for a Keras 3 finding on tf.keras that the target's tf-keras route prevents."""
    return (rule.keras3 and root == "tf.keras" and new.legacy_keras
            and _keras_major(old, root) < 3 <= new.keras_major)
