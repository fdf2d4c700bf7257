"""Where to perturb a finished run next (its *placements*) and in which order (their *ranks*): the
rules of the perturbation search (`perturb.py`, Sieve's perturbations: Sun et al., OSDI 2022).

- on the fair run: every perturbation at each *quiet point* (where the fair run takes the user's
  next step, or ends; faults on a node first where they reach the most workloads no earlier
  node's faults reach, `by_reach`); each controller and scheduler instance slow from right
  before its first step; after each write, the writing
  component crashed right away (Sieve's intermediate state: it has done part of its work) or not
  observing what it wrote (stale state: it acts on a cache older than its own last write); in
  place of a reconcile that sends several requests, the controller manager crashed between two of
  them (`CrashDuringReconcile`); and where a restart would relist from a source behind a
  component's caches (a lagging watch cache), that component crashed;
- on a perturbed run, the next perturbation goes among the *effects* of the previous one — the
  steps the run it was derived from did not take after that point: after each effect that wrote,
  the writer crashed or held back as above (e.g. the node lifecycle controller, having just marked
  a partitioned node Unknown, crashes before marking its pods; after a fault, the crash right after
  each actor's first write among the effects comes early: `_Perturb._first_writes`), and the same perturbation again on
  the same target (`target_of`: a probe that flaps); wherever a reconcile writes while another
  key of its controller is queued that reads what it wrote, effect or not, the controller manager
  not observing that write (a race reversed, `_Perturb._stale_reads`); a crashed process
  restarting at once; where the run is quiet, a recovery (`Heal`, `RestartNode`) or the user's
  next step held until every timer fired (a user who waits). After a fault, also each component
  busy among its effects slow (`slow.busy`): while the user waits, where the user's step is due
  (e.g. the ReplicaSet controller slower than the StatefulSet controller after a node loss), and
  from right before its first effect;
- first, where two instances of one kind of component contend for one object (`contend.py`): on
  the fair run each instance slow from its first contention; after each contention point among a
  perturbed run's effects, the step it enabled delayed (`hold.Delay`) and the instance's watch held,
  both lasting across the user's steps; a run derived there keeps the holds in force (`_Candidate.keep`).

Ranks. Each placement has a *rank* among its run's placements: on the fair run, its quiet points
from the last (the cheapest runs: only the perturbation's effects follow) to the first — the
partition of the first node of `node_order` where the last user step is due first among the
placements of its rank (its grace periods and evictions meet that step) —, then its writes from
the last to the first and its components slow in the order of their first steps, and, ranked among
themselves from the same rank, its reconciles of several requests cut between two of them
(`CrashDuringReconcile`) from the last to the first: Sieve's intermediate states within one
reconcile are few, and ranked with every write they came after every later write (a user's
Tenant operator removing its finalizer before its cleanup: found at the 4th rank, 1,211 steps,
instead of by a second perturbation after 7,666); on a perturbed
run, a restart first, its quiet points, then its effects from the nearest to the farthest (a component slow before its
first effect one more than that effect's other placements), and, ranked among themselves from the same rank, the races
on a controller's own writes that are not effects (`_Perturb._stale_reads`); after a fault, the crash of each actor's
process right after its first write among the effects past the first quiet point, once the clock moved on, ranked
among themselves from the first quiet point's rank, each
taken right after the quiet point placements of its rank (`_Perturb._first_writes`: trial21's node crashed where the
last user step is due, then the controller manager crashed once the node lifecycle controller marked it Unknown, at
discrepancy 1 instead of 3). Several perturbations at one point
are ranked by their index among the enabled ones of the same kind (one of each kind first);
contention placements by their contention point's index (the first 0), before the others of their
rank. The search takes runs by increasing discrepancy, the sum of their placements' ranks (`perturb.py`).
"""
from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from typing import TypeAlias

import attrs

