"""What an audit reports: findings with a stable rule id, a severity and the fix."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


class Finding(BaseModel):
    rule: str
    severity: Severity
    platform: str | None
    message: str
    packages: list[str] = []
    environment: str | None = None  # the pixi.lock environment; None in single-environment files


class FileReport(BaseModel):
    """One audited file: the JSON shape ``envlock audit --json`` prints per file."""

    path: str
    format: str
    platforms: list[str]
    environments: list[str] = []
    findings: list[Finding]

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    summary: str
    check: Callable[..., Iterable[Finding]]


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.rule, f.environment or "", f.platform or ""))
