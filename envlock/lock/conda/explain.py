"""Why a conda solve failed, told in full and, when the root cause is a virtual package the
profile declares, naming the profile field to change."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from envlock.lock.conda.virtual import virtual_packages
from envlock.lockfile.urls import mask_credentials

if TYPE_CHECKING:
    from envlock.profiles.model import LockSpec

_UNREACHABLE = ("failed to fetch", "error sending request", "dns", "connect", "404 not found", "could not find repodata")
# rattler/resolvo explain as a tree:   └─ libsystemd0 257 | 258 would require
#                                          └─ __glibc >=2.34, for which no candidates were found.
_TREE = "│├└─ \t"
_VIRTUAL_LINE = re.compile(r"^(?P<indent>[│├└─\s]*)(?P<name>__[A-Za-z0-9_]+)\s*(?P<spec>[^,]*)")
_WOULD_REQUIRE = re.compile(r"^(?P<indent>[│├└─\s]*)(?P<who>.+?) would require\b")
_MAX_LINES = 200  # a solver explanation is a tree; past this it is noise, not the root cause


def _virtual_root_causes(message: str, spec: LockSpec) -> list[str]:
    """One sentence per virtual package the explanation says is missing or too old."""

    seen: set[tuple[str, str]] = set()
    causes: list[str] = []
    lines = message.splitlines()
    for i, line in enumerate(lines):
        m = _VIRTUAL_LINE.match(line)
        if m is None:
            continue
        name, need = m["name"], m["spec"].strip()
        who = next((w["who"].strip(_TREE) for back in reversed(lines[:i])
                    if (w := _WOULD_REQUIRE.match(back)) and len(w["indent"]) < len(m["indent"])), "a package")
        if (name, need) in seen:
            continue
        seen.add((name, need))
        for plat in spec.platforms:
            have = virtual_packages(spec, plat).get(name)
            declared = "declares" if name in spec.virtual_packages.get(plat, {}) else "defaults to"
            state = f'{declared} {name}: "{have}"' if have is not None else f"declares no {name}"
            causes.append(
                f"root cause: {who} needs {name} {need}".rstrip() + f", while the profile {state} for {plat}; "
                f"if the target machines have it, change virtual_packages.{plat}.{name} in the profile, "
                "else pin that package to an older version.")
    return causes


def explain_failure(source: Path, spec: LockSpec, error_file: Path, log: str, exc: BaseException) -> str:
    if error_file.is_file():
        message = error_file.read_text().strip()
    else:
        lines = [ln for ln in (log + "\n" + str(exc)).splitlines() if ln.strip()]
        message = "\n".join(lines[-6:]) or type(exc).__name__
    message = mask_credentials(message)
    lowered = message.lower()
    causes: list[str] = []
    if any(w in lowered for w in _UNREACHABLE):
        hint = f"a channel could not be reached ({mask_credentials(', '.join(spec.channels))}); check the channel URLs and the network"
    else:
        hint = "the specs cannot be satisfied together; relax the versions in the profile or its 'conda:' list"
        causes = _virtual_root_causes(message, spec)
    lines = message.splitlines()
    if len(lines) > _MAX_LINES:
        lines = [*lines[:_MAX_LINES], f"... ({len(lines) - _MAX_LINES} more lines)"]
    text = f"{source}: conda part of profile '{spec.name}' could not be locked — {hint}. Solver says:\n    " + "\n    ".join(lines)
    return text + "".join(f"\n{c}" for c in causes)
