"""Explicit-state breadth-first search over `actions`/`step`.

Breadth-first order makes the first violation found a shortest one. The cluster search keeps
its visited states as in-process 64-bit hashes in a `fpset.StateTable` (with the number of the
parent of each and which of its successors it was: 20–26 bytes a state) and its frontier in a
`frontier.SpillQueue` (on disk past `SPILL_AFTER` entries), so its memory grows by a few tens of
bytes per visited state (docs/engines.md, "A frontier that fits"); a counterexample is rebuilt by
replaying the recorded successor indices from the start. The generic `search` can also keep whole
states (exact equality, no collision risk). Nothing derived from Python's salted `hash()` leaves
the process: the spilled frontier holds states and state numbers, not hashes. The search stops
when the frontier is exhausted, a bound is reached (depth, distinct states, seconds), or a
property fails.

`action_filter` restricts which enabled actions are explored — a scenario-specific abstraction
(e.g. "no faults but partitions"): the report says the search is exhaustive only *for that
restriction*.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Generator, Hashable, Iterable, Iterator
from functools import partial
from typing import Any, Generic, Literal, TypeVar

import attrs

from kubeprop.model.cluster.compose import actions, step
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.engine import Excuse, ExitReason, excused
from kubeprop.properties.explore.fpset import ROOT, StateTable
from kubeprop.properties.explore.frontier import SpillQueue
from kubeprop.properties.explore.slicing import ActiveTimer, Limit, Slicer
from kubeprop.properties.registry import Property, Violation

ActionFilter = Callable[[Action], bool]
Progress = Callable[["SearchStats"], None]


@attrs.frozen
class SearchStats:
    """Counters of a search so far. `narrowed` (the reduced search, `por.py`): the states expanded
    with an ample set smaller than their enabled actions — where a depth bound then covers fewer
    states than the full search's (a state within the depth may lie deeper in the reduced search)."""

    states: int
    distinct: int
    depth: int
    seconds: float
    narrowed: int = 0

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
R = TypeVar("R")

Judged = Callable[[Any, Callable[[], tuple[A, ...]], S], Any]
"""A judgement of a violation found, given the trace to it and the state (`search_steps`' `excuse`)."""


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

SPILL_AFTER = 4_096
"""Frontier entries kept in memory before the rest is spilled to disk (`frontier.SpillQueue`), in
the hashes mode (and in the reduced search, `por.py`): beyond it a search holds about 20–30 bytes
per visited state, whatever its size, plus a few thousand whole states."""

SPILL_CHUNK = 256
"""Frontier entries pickled together (`frontier.SpillQueue`'s chunk): siblings share their unchanged
parts within a chunk; one chunk being filled and one being read are whole states in memory."""


def run_to_end(gen: Generator[None, Limit | None, R]) -> R:
    """Run a sliced search (`slicing.Sliced`'s protocol) in one go; its result."""
    next(gen)
    try:
        gen.send(None)
    except StopIteration as stop:
        result: R = stop.value
        return result
    raise AssertionError("a sliced search yielded without a slice limit")


class Checkpoint:
    """What a search does between two expansions: stop at its time budget, report progress, and
    pause when its slice is over (`slicing.Slicer`); it also counts the seconds the search ran
    (not the pauses between slices)."""

    def __init__(self, limit: Limit | None, budget_seconds: float | None, progress: Progress | None,
                 progress_every: float) -> None:
        self.timer = ActiveTimer()
        self.slicer = Slicer(self.timer, limit)
        self.budget, self.progress, self.every = budget_seconds, progress, progress_every
        self.last_report = self.timer.began

    def seconds(self) -> float:
        """Seconds the search ran so far."""
        return self.timer.seconds()

    def spent(self, now: float | None = None) -> bool:
        """Whether the time budget is spent (`now`: `time.perf_counter()` if not given)."""
        now = time.perf_counter() if now is None else now
        return self.budget is not None and now - self.timer.began >= self.budget

    def passed(self, generated: int, stats: Callable[[], SearchStats]) -> Generator[None, Limit | None, bool]:
        """After an expansion, with `generated` states generated so far: True when the search must
        stop now (its budget spent or its slice asking it to), after pausing if the slice is over."""
        now = time.perf_counter()
        if self.spent(now):
            return True
        if self.progress is not None and now - self.last_report >= self.every:
            self.progress(stats())
            self.last_report = now
        if self.slicer.due(generated):
            if self.slicer.stopped:
                return True
            yield from self.slicer.pause(generated)
            return self.slicer.stopped
        return False


