"""Partial-order reduction for the breadth-first search: sleep sets with state caching.

Two actions that are independent (`kubeprop.model.cluster.footprint`: neither writes what the
other reads or writes) commute: taking them in either order from a state reaches the same state,
and neither enables or disables the other. A search that has explored `a` then `b` from a state
need not also explore `b` then `a`. Sleep sets (Godefroid, "Partial-Order Methods for the
Verification of Concurrent Systems", LNCS 1032, 1996, ch. 5) record this: when a state's
actions are explored in order, each later action's successor inherits, as its *sleep set*, the
earlier actions (and the state's own sleep set) that are independent of it; an action in a
state's sleep set is not taken there, because the same interleaving, up to reordering
independent actions, was explored already.

With a visited set, a state reached again with a sleep set that is not a superset of the one it
was explored with is explored again, for the actions that were asleep then and are awake now,
and its recorded sleep set shrinks to the intersection (Godefroid's algorithm with state
caching). Every reachable state is still reached — sleep sets prune transitions, never states —
so every safety property (checked on every state) and every convergence property (judged on
every quiesced state) gets the same verdict as without the reduction, within the same depth
bound: equivalent interleavings have the same length. The search explores fewer transitions,
which is where a breadth-first search spends its time (`step` on each one); the benchmark
(`benchmarks/bench_engines.py`) reports the reduction factor, and
`tests/properties/explore/test_por.py` compares full and reduced searches state by state.

Persistent (ample) sets, which would also prune states, are not used: their conditions need a
static over-approximation of every action that could become enabled later, and in this model
faults (enabled until `Quiesce`), `Tick` (which reads every timer) and properties that read
caches and queues make them hold almost nowhere; see docs/engines.md.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Generator, Iterable

from kubeprop.model.cluster.compose import actions, step
from kubeprop.model.cluster.footprint import Footprints
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.bfs import ActionFilter, Bounds, Progress, Report, SearchStats
from kubeprop.properties.explore.engine import ExitReason, Limit
from kubeprop.properties.explore.incremental import Checker
from kubeprop.properties.registry import Property, Violation

Sleep = frozenset[Action]
NO_SLEEP: Sleep = frozenset()
Entry = tuple[ClusterState, int, Sleep, "frozenset[Action] | None"]
"""A frontier entry: state, depth, sleep set, and (when explored again) the only actions to take."""


def reduced_bfs_steps(model: ClusterModel, start: ClusterState, properties: Iterable[Property],
                      bounds: Bounds = Bounds(), action_filter: ActionFilter | None = None,
                      progress: Progress | None = None, progress_every: float = 1.0,
                      convergence: Iterable[Property] = (), visit: Callable[[ClusterState], None] | None = None
                      ) -> Generator[None, Limit | None, Report]:
    """Breadth-first search with sleep sets, as a sliced run (`engine.Sliced`); the same checks,
    bounds and report as `bfs.bfs_steps`. Visited states are kept as in-process hashes with
    (parent hash, action) links (see `bfs.search` for the collision risk); `visit` is called on
    each state when it is first reached (tests compare the reached states with a full search)."""
    from kubeprop.properties.convergence import settled_violation

    limit: Limit | None = yield
    if limit is not None:
        limit.begin(0)
    began = time.perf_counter()
    paused = 0.0
    footprints = Footprints(model)
    checker = Checker(model, tuple(properties))
    settled = tuple(convergence)
    sleeps: dict[int, Sleep] = {hash(start): NO_SLEEP}
    depths: dict[int, int] = {hash(start): 0}
    interned: dict[Sleep, Sleep] = {NO_SLEEP: NO_SLEEP}
    parents: dict[int, tuple[int, Action] | None] = {hash(start): None}
    frontier: deque[Entry] = deque([(start, 0, frozenset(), None)])
    generated, depth_seen, last_report = 1, 0, began

    def stats() -> SearchStats:
        return SearchStats(generated, len(sleeps), depth_seen, time.perf_counter() - began - paused)

    def check(state: ClusterState) -> Violation | None:
        found = checker.violation(state)
        if found is None and settled and state.quiesced:
            found = settled_violation(model, state, settled)
        return found

    def trace_to(key: int) -> tuple[Action, ...]:
        out: list[Action] = []
        link = parents[key]
        while link is not None:
            key, act = link
            out.append(act)
            link = parents[key]
        return tuple(reversed(out))

    with memoised(model):
        if visit is not None:
            visit(start)
        found = check(start)
        if found is not None:
            return Report(ExitReason.VIOLATION, stats(), found, ())
        cut: ExitReason | None = None
        while frontier:
            state, depth, sleep, only = frontier.popleft()
            if bounds.max_depth is not None and depth >= bounds.max_depth:
                cut = ExitReason.DEPTH_BOUND
                continue
            if settled and state.quiesced:
                continue
            here = hash(state)
            awake = set(sleep)
            for act in actions(model, state):
                if act in sleep or (action_filter is not None and not action_filter(act)):
                    continue
                if only is not None and act not in only:
                    continue
                child_sleep = frozenset(b for b in awake if footprints.independent(act, b))
                child_sleep = interned.setdefault(child_sleep, child_sleep)  # one object per distinct set
                awake.add(act)
                nxt = step(model, state, act)
                generated += 1
                key = hash(nxt)
                known = sleeps.get(key)
                if known is None:
                    sleeps[key] = child_sleep
                    depths[key] = depth + 1
                    parents[key] = (here, act)
                    if visit is not None:
                        visit(nxt)
                    depth_seen = max(depth_seen, depth + 1)
                    found = check(nxt)
                    if found is not None:
                        return Report(ExitReason.VIOLATION, stats(), found, trace_to(key))
                    frontier.append((nxt, depth + 1, child_sleep, None))
                    if bounds.max_states is not None and len(sleeps) >= bounds.max_states:
                        return Report(ExitReason.STATE_BOUND, stats())
                elif not known <= child_sleep:
                    # Reached again with actions awake that were asleep when it was explored.
                    # It is explored again at the depth it was first reached at (no deeper).
                    sleeps[key] = known & child_sleep
                    frontier.append((nxt, depths[key], known & child_sleep, known - child_sleep))
            now = time.perf_counter()
            if bounds.budget_seconds is not None and now - began >= bounds.budget_seconds:
                return Report(ExitReason.TIME_BOUND, stats())
            if progress is not None and now - last_report >= progress_every:
                progress(stats())
                last_report = now
            if limit is not None and limit.reached(generated):
                if limit.stop:
                    return Report(ExitReason.TIME_BOUND, stats())
                limit = yield
                paused += time.perf_counter() - now
                if limit is not None:
                    if limit.stop:
                        return Report(ExitReason.TIME_BOUND, stats())
                    limit.begin(generated)
        return Report(cut or ExitReason.EXHAUSTED, stats())


def reduced_bfs(model: ClusterModel, start: ClusterState, properties: Iterable[Property], bounds: Bounds = Bounds(),
                action_filter: ActionFilter | None = None, convergence: Iterable[Property] = ()) -> Report:
    """`reduced_bfs_steps` run to its end."""
    gen = reduced_bfs_steps(model, start, properties, bounds, action_filter, convergence=convergence)
    next(gen)
    try:
        gen.send(None)
    except StopIteration as stop:
        report: Report = stop.value
        return report
    raise AssertionError("reduced_bfs_steps yielded without a slice limit")
