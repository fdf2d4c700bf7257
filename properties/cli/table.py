"""The one result table of `kubeprop check`, for the cluster model and the Raft model alike.

One row per property, one column per engine; then what could not have failed (vacuity) and
warnings; each engine's exit reason and figures; and every discovery with its counterexample file
and the command that replays it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import attrs

from kubeprop.counterexamples.printable import shown
from kubeprop.counterexamples.reproduce import reproduce_command

__all__ = ["EngineColumn", "Finding", "Table", "render"]


@attrs.frozen
class EngineColumn:
    """One engine's column and its summary line: exit reason, figures (`: 8557 steps, …`), and —
    when measured — seconds and transitions per second, when the first violation was found, and
    the engines of a portfolio (`parts`, each on a line of its own with the seconds it used)."""

    engine: str
    exit_reason: str
    figures: str = ""
    seconds: float | None = None
    rate: float = 0.0
    found_after: float | None = None
    parts: tuple[EngineColumn, ...] = ()
    note: str = ""
    lanes: int = 0
    """The portfolio's lanes (worker processes running its engines; 0: not a portfolio)."""


@attrs.frozen
class Finding:
    """One discovery: which engine, the violation in words, its counterexample file (or a note
    saying why there is none), and a trace printed inline when there is no file."""

    engine: str
    text: str
    path: Path | None = None
    note: str = ""
    steps: tuple[str, ...] = ()
    explanation: tuple[str, ...] = ()
    """Lines printed under the violation (an upstream behaviour's summary and citations)."""
    relies: str = ""
    """The line saying what the run relies on besides the control plane (`kubeprop.counterexamples.reliance`)."""


@attrs.frozen
class Table:
    """Everything `render` prints."""

    title: str
    rows: tuple[str, ...]
    columns: tuple[EngineColumn, ...]
    cells: tuple[tuple[str, ...], ...]
    header: tuple[str, ...] = ()
    vacuous: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    upstream: tuple[Finding, ...] = ()
    """Discoveries that are known upstream behaviour, printed under `upstream_heading`."""
    upstream_heading: str = ""


def render(table: Table, out: TextIO, timing: bool = True) -> None:
    """Print the table (see the module docstring); `timing=False` leaves out the seconds."""
    out.write(f"{shown(table.title)}\n")
    for line in table.header:
        out.write(f"{line}\n")
    rows = [shown(r) for r in table.rows]
    width = max((len(r) for r in rows), default=8) + 2
    out.write(f"\n{'property':<{width}}" + "".join(f"{c.engine:<22}" for c in table.columns).rstrip() + "\n")
    for row, cells in zip(rows, table.cells, strict=True):
        out.write(f"{row:<{width}}" + "".join(f"{cell:<22}" for cell in cells).rstrip() + "\n")
    if table.vacuous:
        out.write("\nvacuous (could not have failed here, so 'held' would say nothing):\n")
        for name, reason in table.vacuous:
            out.write(f"  {shown(name)}: {reason}\n")
    for warning in table.warnings:
        out.write(f"\nwarning: {warning}\n")
    ran = [c for c in table.columns if c.figures or c.parts or c.exit_reason != "interrupted"]
    if not ran:  # an interrupt before any engine had figures: no heading over nothing
        left = ", ".join(c.engine for c in table.columns)
        out.write(f"\nengines: none finished{f' ({left}: interrupted)' if left else ''}\n")
    else:
        out.write("\nengines:\n")
    for c in ran:
        out.write(f"  {c.engine:<11} {c.exit_reason}{c.figures}\n")
        if timing and c.seconds is not None:
            lanes = f" on {c.lanes} lane{'s' if c.lanes != 1 else ''}" if c.lanes else ""
            out.write(f"  {'':<11} time: {c.seconds:.1f} s ({c.rate:,.0f} steps/s){lanes}\n")
            if c.found_after is not None:
                out.write(f"  {'':<11} time: found after {c.found_after:.1f} s, then shrunk\n")
        for part in c.parts:
            used = f", {part.seconds:.1f} s" if timing and part.seconds is not None else ""
            note = f" ({part.note})" if part.note else ""
            out.write(f"    {part.engine:<11} {part.exit_reason}{part.figures}{used}{note}\n")
    for f in table.findings:
        _finding(f, out)
    if table.upstream:
        out.write(f"\n{table.upstream_heading}:\n")
        for f in table.upstream:
            _finding(f, out)


def _finding(f: Finding, out: TextIO) -> None:
    out.write(f"\n{f.engine}: {shown(f.text)}\n")
    if f.relies:
        out.write(f"  {shown(f.relies)}\n")
    for line in f.explanation:
        out.write(f"  {line}\n")
    for n, step in enumerate(f.steps, 1):
        out.write(f"  {n:>3}. {step}\n")
    if f.path is not None:
        out.write(f"  counterexample: {shown(f.path)}\n  reproduce with: {reproduce_command(f.path)}\n")
    elif f.note:
        out.write(f"  {shown(f.note)}\n")
