"""Every discovery, not just the first: keep searching for the properties not yet violated.

An engine stops at its first violation. `discover` runs it again without each property it has
found violated, with what is left of the budget, until every selected property has a discovery,
the engine finishes without one (exhausted, a bound, its runs), or the budget is spent — the
Stateright checker's `discoveries`, built on any engine with the common interface
(`(model, start, EngineConfig) -> EngineResult`), so BFS, walks, Hypothesis and engines added
later all report one discovery per property without code of their own.

Each rerun is a fresh search: BFS explores again the states before the discovery (its traces stay
shortest); a walk or Hypothesis run with the same seed retraces the runs before the failing one and
then goes on. A `settles` violation (a continuation that never settled) stands for every
convergence property at once, so those are dropped and the search goes on for the safety ones —
unless it is known upstream behaviour (below): then they stay, and the runs that follow go on past
every livelock such behaviour explains.

A violation that is known upstream behaviour (`SearchOn.known` says so of a result; the Kubernetes
races of `kubeprop.properties.upstream_behaviour`) does not end the search for its property: the
property is moved last and searched on, in the runs that follow, past every violation of it such
behaviour explains (`EngineConfig.excuse`, built by `SearchOn.excuse`), for a user's violation of
it — until one is found, the engine is done, or the budget is spent
(`kubeprop.properties.upstream_behaviour_search`).
A Ctrl-C raises `Unfinished` with every violation found before it, so that an interrupted check
can still report and record them (`counterexamples.api.CheckInterrupted`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from kubeprop.properties.calls import merged
from kubeprop.properties.explore.collector import fewer_collections
from kubeprop.properties.explore.engine import EngineConfig, EngineResult, EngineStats, Excuse
from kubeprop.properties.explore.progress import Found
from kubeprop.properties.explore.shrink_clock import SHRINK_SHARE
from kubeprop.properties.registry import Property, select

__all__ = ["SETTLES", "SearchOn", "Unfinished", "discover", "merged_parts", "merged_stats", "rediscover"]

SETTLES = "settles"
"""The pseudo-property of a fair continuation that did not settle (`convergence.settled_violation`)."""


class Unfinished(KeyboardInterrupt):
    """A Ctrl-C inside a search, carrying the engine results with a violation it had found before,
    in the order found: `found`, runs that ended at their violation (shrunk as usual), then
    `unshrunk`, finds of the run that was interrupted (a portfolio member's, before the portfolio
    shrank it)."""

    def __init__(self, found: tuple[Any, ...] = (), unshrunk: tuple[Any, ...] = ()) -> None:
        super().__init__()
        self.found = found
        self.unshrunk = unshrunk


@attrs.frozen
class SearchOn:
    """How `discover` goes on past known upstream behaviour: `known(result)` says whether a run's
    violation is such behaviour of a property a search can go on for, and `excuse(properties)` is
    the `EngineConfig.excuse` of the runs that search on for `properties` (in the order met) and,
    once a `settles` violation was such behaviour, for `settles`."""

    known: Callable[[Any], bool]
    excuse: Callable[[tuple[Property, ...], bool], Excuse]
    """`excuse(properties, settles)`: `settles` too when a known upstream livelock was met."""


Run = Callable[[EngineConfig], Any]
Checked = TypeVar("Checked")
Result = TypeVar("Result")


def _remaining(left: list[Property], found: str) -> list[Property] | None:
    """The properties still to search for after a violation of `found` (None: cannot go on)."""
    if found == SETTLES:
        kept = [p for p in left if p.kind != "convergence"]
        return kept if len(kept) < len(left) else None
    if all(p.name != found for p in left):
        return None
    return [p for p in left if p.name != found]


def discover(run: Run, config: EngineConfig, stop: Callable[[Any], bool] | None = None,
             search_on: SearchOn | None = None) -> tuple[Any, ...]:
    """Run `run(config)` again and again, each time without the property the previous run found
    violated, within `config.budget_seconds` overall. Returns every run's result in order: each
    but the last has a violation; the last has one only if nothing was left to search for, or if
    `stop(result)` said to end there (`kubeprop.counterexamples.api.check` goes on only past known
    upstream behaviour). Without `stop`, a run while more than one property is left shrinks its
    find within `SHRINK_SHARE` of the budget it has left (`EngineConfig.shrink_share`): the rest
    goes to the next run. With `config.progress`, each run's violation is told it (`progress.Found`).
    With `search_on`, a property whose violation `search_on.known` is searched on (module docstring):
    a later result may hold a second violation of it, the user's."""
    excused: list[Property] = []
    livelock = [False]  # `settles` searched on past known upstream behaviour
    last: list[Any] = []

    def one(left: list[Property], budget: float | None) -> Any:
        share = SHRINK_SHARE if stop is None and len(left) > 1 else config.shrink_share
        on = excused or livelock[0]
        excuse = None if search_on is None or not on else search_on.excuse(tuple(excused), livelock[0])
        result = run(attrs.evolve(config, properties=tuple(left), budget_seconds=budget, shrink_share=share,
                                  excuse=excuse))
        if config.progress is not None and result.violation is not None:
            known = search_on is not None and search_on.known(result)
            config.progress(Found(result.violation.property, getattr(result.stats, "steps", 0), known))
        last[:] = [result]
        return result

    def remaining(left: list[Property], found: str) -> list[Property] | None:
        met = next((p for p in left if p.name == found), None)
        if (found == SETTLES and search_on is not None and not livelock[0] and search_on.known(last[0])
                and any(p.kind == "convergence" for p in left)):
            livelock[0] = True  # the convergence properties stay: runs that settle still judge them
            return left
        if search_on is None or met is None or met in excused or not search_on.known(last[0]):
            return _remaining(left, found)  # (an engine that re-reports an excused one ends its search)
        excused.append(met)
        return [*(p for p in left if p not in excused), *excused]

    with fewer_collections():
        return rediscover(list(select(config.properties)), config.budget_seconds, one,
                          lambda result: None if result.violation is None else result.violation.property,
                          remaining, stop)


