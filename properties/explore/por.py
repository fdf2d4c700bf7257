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
ample set remember it, so exploring one again for actions that were asleep stays within it. Ample
sets keep every visible state reachable, not its depth: the actions left out come later, so under a
depth bound the reduced search covers fewer states than the full one; `SearchStats.narrowed` counts
the states expanded with an ample set (`kubeprop check` warns when it is not 0 and the depth bound
cut the search).

Memory: the visited states are the full search's `fpset.StateTable` plus, per state, the number of
its sleep set and its depth in flat arrays (6 bytes); sets of actions are bit masks over the
distinct actions met; the frontier is spilled to disk like the full search's (docs/engines.md,
"A frontier that fits").
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Generator, Hashable, Iterable
from typing import Generic, TypeVar

from kubeprop.model.cluster.compose import actions, step
from kubeprop.model.cluster.footprint import Footprints
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.ample import AmpleSets
from kubeprop.properties.explore.bfs import (
    SPILL_AFTER,
    SPILL_CHUNK,
    ActionFilter,
    Bounds,
    Checkpoint,
    Progress,
    Report,
    SearchStats,
    run_to_end,
)
from kubeprop.properties.explore.engine import Excuse, ExitReason, excused
from kubeprop.properties.explore.fpset import ROOT, StateTable
from kubeprop.properties.explore.frontier import SpillQueue
from kubeprop.properties.explore.incremental import Checker
from kubeprop.properties.explore.slicing import Limit
from kubeprop.properties.registry import Property, Violation

T = TypeVar("T", bound=Hashable)

NO_SLEEP = 0
"""The empty sleep set (sets of actions are bit masks over `_Search.actions`' numbers)."""
Entry = tuple[ClusterState, int, int, "int | None"]
"""A frontier entry: state, its number in the visited table, the number of its sleep set, and
(when explored again) the only actions to take, as a mask. Its depth is the table's."""


def reduced_bfs_steps(model: ClusterModel, start: ClusterState, properties: Iterable[Property],
                      bounds: Bounds = Bounds(), action_filter: ActionFilter | None = None,
                      progress: Progress | None = None, progress_every: float = 1.0,
                      convergence: Iterable[Property] = (), visit: Callable[[ClusterState], None] | None = None,
                      sleep_sets: bool = True, ample_sets: bool = True, excuse: Excuse | None = None
                      ) -> Generator[None, Limit | None, Report]:
    """Breadth-first search with sleep sets and ample sets (each can be turned off), as a sliced
    run (`slicing.Sliced`); the same checks, bounds and report as `bfs.bfs_steps`. Visited states
    are kept as in-process hashes in a `fpset.StateTable` (see `bfs.search` for the collision
    risk), with each one's sleep set and depth in flat arrays; `visit` is called on each state
    when it is first reached (tests compare the reached states with a full search). `excuse`: known
    upstream behaviour to go on past (`EngineConfig.excuse`), as `bfs.search_steps` does."""
    clock = Checkpoint((yield), bounds.budget_seconds, progress, progress_every)
    props, settled = tuple(properties), tuple(convergence)
    search = _Search(model, Checker(model, props, by_value=False), settled, action_filter, visit, sleep_sets,
                     AmpleSets(model, props, bool(settled), action_filter) if ample_sets else None)
    search.excuse = excuse

    def stats() -> SearchStats:
        return SearchStats(search.generated, len(search.table), search.depth_seen, clock.seconds(),
                           narrowed=len(search.expanded))

    if clock.spent():  # a budget spent before the search began: it checks nothing, not even `start`
        return Report(ExitReason.TIME_BOUND, SearchStats(0, 0, 0, clock.seconds()))
    with memoised(model):
        found = search.first(start)
        if found is not None:
            return Report(ExitReason.VIOLATION, stats(), found, ())
        cut: ExitReason | None = None
        while search.frontier:
            entry = search.frontier.popleft()
            if bounds.max_depth is not None and search.depths[entry[1]] >= bounds.max_depth:
                cut = ExitReason.DEPTH_BOUND
                continue
            if settled and entry[0].quiesced:
                continue
            violation = search.expand(entry)
            if violation is not None:
                return Report(ExitReason.VIOLATION, stats(), *violation)
            if bounds.max_states is not None and len(search.table) >= bounds.max_states:
                return Report(ExitReason.STATE_BOUND, stats())
            if (yield from clock.passed(search.generated, stats)):
                return Report(ExitReason.TIME_BOUND, stats())
        return Report(cut or ExitReason.EXHAUSTED, stats())


