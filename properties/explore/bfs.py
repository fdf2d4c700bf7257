"""Explicit-state breadth-first search over `actions`/`step`.

Breadth-first order makes the first violation found a shortest one. Visited states are kept in
an in-process set keyed by the states themselves (exact equality, no collision risk); nothing
derived from Python's salted `hash()` leaves the process. The search stops when the frontier is
exhausted, a bound is reached (depth, distinct states, seconds), or a property fails.

`action_filter` restricts which enabled actions are explored — a scenario-specific abstraction
(e.g. "no faults but partitions"): the report says the search is exhaustive only *for that
restriction*.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Generator, Hashable, Iterable, Iterator
from typing import Any, Generic, Literal, TypeVar

import attrs

from kubeprop.model.cluster.compose import actions, step
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.engine import ExitReason, Limit
from kubeprop.properties.explore.fpset import ROOT, ParentTable
from kubeprop.properties.explore.frontier import SpillQueue
from kubeprop.properties.registry import Property, Violation

ActionFilter = Callable[[Action], bool]
Progress = Callable[["SearchStats"], None]


@attrs.frozen
class SearchStats:
    """Counters of a search so far."""

    states: int
    distinct: int
    depth: int
    seconds: float

    @property
    def states_per_second(self) -> float:
        """Distinct states discovered per second."""
        return self.distinct / self.seconds if self.seconds > 0 else 0.0


@attrs.frozen
class Report:
    """The outcome: why the search stopped, what it covered, and a shortest violating trace."""

    exit_reason: ExitReason
    stats: SearchStats
    violation: Violation | None = None
    trace: tuple[Action, ...] = ()

    @property
    def complete(self) -> bool:
        """True when every state within the (filtered) action space was explored."""
        return self.exit_reason == ExitReason.EXHAUSTED


@attrs.frozen
class Bounds:
    """Search bounds; None means unbounded."""

    max_depth: int | None = None
    max_states: int | None = None
    budget_seconds: float | None = None


S = TypeVar("S", bound=Hashable)
A = TypeVar("A")


@attrs.frozen
class SearchResult(Generic[S, A]):
    """A generic search outcome (any transition system): why it stopped, counters, the violation
    found (whatever the check returned) and a shortest trace to it."""

    exit_reason: ExitReason
    stats: SearchStats
    violation: Any = None
    trace: tuple[A, ...] = ()
    final: S | None = None


Visited = Literal["states", "hashes"]

SPILL_AFTER = 20_000
"""Frontier entries kept in memory before the rest is spilled to disk (`frontier.SpillQueue`), in
the hashes mode: beyond it a search holds about 30–60 bytes per visited state, whatever its size."""


def search(start: S, successors: Callable[[S], Iterable[tuple[A, S]]], check: Callable[[S], Any],
           bounds: Bounds = Bounds(), progress: Progress | None = None, progress_every: float = 1.0,
           visited: Visited = "states") -> SearchResult[S, A]:
    """Breadth-first search of any transition system: `successors(state)` yields (action, next
    state) pairs in a deterministic order; `check(state)` returns None or a violation.

    `visited="states"` keeps every visited state (exact). `visited="hashes"` keeps only each
    state's 64-bit in-process `hash()` and (parent hash, successor index), TLC-style: about a
    tenth of the memory, at the risk that two distinct states collide (probability about
    n²/2⁶⁵ — 3·10⁻⁸ at a million states), which would silently skip one. The trace is then
    rebuilt by replaying the recorded successor indices from `start`. The hashes never leave
    the process."""
    gen = search_steps(start, successors, check, bounds, progress, progress_every, visited)
    next(gen)
    try:
        gen.send(None)
    except StopIteration as stop:
        result: SearchResult[S, A] = stop.value
        return result
    raise AssertionError("search_steps yielded without a slice deadline")


def search_steps(start: S, successors: Callable[[S], Iterable[tuple[A, S]]], check: Callable[[S], Any],
                 bounds: Bounds = Bounds(), progress: Progress | None = None, progress_every: float = 1.0,
                 visited: Visited = "states") -> Generator[None, Limit | None, SearchResult[S, A]]:
    """`search` as a sliced run (`engine.Sliced`): it pauses between expansions when its slice
    (counted in generated states) is over, and returns the `SearchResult`. `stats.seconds` counts
    only the time it ran."""
    limit: Limit | None = yield
    if limit is not None:
        limit.begin(0)
    hashed = visited == "hashes"
    began = time.perf_counter()
    paused = 0.0
    # Exact mode: visited state → (parent state, action). Hashes mode: a ParentTable of hashes with
    # (parent hash, successor index), and the frontier spilled to disk past SPILL_AFTER entries.
    parents: dict[Any, tuple[Any, Any] | None] | ParentTable
    frontier: deque[tuple[S, int]] | SpillQueue[tuple[S, int]]
    if hashed:
        parents = ParentTable()
        parents.add(hash(start), 0, ROOT)
        frontier = SpillQueue(SPILL_AFTER)
    else:
        parents = {start: None}
        frontier = deque()
    frontier.append((start, 0))
    generated, depth_seen, last_report = 1, 0, began

    def stats() -> SearchStats:
        return SearchStats(generated, len(parents), depth_seen, time.perf_counter() - began - paused)

    def trace_to(key: Any) -> tuple[A, ...]:
        if isinstance(parents, ParentTable):
            return _replay_indices(start, successors, parents.path(key))[0]
        steps: list[Any] = []
        link = parents[key]
        while link is not None:
            key, how = link
            steps.append(how)
            link = parents[key]
        steps.reverse()
        return tuple(steps)

    found = check(start)
    if found is not None:
        return SearchResult(ExitReason.VIOLATION, stats(), found, (), start)
    cut: ExitReason | None = None
    while frontier:
        state, depth = frontier.popleft()
        if bounds.max_depth is not None and depth >= bounds.max_depth:
            cut = ExitReason.DEPTH_BOUND
            continue
        here: Any = hash(state) if hashed else state
        for index, (act, nxt) in enumerate(successors(state)):
            generated += 1
            if isinstance(parents, ParentTable):
                key: Any = hash(nxt)
                if not parents.add(key, here, index):
                    continue
            else:
                key = nxt
                if key in parents:
                    continue
                parents[key] = (here, act)
            depth_seen = max(depth_seen, depth + 1)
            found = check(nxt)
            if found is not None:
                return SearchResult(ExitReason.VIOLATION, stats(), found, trace_to(key), nxt)
            frontier.append((nxt, depth + 1))
            if bounds.max_states is not None and len(parents) >= bounds.max_states:
                return SearchResult(ExitReason.STATE_BOUND, stats())
        now = time.perf_counter()
        if bounds.budget_seconds is not None and now - began >= bounds.budget_seconds:
            return SearchResult(ExitReason.TIME_BOUND, stats())
        if progress is not None and now - last_report >= progress_every:
            progress(stats())
            last_report = now
        if limit is not None and limit.reached(generated):
            if limit.stop:
                return SearchResult(ExitReason.TIME_BOUND, stats())
            limit = yield
            paused += time.perf_counter() - now
            if limit is not None:
                if limit.stop:
                    return SearchResult(ExitReason.TIME_BOUND, stats())
                limit.begin(generated)
    return SearchResult(cut or ExitReason.EXHAUSTED, stats())


def _replay_indices(start: S, successors: Callable[[S], Iterable[tuple[A, S]]], indices: list[int]
                    ) -> tuple[tuple[A, ...], S]:
    state, trace = start, []
    for index in indices:
        for i, (act, nxt) in enumerate(successors(state)):
            if i == index:
                trace.append(act)
                state = nxt
                break
    return tuple(trace), state


def bfs(model: ClusterModel, start: ClusterState, properties: Iterable[Property], bounds: Bounds = Bounds(),
        action_filter: ActionFilter | None = None, progress: Progress | None = None,
        progress_every: float = 1.0, visited: Visited = "hashes",
        convergence: Iterable[Property] = ()) -> Report:
    """Breadth-first search of the cluster from `start`, checking every safety property on every
    new state; `action_filter` restricts the explored actions. Visited states are kept as
    in-process hashes by default (see `search`); `visited="states"` keeps them whole.

    With `convergence` properties, a quiesced state (faults over) is not expanded further:
    instead its bounded fair continuations (`settled_violation`) must settle with every
    convergence property holding — eventually-stable reconciliation, judged once per quiesced
    state the search reaches."""
    gen = bfs_steps(model, start, properties, bounds, action_filter, progress, progress_every, visited, convergence)
    next(gen)
    try:
        gen.send(None)
    except StopIteration as stop:
        report: Report = stop.value
        return report
    raise AssertionError("bfs_steps yielded without a slice deadline")


def bfs_steps(model: ClusterModel, start: ClusterState, properties: Iterable[Property], bounds: Bounds = Bounds(),
              action_filter: ActionFilter | None = None, progress: Progress | None = None,
              progress_every: float = 1.0, visited: Visited = "hashes",
              convergence: Iterable[Property] = ()) -> Generator[None, Limit | None, Report]:
    """`bfs` as a sliced run (see `search_steps`)."""
    from kubeprop.model.cluster.incremental import memoised
    from kubeprop.properties.convergence import settled_violation
    from kubeprop.properties.explore.incremental import Checker

    checker = Checker(model, tuple(properties))
    settled_props = tuple(convergence)

    def successors(state: ClusterState) -> Iterator[tuple[Action, ClusterState]]:
        if settled_props and state.quiesced:
            return
        for act in actions(model, state):
            if action_filter is None or action_filter(act):
                yield act, step(model, state, act)

    def check(state: ClusterState) -> Violation | None:
        found = checker.violation(state)
        if found is None and settled_props and state.quiesced:
            found = settled_violation(model, state, settled_props)
        return found

    with memoised(model):
        result = yield from search_steps(start, successors, check, bounds, progress, progress_every, visited)
    return Report(result.exit_reason, result.stats, result.violation, result.trace)