def search(start: S, successors: Callable[[S], Iterable[tuple[A, S]]], check: Callable[[S], Any],
           bounds: Bounds = Bounds(), progress: Progress | None = None, progress_every: float = 1.0,
           visited: Visited = "states") -> SearchResult[S, A]:
    """Breadth-first search of any transition system: `successors(state)` yields (action, next
    state) pairs in a deterministic order; `check(state)` returns None or a violation.

    `visited="states"` keeps every visited state (exact). `visited="hashes"` keeps only each
    state's 64-bit in-process `hash()` with the number of its parent and its successor index in a
    `fpset.StateTable` (20–26 bytes a state), TLC-style, and spills the frontier to disk past
    `SPILL_AFTER` entries: a small fraction of the memory, at the risk that two distinct states
    collide (probability about n²/2⁶⁵ — 3·10⁻⁸ at a million states), which would silently skip
    one. The trace is then rebuilt by replaying the recorded successor indices from `start`. The
    hashes never leave the process (the spilled frontier holds states and numbers, not hashes)."""
    return run_to_end(search_steps(start, successors, check, bounds, progress, progress_every, visited))


def search_steps(start: S, successors: Callable[[S], Iterable[tuple[A, S]]], check: Callable[[S], Any],
                 bounds: Bounds = Bounds(), progress: Progress | None = None, progress_every: float = 1.0,
                 visited: Visited = "states", excuse: Judged[A, S] | None = None
                 ) -> Generator[None, Limit | None, SearchResult[S, A]]:
    """`search` as a sliced run (`slicing.Sliced`), pausing between expansions once its slice (in generated
    states) is over; `stats.seconds` counts only the time it ran. `excuse(found, trace, state)`, if given, judges
    each violation past the start, with the trace to it (rebuilt if called): None goes on past the state."""
    clock = Checkpoint((yield), bounds.budget_seconds, progress, progress_every)
    frontier, table, parents, distinct = _visited_store(start, visited)
    generated, depth_seen = 1, 0
    passed: dict[Any, Any] = {}  # the states whose violation `excuse` passed over, with it (`_excused`)
    trace_to: Callable[[Any], tuple[A, ...]] = partial(_trace_to, start, successors, table, parents)

    def stats() -> SearchStats:
        return SearchStats(generated, distinct(), depth_seen, clock.seconds())

    if clock.spent():  # a budget spent before the search began: it checks nothing, not even `start`
        return SearchResult(ExitReason.TIME_BOUND, SearchStats(0, 0, 0, clock.seconds()))
    found = check(start)
    if found is not None:
        return SearchResult(ExitReason.VIOLATION, stats(), found, (), start)
    cut: ExitReason | None = None
    while frontier:
        state, depth, here = frontier.popleft()
        if bounds.max_depth is not None and depth >= bounds.max_depth:
            cut = ExitReason.DEPTH_BOUND
            continue
        for index, (act, nxt) in enumerate(successors(state)):
            generated += 1
            if table is not None:
                key: Any = table.add(hash(nxt), here, index)
                if key < 0:
                    continue
            else:
                if nxt in parents:
                    continue
                key = nxt
                parents[key] = (here, act)
            depth_seen = max(depth_seen, depth + 1)
            found = check(nxt)
            if found is not None and excuse is not None:
                found = _excused(excuse, found, passed, here, key, nxt, trace_to)
            if found is not None:
                return SearchResult(ExitReason.VIOLATION, stats(), found, trace_to(key), nxt)
            frontier.append((nxt, depth + 1, key))
            if bounds.max_states is not None and distinct() >= bounds.max_states:
                return SearchResult(ExitReason.STATE_BOUND, stats())
        if (yield from clock.passed(generated, stats)):
            return SearchResult(ExitReason.TIME_BOUND, stats())
    return SearchResult(cut or ExitReason.EXHAUSTED, stats())


