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
speed; only how far the run gets before the budget ends does. PCT runs and walks pause within a
run (`series.py`); what cannot pause — a Hypothesis example, the convergence judgement at the end
of a PCT run or a walk — may go past its turn; that member then sits out turns until the others
caught up (each member's steps stay within one example or judgement of its share).

The run a user expects, where `around`, `perturb` and `faults` all begin (`Member.expected`), is
computed once, before the lanes start, within the budget (`expected.py`): those members take its
steps, enabled actions and verdicts from there, so their turns go to deviations; its steps are
counted once, as the `expected` part of `stats.parts`.

The budget is a hard wall-clock bound on the whole call: every member checks it, the member
running when it passes stops within one step (Hypothesis included: its rules raise `BudgetSpent`), and
shrinking a counterexample uses only what is left of it — only half of that while other properties
remain to be searched for (`shrink_clock.SHRINK_SHARE`), reporting its progress as it goes. The
result's `stats.parts` says how many seconds each member ran and how far it got; `stats.note`
names the member that found the violation, and `stats.found_after` when (seconds into the
portfolio, before shrinking; with several lanes, once the other lanes had run every turn before
it, so that it was known to win). A violation found (and shrunk) before the budget ends is the
same for the same seed on any machine.

With `config.workers` > 1 (by default the cores or 3, whichever is fewer) the members are spread
over that many lanes, worker processes that run their turns in parallel (`lanes.py`); since a
member's turns depend only on itself, the deciding rule there gives exactly the one-lane answer,
only sooner. The members run without shrinking, and the deciding find is shrunk here once every
lane has stopped (`shrink_found`), so no lane spends time shrinking a find that loses.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from typing import Any

import attrs

from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.calls import merged
from kubeprop.properties.explore.discoveries import Unfinished
from kubeprop.properties.explore.engine import EngineConfig, EngineResult, EngineStats, ExitReason, sliced_bfs
from kubeprop.properties.explore.lanes import Lane, LaneReport, assign, lane_count, run_lanes
from kubeprop.properties.explore.slicing import Sliced, out_of_time

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


LATE = "its lane did not report in time: figures missing"
"""The note of a member whose worker lane did not report before it was terminated."""

BFS_DEPTH = 40
"""The portfolio's BFS depth bound (breadth-first search never gets deeper in practice)."""


@attrs.frozen
class Member:
    """One engine of the portfolio: its name, how to start it, its share of each round (steps),
    and what its turns cost — a round's, per unit of weight, relative to `perturb`'s (`cost`), and
    its first turn's once (`first`) — used only to balance the lanes (`lanes.assign`), never to
    decide anything the result depends on."""

    name: str
    start: Factory
    weight: float
    cost: float = 1.0
    expected: bool = False
    """It starts from the run a user expects (`expected.py`): the portfolio computes that run once
    for every such member."""
    first: float = 0.0
    """What its first turn costs beyond its share, in `weight × cost` units (`TURN` steps of
    `perturb`'s): a member that judges convergence at the end of runs of its own follows a fair
    continuation in its first turn with nothing memoised yet, about a fair run's steps (walk, PCT,
    Hypothesis, which is imported then too); the others build their search around the expected run."""


MEMBERS: tuple[Member, ...] = (
    Member("around", _around, 3.0, cost=1.0, expected=True, first=2.5),
    Member("perturb", _perturb, 12.0, expected=True, first=5.5),
    Member("faults", _faults, 1.0, cost=1.0, expected=True, first=1.5),
    Member("pct", _pct, 2.0, cost=1.1, first=2.5),
    Member("walk", _walk, 1.0, cost=2.0, first=9.5),
    Member("bfs", _bfs, 0.5, cost=1.0, first=2.5),
    Member("hypothesis", _hypothesis, 0.5, cost=1.1, first=7.0),
)
"""The engines in turn order, with their weights, step costs and first turns' costs. The costs are
the CPU seconds of a round's turn relative to `perturb`'s, per unit of weight, and `first` what the
first turn took beyond that, in `weight × cost` units; both rounded from the median of four
FeastFlow variants on two lanes (endpoints-stale-cache, nodelifecycle-crash, sts-split-brain,
watch-time-travel: 7 to 11 rounds each, seed 0, every turn's CPU seconds; docs/engines.md,
"Twenty-seventh round"). A first turn is 1.5–6 times a later one: walk's 0.28 s against 0.05 s,
Hypothesis's 0.20 s against 0.04 s, perturb's 0.34 s against 0.19 s.

`perturb`'s weight is 12 (8 until the twenty-eighth round): it finds every FeastFlow variant that
takes more than the first few hundred steps, and with two lanes it runs alone in its lane (with
Hypothesis), so its share decides in which round its finds come — and a find waits for the other
lane's turns before it, the whole first round (its one-time costs) for a find in the second. At 12
its first turn (720 steps) holds its first few perturbed runs, each followed to the run's end
(FeastFlow's fair run is about 500 steps): dual-scheduler's find, 681 steps in, comes in the first
round, after `around`'s first turn alone; on one lane its share is 56% of a round instead of 46%."""


def run_portfolio(model: ClusterModel, start: ClusterState, config: EngineConfig,
                  members: tuple[Member, ...] = MEMBERS) -> EngineResult:
    """Run `members` in turns within `config.budget_seconds` (each member with the same
    configuration and no worker processes of its own) until one finds a violation, all have
    finished, or the budget is spent; spread over `lane_count` lanes (`lanes.py`: worker
    processes, the same result as one lane). The deciding find is shrunk here, after the lanes."""
    began = time.perf_counter()
    deadline = config.deadline(began)
    count, why = lane_count(config, members)
    groups = assign(members, count)
    members_config = attrs.evolve(config, shrink=False)
    expected = _expected(model, start, members_config, members, deadline)
    members_config = attrs.evolve(members_config, expected=expected)
    reports = run_lanes([Lane(group, model, start, members_config, began, TURN) for group in groups], deadline)
    results, spent = _merge(groups, reports)
    finds = [r.find for r in reports if r is not None and r.find is not None]
    found = min(finds, key=lambda f: f.position) if finds else None
    decided = None
    if found is not None:
        try:
            decided = shrink_found(model, start, config, found.result, began)
        except KeyboardInterrupt:
            raise Unfinished(unshrunk=(found.result,)) from None
        results[found.member] = decided
        spent[found.member] += decided.stats.seconds - found.result.stats.seconds
    summary = _summary(members, results, spent, decided, time.perf_counter() - began, out_of_time(deadline), why,
                       shared=_shared_part(expected, members))
    # Found once it was made and every other lane had run its turns before it (`LaneReport.past`: a
    # find there would have won; what a lane ran after them, before it heard of the find, cannot);
    # a member that exhausted the state space decides the run too, but found nothing.
    found_after = None
    if found is not None and found.result.violation is not None:
        found_after = max(found.seconds, *(r.past(found.position) for r in reports if r is not None))
    stats = attrs.evolve(summary.stats, found_after=found_after,
                         lanes=tuple(0.0 if r is None else r.cpu for r in reports),
                         calls=merged(*(r.calls if r is not None and r.complete else None for r in reports[1:])))
    if decided is not None:
        stats = attrs.evolve(stats, shrink_steps=decided.stats.shrink_steps, shrink_bound=decided.stats.shrink_bound,
                             shrink_cut=decided.stats.shrink_cut, shrink_shared=decided.stats.shrink_shared)
    return attrs.evolve(summary, stats=stats)


def _expected(model: ClusterModel, start: ClusterState, config: EngineConfig, members: tuple[Member, ...],
              deadline: float | None) -> Any:
    """The run a user expects from `start` (`expected.compute`, within the budget), if a member
    starts from it; computed here, before the lanes start, so that forked lanes inherit it."""
    if not any(m.expected for m in members):
        return None
    from kubeprop.properties.explore.expected import compute

    return compute(model, start, config, deadline)


def _shared_part(expected: Any, members: tuple[Member, ...]) -> tuple[EngineResult, ...]:
    """The expected run's part of the portfolio's figures (`expected.part`), if it computed one."""
    if expected is None:
        return ()
    from kubeprop.properties.explore.expected import part

    return (part(expected, [m.name for m in members if m.expected]),)


def _merge(groups: list[list[tuple[int, Member]]], reports: list[LaneReport | None]
           ) -> tuple[dict[str, EngineResult], dict[str, float]]:
    """Every member's result and wall-clock seconds from its lane's report (`time-bound`, 0 s for
    the members of a lane that did not report in time, but the one whose find it sent)."""
    results: dict[str, EngineResult] = {}
    spent: dict[str, float] = {}
    for group, report in zip(groups, reports, strict=True):
        for _, member in group:
            spent[member.name] = 0.0
            if report is not None and report.find is not None and report.find.member == member.name:
                results[member.name] = report.find.result
                spent[member.name] = report.spent.get(member.name, report.find.result.stats.seconds)
            elif report is None or not report.complete:
                results[member.name] = EngineResult(member.name, ExitReason.TIME_BOUND,
                                                    stats=EngineStats(0.0, 0, note=LATE))
            elif member.name in report.results:
                results[member.name] = report.results[member.name]
                spent[member.name] = report.spent[member.name]
    return results, spent


def shrink_found(model: ClusterModel, start: ClusterState, config: EngineConfig, found: EngineResult,
                 began: float) -> EngineResult:
    """The deciding member's result with its trace delta-debugged (`shrink.shrink_within`, as
    every member shrinks its own find) when `config.shrink`, within `config.max_shrink_steps`,
    never past the budget. A shorter trace is kept only if it violates the same property;
    `stats.seconds` grows by the time shrinking took, and `stats.shrink_steps`, `shrink_bound`
    and `shrink_cut` say what it spent and which bound stopped it, if one did (where the budget's
    clock cut it, the trace may differ by machine)."""
    if not config.shrink or found.violation is None or not found.trace:
        return found
    from kubeprop.model.cluster.incremental import memoised
    from kubeprop.properties.explore.shrink import Judge, shrink_within

    judge = Judge.for_config(model, start, config)
    with memoised(model):
        shrunk = shrink_within(judge, found.trace, found.violation.property, config, began, known=found.violation)
    same = shrunk.violation is not None and shrunk.violation.property == found.violation.property
    violation, trace = (shrunk.violation, shrunk.trace) if same else (found.violation, found.trace)
    stats = attrs.evolve(shrunk.stats(found.stats), seconds=found.stats.seconds + shrunk.seconds,
                         shrunk_from=len(found.trace))
    return attrs.evolve(found, violation=violation, trace=trace, stats=stats)


def _summary(members: tuple[Member, ...], results: dict[str, EngineResult], spent: dict[str, float],
             found: EngineResult | None, seconds: float, timed_out: bool, why: str,
             shared: tuple[EngineResult, ...] = ()) -> EngineResult:
    """The portfolio's result: the deciding member's verdict (a violation, or an exhausted search)
    and every member's figures as `stats.parts` (`time-bound` for those still running; then
    `shared`, the expected run the members that start from it took their steps from); `why`
    (why it ran one lane, if it says) ends the note."""
    parts = tuple(
        attrs.evolve(results[m.name], stats=attrs.evolve(results[m.name].stats, seconds=spent[m.name]))
        if m.name in results else EngineResult(m.name, ExitReason.TIME_BOUND,
                                               stats=EngineStats(0.0, 0, note="not started"))
        for m in members
    ) + shared
    steps = sum(p.stats.steps for p in parts)
    runs = sum(p.stats.runs for p in parts)
    distinct = max((p.stats.distinct for p in parts), default=0)
    depth = max((p.stats.depth for p in parts), default=0)
    if found is not None:
        note = f"found by {found.engine}" + (f": {found.stats.note}" if found.stats.note else "") + (
            f" ({why})" if why else "")
        stats = EngineStats(seconds, steps, runs, distinct, depth, shrunk_from=found.stats.shrunk_from, note=note,
                            parts=parts)
        return EngineResult("portfolio", found.exit_reason, found.violation, found.trace, stats)
    reason = ExitReason.TIME_BOUND if timed_out else ExitReason.RUNS_DONE
    stats = EngineStats(seconds, steps, runs, distinct, depth, note=why, parts=parts)
    return EngineResult("portfolio", reason, stats=stats)
