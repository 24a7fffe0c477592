"""Secrets never reach a lockfile.  A channel URL's credentials are written as the
environment-variable placeholders the profile or template spelled them with
(``http://${USER}:${PASS}@host/channel``); credentials given literally are stripped, with a
warning.  The solver is handed the URLs with the placeholders filled in; everything it
returns is rewritten back to the placeholder form before anything is written."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from envlock.core.errors import InputError
from envlock.lockfile.urls import (
    expand_credentials,
    has_literal_credentials,
    mask_credentials,
    strip_credentials,
)


@dataclass
class SolverChannels:
    urls: list[str]  # what the solver is handed (credentials filled in)
    written: dict[str, str] = field(default_factory=dict)  # filled-in or bare URL -> the form written
    warnings: list[str] = field(default_factory=list)


def _bare(url: str) -> str:
    """The URL without any credentials at all (how a solver may report a package's URL)."""
    return re.sub(r"(://)[^/@\s]+@", r"\1", url)


def solver_channels(channels: list[str], where: str) -> SolverChannels:
    out = SolverChannels(urls=[])
    for url in channels:
        if has_literal_credentials(url):
            written = strip_credentials(url)
            out.warnings.append(
                f"{where}: channel {mask_credentials(url)} holds credentials; they are left out of the lock "
                f"(written as {written}). Spell them as environment variables, e.g. "
                "http://${CHANNEL_USER}:${CHANNEL_PASSWORD}@host/channel, so the lock records the placeholders "
                "and `envlock create` fills them in.")
            out.urls.append(url)
            out.written[url] = written
            out.written[_bare(url)] = written
            continue
        try:
            filled = expand_credentials(url)
        except KeyError as exc:
            raise InputError(f"{where}: channel {url} names environment variable {exc.args[0]}, which is not set; "
                             f"export {exc.args[0]} and lock again.") from None
        out.urls.append(filled)
        if filled != url:
            out.written[filled] = url
            out.written[_bare(url)] = url
    return out


def _rewrite(text: str, written: dict[str, str]) -> str:
    for solver_form in sorted(written, key=len, reverse=True):
        if solver_form and solver_form != written[solver_form]:
            text = text.replace(solver_form, written[solver_form])
    return strip_credentials(text)


def scrub(value: Any, written: dict[str, str]) -> Any:
    """``value`` (a lock mapping) with every channel URL in its written form and no literal
    credential left anywhere."""
    if isinstance(value, str):
        return _rewrite(value, written)
    if isinstance(value, dict):
        return {k: scrub(v, written) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, written) for v in value]
    return value