from kubeprop.model.cluster import informers
from kubeprop.model.cluster.drive import FairPolicy, is_recovery
from kubeprop.model.cluster.footprint import USER, actor, component_of
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.processes import process_of
from kubeprop.model.state.actions import (
    Action,
    CrashComponent,
    CrashDuringReconcile,
    Deliver,
    Partition,
    Quiesce,
    RestartComponent,
    Tick,
    UserStep,
)
from kubeprop.model.state.cluster import ClusterState
from kubeprop.properties.explore.around import _Node, _Search
from kubeprop.properties.explore.contend import after_contention, contention_points, first_contentions
from kubeprop.properties.explore.hold import Delay, Hold, Holds
from kubeprop.properties.explore.node_reach import by_reach
from kubeprop.properties.explore.slow import Slow, busy, first_steps

Perturbation: TypeAlias = "Action | Hold | Slow | Delay"


@attrs.define
class _Run:
    """A finished (or merged) run: its nodes from the one its perturbation led to, where it was
    quiet, which of its steps are the perturbation's effects, and its place in the search."""

    cause: Perturbation | None
    chain: tuple[str, ...]
    nodes: list[_Node]
    quiet: list[_Node]
    effects: list[bool]
    path: tuple[int, ...]
    discrepancy: int
    perturbations: int
    holds: list[Holds | None] = attrs.Factory(list)
    """The holds in force at each of `nodes` (None: none; empty on the fair run)."""
    tail: int | None = None
    """Where the run was cut because it reached a state an earlier run reached, the index in
    `nodes` of that state's node: `nodes` goes on along the earlier run from there (`_Known`)."""


@attrs.define
class _Known:
    """The runs followed so far as a graph over their nodes: the first node of a followed run that
    reached each state, the node after each node on its run (after the last node of a run cut at a
    known state: that state's node), the nodes where a run was quiet, and the perturbations of each
    node's run. A run cut where it reaches a known state goes on, for its placements, along the
    recorded successors of that state's node (`continuation`): the same states, so the same
    checks, at no further step."""

    first: dict[ClusterState, _Node] = attrs.Factory(dict)
    after: dict[_Node, _Node] = attrs.Factory(dict)
    quiet: set[_Node] = attrs.Factory(set)
    chains: dict[_Node, tuple[str, ...]] = attrs.Factory(dict)

    def add(self, node: _Node, before: _Node | None, chain: tuple[str, ...]) -> None:
        """`node`, reached from `before` on a run with the perturbations `chain`."""
        self.first.setdefault(node.state, node)
        self.chains.setdefault(node, chain)
        if before is not None:
            self.after.setdefault(before, node)

    def continuation(self, state: ClusterState, limit: int) -> list[_Node]:
        """The recorded run from the first node that reached `state`: it and its successors (at
        most `limit`; empty if no followed run reached `state`)."""
        out: list[_Node] = []
        node, visited = self.first.get(state), set[_Node]()
        while node is not None and node not in visited and len(out) < limit:
            out.append(node)
            visited.add(node)
            node = self.after.get(node)
        return out


@attrs.frozen
class _Candidate:
    """A perturbation not taken yet: `act` at `at`, on a run derived from `parent`; `keep`: the
    holds of that run in force at `at` that the derived run keeps (`contend.py`)."""

    at: _Node
    act: Perturbation
    parent: _Run
    keep: Holds | None = None


Queued = tuple[int, tuple[int, ...], _Candidate]


def is_perturbation(policy: FairPolicy, act: Action) -> bool:
    """True for an enabled action the fair run never takes by itself: a fault, bad luck, a
    recovery (not the user's steps, `Quiesce` or the clock)."""
    return not isinstance(act, UserStep | Quiesce | Tick) and not policy.default(act)


