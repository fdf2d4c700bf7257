"""The default strategy: several engines sharing one hard budget, stopping at the first violation.

`kubeprop check` without `--engine` runs `run_portfolio`. No single engine finds every bug
quickly: the search around the fair run (`around.py`) finds what a few deviations from the
expected run show, in a trace close to that run; PCT runs (`pct.py`) reach deeper orderings
with a probabilistic guarantee; swarm walks (`walk.py`) sample fault combinations; a bounded
breadth-first search (`bfs`) covers every short interleaving, and proves the space clean when it
exhausts it; Hypothesis (`stateful.py`) adds its own generation strategy. The portfolio runs them
in turns of `TURN × weight` steps each (as each engine counts its steps), in the order of
`MEMBERS` (the searches around the fair run first and with the largest shares), so whichever
engine finds a bug first stops the whole run. Turns are counted in steps, not seconds, so the
interleaving — and which engine finds what, in which trace — does not depend on the machine's
speed; only how far the run gets before the budget ends does. An engine that can pause only
between runs (a PCT run, a walk, a Hypothesis example) may go past its turn; it then sits out turns
until the others caught up (each member's steps stay within one run of its share).

The budget is a hard wall-clock bound on the whole call: every member checks it, the member
running when it passes stops within one step (Hypothesis included: its rules raise `BudgetSpent`), and
shrinking a counterexample uses only what is left of it. The result's `stats.parts` says how many
seconds each member ran and how far it got; `stats.note` names the member that found the
violation, and `stats.found_after` when (seconds into the portfolio, before shrinking). A
violation found (and shrunk) before the budget ends is the same for the same seed on any machine.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable

import attrs

from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.engine import (
    EngineConfig,
    EngineResult,
    EngineStats,
    ExitReason,
    Limit,
    Sliced,
    out_of_time,
    sliced_bfs,
)

TURN = 60
"""Steps (transitions, as each engine counts them) of one turn per unit of weight."""

Factory = Callable[[ClusterModel, ClusterState, EngineConfig], Sliced]


def _lazy(module: str, function: str) -> Factory:
    """The sliced engine `function` of `module`, imported when the member first starts (the
    engines import much, Hypothesis among them, that a run without them never needs)."""

    def start(model: ClusterModel, begin: ClusterState, config: EngineConfig) -> Sliced:
        factory: Factory = getattr(importlib.import_module(module), function)
        return factory(model, begin, config)

    return start


_around = _lazy("kubeprop.properties.explore.around", "sliced_around_fair")
_faults = _lazy("kubeprop.properties.explore.around", "sliced_fault_injection")
_perturb = _lazy("kubeprop.properties.explore.perturb", "sliced_perturb")
_pct = _lazy("kubeprop.properties.explore.pct", "sliced_pct")
_walk = _lazy("kubeprop.properties.explore.walk", "sliced_walks")
_hypothesis = _lazy("kubeprop.properties.explore.stateful", "sliced_hypothesis")


def _bfs(model: ClusterModel, start: ClusterState, config: EngineConfig) -> Sliced:
    return sliced_bfs(model, start, attrs.evolve(config, max_depth=min(config.max_depth, BFS_DEPTH)))


BFS_DEPTH = 40
"""The portfolio's BFS depth bound (breadth-first search never gets deeper in practice)."""


@attrs.frozen
class Member:
    """One engine of the portfolio: its name, how to start it, and its share of each round."""

    name: str
    start: Factory
    weight: float


MEMBERS: tuple[Member, ...] = (
    Member("around", _around, 3.0),
    Member("perturb", _perturb, 8.0),
    Member("faults", _faults, 1.0),
    Member("pct", _pct, 2.0),
    Member("walk", _walk, 1.0),
    Member("bfs", _bfs, 0.5),
    Member("hypothesis", _hypothesis, 0.5),
)
"""The engines in turn order, with their weights."""


