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
- a *perturbation* is an enabled action the fair policy never takes by itself — a fault from the
  scenario's budget, bad luck (a failing probe), a recovery (a partition healing) — or an actor
  held back until nothing else is left (`Hold`: an informer, the user; `slow.Slow`: a controller
  or a scheduler instance slower than the rest of the control plane); where each run is perturbed
  next, its *placements*, and their ranks are `perturb_placements.py`'s;
- every perturbed run follows the fair policy to its end: safety properties on every state,
  convergence properties where it is quiet (`around._Search.judge_end`: on the continuations with
  and without the environment recovering). A run that reaches a state an earlier run reached
  stops (a held run only once it left the run it came from), but not its placements: for them
  the run goes on along the recorded successors of that state (`_merge`, `_Known`), the same
  states at no further step, so that what it would have tried later on is still tried (a
  placement an earlier run queued at the same node is not queued again).

Order. A run's *discrepancy* is the sum of its placements' ranks, and runs are taken by increasing
discrepancy, depth-first within one (a perturbed run's own children before the next run of the same
discrepancy): limited discrepancy search (Harvey and Ginsberg, IJCAI 1995) over the tree of
perturbed runs. At most `config.deviations` perturbations per run; `budget_seconds`, `max_states`
and `settle_steps` bound the search as they do `around.py`'s.

