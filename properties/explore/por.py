"""Partial-order reduction for the breadth-first search: sleep sets with state caching, and ample sets.

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

Ample (persistent) sets (`ample.py`) also prune states where the checked properties' visibility
allows: a state is expanded with its ample set less its sleep set, and fully when an ample
successor was already known (the cycle proviso for breadth-first search). States expanded with an
ample set remember it, so exploring one again for actions that were asleep stays within it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable

from kubeprop.model.cluster.compose import actions, step
from kubeprop.model.cluster.footprint import Footprints
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.ample import AmpleSets
from kubeprop.properties.explore.bfs import SPILL_AFTER, ActionFilter, Bounds, Progress, Report, SearchStats
from kubeprop.properties.explore.engine import ExitReason, Limit
from kubeprop.properties.explore.frontier import SpillQueue
from kubeprop.properties.explore.incremental import Checker
from kubeprop.properties.registry import Property, Violation

Sleep = frozenset[Action]
NO_SLEEP: Sleep = frozenset()
Entry = tuple[ClusterState, int, Sleep, "frozenset[Action] | None"]
"""A frontier entry: state, depth, sleep set, and (when explored again) the only actions to take."""


def reduced_bfs_steps(model: ClusterModel, start: ClusterState, properties: Iterable[Property],
                      bounds: Bounds = Bounds(), action_filter: ActionFilter | None = None,
                      progress: Progress | None = None, progress_every: float = 1.0,
                      convergence: Iterable[Property] = (), visit: Callable[[ClusterState], None] | None = None,
                      sleep_sets: bool = True, ample_sets: bool = True) -> Generator[None, Limit | None, Report]:
    """Breadth-first search with sleep sets and ample sets (each can be turned off), as a sliced
    run (`engine.Sliced`); the same checks, bounds and report as `bfs.bfs_steps`. Visited states
    are kept as in-process hashes with (parent hash, action) links (see `bfs.search` for the
    collision risk); `visit` is called on each state when it is first reached (tests compare the
    reached states with a full search)."""
    limit: Limit | None = yield
    if limit is not None:
        limit.begin(0)
    props, settled = tuple(properties), tuple(convergence)
    search = _Search(model, Checker(model, props), settled, action_filter, visit, sleep_sets,
                     AmpleSets(model, props, bool(settled), action_filter) if ample_sets else None)
    began = time.perf_counter()
    paused, last_report = 0.0, began

    def stats() -> SearchStats:
        return SearchStats(search.generated, len(search.sleeps), search.depth_seen,
                           time.perf_counter() - began - paused)

    with memoised(model):
        found = search.first(start)
        if found is not None:
            return Report(ExitReason.VIOLATION, stats(), found, ())
        cut: ExitReason | None = None
        while search.frontier:
            entry = search.frontier.popleft()
            if bounds.max_depth is not None and entry[1] >= bounds.max_depth:
                cut = ExitReason.DEPTH_BOUND
                continue
            if settled and entry[0].quiesced:
                continue
            violation = search.expand(entry)
            if violation is not None:
                return Report(ExitReason.VIOLATION, stats(), *violation)
            if bounds.max_states is not None and len(search.sleeps) >= bounds.max_states:
                return Report(ExitReason.STATE_BOUND, stats())
            now = time.perf_counter()
            if bounds.budget_seconds is not None and now - began >= bounds.budget_seconds:
                return Report(ExitReason.TIME_BOUND, stats())
            if progress is not None and now - last_report >= progress_every:
                progress(stats())
                last_report = now
            if limit is not None and limit.reached(search.generated):
                if limit.stop:
                    return Report(ExitReason.TIME_BOUND, stats())
                limit = yield
                paused += time.perf_counter() - now
                if limit is not None:
                    if limit.stop:
                        return Report(ExitReason.TIME_BOUND, stats())
                    limit.begin(search.generated)
        return Report(cut or ExitReason.EXHAUSTED, stats())


class _Search:
    """The visited states (by hash) with their sleep sets, depths, parent links and the ample set
    each was expanded with; the frontier; the counters."""

    def __init__(self, model: ClusterModel, checker: Checker, settled: tuple[Property, ...],
                 action_filter: ActionFilter | None, visit: Callable[[ClusterState], None] | None,
                 sleep_sets: bool, ample: AmpleSets | None) -> None:
        self.model, self.checker, self.settled = model, checker, settled
        self.action_filter, self.visit, self.sleep_sets, self.ample = action_filter, visit, sleep_sets, ample
        self.footprints = Footprints(model)
        self.sleeps: dict[int, Sleep] = {}
        self.depths: dict[int, int] = {}
        self.parents: dict[int, tuple[int, Action] | None] = {}
        self.expanded: dict[int, frozenset[Action]] = {}
        """States expanded with an ample set smaller than their enabled actions: that set."""
        self.interned: dict[Sleep, Sleep] = {NO_SLEEP: NO_SLEEP}
        self.frontier: SpillQueue[Entry] = SpillQueue(SPILL_AFTER)  # past SPILL_AFTER entries, on disk
        self.generated = self.depth_seen = 0

    def check(self, state: ClusterState) -> Violation | None:
        from kubeprop.properties.convergence import settled_violation

        found = self.checker.violation(state)
        if found is None and self.settled and state.quiesced:
            found = settled_violation(self.model, state, self.settled)
        return found

    def first(self, start: ClusterState) -> Violation | None:
        key = hash(start)
        self.sleeps[key], self.depths[key], self.parents[key] = NO_SLEEP, 0, None
        self.generated = 1
        self.frontier.append((start, 0, NO_SLEEP, None))
        if self.visit is not None:
            self.visit(start)
        return self.check(start)

    def trace_to(self, key: int) -> tuple[Action, ...]:
        out: list[Action] = []
        link = self.parents[key]
        while link is not None:
            key, act = link
            out.append(act)
            link = self.parents[key]
        return tuple(reversed(out))

    def expand(self, entry: Entry) -> tuple[Violation, tuple[Action, ...]] | None:
        """Take the entry's actions (its ample set, less its sleep set; every enabled action when
        an ample successor was already known — the cycle proviso); a violation and its trace."""
        state, depth, sleep, only = entry
        here = hash(state)
        flt = self.action_filter
        enabled = [a for a in actions(self.model, state) if flt is None or flt(a)]
        if only is not None:  # explored again: the actions awake now, of the set it was expanded with
            chosen = [a for a in enabled if a in only and (here not in self.expanded or a in self.expanded[here])]
            rest: list[Action] = []
        else:
            ample = self.ample.choose(state, enabled) if self.ample is not None else enabled
            chosen = list(ample)
            rest = [a for a in enabled if a not in ample] if len(ample) < len(enabled) else []
        awake = set(sleep)
        proviso = False
        for act in chosen:
            found = self._take(state, here, depth, act, sleep, awake)
            if isinstance(found, tuple):
                return found
            proviso = proviso or found
        if rest and not proviso:
            self.expanded[here] = frozenset(chosen)
            return None
        for act in rest:  # the cycle proviso: an ample successor was already known
            found = self._take(state, here, depth, act, sleep, awake)
            if isinstance(found, tuple):
                return found
        return None

    def _take(self, state: ClusterState, here: int, depth: int, act: Action, sleep: Sleep, awake: set[Action]
              ) -> tuple[Violation, tuple[Action, ...]] | bool:
        """Take `act` (unless asleep); a violation and its trace, or whether the successor was
        already known."""
        if act in sleep:
            return False
        child = frozenset(b for b in awake if self.footprints.independent(act, b)) if self.sleep_sets else NO_SLEEP
        child = self.interned.setdefault(child, child)  # one object per distinct set
        awake.add(act)
        nxt = step(self.model, state, act)
        self.generated += 1
        key = hash(nxt)
        known = self.sleeps.get(key)
        if known is None:
            self.sleeps[key], self.depths[key], self.parents[key] = child, depth + 1, (here, act)
            if self.visit is not None:
                self.visit(nxt)
            self.depth_seen = max(self.depth_seen, depth + 1)
            found = self.check(nxt)
            if found is not None:
                return found, self.trace_to(key)
            self.frontier.append((nxt, depth + 1, child, None))
            return False
        if not known <= child:
            # Reached again with actions awake that were asleep when it was explored. It is
            # explored again at the depth it was first reached at (no deeper).
            self.sleeps[key] = known & child
            self.frontier.append((nxt, self.depths[key], known & child, known - child))
        return True


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
