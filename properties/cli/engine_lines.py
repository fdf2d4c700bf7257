"""The engine lines of `kubeprop check`'s table: each engine's exit reason and how far it got — the
depth a search reached, how many random runs, how long each may be and how long they were on
average — and, for a portfolio, one line per member."""

from __future__ import annotations

from typing import Any

from kubeprop.counterexamples.api import CheckReport
from kubeprop.properties.cli.check_args import DEFAULT_DEPTH, NOT_AN_ENGINE
from kubeprop.properties.cli.table import EngineColumn
from kubeprop.properties.explore.portfolio import LATE

__all__ = ["DEFAULT_DEPTH", "EXPECTED", "NOT_AN_ENGINE", "RUN_ENGINES", "column"]



EXPECTED = "expected"
"""The portfolio's part for the run a user expects (`expected.NAME`; not imported: that module
imports the searches): not an engine, and its line says so."""

RUN_ENGINES = ("walk", "pct", "hypothesis")
"""Engines of random runs: their `depth` figure is how long a run may be, not a depth reached."""


def _reach(engine: str, s: Any, max_depth: int) -> str:
    """How far an engine got: the depth a search reached (`, depth 5`); for random runs, how many,
    how long they were on average (the steps taken over the runs finished: a run ends early when
    nothing is left to do; the fair continuation that judges convergence at a run's end counts, so
    the average can exceed the bound, trial16) and how long each may be before that continuation
    — `--max-depth`, and for the odd-numbered walk
    and PCT runs the fair run's length and a quarter when that is longer (`engine.run_length`), so
    that they reach a long workload's end; for PCT also n, the most actors one run gave a priority
    (its bound, 1 / (n · k^(d−1)) with k the run's length, can be checked); for a portfolio, the
    deepest state its searches reached (its runs' lengths are on their own lines). Random runs none
    of which finished (the budget over before the first) have no length to tell."""
    depth = getattr(s, "depth", 0)
    if engine in RUN_ENGINES and not s.runs:
        return ", 0 runs (none finished)"  # (not "each up to 0 steps": no run set a length)
    if engine in RUN_ENGINES:
        mean = f", {s.steps / s.runs:.1f} steps a run on average" if s.runs else ""
        actors = f", n = {s.actors} actors" if getattr(s, "actors", 0) else ""
        each = f"each up to {max_depth if depth > max_depth and engine != 'hypothesis' else depth} steps, then those " \
               "judging convergence"
        if depth > max_depth and engine != "hypothesis":
            return (f", {s.runs} runs{mean} ({each}; the odd-numbered up to {depth}: the fair run's length and a "
                    f"quarter){actors}")
        return f", {s.runs} runs{mean} ({each}){actors}"
    runs = f", {s.runs} runs" if getattr(s, "runs", 0) else ""
    parts = getattr(s, "parts", ())
    if parts:
        searched = [p.stats.depth for p in parts if p.engine not in RUN_ENGINES and p.stats is not None]
        return f"{runs}, depth {max(searched)}" if searched else runs
    return f"{runs}, depth {depth}"


def _figures(engine: str, s: Any, max_depth: int) -> str:
    distinct = f", {s.distinct} distinct" if getattr(s, "distinct", 0) else ""
    return f": {s.steps} steps{distinct}{_reach(engine, s, max_depth)}"


def _parts(report: CheckReport, max_depth: int) -> tuple[EngineColumn, ...]:
    """One column per engine of a portfolio: how far it got and the seconds it used."""
    out = []
    for part in getattr(report.stats, "parts", ()):
        shown = part.violation is not None or part.stats.note in ("not started", LATE) or part.engine == EXPECTED
        out.append(EngineColumn(part.engine, part.exit_reason, _figures(part.engine, part.stats, max_depth),
                                part.stats.seconds, note=part.stats.note if part.stats.note and shown else ""))
    return tuple(out)


def column(report: CheckReport, max_depth: int = DEFAULT_DEPTH) -> EngineColumn:
    s = report.stats
    if s is None:
        return EngineColumn(report.engine, report.exit_reason)
    return EngineColumn(report.engine, report.exit_reason, _figures(report.engine, s, max_depth), s.seconds,
                        s.steps_per_second, found_after=report.found_after, parts=_parts(report, max_depth),
                        lanes=len(getattr(s, "lanes", ())))
