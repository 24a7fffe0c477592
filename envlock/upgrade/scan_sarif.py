"""``envlock scan --sarif``: the findings as SARIF 2.1.0 (GitHub code scanning's input)."""

from __future__ import annotations

from pathlib import Path, PurePath

from envlock import __version__
from envlock.upgrade.scan import SCAN_RULES, ScanReport

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _uri(file: str) -> dict:
    path = PurePath(file)
    if path.is_absolute():
        return {"uri": Path(file).as_uri()}
    return {"uri": path.as_posix(), "uriBaseId": "%SRCROOT%"}


def sarif(report: ScanReport) -> dict:
    """One run whose driver lists every rule (data rules, then the scan's own)."""
    descriptors: list[dict] = []
    for rule in report.rules:
        descriptors.append({
            "id": rule.id,
            "shortDescription": {"text": rule.message},
            "fullDescription": {"text": f"{rule.message} Symbols: {', '.join(rule.symbols) or '-'}."},
            "help": {"text": rule.fix},
            "helpUri": rule.source,
            "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        })
    for rule_id, (message, fix) in SCAN_RULES.items():
        descriptors.append({"id": rule_id, "shortDescription": {"text": message}, "help": {"text": fix},
                            "defaultConfiguration": {"level": "error"}})
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    results = []
    for f in report.findings:
        where = f" (notebook cell {f.cell})" if f.cell is not None else ""
        result: dict = {
            "ruleId": f.rule_id,
            "ruleIndex": index[f.rule_id],
            "level": _LEVEL[f.severity],
            "message": {"text": f"{f.symbol + ': ' if f.symbol else ''}{f.message}{where} Fix: {f.fix}"},
            "locations": [{"physicalLocation": {
                "artifactLocation": _uri(f.file),
                "region": {"startLine": max(f.line, 1), "startColumn": max(f.column, 1)},
            }}],
        }
        if f.cell is not None:
            result["properties"] = {"notebookCell": f.cell}
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "envlock-scan", "version": __version__, "rules": descriptors}},
            "results": results,
            "properties": {"from": report.old.label, "to": report.new.label},
        }],
    }
