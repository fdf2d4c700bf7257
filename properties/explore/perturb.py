"""Perturbing the fair run where it matters: faults at quiet points, a crash right after a write,
a second fault among the effects of the first.

The search around the fair run (`around.py`) explores deviations in layers of equal cost, and
within a layer every run goes a few steps past its last deviation before any goes further: the
right order for bugs that show right after their cause, too slow for bugs that need two faults
at two moments of a long run and show only where the run settles (on FeastFlow a fair run is
about 500 steps; a partition's effects take 350 more). This engine follows each perturbed run to
its end instead, and chooses where to perturb from what the runs did, as Sieve does (Sun et al.,
"Automatic Reliability Testing for Cluster Management Controllers", OSDI 2022):

- the fair run (`drive.expected_policy`, the run a user expects) is run first;
- a *perturbation* is an enabled action the fair policy never takes by itself: a fault from the
  scenario's budget, bad luck (a failing probe), a recovery (a partition healing);
- on the fair run, every perturbation is tried at each *quiet point* (where the fair run takes the
  user's next step, or ends), and each control-plane component that can crash is crashed right
  after each of its writes (Sieve's intermediate state: the component has done part of its work);
- on a perturbed run, the next perturbation is placed relative to the *effects* of the previous
  one: a component is crashed right after a write it made that the run it was derived from never
  made (e.g. the node lifecycle controller, having just marked a partitioned node Unknown, crashes
  before marking its pods), and a recovery (`Heal`, `RestartNode`) is tried where the run is quiet;
- every perturbed run follows the fair policy to its end: safety properties on every state,
  convergence properties where it is quiet (`around._Search.judge_end`: on the continuations with
  and without the environment recovering). A run that reaches a state an earlier run reached stops.

Order. Each placement has a *rank* among its run's placements: on the fair run, its quiet points
from the last (the cheapest runs: only the perturbation's effects follow) to the first, then its
writes from the last to the first; on a perturbed run, its quiet points first, then its effects
from the nearest to the farthest. Several perturbations at one point are ranked by their index
among the enabled ones of the same kind (one of each kind first). A run's *discrepancy* is the
sum of its placements' ranks, and runs are taken by increasing discrepancy, depth-first within
one (a perturbed run's own children before the next run of the same discrepancy): limited
discrepancy search (Harvey and Ginsberg, IJCAI 1995) over the tree of perturbed runs. At most
`config.deviations` perturbations per run; `budget_seconds`, `max_states` and `settle_steps`
bound the search as they do `around.py`'s.
"""

from __future__ import annotations

import heapq
from collections.abc import Generator, Iterator

import attrs

from kubeprop.model.cluster.drive import FairPolicy, is_recovery
from kubeprop.model.cluster.footprint import component_of
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.state.actions import Action, CrashComponent, Quiesce, Tick, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.around import _Found, _Node, _Search, report_found
from kubeprop.properties.explore.engine import (
    ActiveTimer,
    EngineConfig,
    EngineResult,
    EngineStats,
    ExitReason,
    Limit,
    Sliced,
    SliceGen,
    Slicer,
    out_of_time,
    run_sliced,
)
from kubeprop.properties.explore.incremental import Checker


@attrs.define
class _Run:
    """A finished (or merged) run: its nodes from the one its perturbation led to, where it was
    quiet, every action it took from the start, and its place in the search."""

    nodes: list[_Node]
    quiet: list[_Node]
    taken: frozenset[Action]
    path: tuple[int, ...]
    discrepancy: int
    perturbations: int


@attrs.frozen
class _Candidate:
    """A perturbation not taken yet: `act` at `at`, on a run derived from `parent`."""

    at: _Node
    act: Action
    parent: _Run | None


Queued = tuple[int, tuple[int, ...], _Candidate]


def is_perturbation(policy: FairPolicy, act: Action) -> bool:
    """True for an enabled action the fair run never takes by itself: a fault, bad luck, a
    recovery (not the user's steps, `Quiesce` or the clock)."""
    return not isinstance(act, UserStep | Quiesce | Tick) and not policy.default(act)


def ranked(acts: list[Action], base: int) -> Iterator[tuple[int, Action]]:
    """`acts` with their ranks: `base` plus the index of each among those of its kind."""
    seen: dict[type[Action], int] = {}
    for act in acts:
        index = seen.get(type(act), 0)
        seen[type(act)] = index + 1
        yield base + index, act


def wrote(node: _Node) -> bool:
    """True if the step into `node` changed the API store."""
    return node.parent is not None and node.state.store.revision != node.parent.state.store.revision