class Numbering(Generic[T]):
    """Distinct values numbered 0, 1, 2, … in the order first met, each kept once."""

    __slots__ = ("items", "numbers")

    def __init__(self) -> None:
        self.items: list[T] = []
        self.numbers: dict[T, int] = {}

    def number(self, value: T) -> int:
        """The number of `value` (the next one if it is new)."""
        found = self.numbers.get(value)
        if found is None:
            found = self.numbers[value] = len(self.items)
            self.items.append(value)
        return found


class _Search:
    """The visited states (`StateTable`: hash, parent number, index among the parent's enabled
    actions) with, by number, each one's sleep set and depth in flat arrays, and the ample set each
    was expanded with; the frontier; the counters.

    Sets of actions are bit masks over action numbers (`actions`: each distinct action is
    numbered once, a few hundred in all), and each distinct sleep set is kept once (`sleeps`), so a
    state's sleep set costs 4 bytes, not a frozenset of its own action objects (issue 17: 85 bytes a
    state at 100,000 states of web.yaml)."""

    def __init__(self, model: ClusterModel, checker: Checker, settled: tuple[Property, ...],
                 action_filter: ActionFilter | None, visit: Callable[[ClusterState], None] | None,
                 sleep_sets: bool, ample: AmpleSets | None) -> None:
        self.model, self.checker, self.settled = model, checker, settled
        self.action_filter, self.visit, self.sleep_sets, self.ample = action_filter, visit, sleep_sets, ample
        self.footprints = Footprints(model)
        self.table = StateTable()
        self.sleep_of = array("I")
        """The number of each state's sleep set (in `sleeps`)."""
        self.depths = array("H")
        self.sleeps: Numbering[int] = Numbering()
        self.sleeps.number(NO_SLEEP)
        self.actions: Numbering[Action] = Numbering()
        self.independent_masks: list[int] = []
        """Per action number, the numbered actions independent of it (a bit mask: `_independent_of`)."""
        self.independent_upto: list[int] = []
        """Per action number, how many actions its mask covers (those numbered since are judged when asked)."""
        self.expanded: dict[int, int] = {}
        """States (by number) expanded with an ample set smaller than their enabled actions: that set."""
        self.frontier: SpillQueue[Entry] = SpillQueue(SPILL_AFTER, SPILL_CHUNK)  # past SPILL_AFTER entries, on disk
        self.generated = self.depth_seen = 0
        self.excuse: Excuse | None = None
        """Known upstream behaviour the search goes on past (`EngineConfig.excuse`)."""
        self.passed: dict[int, Violation] = {}
        """The states (by number) whose violation `excuse` passed over, with it (`engine.Excuse`)."""

    def check(self, state: ClusterState) -> Violation | None:
        from kubeprop.properties.convergence import settled_violation

        found = self.checker.violation(state)
        if found is None and self.settled and state.quiesced:
            found = settled_violation(self.model, state, self.settled, remember_runs=True)
        return found

    def enabled(self, state: ClusterState) -> list[Action]:
        """The state's enabled actions the filter lets through, in `actions` order (the indices
        the table records refer to this list)."""
        flt = self.action_filter
        return [a for a in actions(self.model, state) if flt is None or flt(a)]

    def record(self, sleep: int, depth: int) -> None:
        """The sleep set (number) and depth of the state just added to the table."""
        if depth > 0xFFFF and self.depths.typecode == "H":
            self.depths = array("I", self.depths)
        self.sleep_of.append(sleep)
        self.depths.append(depth)

    def first(self, start: ClusterState) -> Violation | None:
        self.start = start
        self.table.add(hash(start), ROOT, 0)
        self.record(0, 0)
        self.generated = 1
        self.frontier.append((start, 0, 0, None))
        if self.visit is not None:
            self.visit(start)
        return self.check(start)

    def _independent_of(self, bit: int) -> int:
        """The mask of the numbered actions independent of action `bit` (`Footprints.independent`),
        extended to the actions numbered since it was last asked: each pair is judged once."""
        masks, upto, items = self.independent_masks, self.independent_upto, self.actions.items
        while len(masks) <= bit:
            masks.append(0)
            upto.append(0)
        if upto[bit] < len(items):
            act, mask, independent = items[bit], masks[bit], self.footprints.independent
            for b in range(upto[bit], len(items)):
                if independent(act, items[b]):
                    mask |= 1 << b
            masks[bit], upto[bit] = mask, len(items)
        return masks[bit]

    def trace_to(self, number: int) -> tuple[Action, ...]:
        """The actions from the start to state `number`, replayed from the recorded indices."""
        state, out = self.start, []
        for index in self.table.path(number):
            act = self.enabled(state)[index]
            out.append(act)
            state = step(self.model, state, act)
        return tuple(out)

    def expand(self, entry: Entry) -> tuple[Violation, tuple[Action, ...]] | None:
        """Take the entry's actions (its ample set, less its sleep set; every enabled action when
        an ample successor was already known — the cycle proviso); a violation and its trace."""
        state, here, sleep_number, only = entry
        enabled = self.enabled(state)
        bits = [self.actions.number(a) for a in enabled]
        chosen: list[int]
        rest: list[int] = []
        if only is not None:  # explored again: the actions awake now, of the set it was expanded with
            within = self.expanded.get(here, -1)  # -1: every bit set
            chosen = [i for i, b in enumerate(bits) if only >> b & within >> b & 1]
        else:
            ample = self.ample.choose(state, enabled) if self.ample is not None else enabled
            chosen = list(range(len(enabled)))
            if len(ample) < len(enabled):  # ample sets keep the enabled order
                members = set(ample)
                rest = [i for i in chosen if enabled[i] not in members]
                chosen = [i for i in chosen if enabled[i] in members]
        sleep = self.sleeps.items[sleep_number]
        awake = [sleep]
        depth = self.depths[here]
        proviso = False
        for i in chosen:
            found = self._take(state, here, depth, i, enabled[i], bits[i], sleep, awake)
            if isinstance(found, tuple):
                return found
            proviso = proviso or found
        if rest and not proviso:
            mask = 0
            for i in chosen:
                mask |= 1 << bits[i]
            self.expanded[here] = mask
            return None
        for i in rest:  # the cycle proviso: an ample successor was already known
            found = self._take(state, here, depth, i, enabled[i], bits[i], sleep, awake)
            if isinstance(found, tuple):
                return found
        return None

    def _take(self, state: ClusterState, here: int, depth: int, index: int, act: Action, bit: int, sleep: int,
              awake: list[int]) -> tuple[Violation, tuple[Action, ...]] | bool:
        """Take `act` (enabled action number `index`, bit `bit`, unless asleep); a violation and
        its trace, or whether the successor was already known. `awake[0]` is the mask of the sleep
        set and of the actions taken before from this state (updated here)."""
        if sleep >> bit & 1:
            return False
        child = self._independent_of(bit) & awake[0] if self.sleep_sets else NO_SLEEP
        awake[0] |= 1 << bit
        nxt = step(self.model, state, act)
        self.generated += 1
        number = self.table.add(hash(nxt), here, index)
        if number >= 0:
            child_number = self.sleeps.number(child)
            self.record(child_number, depth + 1)
            if self.visit is not None:
                self.visit(nxt)
            self.depth_seen = max(self.depth_seen, depth + 1)
            found = self.check(nxt)
            if found is not None and self.excuse is not None:
                seen = found
                found = None if self.passed.get(here) == seen else excused(
                    self.excuse, seen, lambda: self.trace_to(number), nxt)
                if found is None:
                    self.passed[number] = seen
            if found is not None:
                return found, self.trace_to(number)
            self.frontier.append((nxt, number, child_number, None))
            return False
        number = ~number
        known = self.sleeps.items[self.sleep_of[number]]
        if known & ~child:
            # Reached again with actions awake that were asleep when it was explored. It is
            # explored again at the depth it was first reached at (no deeper).
            both = self.sleep_of[number] = self.sleeps.number(known & child)
            self.frontier.append((nxt, number, both, known & ~child))
        return True


def reduced_bfs(model: ClusterModel, start: ClusterState, properties: Iterable[Property], bounds: Bounds = Bounds(),
                action_filter: ActionFilter | None = None, convergence: Iterable[Property] = ()) -> Report:
    """`reduced_bfs_steps` run to its end."""
    return run_to_end(reduced_bfs_steps(model, start, properties, bounds, action_filter, convergence=convergence))
