"""Render a ``VerifyReport``: a rich table for people, markdown for ``--report`` files.
(The ``--json`` document is ``VerifyReport.to_json``.)"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from envlock.verify.checks import short_device
from envlock.verify.model import VerifyReport


def _fmt(x: float | None, spec: str = ".1f") -> str:
    return "—" if x is None else format(x, spec)


def _timing_line(r: VerifyReport) -> str:
    t = r.timings
    parts = [f"probe {_fmt(t.get('probe_s'))} s", f"TensorFlow import {_fmt(t.get('tensorflow_import_s'))} s"]
    parts += [f"{b.op} {b.dtype} {short_device(b.device)} {_fmt(b.wall_s)} s" for b in r.benchmarks]
    return ", ".join(parts)


def _peak_line(r: VerifyReport) -> str | None:
    hw = r.hardware
    if "cpu_matmul_fraction_of_peak" not in hw:
        return None
    fraction = hw["cpu_matmul_fraction_of_peak"]
    if fraction > 1 and hw.get("cpu_effective_ghz_min"):
        return (f"CPU matmul above the {hw['cpu_peak_gflops']:g} GFLOP/s computed at the reported clock "
                f"({hw['cpu_peak_assumption']}): the cores ran at >= {hw['cpu_effective_ghz_min']:g} GHz (turbo), "
                f"so the reported clock understates the peak")
    return (f"CPU matmul at {100 * fraction:.0f}% of a {hw['cpu_peak_gflops']:g} GFLOP/s "
            f"theoretical peak ({hw['cpu_peak_assumption']})")


def render(r: VerifyReport, console: Console) -> None:
    table = Table(title=f"envlock verify — {r.profile} ({r.prefix}, {r.platform})", show_lines=False)
    for col in ("check", "", "expected", "actual"):
        table.add_column(col, overflow="fold")
    for c in r.checks:
        mark = Text("ok", style="green") if c.ok else Text("FAIL", style="bold red")
        table.add_row(c.name, mark, c.expected or "", c.actual or "")
    console.print(table)
    for c in r.checks:
        if c.message:
            style = "green" if c.ok else "red"
            console.print(Text.assemble((f"{c.name}: ", f"bold {style}"), c.message))
    if r.benchmarks:
        bt = Table(title="smoke benchmark")
        for col in ("device", "op", "dtype", "GFLOP/s", "median ms", "runs", "rel. error"):
            bt.add_column(col, justify="right" if col not in ("device", "op", "dtype") else "left")
        for b in r.benchmarks:
            rel = b.rel_error
            bt.add_row(short_device(b.device), b.op, b.dtype, _fmt(b.gflops),
                       _fmt(b.median_s * 1000 if b.median_s else None, ".2f"), str(b.runs or "—"),
                       _fmt(rel, ".1e") if not b.error else b.error)
        console.print(bt)
    console.print(Text(_timing_line(r), style="dim"))
    peak = _peak_line(r)
    if peak:
        console.print(Text(peak, style="dim"))
    for w in r.warnings:
        console.print(Text.assemble(("warning: ", "bold yellow"), w))
    if not r.ok and r.stderr_tail:
        console.print(Text("probe stderr (tail):", style="bold"))
        console.print(Text(r.stderr_tail, style="dim"))
    if r.record_path:
        console.print(Text(f"verification record: {r.record_path}", style="dim"))
    verdict = Text("PASSED", style="bold green") if r.ok else Text(f"FAILED ({len(r.failed)} of {len(r.checks)} checks)", style="bold red")
    console.print(Text.assemble("verify: ", verdict))


def _md_cell(s: str | None) -> str:
    return (s or "").replace("|", "\\|").replace("\n", " ")


def markdown(r: VerifyReport) -> str:
    lines = [f"# envlock verify: {r.profile}", "",
             f"- **Verdict:** {'PASSED' if r.ok else 'FAILED'}",
             f"- **Environment:** `{r.prefix}` ({r.platform})"]
    if r.tensorflow.get("version"):
        lines.append(f"- **TensorFlow:** {r.tensorflow['version']}; **tf.keras:** {r.keras.get('resolves_to')} {r.keras.get('version')}")
    hw = r.hardware
    if hw:
        lines.append(f"- **Hardware:** {hw.get('cpu_model')} ({hw.get('logical_cpus')} CPUs)"
                     + (f", GPUs: {', '.join(hw['gpus'])}" if hw.get("gpus") else ""))
    lines += ["", "| check | ok | expected | actual | message |", "|---|---|---|---|---|"]
    for c in r.checks:
        lines.append(f"| {_md_cell(c.name)} | {'✅' if c.ok else '❌'} | {_md_cell(c.expected)} | {_md_cell(c.actual)} | {_md_cell(c.message)} |")
    if r.benchmarks:
        lines += ["", "## Smoke benchmark", "", "| device | op | dtype | GFLOP/s | median ms | rel. error |", "|---|---|---|---:|---:|---:|"]
        for b in r.benchmarks:
            lines.append(f"| {short_device(b.device)} | {b.op} | {b.dtype} | {_fmt(b.gflops)} | "
                         f"{_fmt(b.median_s * 1000 if b.median_s else None, '.2f')} | {_md_cell(b.error) or _fmt(b.rel_error, '.1e')} |")
    lines += ["", f"Timings: {_timing_line(r)}."]
    peak = _peak_line(r)
    if peak:
        lines.append(f"{peak}.")
    if r.warnings:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in r.warnings]
    if not r.ok and r.stderr_tail:
        lines += ["", "## Probe stderr (tail)", "", "```", r.stderr_tail, "```"]
    return "\n".join(lines) + "\n"