This module is the search (following runs, taking the queued placements in order);
`perturb_placements.py` is where and in which order a finished run is perturbed next.
"""
from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Generator

import attrs

from kubeprop.model.cluster.drive import FairPolicy
from kubeprop.model.cluster.footprint import USER
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.state.actions import Action, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.around import _Found, _Node, _Search, report_found
from kubeprop.properties.explore.engine import EngineConfig, EngineResult, EngineStats, ExitReason
from kubeprop.properties.explore.expected import share
from kubeprop.properties.explore.hold import Delay, HeldPolicy, Hold, Holds
from kubeprop.properties.explore.incremental import Checker
from kubeprop.properties.explore.perturb_placements import Perturbation, _Candidate, _Perturb, _Run
from kubeprop.properties.explore.progress import EngineProgress
from kubeprop.properties.explore.slicing import ActiveTimer, Limit, Sliced, SliceGen, Slicer, run_sliced
from kubeprop.properties.explore.slow import Slow

__all__ = ["USER", "Delay", "HeldPolicy", "Hold", "Perturbation", "run_perturb", "sliced_perturb"]


@attrs.define
class _Trail:
    """What following one run records: its nodes, the quiet ones, the holds in force at each (None
    for the fair run), where it was cut at a known state (`_Run.tail`), its perturbations."""

    nodes: list[_Node]
    chain: tuple[str, ...] = ()
    quiet: list[_Node] = attrs.Factory(list)
    holds: list[Holds | None] | None = None
    tail: int | None = None

    def append(self, node: _Node, held: Holds | None) -> None:
        self.nodes.append(node)
        if self.holds is not None:
            self.holds.append(held)


def _follow(perturb: _Perturb, slicer: Slicer, node: _Node, policy: FairPolicy, trail: _Trail, deviations: int
            ) -> Generator[None, Limit | None, _Found | None]:
    """Follow the fair policy from `node` to the end of its run, checking every state; the nodes
    reached and the quiet ones are recorded in `trail`. The run stops where it reaches a state an
    earlier run reached (unless a held policy has not diverged from that run yet); its trail then
    goes on along that earlier run (`_merge`)."""
    search, known = perturb.search, perturb.known
    while True:
        found = search.verdict(node)
        if found is not None:
            return _Found(found, node.path(), node.deviations)
        enabled = perturb.enabled(node)
        fair = search.fair(node, policy, enabled)
        if fair is None or isinstance(fair, UserStep):
            trail.quiet.append(node)
            known.quiet.add(node)
            ended = search.judge_end(node, node.deviations)
            if ended is not None:
                return ended
        if fair is None or (isinstance(policy, HeldPolicy) and policy.void):
            return None
        yield from slicer.pause(search.steps)
        if search.cut(slicer):
            return None
        nxt: _Node | None
        held = policy.holds() if isinstance(policy, HeldPolicy) else None
        if isinstance(policy, HeldPolicy) and held and not policy.diverged:
            nxt = _retrace(search, node, fair, deviations)  # still on the run it was derived from
        else:
            state = search.successor(node, fair)
            nxt = search.child(node, fair, deviations, state, fair=True)
            if nxt is None:  # an earlier run reached this state
                _merge(perturb, trail, node, state)
                return None
        policy.taken(fair)
        known.add(nxt, node, trail.chain)
        trail.append(nxt, held or None)
        node = nxt


def _merge(perturb: _Perturb, trail: _Trail, node: _Node, state: ClusterState) -> None:
    """`trail`'s run, cut after `node` where it reached `state`, goes on along the recorded run
    from `state` (`_Known.continuation`), so that its placements there are still tried."""
    known = perturb.known
    rest = known.continuation(state, max(0, perturb.search.config.settle_steps - node.depth))
    if not rest:
        return
    known.after.setdefault(node, rest[0])
    trail.tail = len(trail.nodes)
    for later in rest:
        trail.append(later, None)
        if later in known.quiet:
            trail.quiet.append(later)


def _explore(model: ClusterModel, start: ClusterState, config: EngineConfig) -> SliceGen:
    """The search as a sliced engine (see `slicing.Sliced`)."""
    limit = yield
    timer = ActiveTimer()
    slicer = Slicer(timer, limit)
    with memoised(model) as cache:
        search = _Search(model, config, Checker(model, config.safety()), config.deadline(timer.began), cache)
        share(search, config)  # the expected run, if the portfolio computed it
        search.seen.add(start)
        perturb = _Perturb(search)
        slicer.watch(config.progress, lambda taken: EngineProgress(taken, timer.seconds(), perturb.runs,
                                                                   len(search.seen), search.depth))
        root = _Node(start, None, None, 0, 0)
        perturb.known.add(root, None, ())
        trail = _Trail([root])
        found = yield from _follow(perturb, slicer, root, search.policy(), trail, 0)
        if found is None and not search.cut(slicer):
            perturb.runs = 1
            fair = _Run(None, (), trail.nodes, trail.quiet, [True] * len(trail.nodes), (), 0, 0, tail=trail.tail)
            perturb.queue_children(fair)
        while found is None and perturb.queue and not search.cut(slicer):
            discrepancy, path, candidate = heapq.heappop(perturb.queue)
            found = yield from _perturbed(search, slicer, perturb, candidate, discrepancy, path)
        reason = ExitReason.VIOLATION if found is not None else (
            ExitReason.RUNS_DONE if not perturb.queue and not search.cut(slicer) else search.cut_reason())
        note = f"{perturb.runs} runs, {len(perturb.queue)} perturbations queued"
        stats = EngineStats(timer.seconds(), search.steps, perturb.runs, len(search.seen), search.depth, note=note)
        if found is None:
            return EngineResult("perturb", reason, stats=stats)
        result = report_found(model, start, config, found, stats, timer)
        note = "; ".join(perturb.chain) if perturb.chain else "the fair run itself"
        return attrs.evolve(result, engine="perturb", stats=attrs.evolve(result.stats, note=note))


def _perturbed(search: _Search, slicer: Slicer, perturb: _Perturb, candidate: _Candidate, discrepancy: int,
               path: tuple[int, ...]) -> Generator[None, Limit | None, _Found | None]:
    """Take `candidate`'s perturbation, follow the fair policy to the end, queue what follows."""
    at, act, parent = candidate.at, candidate.act, candidate.parent
    deviations = at.deviations + 1
    policy = search.replayed(at)
    merged = parent.tail is not None and any(n is at for n in parent.nodes[parent.tail:])
    chain = (*(perturb.known.chains.get(at, parent.chain) if merged else parent.chain), describe(act, at))
    trail = _Trail([], chain, holds=[])
    if isinstance(act, Hold | Slow | Delay):
        policy = _held_policy(policy, act, candidate.keep)
        first = at
        perturb.runs += 1
        found = yield from _follow(perturb, slicer, first, policy, trail, deviations)
    else:
        state = search.successor(at, act)
        child = search.child(at, act, deviations, state)
        if child is None:  # the perturbation itself led to a known state
            _merge(perturb, trail, at, state)
            found = None
        else:
            perturb.runs += 1
            policy.taken(act)
            perturb.known.add(child, at, chain)
            trail.append(child, None)
            found = yield from _follow(perturb, slicer, child, policy, trail, deviations)
    if found is not None:
        perturb.chain = chain
        return found
    if trail.nodes:
        run = _Run(act, chain, trail.nodes, trail.quiet, effects(trail.nodes, parent, at), path, discrepancy,
                   deviations, trail.holds or [], tail=trail.tail)
        perturb.queue_children(run)
    return None


