"""Search around the fair run: every run whose deviations from the run a user expects cost at most k.

The fair run (`kubeprop.model.cluster.drive.FairPolicy` with the workload's steps) is what a user
pictures when they write a scenario: every component reacts in turn, the next workload step
comes when the cluster is quiet, no fault happens. Bugs usually need only a few departures from
it — a watch event delivered late, another component acting first, one fault from the scenario's
budget at the wrong moment. So this engine explores, for k = 0, 1, 2, … `deviations` in turn,
every run whose departures from the fair choice cost k in total (each costs 1, a fault injected
while the control plane is busy 2: below), and follows the fair policy everywhere else:

- a *deviation* at a state is taking any enabled action other than the fair one: another
  component first (which also delays a watch delivery or a reconcile), a `Tick` before the
  cluster is quiet, a workload step early, a failing probe, or a fault the budget still allows
  (`Quiesce` is left out: the run quiesces when it ends);
- where the fair policy has nothing left to take, the run ends: it quiesces and the convergence
  properties are judged on its fair continuations (`settled_violation`), with and without the
  environment recovering; deviations from that quiet state are still explored (a fault after
  everything settled is the most common scenario of all). Convergence is also judged where the
  run is quiet before the user's next step (as if the user and the faults stopped there);
- deviations have a cost (`around_cost.deviation_cost`: 1, or 2 for a fault injected while the cluster is
  busy), and the runs of one cost form a *layer*. The fair run (cost 0) is followed first, then
  the cheapest open layer alone for as many steps as the fair run took (its runs are about that
  long); then the layers share the steps (`around_cost.layer_of`): the cheapest layer with runs queued gets
  all but 1 / `SHARE` of them, the next all but 1 / `SHARE` of the rest, and so on. Within a layer, runs
  go in breadth-first order of their length, except that a run first goes only a few steps past
  its last deviation (`HORIZONS`: 4, then 16, then 64, then on) — most bugs show right after the
  deviation that causes them, while a run's whole continuation can be long. In the one-deviation
  layer the *targeted* deviations (`_Search.targeted`: Sieve's stale state of a component's own
  last write and intermediate states — a crash between two steps of its own work) go through
  each horizon one pass ahead of the others (`_Node.lag`): they are a few of the many reorderings
  of pending work, and the ones that most often break a controller. The first
  counterexample found is a shortest one among the runs of its cost that show it within the same
  horizon; it is then delta-debugged (`shrink.py`);
- states are cached: a run reaching a state an earlier run of no greater cost reached is not
  continued (`_Search.child_within`; one that reaches it cheaper is) — with history-dependent
  fairness this prunes continuations that could differ only in the order of later fair choices.

This is iterative context bounding (Musuvathi and Qadeer, "Iterative context bounding for
systematic testing of multithreaded programs", PLDI 2007) and delay-bounded scheduling (Emmi,
Qadeer and Rakamarić, POPL 2011) with the fair policy as the deterministic scheduler, and Sieve's
perturbations (Sun et al., OSDI 2022: stale, unobserved and intermediate states) as deviations.
Both explore each bound completely before the next; on a long run (FeastFlow's fair run is about
500 steps) the runs of one deviation are more than any budget follows to their ends, so a search
that waits for them never tries two deviations, however cheap, and least of all two far apart
(the second is placed only where the run of the first has got to). Sharing the steps between the
bounds geometrically, as a universal restart schedule shares them between cutoffs (Luby, Sinclair
and Zuckerman, 1993), costs a cheaper layer a constant factor (1 / (1 - 1 / `SHARE`)) instead.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

import attrs

from kubeprop.model.cluster.drive import FairPolicy
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.state.actions import Action, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.around_cost import MAX_COST, _horizon, deviation_cost, layer_of
from kubeprop.properties.explore.around_search import _Found, _Node, _Search
from kubeprop.properties.explore.engine import (
    ActiveTimer,
    EngineConfig,
    EngineResult,
    EngineStats,
    ExitReason,
    Sliced,
    SliceGen,
    Slicer,
    run_sliced,
)
from kubeprop.properties.explore.incremental import Checker
from kubeprop.properties.explore.progress import EngineProgress
from kubeprop.properties.explore.shrink import Judge, shrink_within
from kubeprop.properties.registry import Violation

__all__ = [
    "_Found", "_Node", "_Search", "deviation_cost", "report_found", "run_around_fair", "run_fault_injection",
    "sliced_around_fair", "sliced_fault_injection",
]


class _Entry:
    """A run waiting in a layer's queue: either a node already stepped to (with the fair policy's
    memory of its run) or a deviation (`act` from `node`) not taken yet. Queued as
    `(horizon, depth, seq, entry)`: shortest first, then in the order queued. The deviations of
    one node and cost are queued as one batch (`rest` yields the ones after `act`, `key` is the
    batch's place in the queue): consecutive in that order anyway, they are found one at a time,
    as they are taken — most are never taken within the budget."""

    __slots__ = ("act", "cost", "key", "node", "policy", "rest")

    def __init__(self, node: _Node, act: Action | None = None, policy: FairPolicy | None = None,
                 rest: Iterator[Action] | None = None, key: tuple[int, int, int] = (0, 0, 0), cost: int = 0) -> None:
        self.node, self.act, self.policy, self.rest, self.key = node, act, policy, rest, key
        self.cost = cost
        """The cost of the run's deviations, `act` included."""


Queued = tuple[int, int, int, _Entry]
def _explore(model: ClusterModel, start: ClusterState, config: EngineConfig, faults_only: bool = False
             ) -> SliceGen:
    """The search as a sliced engine (see `engine.Sliced`)."""
    from kubeprop.properties.explore.expected import share  # (it builds on this module's search)

    limit = yield
    timer = ActiveTimer()
    slicer = Slicer(timer, limit)
    name = "faults" if faults_only else "around"
    with memoised(model) as cache:
        search = _Search(model, config, Checker(model, config.safety()), config.deadline(timer.began), cache,
                         faults_only=faults_only)
        share(search, config)  # the expected run, if the portfolio computed it
        slicer.watch(config.progress, lambda taken: EngineProgress(taken, timer.seconds(), None, len(search.seen),
                                                                   search.depth))
        search.seen.add(start)
        search.cheapest[start] = 0
        root = _Entry(_Node(start, None, None, 0, 0), None, search.policy())
        layers: dict[int, list[Queued]] = {0: [(0, 0, 0, root)]}
        found: _Found | None = None
        taken: dict[int, int] = {}  # the steps each layer took
        while found is None and (open_layers := sorted(c for c, heap in layers.items() if heap)):
            yield from slicer.pause(search.steps)
            if search.cut(slicer):
                break
            cost = layer_of(taken, open_layers)
            before = search.steps + search.free  # (a step along the expected run counts for its layer)
            heap = layers[cost]
            found = _visit(search, heapq.heappop(heap)[3], heap, layers)
            taken[cost] = taken.get(cost, 0) + search.steps + search.free - before
            taken[-1] = taken.get(-1, 0) + 1
        left = [c for c, heap in layers.items() if heap]
        reason = ExitReason.VIOLATION if found is not None else search.cut_reason() if left else ExitReason.RUNS_DONE
        done = min(left, default=config.deviations + 1)  # the costs explored completely
        stats = EngineStats(timer.seconds(), search.steps, done, len(search.seen), search.depth,
                            note=f"deviations costing ≤ {done - 1} explored" if done else "the fair run not finished")
        if found is None:
            return EngineResult(name, reason, stats=stats)
        return attrs.evolve(report_found(model, start, config, found, stats, timer), engine=name)


def _visit(search: _Search, entry: _Entry, heap: list[Queued], layers: dict[int, list[Queued]]) -> _Found | None:
    """Take one queued run one step: check its state, push its fair continuation, and queue its
    deviations in the layers of their cost."""
    node, policy = entry.node, entry.policy
    if entry.rest is not None:  # the batch's next deviation takes its place in the queue
        following = next(entry.rest, None)
        if following is not None:
            heapq.heappush(heap, (*entry.key, _Entry(node, following, rest=entry.rest, key=entry.key,
                                                     cost=entry.cost)))
    if entry.act is not None:  # a deviation not taken yet
        child = search.child_within(node, entry.act, node.deviations + 1, entry.cost, entry.key[0])
        if child is None:
            return None
        policy = search.replayed(node)
        policy.taken(entry.act)
        node = child
    assert policy is not None
    cost = node.cost
    found = search.verdict(node)
    if found is not None:
        return _Found(found, node.path(), node.deviations, cost)
    lazy = search.lazy(node)
    enabled: Iterable[Action] = lazy
    if node.idle:  # moves that left the state as it was: set aside, as deviations too
        enabled = [a for a in lazy.full() if a not in node.idle]
    fair = search.fair_lazy(node, policy, lazy)
    if fair is None or isinstance(fair, UserStep):
        # Quiet (the run ends, or the user's next step is due): judge convergence as if faults and
        # the user stopped here.
        ended = search.judge_end(node, cost)
        if ended is not None:
            return ended
    if fair is not None:
        nxt = search.child_within(node, fair, node.deviations, cost, fair=True)
        if nxt is not None:
            policy.taken(fair)
            search.seq += 1
            heapq.heappush(heap, (_horizon(nxt.since) + nxt.lag, nxt.depth, search.seq,
                                  _Entry(nxt, None, policy, cost=cost)))
    for extra in range(1, min(MAX_COST, search.config.deviations - cost) + 1):
        for lag in (0, 1) if cost + extra == 1 else (None,):  # targeted ones first: `_Node.lag`
            batch = search.deviations(enabled, fair, extra, node, lag)
            first = next(batch, None)
            if first is not None:
                search.seq += 1
                key = (lag or 0, node.depth + 1, search.seq)
                heapq.heappush(layers.setdefault(cost + extra, []), (*key, _Entry(node, first, rest=batch, key=key,
                                                                                 cost=cost + extra)))
    return None


def run_around_fair(model: ClusterModel, start: ClusterState, config: EngineConfig) -> EngineResult:
    """Explore every run from `start` whose deviations from the fair run cost at most
    `config.deviations`, cheapest first and shortest first within each cost; safety properties on
    every state, convergence properties where a run ends. Bounds: `budget_seconds` (shrinking
    included), `max_states` (distinct states), `settle_steps` (length of one run)."""
    return run_sliced(_explore(model, start, config), "around")


def sliced_around_fair(model: ClusterModel, start: ClusterState, config: EngineConfig) -> Sliced:
    """The same search, to be run a slice at a time (the portfolio)."""
    return Sliced(_explore(model, start, config), "around")


def run_fault_injection(model: ClusterModel, start: ClusterState, config: EngineConfig) -> EngineResult:
    """The search around the fair run with faults as the only deviations (and recoveries, and a
    crashed process restarting early): the control plane keeps its expected order, the
    environment misbehaves at every point where it matters — Sieve's perturbations without the
    reorderings, which reaches runs with two or three faults far sooner."""
    return run_sliced(_explore(model, start, config, faults_only=True), "faults")


def sliced_fault_injection(model: ClusterModel, start: ClusterState, config: EngineConfig) -> Sliced:
    """The same search, to be run a slice at a time (the portfolio)."""
    return Sliced(_explore(model, start, config, faults_only=True), "faults")


def report_found(model: ClusterModel, start: ClusterState, config: EngineConfig, found: _Found, stats: EngineStats,
            timer: ActiveTimer) -> EngineResult:
    """The result for a violation: its run, delta-debugged within what is left of the budget."""
    violation: Violation | None = found.violation
    trace = found.trace
    note = f"{found.deviations} deviation{'s' if found.deviations != 1 else ''} from the fair run (cost {found.cost})"
    if config.shrink:
        judge = Judge.for_config(model, start, config)
        shrunk = shrink_within(judge, trace, found.violation.property, config, timer.began, known=found.violation)
        stats = shrunk.stats(stats)
        if shrunk.violation is not None and shrunk.violation.property == found.violation.property:
            violation, trace = shrunk.violation, shrunk.trace
    stats = attrs.evolve(stats, seconds=timer.seconds(), shrunk_from=len(found.trace), note=note,
                         found_after=stats.seconds)
    return EngineResult("around", ExitReason.VIOLATION, violation, trace, stats)
