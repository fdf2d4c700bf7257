"""The bookkeeping of the search around the fair run (`around`): its nodes, what it found, and
`_Search`, the per-search state with the operations on one node — its enabled actions, the fair
choice, the deviations worth trying, the child a step reaches and the convergence judgement where
a run ends. `around` (the engine's loop: queues, layers, horizons) and the searches built on it
(`perturb`, `expected`, `contend`, `slow`) use these; `around` re-exports them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import attrs

from kubeprop.model.cluster.compose import step
from kubeprop.model.cluster.drive import FairPolicy, expected_policy
from kubeprop.model.cluster.footprint import Footprints, actor, component_of
from kubeprop.model.cluster.incremental import EnabledCache, Near
from kubeprop.model.cluster.lazy_enabled import Lazy, choose
from kubeprop.model.state.actions import (
    Action,
    CrashComponent,
    CrashDuringReconcile,
    Deliver,
    Quiesce,
    Tick,
    UserStep,
)
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.convergence import settled_violation
from kubeprop.properties.explore.around_cost import ENVIRONMENT_KINDS, FAULT_KINDS, deviation_cost, fault_costs
from kubeprop.properties.explore.engine import EngineConfig, ExitReason, Slicer, excused, out_of_time
from kubeprop.properties.explore.incremental import Checker
from kubeprop.properties.registry import Violation

if TYPE_CHECKING:
    from kubeprop.properties.explore.expected import Expected


_SKIP, _FAULT, _ENVIRONMENT, _OTHER = "skip", "fault", "environment", "other"
"""What `_Search.deviations` makes of an action's class: `Quiesce` (never a deviation), one of
`FAULT_KINDS` (its cost depends on the fair action), one of the other `ENVIRONMENT_KINDS`, or any
other action."""

_KINDS: dict[type, str] = {}
"""Action class → its kind (`_kind`), worked out once per class: `deviations` asks it of every
action enabled at every node it visits, and an `isinstance` against a tuple of classes goes
through the whole tuple for an action of none of them."""


def _kind(cls: type) -> str:
    """The kind of an action of class `cls` (see `_SKIP`), remembered in `_KINDS`."""
    kind = (_SKIP if issubclass(cls, Quiesce) else _FAULT if issubclass(cls, FAULT_KINDS)
            else _ENVIRONMENT if issubclass(cls, ENVIRONMENT_KINDS) else _OTHER)
    _KINDS[cls] = kind
    return kind


class _Node:
    """A state on some run: how it was reached (for the trace and the fair policy's memory)."""

    __slots__ = ("action", "cost", "depth", "deviations", "idle", "lag", "near", "parent", "since", "state")

    def __init__(self, state: ClusterState, parent: _Node | None, action: Action | None, depth: int,
                 deviations: int, since: int = 0, cost: int = 0, lag: int = 0,
                 idle: frozenset[Action] = frozenset()) -> None:
        self.state, self.parent, self.action, self.depth, self.deviations = state, parent, action, depth, deviations
        self.since = since
        """Steps since the run's last deviation (0 on the fair run itself)."""
        self.cost = cost
        """The cost of the run's deviations (`deviation_cost`; the search around the fair run's)."""
        self.lag = lag
        """0 if the run's last deviation is a targeted one (`_Search.targeted`; and on the fair run),
        else 1: the horizons its run goes through one pass later (`_visit`)."""
        self.idle = idle
        """The fair policy's moves taken since the state last changed (each left it as it was):
        set aside until it changes (`_Search.fair`)."""
        self.near: Near | None = None
        """The enabled-actions cache's answers in this state, once asked (`EnabledCache.near_answers`):
        its successors' answers start from them."""

    def path(self) -> tuple[Action, ...]:
        """The actions from the start to this node."""
        out: list[Action] = []
        node: _Node | None = self
        while node is not None and node.action is not None:
            out.append(node.action)
            node = node.parent
        return tuple(reversed(out))


@attrs.define
class _Found:
    """A violation and the run that shows it (ending with `Quiesce` for a convergence one)."""

    violation: Violation
    trace: tuple[Action, ...]
    deviations: int
    cost: int = 0


@attrs.define
class _Search:
    """The mutable bookkeeping of one search."""

    model: ClusterModel
    config: EngineConfig
    checker: Checker
    deadline: float | None
    cache: EnabledCache
    seen: set[ClusterState] = attrs.Factory(set)
    judged: dict[ClusterState, Violation | None] = attrs.Factory(dict)
    cheapest: dict[ClusterState, int] = attrs.Factory(dict)
    """The least cost of the runs that reached each state (`child_within`)."""
    faults_only: bool = False
    footprints: Footprints = attrs.field(init=False)
    expected: Expected | None = None
    """The expected run, when computed once for several searches (`expected.share`)."""
    steps: int = 0
    free: int = 0
    """Steps taken along `expected` (computed there, so not counted in `steps`)."""
    depth: int = 0
    seq: int = 0

    def __attrs_post_init__(self) -> None:
        self.footprints = Footprints(self.model)

    def policy(self) -> FairPolicy:
        """A fresh policy of the run a user expects (`drive.expected_policy`)."""
        return expected_policy(self.config.settle_ticks)

    def replayed(self, node: _Node) -> FairPolicy:
        """The fair policy's memory at `node`, rebuilt from the actions of its run."""
        policy = self.policy()
        for act in node.path():
            policy.taken(act)
        return policy

    def deviations(self, enabled: Iterable[Action], fair: Action | None, cost: int | None = None,
                   last: _Node | None = None, lag: int | None = None) -> Iterator[Action]:
        """The deviations worth trying where the fair run takes `fair`: actions that do not
        commute with it. Taking an independent action first reaches, once `fair` is taken, the
        state that taking it right after `fair` reaches, so that deviation is tried there (or
        the fair run takes it itself). With `cost`, only those whose `deviation_cost` (after the
        run's last node `last`, where they are taken) is `cost`; with `lag`, only the targeted ones
        (`targeted`, lag 0) or only the others (1). Lazy: the search asks for the next one only when
        it takes the one before."""
        independent = None if fair is None else self.footprints.independent_of(fair)
        fair_class = type(fair)
        fault_cost = None if cost is None else fault_costs(fair, None if last is None else last.action, self.model)
        kinds, faults_only = _KINDS, self.faults_only
        for act in enabled:
            cls = type(act)
            kind = kinds.get(cls)
            if kind is None:
                kind = _kind(cls)
            # (an action equals only one of its own class: `act == fair` only then)
            if kind is _SKIP or (cls is fair_class and act == fair):
                continue
            if faults_only and kind is _OTHER:
                continue
            # (anything but a fault costs 1: `deviation_cost`, asked only for faults)
            if fault_cost is not None and (fault_cost(act) if kind is _FAULT else 1) != cost:
                continue
            if lag is not None and last is not None and self.targeted(last, act, fair) != (lag == 0):
                continue
            if independent is None or not independent(act):
                yield act

    def targeted(self, node: _Node, act: Action, fair: Action | None) -> bool:
        """Whether taking `act` instead of `fair` at `node` is one of Sieve's targeted perturbations
        (Sun et al., OSDI 2022), the deviations that most often break a controller: a component
        acting again before its own last write has come back to its cache (`fair` delivers that
        write's watch event; stale state: the reason the ReplicaSet controller keeps
        expectations), or crashing between two steps of its own work (intermediate state: within
        one reconcile, `CrashDuringReconcile`, or between two steps of one actor)."""
        if isinstance(act, CrashComponent | CrashDuringReconcile):
            return fair is not None and not isinstance(fair, UserStep | Tick) and \
                deviation_cost(act, fair, node.action, self.model) == 1
        if not isinstance(fair, Deliver) or fair.component != component_of(act, self.model):
            return False
        writer = self._writer(node, fair.revision)
        return writer is not None and actor(writer) == actor(act)

    def _writer(self, node: _Node, revision: int) -> Action | None:
        """The action on `node`'s run that wrote the store's `revision` (None if it was written
        before the run began)."""
        while node.parent is not None and node.parent.state.store.revision >= revision:
            node = node.parent
        return node.action if node.parent is not None else None

    def enabled(self, node: _Node) -> list[Action]:
        """The actions enabled at `node` (those the action filter lets through), its answers
        remembered on it for its successors (`_Node.near`)."""
        known = None if self.expected is None else self.expected.enabled_at(node)
        if known is not None:  # a state of the expected run: its answers
            node.near = known[1]
            return known[0]
        flt = self.config.action_filter
        found = self.cache.actions(node.state, near=None if node.parent is None else node.parent.near)
        node.near = self.cache.near_answers(node.state)
        return list(found) if flt is None else [a for a in found if flt(a)]

    def lazy(self, node: _Node) -> Lazy:
        """`enabled`, each part computed only when reached (`lazy_enabled.Lazy`)."""
        known = None if self.expected is None else self.expected.enabled_at(node)
        if known is not None:
            node.near = known[1]
            return Lazy(None, node.state, None, known=known[0])
        answers = self.cache.answers_for(node.state, near=None if node.parent is None else node.parent.near)
        node.near = (node.state, answers)
        return Lazy(self.cache, node.state, answers, self.config.action_filter)

    def verdict(self, node: _Node) -> Violation | None:
        """The first safety property `node`'s state violates."""
        known = None if self.expected is None else self.expected.verdict_at(node)
        found = self.checker.violation(node.state) if known is None else known[0]
        return excused(self.config.excuse, found, node.path, node.state)

    def full(self) -> bool:
        """True once `max_states` distinct states were reached."""
        return self.config.max_states is not None and len(self.seen) >= self.config.max_states

    def cut(self, slicer: Slicer) -> bool:
        """Whether the search stops here: stopped by the portfolio, out of time, or full."""
        return slicer.stopped or out_of_time(self.deadline) or self.full()

    def cut_reason(self) -> ExitReason:
        """Why the search was left unfinished: the state bound, or (the budget or a stop) time."""
        return ExitReason.STATE_BOUND if self.full() else ExitReason.TIME_BOUND

    def successor(self, node: _Node, act: Action) -> ClusterState:
        """The state after `act` at `node` (one step, unless the expected run took it)."""
        if self.expected is not None and (known := self.expected.successor(node, act)) is not None:
            self.free += 1
            return known
        self.steps += 1
        return step(self.model, node.state, act)

    def fair(self, node: _Node, policy: FairPolicy, enabled: list[Action]) -> Action | None:
        """The fair policy's choice at `node` (None past `settle_steps`). On the expected run a move
        that left the state as it was is set aside until the state changes, as `drive.follow` sets
        it aside (`stutter`): a retry of a request refused for good backs off while time passes, and
        the run goes on (`Tick`, the user's next step) or ends where `drive.fair_run` ends, where
        convergence is judged — rather than ending at the state it reached again. A deviated run
        still ends there (as where it reaches any state reached before): applied to those too, the
        rule cost FeastFlow's variants found by `perturb` 8–11% more portfolio steps."""
        if node.depth >= self.config.settle_steps:
            return None
        return policy.choose(enabled if not node.idle else [a for a in enabled if a not in node.idle])

    def fair_lazy(self, node: _Node, policy: FairPolicy, enabled: Lazy) -> Action | None:
        """`fair` among `enabled`, computing no more of them than the choice needs (`lazy_enabled.choose`)."""
        if node.depth >= self.config.settle_steps:
            return None
        return self.fair(node, policy, enabled.full()) if node.idle else choose(policy, enabled)

    def stutter(self, node: _Node, act: Action, state: ClusterState, deviations: int, cost: int = 0
                ) -> _Node | None:
        """If the fair policy's `act` left `node`'s state as it was on the expected run (no
        deviation), the node after it, with `act` set aside (`fair`); else None."""
        if deviations or hash(state) != hash(node.state) or state != node.state:  # (the hash: a quick test)
            return None
        since = 1 if deviations > node.deviations else node.since + 1 if node.since else 0
        return _Node(node.state, node, act, node.depth + 1, deviations, since, cost, node.lag, node.idle | {act})

    def child(self, node: _Node, act: Action, deviations: int, state: ClusterState | None = None,
              fair: bool = False) -> _Node | None:
        """The node after `act` (whose state is `state`, if already stepped to), or None if its
        state was reached before (but for a `fair` step that left it as it was: `stutter`)."""
        if state is None:
            state = self.successor(node, act)
        if fair and (same := self.stutter(node, act, state, deviations, node.cost)) is not None:
            return same
        if state in self.seen:
            return None
        self.seen.add(state)
        self.depth = max(self.depth, node.depth + 1)
        since = 1 if deviations > node.deviations else node.since + 1 if node.since else 0
        return _Node(state, node, act, node.depth + 1, deviations, since)

    def child_within(self, node: _Node, act: Action, deviations: int, cost: int, lag: int | None = None,
                     fair: bool = False) -> _Node | None:
        """The node after `act` on a run whose deviations cost `cost`, or None if a run of no
        greater cost reached its state before: a run that reaches it cheaper is continued again
        (it has more deviations left to spend from there), as a state reached with a smaller sleep
        set is explored again (a `fair` step that left it as it was: `stutter`)."""
        state = self.successor(node, act)
        if fair and (same := self.stutter(node, act, state, deviations, cost)) is not None:
            return same
        known = self.cheapest.get(state)
        if known is not None and known <= cost:
            return None
        self.cheapest[state] = cost
        self.seen.add(state)
        self.depth = max(self.depth, node.depth + 1)
        since = 1 if deviations > node.deviations else node.since + 1 if node.since else 0
        return _Node(state, node, act, node.depth + 1, deviations, since, cost, node.lag if lag is None else lag)

    def judge_end(self, node: _Node, cost: int) -> _Found | None:
        """Quiesce at the end of a run and judge the convergence properties there."""
        convergence = self.config.convergence_properties()
        if not convergence:
            return None
        state, trace = node.state, node.path()
        if not state.quiesced:  # (`Quiesce` is enabled until taken: `faults.quiesce_enabled`)
            state = step(self.model, state, Quiesce())
            trace = (*trace, Quiesce())
            found = excused(self.config.excuse, self.checker.violation(state), lambda: trace, state)
            if found is not None:
                return _Found(found, trace, node.deviations, cost)
        if state not in self.judged:
            c = self.config
            self.judged[state] = settled_violation(self.model, state, convergence, max_steps=c.settle_steps,
                                                   max_ticks=c.settle_ticks, deadline=self.deadline)
        verdict = excused(self.config.excuse, self.judged[state], lambda: trace)
        return None if verdict is None else _Found(verdict, trace, node.deviations, cost)