def rediscover(left: list[Checked], budget_seconds: float | None, run: Callable[[list[Checked], float | None], Result],
               found: Callable[[Result], str | None],
               remaining: Callable[[list[Checked], str], list[Checked] | None],
               stop: Callable[[Result], bool] | None = None) -> tuple[Result, ...]:
    """The loop of `discover` for any engine and any kind of check (the Raft explorer's
    `explore_all` too): `run(left, seconds left)` until nothing is `left`, a run finds nothing
    (`found(result)` is None), `remaining(left, found)` says the search cannot go on (None), `stop`
    says so of a result that found something, or the `budget_seconds` (None: unbounded) are spent
    after at least one run. A Ctrl-C (KeyboardInterrupt)
    becomes `Unfinished` with the results that found something before it, and the interrupted
    run's own finds if it raised `Unfinished` itself."""
    results: list[Result] = []
    try:
        _rediscover(left, budget_seconds, run, found, remaining, results, stop)
    except KeyboardInterrupt as err:
        inner = err if isinstance(err, Unfinished) else Unfinished()
        raise Unfinished((*(r for r in results if found(r) is not None), *inner.found), inner.unshrunk) from None
    return tuple(results)


def _rediscover(left: list[Checked], budget_seconds: float | None,
                run: Callable[[list[Checked], float | None], Result], found: Callable[[Result], str | None],
                remaining: Callable[[list[Checked], str], list[Checked] | None], results: list[Result],
                stop: Callable[[Result], bool] | None = None) -> None:
    """`rediscover`'s loop, appending each run's result to `results` as it comes."""
    began = time.perf_counter()
    while left:
        budget = budget_seconds
        if budget is not None:
            budget -= time.perf_counter() - began
            if results and budget <= 0:
                break
        result = run(left, budget)
        results.append(result)
        name = found(result)
        if name is None or (stop is not None and stop(result)):
            break
        after = remaining(left, name)
        if after is None:
            break
        left = after


def merged_stats(results: tuple[Any, ...]) -> EngineStats | None:
    """One set of counters for several runs of an engine: seconds, steps and runs add up (and a
    portfolio's CPU seconds lane by lane, and its members' figures member by member: `merged_parts`);
    distinct states and depth are the largest any run reached, and so are the states a BFS narrowed
    to an ample set (`narrowed`); property calls add up (not known if not known for one run)."""
    stats = [r.stats for r in results if getattr(r, "stats", None) is not None]
    if not stats:
        return None
    return EngineStats(seconds=sum(s.seconds for s in stats), steps=sum(s.steps for s in stats),
                       runs=sum(getattr(s, "runs", 0) for s in stats),
                       distinct=max(getattr(s, "distinct", 0) for s in stats),
                       depth=max(getattr(s, "depth", 0) for s in stats),
                       lanes=tuple(map(sum, zip(*(getattr(s, "lanes", ()) for s in stats), strict=False))),
                       parts=merged_parts([getattr(s, "parts", ()) for s in stats]),
                       narrowed=max(getattr(s, "narrowed", 0) for s in stats),
                       calls=merged(*(getattr(s, "calls", None) for s in stats)))


def merged_parts(runs: list[tuple[EngineResult, ...]]) -> tuple[EngineResult, ...]:
    """A portfolio's members over several runs (`stats.parts` of each), one result per member in
    the order they first appear: seconds, steps and runs added up, distinct states and depth the
    largest; the last run's exit reason; a violation if one run found one; a note the last run
    gave, or the first run's that said its figures were missing — but "not started" only when no
    run started the member (a member the last run did not reach still ran in the earlier ones, and
    its figures add up theirs)."""
    by_member: dict[str, list[EngineResult]] = {}
    for parts in runs:
        for part in parts:
            by_member.setdefault(part.engine, []).append(part)
    merged = []
    for name, parts_ in by_member.items():
        stats = [p.stats for p in parts_]
        started = [s for s in stats if s.note != "not started"]  # portfolio.py's note for a member never run
        note = next((s.note for s in stats if s.note and "missing" in s.note), (started or stats)[-1].note)
        merged.append(EngineResult(
            name, parts_[-1].exit_reason, next((p.violation for p in parts_ if p.violation is not None), None),
            stats=EngineStats(sum(s.seconds for s in stats), sum(s.steps for s in stats), sum(s.runs for s in stats),
                              max(s.distinct for s in stats), max(s.depth for s in stats), note=note)))
    return tuple(merged)
