"""Lasso search: oscillations found as reachable cycles of the cluster, entered after `Quiesce`.

A *lasso* is a stem (actions from the start to a state s after `Quiesce`) and a cycle (actions
from s back to a state with the same cycle key as s, `kubeprop.properties.explore.cyclekey`)
that the control plane can repeat forever: the cycle is *weakly fair* (every action enabled in
every state of the cycle is taken in it) and uses progress actions only (no faults, no bad luck,
no choices of the environment — `kubeprop.model.cluster.drive.is_progress`). Time is urgent: the
clock ticks only when nothing else can happen, as in the fair driver. A lasso is a
counterexample to a cycle property (`kubeprop.properties.oscillation`) when that property fails
on its cycle. This is SPIN's non-progress-cycle search and TLC's liveness checking, on cycle keys
instead of states (states never repeat: revisions, names and the clock only grow).

The stems come from a breadth-first search before `Quiesce` (`bfs.search`); every quiesced state
is a *seed*. By default (`stems="settled"`) the search branches only on *choices* — user steps,
faults, environment choices, `Quiesce`: the actions that are not progress — and lets the fair
driver settle the cluster after each one (bounded by `settle_steps` and `settle_ticks`; a cluster that
does not settle within them is left as it is, for the fair run after `Quiesce` to go round): a
realistic user or fault acts on a cluster that has settled, and the search stays small. With
`stems="interleaved"` it branches on every action, as `bfs` does. Two strategies look for
cycles after a seed:

- `fair` (default): the deterministic weakly-fair driver (least recently taken abstract action
  first, Tick last) runs from the seed until a cycle key repeats on a fair segment; one schedule
  per seed, and a seed whose run reaches a key an earlier run covered stops there;
- `exhaustive`: every post-`Quiesce` interleaving is explored on cycle keys (shared by all seeds),
  then each strongly connected component is checked for weak fairness (TLC's and SPIN's fair-SCC
  check) and walked along all its edges; complete within the bounds.

Each lasso found is *confirmed* by running its cycle again from where it closed (matching each
action by its abstract label): only cycles that close again on the same key are reported, so a
lasso never rests on the abstraction alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

from kubeprop.model.cluster.compose import actions, step
from kubeprop.model.cluster.drive import is_progress, settle
from kubeprop.model.state.actions import Action, Tick
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.bfs import Bounds, search
from kubeprop.properties.explore.cyclekey import Abstraction
from kubeprop.properties.explore.engine import ExitReason
from kubeprop.properties.explore.progress import EngineProgress, Ticker
from kubeprop.properties.oscillation import Cycle, CycleProperty, first_cycle_violation
from kubeprop.properties.registry import Violation

if TYPE_CHECKING:
    from kubeprop.properties.explore.lasso_graph import Graph

Strategy = Literal["fair", "exhaustive"]
Stems = Literal["settled", "interleaved"]
ActionFilter = Callable[[Action], bool]


@attrs.frozen
class Lasso:
    """A stem from the search's start and a cycle that returns to the stem's end (up to the cycle
    key); `repeats` further periods ran concretely and closed again."""

    stem: tuple[Action, ...]
    cycle: tuple[Action, ...]
    violation: Violation
    repeats: int = 1


@attrs.frozen
class LassoStats:
    """Counters: seconds, quiesced seeds analysed, distinct stem states, steps (every action taken:
    the stems' choices, the settling after each, and the fair runs after Quiesce), distinct
    post-Quiesce keys (exhaustive), stem depth reached."""

    seconds: float
    seeds: int
    stem_states: int
    steps: int
    keys: int
    depth: int


@attrs.frozen
class LassoReport:
    """Why the search stopped, its counters, and the lasso found (if any)."""

    exit_reason: ExitReason
    stats: LassoStats
    lasso: Lasso | None = None

    @property
    def violation(self) -> Violation | None:
        """The violated cycle property, if a lasso was found."""
        return None if self.lasso is None else self.lasso.violation

    @property
    def trace(self) -> tuple[Action, ...]:
        """Stem then cycle."""
        return () if self.lasso is None else (*self.lasso.stem, *self.lasso.cycle)


def progress_moves(model: ClusterModel, state: ClusterState) -> list[Action]:
    """The actions a fair, fault-free continuation may take: progress actions, Tick only when
    nothing else is enabled (urgent time)."""
    enabled = [a for a in actions(model, state) if is_progress(a)]
    moves = [a for a in enabled if not isinstance(a, Tick)]
    return moves or [a for a in enabled if isinstance(a, Tick)]


def run_labels(model: ClusterModel, abstraction: Abstraction, state: ClusterState, labels: Sequence[str]
               ) -> tuple[list[ClusterState], list[Action]] | None:
    """Run a sequence of abstract action labels concretely from `state` (None when some label
    matches no enabled action)."""
    states, taken = [state], []
    for label in labels:
        _, name = abstraction.analyse(states[-1])
        match = next((a for a in progress_moves(model, states[-1]) if name(a) == label), None)
        if match is None:
            return None
        taken.append(match)
        states.append(step(model, states[-1], match))
    return states, taken


def confirm(model: ClusterModel, abstraction: Abstraction, states: Sequence[ClusterState],
            cycle: Sequence[Action], repeats: int) -> bool:
    """Whether the cycle, run `repeats` more times from its end, closes on its key each time."""
    labels = []
    for state, act in zip(states, cycle, strict=False):
        labels.append(abstraction.analyse(state)[1](act))
    key = abstraction.key(states[0])
    current = states[-1]
    for _ in range(repeats):
        ran = run_labels(model, abstraction, current, labels)
        if ran is None or abstraction.key(ran[0][-1]) != key:
            return False
        current = ran[0][-1]
    return True


def _fair(labels_enabled: Sequence[frozenset[str]], taken: Sequence[str]) -> bool:
    """Weak fairness of a segment: what is enabled in all its states is taken in it."""
    always = frozenset.intersection(*labels_enabled) if labels_enabled else frozenset()
    return always <= set(taken)


@attrs.define
class _Search:
    """State shared by the seeds of one search."""

    model: ClusterModel
    abstraction: Abstraction
    props: tuple[CycleProperty, ...]
    max_steps: int
    repeats: int
    deadline: float | None
    covered: set[bytes] = attrs.field(factory=set)
    steps: int = 0
    seeds: int = 0
    tick: Callable[[], None] | None = None
    """Called after each step of a fair run or of the graph's exploration (the engine's progress)."""

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() >= self.deadline

    def stepped(self) -> None:
        """One more step taken: count it, and tell `tick`."""
        self.steps += 1
        if self.tick is not None:
            self.tick()

    def fair_run(self, seed: ClusterState) -> tuple[tuple[Action, ...], tuple[Action, ...], Violation] | None:
        """The fair driver from `seed`, watching for a fair repeated key (see the module docstring)."""
        self.seeds += 1
        states: list[ClusterState] = [seed]
        taken: list[Action] = []
        labels_taken: list[str] = []
        enabled_sets: list[frozenset[str]] = []
        keys: list[bytes] = []
        last: dict[str, int] = {}
        where: dict[bytes, list[int]] = {}
        for n in range(self.max_steps):
            key, name = self.abstraction.analyse(states[-1])
            if key in self.covered and key not in where:
                return None
            keys.append(key)
            where.setdefault(key, []).append(n)
            found = self._closes(states, taken, labels_taken, enabled_sets, where[key][:-1], n)
            if found is _BENIGN:  # a fair cycle that is fine: the run settles into it
                self.covered.update(keys)
                return found
            if found is not None:
                return found
            moves = progress_moves(self.model, states[-1])
            if not moves or self.out_of_time():
                break
            named = [(name(a), a) for a in moves]
            enabled_sets.append(frozenset(label for label, _ in named))
            label, act = min(named, key=lambda pair: last.get(pair[0], -1))
            last[label] = n
            taken.append(act)
            labels_taken.append(label)
            states.append(step(self.model, states[-1], act))
            self.stepped()
        self.covered.update(keys)
        return None

    def _closes(self, states: list[ClusterState], taken: list[Action], labels_taken: list[str],
                enabled_sets: list[frozenset[str]], earlier: list[int], n: int
                ) -> tuple[tuple[Action, ...], tuple[Action, ...], Violation] | None:
        for i in reversed(earlier):
            if not _fair(enabled_sets[i:n], labels_taken[i:n]):
                continue
            cycle = Cycle(tuple(states[i:n + 1]), tuple(taken[i:n]))
            violation = first_cycle_violation(self.model, cycle, self.props)
            if violation is None:
                return _BENIGN
            if confirm(self.model, self.abstraction, states[i:n + 1], taken[i:n], self.repeats):
                return tuple(taken[:i]), tuple(taken[i:n]), violation
        return None


Found = tuple[tuple[Action, ...], tuple[Action, ...], Violation]
"""A lasso after a seed: the actions to the cycle, the cycle, the violation."""
_BENIGN: Found = ((), (), Violation("", ""))
"""What a fair run returns when it settles into a cycle that violates nothing."""


def find_lasso(model: ClusterModel, start: ClusterState, properties: Iterable[CycleProperty],
               bounds: Bounds = Bounds(), strategy: Strategy = "fair", action_filter: ActionFilter | None = None,
               max_cycle_steps: int = 4000, repeats: int = 1, max_keys: int = 200_000, stems: Stems = "settled",
               settle_steps: int = 2000, settle_ticks: int = 30, progress: Callable[[Any], None] | None = None
               ) -> LassoReport:
    """Search for a lasso violating one of `properties` (see the module docstring). `bounds`
    bound the stem search (depth in choices or actions, distinct states, seconds — the seconds
    bound the whole search); `max_cycle_steps` bounds each fair run; `max_keys` the exhaustive
    post-Quiesce graph; `settle_steps`/`settle_ticks` each settling between choices. With
    `progress`, an `EngineProgress` (fair runs, steps) about once a second."""
    began = time.perf_counter()
    deadline = None if bounds.budget_seconds is None else began + bounds.budget_seconds
    props = tuple(properties)
    shared = _Search(model, Abstraction.of(model, start), props, max_cycle_steps, repeats, deadline)
    stem_steps = [0]  # actions the stems took (the choices and the settling after each), for the counters
    if progress is not None:
        ticker = Ticker(progress)
        shared.tick = lambda: ticker.tick(stem_steps[0] + shared.steps, lambda: EngineProgress(
            stem_steps[0] + shared.steps, time.perf_counter() - began, shared.seeds))
    graph = None
    if strategy == "exhaustive":
        from kubeprop.properties.explore.lasso_graph import Graph

        graph = Graph(shared, max_keys)
    successors = _stem_successors(model, action_filter, stems, settle_steps, settle_ticks, stem_steps)
    stem_bounds = attrs.evolve(bounds, budget_seconds=None if deadline is None else max(0.0, deadline - began))
    first: tuple[Action, ...] = ()
    if stems == "settled" and not start.quiesced and not shared.out_of_time():
        run = settle(model, start, max_steps=settle_steps, max_ticks=settle_ticks,
                     report_failing=False)
        stem_steps[0] += len(run.trace)
        if not run.exhausted:
            first, start = run.trace, run.state
    result = search(start, successors, _cycle_check(shared, graph), stem_bounds, visited="hashes")
    lasso = None
    exit_reason: ExitReason = result.exit_reason
    if result.violation is not None:
        prefix, cycle, violation = result.violation
        stem = (*first, *(act for macro in result.trace for act in macro), *prefix)
        lasso = Lasso(stem, cycle, violation, repeats)
    elif shared.out_of_time():
        exit_reason = ExitReason.TIME_BOUND
    keys = len(graph.keys) if graph is not None else len(shared.covered)
    stats = LassoStats(time.perf_counter() - began, shared.seeds, result.stats.distinct, stem_steps[0] + shared.steps,
                       keys, result.stats.depth)
    return LassoReport(exit_reason, stats, lasso)


def _stem_successors(model: ClusterModel, action_filter: ActionFilter | None, stems: Stems, settle_steps: int,
                     settle_ticks: int, stem_steps: list[int]
                     ) -> Callable[[ClusterState], Iterable[tuple[Any, ClusterState]]]:
    """The successors of a stem's state for `find_lasso`'s stem search: none past Quiesce (the
    fair run or the graph takes over there); else each enabled action (through `action_filter`)
    as a one-action macro step, or, for settled stems, each environment choice followed by the
    settling after it. Adds the actions taken to `stem_steps[0]`."""

    def successors(state: ClusterState) -> Iterable[tuple[Any, ClusterState]]:
        if state.quiesced:
            return
        for act in actions(model, state):
            if action_filter is not None and not action_filter(act):
                continue
            if stems == "interleaved":
                stem_steps[0] += 1
                yield (act,), step(model, state, act)
            elif not is_progress(act) and not isinstance(act, Tick):
                nxt = step(model, state, act)
                if nxt.quiesced:
                    stem_steps[0] += 1
                    yield (act,), nxt
                else:  # a run that does not settle is left to the fair run after Quiesce
                    run = settle(model, nxt, max_steps=settle_steps, max_ticks=settle_ticks, report_failing=False)
                    stem_steps[0] += 1 + len(run.trace)
                    yield ((act,), nxt) if run.exhausted else ((act, *run.trace), run.state)

    return successors


def _cycle_check(shared: _Search, graph: Graph | None) -> Callable[[ClusterState], Any]:
    """`find_lasso`'s check of a stem's state: at a quiesced state (in time), the cycle found from
    it by the fair run, or by the exhaustive post-Quiesce `graph` if there is one (None if none,
    or only a benign one)."""

    def check(state: ClusterState) -> Any:
        if shared.tick is not None:  # (a stem's state: its steps counted in `successors`)
            shared.tick()
        if not state.quiesced or shared.out_of_time():
            return None
        found = graph.explore(state) if graph is not None else shared.fair_run(state)
        return None if found is None or found is _BENIGN else found

    return check


def lasso_from_state(model: ClusterModel, state: ClusterState, properties: Iterable[CycleProperty],
                     max_steps: int = 5000, repeats: int = 1, deadline: float | None = None
                     ) -> tuple[tuple[Action, ...], tuple[Action, ...], Violation] | None:
    """The lasso the fair driver closes from one quiesced state (prefix to the cycle, cycle,
    violation), or None when it settles, closes a harmless cycle or passes `deadline` (a
    `time.perf_counter()` value). Turns a `settles` livelock of the convergence check into a lasso."""
    search_ = _Search(model, Abstraction.of(model, state), tuple(properties), max_steps, repeats, deadline)
    found = search_.fair_run(state)
    return None if found is None or found is _BENIGN else found


@attrs.frozen
class LassoEngineResult:
    """The lasso engine through the runner's interface (`kubeprop.properties.explore.runner`):
    like `EngineResult`, plus `cycle_start` (the stem's length) when a lasso was found."""

    engine: str
    exit_reason: str
    violation: Violation | None
    trace: tuple[Action, ...]
    stats: Any
    cycle_start: int | None = None


def _engine(model: ClusterModel, start: ClusterState, config: Any, strategy: Strategy) -> LassoEngineResult:
    from kubeprop.properties.explore.engine import EngineStats
    from kubeprop.properties.oscillation import CYCLE_PROPERTIES, select_cycle

    # the lasso engines check cycle properties: those the selection names, or all of them when it
    # names none (a selection of state properties, as `check` passes by default)
    named = [n if isinstance(n, CycleProperty) else getattr(n, "name", n) for n in config.properties or ()]
    wanted = [n for n in named if isinstance(n, CycleProperty) or n in CYCLE_PROPERTIES]
    chosen = select_cycle(wanted or None)
    bounds = Bounds(max_depth=config.max_depth, max_states=config.max_states, budget_seconds=config.budget_seconds)
    report = find_lasso(model, start, chosen, bounds, strategy=strategy, action_filter=config.action_filter,
                        max_cycle_steps=config.settle_steps, progress=getattr(config, "progress", None))
    s = report.stats
    stats = EngineStats(seconds=s.seconds, steps=s.steps, runs=s.seeds, distinct=s.stem_states, depth=s.depth,
                        note=f"{s.keys} post-Quiesce cycle keys")
    start_of_cycle = None if report.lasso is None else len(report.lasso.stem)
    return LassoEngineResult(f"lasso-{strategy}" if strategy != "fair" else "lasso", report.exit_reason,
                             report.violation, report.trace, stats, start_of_cycle)


def run_lasso(model: ClusterModel, start: ClusterState, config: Any) -> LassoEngineResult:
    """The lasso engine, fair strategy (`EngineConfig`: `max_depth`/`max_states` bound the stems,
    `budget_seconds` the whole search, `settle_steps` each fair run; `properties` may name cycle
    properties — the others are ignored — or None for all)."""
    return _engine(model, start, config, "fair")


def run_lasso_exhaustive(model: ClusterModel, start: ClusterState, config: Any) -> LassoEngineResult:
    """The lasso engine, exhaustive strategy (every post-Quiesce interleaving, fair SCCs)."""
    return _engine(model, start, config, "exhaustive")
