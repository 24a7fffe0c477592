"""``envlock scan``: which TensorFlow/Keras APIs in a code base break in a move between versions."""

from __future__ import annotations

import ast
import gc
import multiprocessing
import os
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from envlock.upgrade.rules import SEVERITY_ORDER, Rule, Side, load_rules
from envlock.upgrade.scan_files import Source, Unreadable, discover, sources
from envlock.upgrade.scan_match import Finding, RuleIndex, Suppressed
from envlock.upgrade.scan_names import Scope, collect

PARALLEL_FROM = 400  # files; below this a process pool costs more than it saves
# a file the scan could not check is a failed check: these ids sit beside the data's rules
UNREADABLE_RULE = "SCAN-UNREADABLE"
PARSE_RULE = "SCAN-SYNTAX"
SCAN_RULES: dict[str, tuple[str, str]] = {
    UNREADABLE_RULE: ("The file could not be read or split into notebook cells, so it was not checked.",
                      "Make it readable (a valid nbformat-4 notebook), or leave it out of the paths scanned."),
    PARSE_RULE: ("The code is not valid Python 3 for this interpreter, so it was not checked.",
                 "Fix the syntax error (notebooks: IPython syntax other than %magics, !shell and ?help lines is not understood)."),
}


@dataclass
class ScanReport:
    old: Side
    new: Side
    files: int
    rules: list[Rule]
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def counts(self) -> dict[str, int]:
        return {s: sum(f.severity == s for f in self.findings) for s in SEVERITY_ORDER}

    def to_json(self) -> dict:
        return {
            "ok": self.ok, "from": self.old.to_json(), "to": self.new.to_json(),
            "files_scanned": self.files, "rules": len(self.rules), "counts": self.counts(),
            "findings": [f.to_json() for f in self.findings],
        }


def scan_paths(paths: list[Path], old: Side, new: Side) -> ScanReport:
    """Check every .py/.ipynb under ``paths`` for the rules the move ``old`` -> ``new`` crosses."""
    rules = load_rules().rules
    files = discover(paths)
    report = ScanReport(old, new, len(files), rules)
    workers = _worker_count(len(files))
    if workers > 1:
        chunks = [files[i::workers * 4] for i in range(workers * 4)]
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            parts = list(pool.map(_scan_files, chunks, [old] * len(chunks), [new] * len(chunks)))
    else:
        parts = [_scan_files(files, old, new)]
    suppressed: list[Suppressed] = []
    for found, kept in parts:
        report.findings.extend(found)
        suppressed.extend(kept)
    route = next(r for r in rules if r.kind == "route")
    if suppressed:
        report.findings.append(_route_finding(route, suppressed))
    report.findings.sort(key=lambda f: (f.file, f.cell or 0, f.line, f.column, SEVERITY_ORDER[f.severity], f.rule_id))
    return report


def _worker_count(files: int) -> int:
    """Processes to parse with: one per usable CPU for large trees, where forking pays off (Linux)."""
    if files < PARALLEL_FROM or sys.platform != "linux":
        return 1
    return min(len(os.sched_getaffinity(0)), 8)


def _scan_files(files: list[Path], old: Side, new: Side) -> tuple[list[Finding], list[Suppressed]]:
    index = RuleIndex(load_rules().rules, old, new)
    findings: list[Finding] = []
    suppressed: list[Suppressed] = []
    collecting = gc.isenabled()
    gc.disable()  # syntax trees hold no cycles; collecting while building them costs ~20%
    try:
        for path in files:
            scope = Scope()  # a notebook's cells share one namespace
            for item in sources(path):
                if isinstance(item, Unreadable):
                    findings.append(_scan_problem(UNREADABLE_RULE, item.file, 1, 1, item.reason, item.cell))
                    continue
                found, kept = _check(item, index, scope)
                findings.extend(found)
                suppressed.extend(kept)
    finally:
        if collecting:
            gc.enable()
    return findings, suppressed


def _check(source: Source, index: RuleIndex, scope: Scope) -> tuple[list[Finding], list[Suppressed]]:
    try:
        with warnings.catch_warnings():  # invalid escape sequences etc. in the code scanned
            warnings.simplefilter("ignore")
            tree = ast.parse(source.text, filename=source.file)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None) or 1
        col = getattr(exc, "offset", None) or 1
        detail = getattr(exc, "msg", None) or str(exc)
        return [_scan_problem(PARSE_RULE, source.file, line, col, detail, source.cell)], []
    return index.match(collect(tree, index.method_names, scope), source.file, source.cell)


def _scan_problem(rule_id: str, file: str, line: int, col: int, detail: str, cell: int | None) -> Finding:
    message, fix = SCAN_RULES[rule_id]
    return Finding(file, line, col, rule_id, "error", f"{message} ({detail})", fix, "", "", cell)


def _route_finding(rule: Rule, suppressed: list[Suppressed]) -> Finding:
    first = min(suppressed, key=lambda s: (s.file, s.cell or 0, s.line, s.column))
    n = len(suppressed)
    message = f"{rule.message} ({n} use{'s' if n != 1 else ''} of tf.keras APIs that Keras 3 changed, the first here.)"
    return Finding(first.file, first.line, first.column, rule.id, rule.severity, message, rule.fix,
                   first.symbol, rule.source, first.cell)
