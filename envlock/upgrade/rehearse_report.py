"""A rehearsal for people: a rich table on the terminal, the same as markdown for ``--report``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from envlock.upgrade.rehearse import Rehearsal
from envlock.upgrade.rehearse_verdict import ArtifactVerdict

if TYPE_CHECKING:
    from rich.console import Console

STYLE = {"identical": "green", "equal within tolerance": "green", "not written": "dim", "different": "red",
         "does not load": "red", "crashed": "bold red", "error": "bold red"}
COLUMNS = ("model", "format", "verdict", "max abs err", "max rel err", "loss old → new", "speed new/old", "config changes", "cause / fix")


def _num(x: float | None, fmt: str = ".3g") -> str:
    return "—" if x is None else format(x, fmt)


def _loss(v: ArtifactVerdict) -> str:
    if v.loss_old is None or v.loss_new is None:
        return "—"
    return f"{v.loss_old:.6g} → {v.loss_new:.6g}"


def _changes(v: ArtifactVerdict) -> str:
    if not v.config_changes:
        return "—" if v.params_new is None else "none"
    kinds: dict[str, int] = {}
    for c in v.config_changes:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))


def _cause(v: ArtifactVerdict) -> str:
    parts = [p for p in (v.cause, f"fix: {v.fix}" if v.fix else None, f"with the fix: {v.with_fix}" if v.with_fix else None) if p]
    return " — ".join(parts) or "—"


def _short(v: ArtifactVerdict) -> str:
    """The cause in a table cell: the known fix's id (spelled out below the table), else the cause cut short."""
    text = f"[{v.fix_id}]" if v.fix_id else (v.cause or "—")[:120]
    return text + (f"; with the fix: {v.with_fix}" if v.with_fix else "")


def row(v: ArtifactVerdict, full: bool = False) -> list[str]:
    return [v.model, v.format, v.verdict, _num(v.max_abs), _num(v.max_rel), _loss(v),
            _num(v.speed_ratio, ".2f"), _changes(v), _cause(v) if full else _short(v)]


def fixes(r: Rehearsal) -> list[str]:
    """Each known cause once: id, how many rows, the fix."""
    seen: dict[str, tuple[int, str]] = {}
    for v in r.verdicts:
        if v.fix_id:
            n, fix = seen.get(v.fix_id, (0, v.fix or ""))
            seen[v.fix_id] = (n + 1, fix)
    return [f"[{k}] ({n} row{'s' if n > 1 else ''}) {fix}" for k, (n, fix) in seen.items()]


def _side(r: Rehearsal, which: str) -> str:
    side = getattr(r, which)
    ver = side.versions or {}
    what = f"profile {side.profile}, " if side.profile else ""
    extra = f", with {' '.join(f'{k}={v}' for k, v in side.env_vars.items())}" if side.env_vars else ""
    return (f"{which}: {what}{side.prefix} — TensorFlow {ver.get('tensorflow', '?')}, Keras {ver.get('keras', '?')} "
            f"({ver.get('keras_module', '?')}){extra}; {side.seconds:.1f} s")


def summary(r: Rehearsal) -> str:
    counts = ", ".join(f"{n} {k}" for k, n in r.counts.items())
    return f"{'OK' if r.ok else 'NOT OK'}: {counts} (tolerance rtol {r.rtol:g}, atol {r.atol:g}; {r.seconds:.1f} s)"


def render(r: Rehearsal, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    console.print(_side(r, "old"))
    console.print(_side(r, "new"))
    for side in (r.old, r.new):
        for p in side.problems:
            console.print(Text(f"{side.label}: {p}", style="red"))
    table = Table(title="Rehearsal", title_justify="left", header_style="bold", show_lines=False)
    for c in COLUMNS:
        table.add_column(c, overflow="fold")
    for v in r.verdicts:
        cells = row(v)
        table.add_row(*cells[:2], Text(cells[2], style=STYLE.get(v.verdict, "")), *cells[3:])
    console.print(table)
    for line in fixes(r):
        console.print(line)
    if r.lock_diff:
        for h in r.lock_diff.get("highlights", []):
            console.print(f"lock: {h['topic']}: {h.get('old') or '—'} → {h.get('new') or '—'} {h.get('note', '')}")
    elif r.lock_diff_note:
        console.print(Text(r.lock_diff_note, style="dim"))
    if r.scan is not None:
        _scan_lines(r, lambda line: console.print(line))
    console.print(Text(summary(r), style="bold green" if r.ok else "bold red"))


def _scan_lines(r: Rehearsal, emit) -> None:  # noqa: ANN001 - a print function
    assert r.scan is not None
    if not r.scan.get("available"):
        emit(f"code scan: {r.scan.get('note')}")
        return
    findings = r.scan.get("findings", [])
    emit(f"code scan of {', '.join(r.scan['paths'])} ({r.scan.get('from')} → {r.scan.get('to')}): {len(findings)} finding(s)")
    for f in findings:
        if isinstance(f, dict):
            emit(f"  {f.get('file')}:{f.get('line')}:{f.get('column')} {f.get('severity')} {f.get('rule') or f.get('id')}: {f.get('message')}")


def _md(cell: str) -> str:
    return cell.replace("|", "\\|").replace("\n", " ")


def markdown(r: Rehearsal) -> str:
    lines = ["# envlock rehearse", "", f"- {_side(r, 'old')}", f"- {_side(r, 'new')}", f"- **{summary(r)}**", ""]
    for side in (r.old, r.new):
        lines += [f"- {side.label}: {p}" for p in side.problems]
    lines += ["## Models", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_md(c) for c in row(v)) + " |" for v in r.verdicts]
    if fixes(r):
        lines += ["", "## Causes and fixes", ""] + [f"- {line}" for line in fixes(r)]
    unknown = [v for v in r.verdicts if v.cause and not v.fix_id]
    if unknown:
        lines += ["", "## Other causes", ""] + [f"- {v.model} / {v.format}: {_md(v.cause or '')}" for v in unknown]
    changed = [v for v in r.verdicts if v.config_changes]
    if changed:
        lines += ["", "## Configuration differences", ""]
        for v in changed:
            lines.append(f"<details><summary>{v.model} / {v.format}: {_changes(v)}</summary>\n")
            lines += [f"- layer {c.layer} {c.layer_class}: `{c.key}` {c.kind}: `{c.old!r}` → `{c.new!r}`" for c in v.config_changes]
            lines.append("\n</details>")
    lines += ["", "## Lock diff", ""]
    if r.lock_diff:
        lines += [f"- {h['topic']}: {h.get('old') or '—'} → {h.get('new') or '—'} {h.get('note', '')}".rstrip()
                  for h in r.lock_diff.get("highlights", [])] or ["- no change to TensorFlow, Keras, Python, CUDA or cuDNN"]
        lines += [f"- breaking: {b['line']}: {b['change']}" for b in r.lock_diff.get("breaking", [])]
    else:
        lines.append(f"- {r.lock_diff_note}")
    if r.scan is not None:
        lines += ["", "## Code scan", ""]
        _scan_lines(r, lambda line: lines.append(f"- {line.strip()}"))
    return "\n".join(lines) + "\n"