class _Perturb:
    """The search's queue and the rules that place perturbations on a finished run."""

    def __init__(self, search: _Search) -> None:
        self.search = search
        self.policy = search.policy()
        self.queue: list[Queued] = []
        self.runs = 0

    def push(self, discrepancy: int, path: tuple[int, ...], candidate: _Candidate) -> None:
        heapq.heappush(self.queue, (discrepancy, path, candidate))

    def placements(self, run: _Run, parent: _Run | None) -> Iterator[tuple[int, _Node, Action]]:
        """Where to perturb `run` next, with each placement's rank (see the module)."""
        if run.perturbations >= self.search.config.deviations:
            return
        enabled = self.search.enabled
        if parent is None:  # the fair run: every perturbation where it is quiet, last point first
            points = list(reversed(run.quiet))
            for rank, node in enumerate(points):
                acts = [a for a in enabled(node.state) if is_perturbation(self.policy, a)]
                for r, act in ranked(acts, rank):
                    yield r, node, act
            writes = [n for n in reversed(run.nodes) if wrote(n)]
            yield from self._crashes(writes, len(points))
            return
        rank = 0
        for rank, node in enumerate(run.quiet):
            acts = [a for a in enabled(node.state) if is_recovery(a)]
            for r, act in ranked(acts, rank):
                yield r, node, act
        effects = [n for n in run.nodes if wrote(n) and n.action not in parent.taken]
        yield from self._crashes(effects, rank + 1 if run.quiet else 0)

    def _crashes(self, writes: list[_Node], base: int) -> Iterator[tuple[int, _Node, Action]]:
        """Each write's component crashed right after it (if it can crash there)."""
        index = 0
        for node in writes:
            assert node.action is not None
            component = component_of(node.action)
            crash = CrashComponent(component)
            if component and crash in self.search.enabled(node.state):
                yield base + index, node, crash
                index += 1

    def queue_children(self, run: _Run, parent: _Run | None) -> None:
        """Queue the placements of `run`, depth-first after it within one discrepancy."""
        for i, (rank, node, act) in enumerate(self.placements(run, parent)):
            self.push(run.discrepancy + rank, (*run.path, rank, i), _Candidate(node, act, run))


def _follow(search: _Search, slicer: Slicer, node: _Node, policy: FairPolicy, quiet: list[_Node],
            nodes: list[_Node]) -> Generator[None, Limit | None, _Found | None]:
    """Follow the fair policy from `node` to the end of its run, checking every state; the nodes
    reached and the quiet ones are appended to `nodes` and `quiet`."""
    while True:
        found = search.checker.violation(node.state)
        if found is not None:
            return _Found(found, node.path(), node.deviations)
        enabled = search.enabled(node.state)
        fair = policy.choose(enabled) if node.depth < search.config.settle_steps else None
        if fair is None or isinstance(fair, UserStep):
            quiet.append(node)
            ended = search.judge_end(node, node.deviations)
            if ended is not None:
                return ended
        if fair is None:
            return None
        yield from slicer.pause(search.steps)
        if slicer.stopped or out_of_time(search.deadline) or search.full():
            return None
        nxt = search.child(node, fair, node.deviations)
        if nxt is None:  # an earlier run reached this state
            return None
        policy.taken(fair)
        nodes.append(nxt)
        node = nxt


def _explore(model: ClusterModel, start: ClusterState, config: EngineConfig) -> SliceGen:
    """The search as a sliced engine (see `engine.Sliced`)."""
    limit = yield
    timer = ActiveTimer()
    slicer = Slicer(timer, limit)
    with memoised(model):
        search = _Search(model, config, Checker(model, config.safety()), config.deadline(timer.began))
        search.seen.add(start)
        perturb = _Perturb(search)
        root = _Node(start, None, None, 0, 0)
        nodes, quiet = [root], list[_Node]()
        found = yield from _follow(search, slicer, root, search.policy(), quiet, nodes)
        if found is None and not _cut(search, slicer):
            perturb.runs = 1
            fair = _Run(nodes, quiet, frozenset(n.action for n in nodes if n.action is not None), (), 0, 0)
            perturb.queue_children(fair, None)
        while found is None and perturb.queue and not _cut(search, slicer):
            discrepancy, path, candidate = heapq.heappop(perturb.queue)
            found = yield from _perturbed(search, slicer, perturb, candidate, discrepancy, path)
        reason = ExitReason.VIOLATION if found is not None else (
            ExitReason.RUNS_DONE if not perturb.queue and not _cut(search, slicer) else _reason(search))
        note = f"{perturb.runs} runs, {len(perturb.queue)} perturbations queued"
        stats = EngineStats(timer.seconds(), search.steps, perturb.runs, len(search.seen), search.depth, note=note)
        if found is None:
            return EngineResult("perturb", reason, stats=stats)
        return attrs.evolve(report_found(model, start, config, found, stats, timer), engine="perturb")


def _perturbed(search: _Search, slicer: Slicer, perturb: _Perturb, candidate: _Candidate, discrepancy: int,
               path: tuple[int, ...]) -> Generator[None, Limit | None, _Found | None]:
    """Take `candidate`'s perturbation, follow the fair policy to the end, queue what follows."""
    at = candidate.at
    child = search.child(at, candidate.act, at.deviations + 1)
    if child is None:
        return None
    policy = search.replayed(at)
    policy.taken(candidate.act)
    nodes, quiet = [child], list[_Node]()
    perturb.runs += 1
    found = yield from _follow(search, slicer, child, policy, quiet, nodes)
    if found is not None:
        return found
    parent = candidate.parent
    taken = (parent.taken if parent is not None else frozenset()) | {n.action for n in nodes if n.action is not None}
    run = _Run(nodes, quiet, taken, path, discrepancy, child.deviations)
    perturb.queue_children(run, parent)
    return None


def _cut(search: _Search, slicer: Slicer) -> bool:
    return slicer.stopped or out_of_time(search.deadline) or search.full()


def _reason(search: _Search) -> ExitReason:
    return ExitReason.STATE_BOUND if search.full() else ExitReason.TIME_BOUND


def run_perturb(model: ClusterModel, start: ClusterState, config: EngineConfig) -> EngineResult:
    """Perturb the fair run from `start` (see the module): at most `config.deviations`
    perturbations per run, taken by increasing discrepancy; the first violation's run,
    delta-debugged within what is left of the budget."""
    return run_sliced(_explore(model, start, config))


def sliced_perturb(model: ClusterModel, start: ClusterState, config: EngineConfig) -> Sliced:
    """The same search, to be run a slice at a time (the portfolio)."""
    return Sliced(_explore(model, start, config))