def target_of(act: Action) -> tuple[object, ...]:
    """What a perturbation acts on: its kind and its fields but the outcome (`success`), so that
    a readiness probe failing again is the same target, another probe is not."""
    fields = attrs.fields(type(act))  # type: ignore[arg-type]  # every action is an attrs class
    return (type(act), *(getattr(act, f.name) for f in fields if f.name != "success"))


def ranked(acts: Sequence[Perturbation], base: int) -> Iterator[tuple[int, Perturbation]]:
    """`acts` with their ranks: `base` plus the index of each among those of its kind."""
    seen: dict[type[Perturbation], int] = {}
    for act in acts:
        index = seen.get(type(act), 0)
        seen[type(act)] = index + 1
        yield base + index, act


class _Perturb:
    """The search's queue and the rules that place perturbations on a finished run."""

    def __init__(self, search: _Search) -> None:
        self.search = search
        self.policy = search.policy()
        self.queue: list[Queued] = []
        self.runs = 0
        self.watches: dict[str, tuple[str, ...]] = {}
        self.seen_enabled: dict[_Node, list[Action]] = {}
        """The actions enabled at the nodes of the run being followed and placed."""
        self.chain: tuple[str, ...] = ()
        """The perturbations of the run that showed a violation."""
        self.known = _Known()
        self.placed: set[tuple[_Node, Perturbation, Holds | None]] = set()
        """Every placement queued (where, what, the holds kept): one on a cut run's continuation
        that an earlier run queued already is not queued again."""

    def enabled(self, node: _Node) -> list[Action]:
        """The actions enabled at `node` (remembered while the run it is on is being placed)."""
        found = self.seen_enabled.get(node)
        if found is None:
            found = self.seen_enabled[node] = self.search.enabled(node)
        return found

    def push(self, discrepancy: int, path: tuple[int, ...], candidate: _Candidate) -> None:
        heapq.heappush(self.queue, (discrepancy, path, candidate))

    def placements(self, run: _Run) -> Iterator[tuple[int, _Node, Perturbation]]:
        """Where to perturb `run` next, with each placement's rank (see the module)."""
        if run.perturbations >= self.search.config.deviations:
            return
        if run.cause is None:
            yield from self._on_fair_run(run)
        else:
            yield from self._on_perturbed_run(run, run.cause)

    def _on_fair_run(self, run: _Run) -> Iterator[tuple[int, _Node, Perturbation]]:
        """Every perturbation where the fair run is quiet (the last quiet point first; the
        partition of the first node of `node_order` where the last user step is due first among
        the placements of its rank: its grace periods and evictions meet that step), then after each write (the
        last first) the writer crashed, or not observing what it wrote; each component slow; each
        reconcile of several requests cut between two (the last first, ranked among themselves)."""
        points = list(reversed(run.quiet))
        quiet = [(r, node, act) for rank, node in enumerate(points)
                 for r, act in ranked(by_reach(node.state, [a for a in self.enabled(node)
                                                            if is_perturbation(self.policy, a)]), rank)]
        first = [p for p in quiet if p[0] == 1 and p[1] is points[1] and isinstance(p[2], Partition)][:1] \
            if len(points) > 1 else []
        yield from first
        yield from (p for p in quiet if p not in first)
        rank = within = len(points)
        for i, (node, name) in enumerate(first_steps(run.nodes, run.effects)):
            if node.parent is not None:
                yield rank + i, node.parent, Slow(name)
        for node in reversed(run.nodes):
            after = [(node, act) for act in self._after_write(node)]
            yield from self._ranked_at(after, rank)
            rank += 1 if after else 0
            cut = self._within_reconcile(node)
            yield from self._ranked_at(cut, within)
            within += 1 if cut else 0

    def _on_perturbed_run(self, run: _Run, cause: Perturbation) -> Iterator[tuple[int, _Node, Perturbation]]:
        """A crashed process restarting at once, a recovery where the run is quiet; then, at each
        of the perturbation's effects (the nearest first), after a write the writer crashed or
        not observing it, and the perturbation again on the same target (a probe that flaps)."""
        rank = 0
        if isinstance(cause, CrashComponent | CrashDuringReconcile):
            first = run.nodes[0]
            restart = RestartComponent(cause.component if isinstance(cause, CrashComponent)
                                       else process_of(self.search.model, cause.controller))
            if restart in self.enabled(first):
                yield rank, first, restart
                rank += 1
        after_fault = isinstance(cause, Action)  # components slowed down only after a fault gave them work
        early = self._first_writes(run) if after_fault and run.quiet else []
        waiting = list(self._ranked_at(early, rank))  # each after the quiet placements of its rank
        slow = busy(run.nodes, run.effects) if after_fault else []
        for node in run.quiet:
            enabled = self.enabled(node)
            acts: list[Perturbation] = []
            if any(isinstance(a, UserStep) for a in enabled):
                acts.extend([*(Slow(name, user=True) for name in slow), Hold(USER)])
            acts.extend(a for a in enabled if is_recovery(a))
            yield from ((r, node, act) for r, act in ranked(acts, rank))
            if acts:
                yield from (p for p in waiting if p[0] == rank)
                rank += 1
        yield from (p for p in waiting if p[0] >= rank)
        target = target_of(cause) if isinstance(cause, Action) else None
        firsts = dict(first_steps(run.nodes, run.effects)) if after_fault else {}
        races = rank  # the races on writes that are not effects: ranked among themselves
        for node, effect in zip(run.nodes, run.effects, strict=True):
            if not effect:
                stale = self._stale_reads(node)
                yield from self._ranked_at(stale, races)
                races += 1 if stale else 0
                continue
            again: list[Perturbation] = [] if target is None else [
                a for a in self.enabled(node)
                if type(a) is target[0] and target_of(a) == target and is_perturbation(self.policy, a)]
            after = [*self._around_write(node), *((node, a) for a in again)]
            yield from self._ranked_at([p for p in after if p not in early], rank)
            name = firsts.get(node)
            if name is not None and node.parent is not None:  # a component's first effect: before it, slow
                yield rank + 1, node.parent, Slow(name)
            rank += 1 if after else 0

    def _first_writes(self, run: _Run) -> list[tuple[_Node, Perturbation]]:
        """After the first of the perturbation's effects past the run's first quiet point, and
        once the clock moved on from the perturbation's, by which each actor (`footprint.actor`:
        a controller, a scheduler instance, a kubelet) wrote to the API store, its process crashed
        right there, in run order: Sieve's intermediate state on a fault's effect, the component
        having reacted to the fault only in part (the node lifecycle controller, having marked a
        lost node Unknown once its grace period ran out, crashes before marking its pods). Ranked
        among themselves from the rank of the run's first quiet point, the k-th taken right after
        the k-th quiet point's placements (`_on_perturbed_run`), instead of after every quiet
        point's with the other effects: a fault whose consequences wait for a timer unfold past
        the user's next step (a node's grace period runs past the user's scale), and the held-back
        user, the slow components and the recoveries of every quiet point would each be followed
        to the run's end first. The other effects keep their rank: ranked early before the first
        quiet point too (a run perturbed where the fair run ends has its only quiet point at its
        end), these crashes cost FeastFlow's endpoints-stale-cache, sts-split-brain and
        watch-time-travel 17–23% more portfolio steps; at the perturbation's own clock too (a
        failed request's retry and what follows at once), trial 4's Tenant operator 42%."""
        out: list[tuple[_Node, Perturbation]] = []
        seen: set[str] = set()
        quiet = next(i for i, node in enumerate(run.nodes) if node is run.quiet[0])
        start = run.nodes[0].state.clock
        for node, effect in zip(run.nodes[quiet + 1:], run.effects[quiet + 1:], strict=True):
            if not effect or node.action is None or node.parent is None or node.state.clock == start:
                continue
            if node.state.store.revision == node.parent.state.store.revision:
                continue
            name, component = actor(node.action), self.component(node.action)
            if not component or name in seen:
                continue
            seen.add(name)
            crash = CrashComponent(component)
            if crash in self.enabled(node):
                out.append((node, crash))
        return out

    @staticmethod
    def _ranked_at(placed: list[tuple[_Node, Perturbation]], base: int) -> Iterator[tuple[int, _Node, Perturbation]]:
        """`placed` (where, what) with their ranks (`ranked`)."""
        for (rank, act), (at, _) in zip(ranked([act for _, act in placed], base), placed, strict=True):
            yield rank, at, act

    def _around_write(self, node: _Node) -> list[tuple[_Node, Perturbation]]:
        """`_after_write`'s placements at `node`; and where `node` is a reconcile that sends more
        than one request, the controller manager crashed between them instead
        (`CrashDuringReconcile` at the node before it: Sieve's intermediate state within one
        reconcile)."""
        return [*((node, act) for act in self._after_write(node)), *self._within_reconcile(node)]

    def component(self, act: Action) -> str:
        """The process `act` is a step of (`footprint.component_of`), a controller's being its own process
        where it runs with a cache of its own (`processes.process_of`)."""
        controller = getattr(act, "controller", None)
        if isinstance(act, Reconcile) and isinstance(controller, str):
            return process_of(self.search.model, controller)
        return component_of(act)

    def _within_reconcile(self, node: _Node) -> list[tuple[_Node, Perturbation]]:
        """Where `node` is a reconcile that sends more than one request, the controller manager
        crashed between two of them instead (`CrashDuringReconcile` at the node before it)."""
        act, parent = node.action, node.parent
        if not isinstance(act, Reconcile) or parent is None:
            return []
        return [(parent, a) for a in self.enabled(parent) if isinstance(a, CrashDuringReconcile)
                and a.controller == act.controller and a.key == act.key]

    def _after_write(self, node: _Node) -> list[Perturbation]:
        """After a step of a component: if it wrote to the API store, the component crashed right
        after (Sieve's intermediate state) and not observing what it wrote (`Hold`); if a restart
        would relist from a source behind its caches, the component crashed (Sieve's stale state,
        its restart at once is the next placement: `_on_perturbed_run`)."""
        if node.action is None or node.parent is None:
            return []
        component = self.component(node.action)
        if not component:
            return []
        crash = CrashComponent(component)
        before = node.parent.state.store.revision
        out: list[Perturbation] = []
        if node.state.store.revision != before:
            if crash in self.enabled(node):
                out.append(crash)
            if not self.search.model.instant_caches:
                out.extend(Hold.informer(component, r) for r in self._written_watched(node, component))
        elif self.relists_behind(node.state, component) and crash in self.enabled(node):
            out.append(crash)
        return out

    def _written_watched(self, node: _Node, component: str) -> list[str]:
        """The resources `node`'s step wrote (in the order written) that `component` watches."""
        assert node.parent is not None
        before, watched = node.parent.state.store.revision, set(self.watched(component))
        written = dict.fromkeys(e.key.resource for e in node.state.store.events if e.revision > before)
        return [r for r in written if r in watched]

    def _stale_reads(self, node: _Node) -> list[tuple[_Node, Perturbation]]:
        """Where `node` is a reconcile that wrote while its controller has another key queued whose
        reconcile depends on the write's watch event (`Footprints`: it reads the cache the delivery
        changes), the controller manager not observing its write (`Hold.informer`): the race
        between the write coming back to the cache and the controller's next reconcile reversed,
        as a dynamic partial-order reduction reverses a race (Flanagan and Godefroid, POPL 2005).
        Placed on a perturbed run whether or not the write is one of the perturbation's effects:
        the same reconcile the parent run made may race only now — two keys queued at once after a
        restart's relist, e.g. both pods of a StatefulSet Ready while the controller manager was
        down. Only controllers (queue-driven workers reading one shared cache): a scheduler
        instance assumes what it binds, a kubelet acts on its own state."""
        act, parent = node.action, node.parent
        if not isinstance(act, Reconcile) or parent is None or self.search.model.instant_caches:
            return []
        component = self.component(act)
        before = parent.state.store.revision
        if node.state.store.revision == before:
            return []
        enabled = self.enabled(node)
        own = [a for a in enabled if isinstance(a, Reconcile) and a.controller == act.controller]
        if not own:
            return []
        out: list[tuple[_Node, Perturbation]] = []
        for resource in self._written_watched(node, component):
            delivery = next((a for a in enabled if isinstance(a, Deliver) and a.component == component
                             and a.resource == resource), None)
            if delivery is None:
                continue
            independent = self.search.footprints.independent_of(delivery)
            if any(not independent(a) for a in own):
                out.append((node, Hold.informer(component, resource)))
        return out

    def relists_behind(self, state: ClusterState, component: str) -> bool:
        """True if `component`, restarted now, would LIST some resource at a revision older than
        its cache holds. LISTs are consistent reads unless served from a lagging watch cache
        (`informers.list_for`), so only then can this be."""
        model = self.search.model
        if not model.parameter("listFromWatchCache"):
            return False
        mine = state.informers.get(component)
        if mine is None:
            return False
        return any(informers.list_for(model, state, component, r).revision < cache.revision
                   for r, cache in mine.resources.items())

    def watched(self, component: str) -> tuple[str, ...]:
        """The resources `component` watches (remembered)."""
        found = self.watches.get(component)
        if found is None:
            found = self.watches[component] = informers.watched(self.search.model, component)
        return found

    def contentions(self, run: _Run) -> Iterator[tuple[int, _Candidate]]:
        """Where two instances contend for an object (`contend.py`), with each placement's rank:
        on the fair run each instance slow from its first contention; on a perturbed run, after
        each contention point among its effects (the nearest first), the contended step's
        completion delayed and the instance's watch held, keeping the holds in force there."""
        if run.perturbations >= self.search.config.deviations:
            return
        if run.cause is None:
            for rank, (node, slow) in enumerate(first_contentions(run.nodes, self.enabled)):
                yield rank, _Candidate(node, slow, run)
            return
        holds = dict(zip(map(id, run.nodes), run.holds, strict=True))
        points = contention_points(run.nodes, run.effects, self.enabled)
        for rank, node in enumerate(points):
            keep = holds.get(id(node))
            for r, act in ranked(after_contention(node, self.enabled, self.watched, keep), rank):
                yield r, _Candidate(node, act, run, keep)

    def queue_children(self, run: _Run) -> None:
        """Queue the placements of `run`, depth-first after it within one discrepancy: those where
        instances contend first (`contentions`), then the others (`placements`)."""
        queued: set[tuple[int, Perturbation]] = set()
        merged = set() if run.tail is None else set(run.nodes[run.tail:])
        i = 0
        for rank, candidate in self.contentions(run):
            queued.add((id(candidate.at), candidate.act))
            if self._fresh(candidate, merged):
                self.push(run.discrepancy + rank, (*run.path, rank, i), candidate)
                i += 1
        for rank, node, act in self.placements(run):
            if (id(node), act) not in queued and self._fresh(candidate := _Candidate(node, act, run), merged):
                self.push(run.discrepancy + rank, (*run.path, rank, i), candidate)
                i += 1
        self.seen_enabled.clear()

    def _fresh(self, candidate: _Candidate, merged: set[_Node]) -> bool:
        """Record `candidate` as placed; False if it is on a cut run's continuation (`merged`)
        and was placed before (the same perturbation at the same node: the same run)."""
        key = (candidate.at, candidate.act, candidate.keep)
        if key in self.placed and candidate.at in merged:
            return False
        self.placed.add(key)
        return True
