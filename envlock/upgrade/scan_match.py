"""Match one module's resolved names against the rules that a given move crosses."""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import asdict, dataclass

from envlock.upgrade.rules import KERAS_ROOTS, Root, Rule, Side, crosses, kept_by_legacy_route
from envlock.upgrade.scan_names import ModuleNames, root_of


@dataclass
class Finding:
    file: str
    line: int
    column: int  # 1-based
    rule_id: str
    severity: str
    message: str
    fix: str
    symbol: str
    source: str
    cell: int | None = None  # 1-based code-cell number in a notebook

    def to_json(self) -> dict:
        data = asdict(self)
        if self.cell is None:
            del data["cell"]
        return data


@dataclass
class Suppressed:
    """A Keras 3 finding on tf.keras that the target's tf-keras route prevents."""

    file: str
    line: int
    column: int
    symbol: str
    cell: int | None = None


def _path_literal(node: ast.expr) -> str | None:
    """The trailing text of a path argument when it is known statically: a string, the constant
    end of an f-string, ``base / "name"`` or ``os.path.join(..., "name")``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        last = node.values[-1]
        return last.value if isinstance(last, ast.Constant) and isinstance(last.value, str) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return _path_literal(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join" and node.args:
        return _path_literal(node.args[-1])
    return None


def _call_matches(rule: Rule, call: ast.Call) -> bool:
    if rule.keywords and any(kw.arg in rule.keywords for kw in call.keywords):
        return True
    if rule.path is None:
        return False
    arg: ast.expr | None = call.args[rule.path.position] if len(call.args) > rule.path.position else None
    if arg is None:
        arg = next((kw.value for kw in call.keywords if kw.arg == rule.path.keyword), None)
    text = _path_literal(arg) if arg is not None else None
    return text is not None and rule.path.matches(text)


class RuleIndex:
    """The rules by the names they look at, for one move ``old`` -> ``new``."""

    def __init__(self, rules: list[Rule], old: Side, new: Side) -> None:
        self.old, self.new = old, new
        self.symbols: dict[str, list[tuple[str, Rule]]] = defaultdict(list)
        self.calls: dict[str, list[Rule]] = defaultdict(list)
        self.methods: dict[str, list[Rule]] = defaultdict(list)
        self.method_calls: dict[str, list[Rule]] = defaultdict(list)
        self.route: Rule | None = None
        for rule in rules:
            if rule.kind == "route":
                self.route = rule
            for symbol in rule.symbols:
                keys = [symbol, "tf." + symbol] if symbol.startswith("keras.") else [symbol]
                for key in keys:
                    if rule.kind == "symbol":
                        self.symbols[key].append((symbol, rule))
                    elif rule.kind == "call":
                        self.calls[key].append(rule)
                if rule.kind == "method":
                    self.methods[symbol].append(rule)
                elif rule.kind == "method_call":
                    self.method_calls[symbol].append(rule)
        self.method_names = frozenset(self.methods) | frozenset(self.method_calls)
        self._crosses: dict[tuple[str, str], bool] = {}

    def _applies(self, rule: Rule, root: Root) -> bool:
        key = (rule.id, root)
        if key not in self._crosses:
            self._crosses[key] = crosses(rule, root, self.old, self.new)
        return self._crosses[key]

    def _symbol_rules(self, name: str) -> list[tuple[str, Rule]]:
        """Rules of the longest listed symbol that ``name`` is or lies under."""
        parts = name.split(".")
        for k in range(len(parts), 0, -1):
            hit = self.symbols.get(".".join(parts[:k]))
            if hit:
                return hit
        return []

    def match(self, names: ModuleNames, file: str, cell: int | None = None) -> tuple[list[Finding], list[Suppressed]]:
        findings: list[Finding] = []
        suppressed: list[Suppressed] = []
        flagged_imports: set[tuple[str | None, str]] = set()
        seen: set[tuple[str, int, int]] = set()

        def add(rule: Rule, symbol: str, shown: str, line: int, col: int) -> None:
            if (rule.id, line, col) in seen:
                return
            seen.add((rule.id, line, col))
            fix = rule.fix
            if replacement := rule.replacements.get(symbol):
                fix = f"{fix} Here: {shown} -> {replacement}."
            findings.append(Finding(file, line, col + 1, rule.id, rule.severity, rule.message, fix, shown, rule.source, cell))

        def judge(rule: Rule, symbol: str, shown: str, roots: list[Root], line: int, col: int) -> bool:
            if any(self._applies(rule, root) for root in roots):
                add(rule, symbol, shown, line, col)
                return True
            if any(kept_by_legacy_route(rule, root, self.old, self.new) for root in roots):
                suppressed.append(Suppressed(file, line, col + 1, shown, cell))
            return False

        for ref in names.references:
            root = root_of(ref.name)
            for symbol, rule in self._symbol_rules(ref.name):
                if not ref.is_import and (ref.alias, rule.id) in flagged_imports:
                    continue  # the import line already carries this finding
                if judge(rule, symbol, ref.name, [root], ref.line, ref.col) and ref.is_import:
                    flagged_imports.add((ref.alias, rule.id))
            if ref.call is not None:
                for rule in self.calls.get(ref.name, ()):
                    if _call_matches(rule, ref.call):
                        judge(rule, rule.symbols[0], ref.name, [root], ref.line, ref.col)
        roots = [r for r in KERAS_ROOTS if r in names.roots_imported]
        for use in names.methods:
            for rule in self.methods.get(use.name, ()):
                judge(rule, use.name, "." + use.name, roots, use.line, use.col)
            if use.call is not None:
                for rule in self.method_calls.get(use.name, ()):
                    if _call_matches(rule, use.call):
                        judge(rule, use.name, f".{use.name}()", roots, use.line, use.col)
        return findings, suppressed