def _held_policy(policy: FairPolicy, act: Hold | Slow | Delay, keep: Holds | None) -> HeldPolicy:
    """The policy of a run perturbed by holding `act` back, keeping the holds `keep` in force."""
    keep = keep or Holds()
    if isinstance(act, Delay) or (isinstance(act, Hold) and act.lasting):
        fresh = frozenset({act.key if isinstance(act, Delay) else act.actor})
        return HeldPolicy(**attrs.asdict(policy, recurse=False), held=keep.held, shared=keep.shared,
                          lasting=keep.lasting | fresh, fresh=fresh)
    held = act.held() if isinstance(act, Slow) else frozenset({act.actor})
    shared = frozenset({USER}) if isinstance(act, Slow) and act.user else frozenset()
    return HeldPolicy(**attrs.asdict(policy, recurse=False), held=keep.held | held, shared=keep.shared | shared,
                      lasting=keep.lasting, fresh=held if keep else frozenset())


def describe(act: Perturbation, at: _Node) -> str:
    """A perturbation and where it was made, for the report."""
    what = (f"{act.actor} held back" + (" (lasting)" if act.lasting else "") if isinstance(act, Hold)
            else act.describe() if isinstance(act, Slow)
            else f"{act.kind} of {act.obj} delayed" if isinstance(act, Delay) else str(act))
    return f"{what} after step {at.depth}"


def _retrace(search: _Search, node: _Node, act: Action, deviations: int) -> _Node:
    """The node after `act`, whether or not an earlier run reached its state."""
    state = search.successor(node, act)
    search.depth = max(search.depth, node.depth + 1)
    same = search.stutter(node, act, state, deviations)
    if same is not None:
        return same
    search.seen.add(state)
    return _Node(state, node, act, node.depth + 1, deviations)


def effects(nodes: list[_Node], parent: _Run, at: _Node) -> list[bool]:
    """Which steps of a run perturbed at `at` are the perturbation's effects: those the run it
    was derived from did not take after `at` too (each of its actions matches one step)."""
    rest = Counter(n.action for n in parent.nodes if n.depth > at.depth)
    out = []
    for node in nodes:
        if rest[node.action] > 0:
            rest[node.action] -= 1
            out.append(False)
        else:
            out.append(True)
    return out


def run_perturb(model: ClusterModel, start: ClusterState, config: EngineConfig) -> EngineResult:
    """Perturb the fair run from `start` (see the module): at most `config.deviations`
    perturbations per run, taken by increasing discrepancy; the first violation's run,
    delta-debugged within what is left of the budget."""
    return run_sliced(_explore(model, start, config), "perturb")


def sliced_perturb(model: ClusterModel, start: ClusterState, config: EngineConfig) -> Sliced:
    """The same search, to be run a slice at a time (the portfolio)."""
    return Sliced(_explore(model, start, config), "perturb")
