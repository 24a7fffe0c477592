"""The rule registry: each rule is a small function with a stable id and a default severity."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from envlock.audit.findings import Finding, Rule, Severity

PLATFORM_RULES: dict[str, Rule] = {}  # check(stack) -> findings, run once per platform
FILE_RULES: dict[str, Rule] = {}      # check(stacks) -> findings, compare platforms of one file
PROFILE_RULES: dict[str, Rule] = {}   # check(stacks, profile) -> findings


def _register(table: dict[str, Rule], rule_id: str, severity: Severity, summary: str) -> Callable:
    def wrap(check: Callable[..., Iterable[Finding]]) -> Callable[..., Iterable[Finding]]:
        if rule_id in table:
            raise ValueError(f"rule id {rule_id!r} registered twice")
        table[rule_id] = Rule(rule_id, severity, summary, check)
        return check
    return wrap


def platform_rule(rule_id: str, severity: Severity, summary: str) -> Callable:
    return _register(PLATFORM_RULES, rule_id, severity, summary)


def file_rule(rule_id: str, severity: Severity, summary: str) -> Callable:
    return _register(FILE_RULES, rule_id, severity, summary)


def profile_rule(rule_id: str, severity: Severity, summary: str) -> Callable:
    return _register(PROFILE_RULES, rule_id, severity, summary)


def finding(rule_id: str, platform: str | None, message: str, packages: Iterable[object] = (),
            severity: Severity | None = None) -> Finding:
    """A finding of a registered rule; ``severity`` overrides the rule's default."""
    rule = PLATFORM_RULES.get(rule_id) or FILE_RULES.get(rule_id) or PROFILE_RULES[rule_id]
    labels = [p if isinstance(p, str) else p.label() for p in packages]  # type: ignore[attr-defined]
    return Finding(rule=rule_id, severity=severity or rule.severity, platform=platform,
                   message=message, packages=labels)