def run_portfolio(model: ClusterModel, start: ClusterState, config: EngineConfig,
                  members: tuple[Member, ...] = MEMBERS) -> EngineResult:
    """Run `members` in turns within `config.budget_seconds` (each with the same configuration and
    one worker process) until one finds a violation, all have finished, or the budget is spent."""
    began = time.perf_counter()
    deadline = config.deadline(began)
    running: dict[str, Sliced] = {}
    results: dict[str, EngineResult] = {}
    spent = {m.name: 0.0 for m in members}
    found: EngineResult | None = None
    found_at: float | None = None
    try:
        credit = {m.name: 0.0 for m in members}
        while found is None and len(results) < len(members) and not out_of_time(deadline):
            for member in members:
                if member.name in results or out_of_time(deadline):
                    continue
                credit[member.name] += TURN * member.weight
                if credit[member.name] < 1:
                    continue  # it went past its share in an earlier turn (a run it could not pause)
                now = time.perf_counter()
                limit = Limit(steps=round(credit[member.name]), until=deadline)
                result = _turn(member, running, model, start, config, deadline, limit)
                credit[member.name] -= limit.used
                before, spent[member.name] = spent[member.name], spent[member.name] + time.perf_counter() - now
                if result is not None:
                    results[member.name] = result
                    if result.violation is not None or result.exit_reason == ExitReason.EXHAUSTED:
                        # When it was found: this turn started at `now`, the member had run `before`.
                        own = result.stats.found_after if result.stats.found_after is not None else spent[member.name]
                        found_at = now - began + max(0.0, own - before)
                        found = result
                        break
        for name, sliced in running.items():  # the others stop within a step, with their figures
            if name not in results:
                now = time.perf_counter()
                results[name] = sliced.stop()
                spent[name] += time.perf_counter() - now
    finally:
        for name, sliced in running.items():
            if name not in results:
                sliced.close()
    summary = _summary(members, results, spent, found, time.perf_counter() - began, out_of_time(deadline))
    return attrs.evolve(summary, stats=attrs.evolve(summary.stats, found_after=found_at))


def _turn(member: Member, running: dict[str, Sliced], model: ClusterModel, start: ClusterState,
          config: EngineConfig, deadline: float | None, limit: Limit) -> EngineResult | None:
    """Run one member for one turn, starting it first (with the budget that is left) if needed."""
    sliced = running.get(member.name)
    if sliced is None:
        left = None if deadline is None else max(0.0, deadline - time.perf_counter())
        sliced = member.start(model, start, attrs.evolve(config, workers=1, progress=None, budget_seconds=left))
        running[member.name] = sliced
    return sliced.run(limit)


def _summary(members: tuple[Member, ...], results: dict[str, EngineResult], spent: dict[str, float],
             found: EngineResult | None, seconds: float, timed_out: bool) -> EngineResult:
    """The portfolio's result: the deciding member's verdict (a violation, or an exhausted search)
    and every member's figures as `stats.parts` (`time-bound` for those still running)."""
    parts = tuple(
        attrs.evolve(results[m.name], stats=attrs.evolve(results[m.name].stats, seconds=spent[m.name]))
        if m.name in results else EngineResult(m.name, ExitReason.TIME_BOUND,
                                               stats=EngineStats(0.0, 0, note="not started"))
        for m in members
    )
    steps = sum(p.stats.steps for p in parts)
    runs = sum(p.stats.runs for p in parts)
    distinct = max((p.stats.distinct for p in parts), default=0)
    depth = max((p.stats.depth for p in parts), default=0)
    if found is not None:
        note = f"found by {found.engine}" + (f": {found.stats.note}" if found.stats.note else "")
        stats = EngineStats(seconds, steps, runs, distinct, depth, shrunk_from=found.stats.shrunk_from, note=note,
                            parts=parts)
        return EngineResult("portfolio", found.exit_reason, found.violation, found.trace, stats)
    reason = ExitReason.TIME_BOUND if timed_out else ExitReason.RUNS_DONE
    stats = EngineStats(seconds, steps, runs, distinct, depth, parts=parts)
    return EngineResult("portfolio", reason, stats=stats)