Frontier = deque[tuple[S, int, Any]] | SpillQueue[tuple[S, int, Any]]
"""`search_steps`' frontier: entries (state, depth, key), key as in `_visited_store`."""


def _visited_store(start: S, visited: Visited) -> tuple[Frontier[S], StateTable | None,
                                                        dict[Any, tuple[Any, Any] | None], Callable[[], int]]:
    """`search_steps`' frontier and visited set, holding `start`, and how many states are visited.
    A frontier entry is (state, depth, key). Exact mode (`visited="states"`): the key is the state,
    and the parents dict maps each visited state to (parent state, action); no StateTable. Hashes
    mode: the key is the state's number in the StateTable, the parents dict stays empty, and the
    frontier is spilled to disk past SPILL_AFTER entries."""
    parents: dict[Any, tuple[Any, Any] | None] = {}
    if visited == "hashes":
        table = StateTable()
        spilled: SpillQueue[tuple[S, int, Any]] = SpillQueue(SPILL_AFTER, SPILL_CHUNK)
        spilled.append((start, 0, table.add(hash(start), ROOT, 0)))
        return spilled, table, parents, table.__len__
    parents[start] = None
    return deque([(start, 0, start)]), None, parents, parents.__len__


def _trace_to(start: S, successors: Callable[[S], Iterable[tuple[A, S]]], table: StateTable | None,
              parents: dict[Any, tuple[Any, Any] | None], key: Any) -> tuple[A, ...]:
    """The counterexample trace from `start` to the visited state `key` (`_visited_store`):
    replayed from its successor indices in hashes mode, followed up the parents in exact mode."""
    if table is not None:
        return replay(start, successors, table.path(key))[0]
    steps: list[Any] = []
    link = parents[key]
    while link is not None:
        key, how = link
        steps.append(how)
        link = parents[key]
    steps.reverse()
    return tuple(steps)


def _excused(excuse: Judged[A, S], seen: Any, passed: dict[Any, Any], here: Any, key: Any, nxt: S,
             trace_to: Callable[[Any], tuple[A, ...]]) -> Any:
    """A violation `seen` at `nxt` (key `key`, child of `here`) as `excuse` judges it: None (noted
    in `passed`) goes on past the state. The same violation as its parent's, passed over already,
    is the violation persisting: passed over again without rebuilding the trace."""
    known = passed.get(here) == seen
    found = None if known else excuse(seen, lambda: trace_to(key), nxt)
    if found is None:
        passed[key] = seen
    return found


def replay(start: S, successors: Callable[[S], Iterable[tuple[A, S]]], path: Iterable[int]) -> tuple[tuple[A, ...], S]:
    """The actions along `path` (successor indices) from `start`, and the state reached."""
    state, trace = start, []
    for index in path:
        for i, (act, nxt) in enumerate(successors(state)):
            if i == index:
                trace.append(act)
                state = nxt
                break
        else:
            raise ValueError(f"successor index {index} out of range")
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
    return run_to_end(bfs_steps(model, start, properties, bounds, action_filter, progress, progress_every, visited,
                                convergence))


def bfs_steps(model: ClusterModel, start: ClusterState, properties: Iterable[Property], bounds: Bounds = Bounds(),
              action_filter: ActionFilter | None = None, progress: Progress | None = None,
              progress_every: float = 1.0, visited: Visited = "hashes",
              convergence: Iterable[Property] = (), excuse: Excuse | None = None
              ) -> Generator[None, Limit | None, Report]:
    """`bfs` as a sliced run (see `search_steps`); `excuse`: known upstream behaviour to go on
    past (`EngineConfig.excuse`)."""
    from kubeprop.model.cluster.incremental import memoised
    from kubeprop.properties.convergence import settled_violation
    from kubeprop.properties.explore.incremental import Checker

    checker = Checker(model, tuple(properties), by_value=False)
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
        result = yield from search_steps(start, successors, check, bounds, progress, progress_every, visited,
                                         None if excuse is None else partial(excused, excuse))
    return Report(result.exit_reason, result.stats, result.violation, result.trace)
