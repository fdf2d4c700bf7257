"""Deterministic drivers over `actions`/`step`: the fair run, settling, and replaying a trace.

Used by the engines, tests, benchmarks and the CLI to reach well-defined states without a search.

**Fairness belongs to the control plane, not to the environment.** The control plane's own
actions (controllers, the scheduler, kubelets, informers, node lifecycle, a crashed process being
restarted) are *progress*: weakly fair, so an action that stays enabled is eventually taken.
Faults, the user's workload steps, `Quiesce`, bad luck (a failing probe, memory pressure) are
not. Recoveries of the environment — a partition healing (`Heal`), a crashed node booting
(`RestartNode`), the operator ending a failed maintenance (`EndMaintenance`: uncordon) — may or
may not happen: the fair run does not take them on its own, and convergence is judged on both
continuations, with and without them (`continuations`).

`FairPolicy` is the one fair scheduler: among the enabled progress actions (recoveries left out
unless asked for) it takes the one taken least recently (never taken: the first in enumeration
order), so an action that stays enabled cannot be starved. `Tick` only when nothing else is
enabled. `settle` follows it until nothing is left; `fair_run` also takes the workload's next
step whenever the cluster is quiet, which is the run a user expects from their scenario.

**A retry that changes nothing is no progress.** A controller whose request is refused for good
(a ResourceQuota, a webhook, a namespace kept Terminating) fails its sync and requeues the key;
the model's retry is another enabled action that leaves the state as it was (a stutter). Upstream
the requeue is rate-limited (`AddRateLimited` with `DefaultTypedControllerRateLimiter`: per item
5 ms doubling up to 1000 s, and an overall 10 qps bucket;
`staging/src/k8s.io/client-go/util/workqueue/default_rate_limiters.go`), so the retries back off
while time passes, write nothing, and the cluster is quiet in effect. `follow` therefore sets a
stuttering move aside until the state changes: when every move left at a state has been tried
there and changed nothing, the run goes on as if none were enabled (time passes: `Tick`; the
user's next step; or the run is over, and convergence is judged there). Without it the fair run
would retry at that state for ever and never tick. A run that keeps *changing* the state without
end is still out of steps (`exhausted`).

**Nor is a poll: time passes while a controller polls** (weak fairness for time). A controller
may requeue a key for ever, each reconcile writing nothing and changing only its own memory (an
operator polling something outside the cluster, keeping a cursor; or one that GETs an object on
every reconcile until it is ready, counting its checks). Its retry changes the state, so it is no
stutter, and it is always enabled: the fair run would take it for ever and never tick, leaving
whatever waits on the clock (a pod in the scheduler's error back-off, a readiness probe) waiting
for ever — a false alarm (tests/model/data/refused/polling.yaml, get-polling.yaml). Upstream the
requeue is rate-limited as above (`Requeue: true` → `AddRateLimited`, controller-runtime
`pkg/internal/controller/controller.go` reconcileHandler), and wall-clock time is no action the
control plane can starve. So a reconcile whose key is polling (`queued_work.polling`: its next
reconciles send nothing, or only reads whose answers lead to no write, and requeue it, for as many
as the rate limiter takes to back off a tick, or round a cycle of memories) is set aside like a
stutter, and its step (which changes that controller's memory only, read by no other
move) leaves the moves set aside as they were; the clock's guard lets `Tick` be taken there (the
same predicate). The run then polls, ticks when nothing else is left, polls again, until the
ticks are spent (`max_ticks` stays a bound) and the run is over. This is chosen over taking `Tick`
after it has been enabled for some number of steps: a counter would tick while the control plane
is still busy (a probe, a container exiting, a volume being provisioned all leave `Tick` enabled),
moving the run a user expects in every scenario; the rule here moves only runs where a key polls,
and a settled cluster settles without a spurious tick, as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from itertools import chain

import attrs

from kubeprop.model.cluster.compose import actions, enabled_groups, step
from kubeprop.model.cluster.maintenance import EndMaintenance, maintenance_state
from kubeprop.model.cluster.overload import StartOverload, Starve
from kubeprop.model.cluster.restore import RestoreEtcd, SnapshotEtcd
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.failing import FailingKey, failing_keys
from kubeprop.model.controllers.queued_work import polling
from kubeprop.model.evolve import evolve
from kubeprop.model.state.actions import (
    INJECTED_FAULTS,
    Action,
    Heal,
    Quiesce,
    RestartNode,
    Tick,
    UserStep,
)
from kubeprop.model.state.cluster import ClusterModel, ClusterState

FAULTS: tuple[type[Action], ...] = (
    *INJECTED_FAULTS, Quiesce, UserStep, SnapshotEtcd, RestoreEtcd, StartOverload, Starve,
)
"""Actions that are never progress: faults, `Quiesce` and the user's steps."""

RECOVERIES: tuple[type[Action], ...] = (Heal, RestartNode, EndMaintenance)
"""Recoveries of the environment: they may or may not happen (not weakly fair). `EndMaintenance` is
the operator uncordoning a node whose maintenance drain failed (`kubeprop.model.cluster.maintenance`)."""

ENVIRONMENT_TIMED = ("ProbeResult", "StopGracefully", "ContainerExit", "RestartContainer", "RestartComponent",
                     "ProvisionVolume", "DeleteVolume", "MountVolumes")
"""Progress that waits on the world rather than on the control plane: a probe passing, an
application exiting on SIGTERM, a job finishing, a back-off elapsing (a container's; a volume mount's, once
its ConfigMap or Secret exists), a crashed process being restarted by its supervisor, a storage backend
creating a claim's volume or deleting a released one. In the run a user expects they take seconds, while the
control plane reacts in milliseconds (`FairPolicy(environment_last=True)`)."""


def is_environment_timed(act: Action) -> bool:
    """True for progress that waits on the world (`ENVIRONMENT_TIMED`)."""
    return type(act).__name__ in ENVIRONMENT_TIMED


def is_progress(act: Action) -> bool:
    """True for actions a healthy cluster takes on its own (no faults, no bad luck, no choice of
    the environment: an action class with `PROGRESS = False`). Recoveries of the environment count
    as progress here; `FairPolicy(recover=False)` leaves them out."""
    if isinstance(act, FAULTS) or getattr(type(act), "PROGRESS", True) is False:
        return False
    if getattr(act, "success", True) is False:
        return False
    return "Pressure" not in type(act).__name__


def is_recovery(act: Action) -> bool:
    """True for `Heal`, `RestartNode` and `EndMaintenance`: the environment getting better, which
    nothing promises."""
    return isinstance(act, RECOVERIES)


_BY_CLASS: dict[tuple[tuple[type[Action], ...], bool], dict[type[Action], bool]] = {}
"""`FairPolicy.default` by (avoided classes, recover), then by action class: all but the `success`
field (`_least_recent` looks the first up once per choice, the second once per action)."""


@attrs.define
class FairPolicy:
    """The fair scheduler, with its memory (when each action was last taken).

    `choose(enabled)` is the next action of the fair run among `enabled` (None when there is
    none), and `taken(act)` records it. `recover`: whether environment recoveries are taken;
    `user_steps`: whether the workload's next step is taken when nothing else is; `avoid`: classes
    never taken; `max_ticks`: how many `Tick`s at most (each taken only when nothing else is);
    `environment_last`: progress that waits on the world (`ENVIRONMENT_TIMED`) is taken only when
    the control plane has nothing left to do, as in the run a user expects."""

    recover: bool = True
    user_steps: bool = False
    environment_last: bool = False
    avoid: tuple[type[Action], ...] = ()
    max_ticks: int = 60
    allow_ticks: bool = True
    steps: int = 0
    ticks: int = 0
    last_taken: dict[Action, int] = attrs.Factory(dict)

    def copy(self) -> FairPolicy:
        """An independent copy (a search branching from the same run)."""
        return evolve(self, last_taken=dict(self.last_taken))

    def default(self, act: Action) -> bool:
        """True if the fair run may take `act` at all (progress, not avoided, recoveries as asked)."""
        verdicts = self._by_class()
        cls = type(act)
        verdict = verdicts.get(cls)
        if verdict is None:
            verdict = verdicts[cls] = self._default_for_class(cls)
        # `success=False` (a failing probe, …) is bad luck, whatever the class
        return verdict and getattr(act, "success", True) is not False

    def _by_class(self) -> dict[type[Action], bool]:
        """`default`'s verdicts by action class for this policy's `avoid` and `recover` (as they are
        now: a shrinking may avoid more classes later), filled in as classes are asked."""
        key = (self.avoid, self.recover)
        found = _BY_CLASS.get(key)
        if found is None:
            found = _BY_CLASS[key] = {}
        return found

    def _default_for_class(self, cls: type[Action]) -> bool:
        if issubclass(cls, (self.avoid, Tick)):
            return False
        if not self.recover and issubclass(cls, RECOVERIES):
            return False
        if issubclass(cls, FAULTS) or getattr(cls, "PROGRESS", True) is False:
            return False
        return "Pressure" not in cls.__name__

    def choose(self, enabled: Sequence[Action]) -> Action | None:
        """The fair run's next action among `enabled`, or None when it is over."""
        move = self._least_recent(enabled)
        if move is not None:
            return move
        if self.user_steps:
            user = next((a for a in enabled if isinstance(a, UserStep) and not isinstance(a, self.avoid)), None)
            if user is not None:
                return user
        if self.allow_ticks and self.ticks < self.max_ticks:
            return next((a for a in enabled if isinstance(a, Tick)), None)
        return None

    def _least_recent(self, enabled: Sequence[Action]) -> Action | None:
        """Weak fairness: among the moves (`default`), the one taken least recently goes first
        (never taken: the first in enumeration order), so an action that stays enabled cannot be
        starved by others; with `environment_last`, the world's moves only when nothing else is.
        (The first move never taken wins at once: nothing comes before it.)"""
        last, verdicts = self.last_taken, self._by_class()
        best: Action | None = None
        best_at = 0
        world: Action | None = None
        world_at = 0
        for act in enabled:
            cls = type(act)  # (`default`, inline: it is asked of every enabled action)
            verdict = verdicts.get(cls)
            if verdict is None:
                verdict = verdicts[cls] = self._default_for_class(cls)
            if not verdict or getattr(act, "success", True) is False:
                continue
            at = last.get(act, -1)
            if self.environment_last and is_environment_timed(act):
                if world is None or at < world_at:
                    world, world_at = act, at
                continue
            if best is None or at < best_at:
                best, best_at = act, at
                if at < 0:
                    return best
        return best if best is not None else world

    def next_action(self, model: ClusterModel, state: ClusterState, idle: Collection[Action] = ()) -> Action | None:
        """`choose(actions(model, state))` but for the moves in `idle` (`follow`), asking whether
        `Tick` is enabled only when the answer depends on it (nothing else to take): `Tick` is never
        a move nor a user step, so without it the choice is the same whenever there is one. The
        enabled actions are asked for component by component, and the first move never taken is
        the choice at once (nothing can come before it, and an idle move has been taken), without
        asking the components after it (`pick`)."""
        fresh, act = self.pick(enabled_groups(model, state), idle)
        if not fresh and act is None and self.allow_ticks and self.ticks < self.max_ticks:
            act = self.choose(_without(actions(model, state), idle))
        return act

    def pick(self, groups: Iterable[Sequence[Action]], idle: Collection[Action] = (), whole: bool = True
             ) -> tuple[bool, Action | None]:
        """The choice among the actions of `groups` (`Tick` aside; each group asked for in turn) but
        for the moves in `idle`: (True, the first move never taken) as soon as one is met, without
        asking the groups after it; else (False, `choose`'s choice among them all — None where only
        `Tick` could be it, and where `groups` are not all the enabled actions' groups: `whole`
        False). A subclass's own `choose` (a held policy) is asked as it always was."""
        if type(self) is not FairPolicy:
            seen: list[Action] = []
            for group in groups:
                fresh = self._first_fresh(group)
                if fresh is not None:
                    return True, fresh
                seen.extend(group)
            return False, self.choose(_without(seen, idle)) if whole else None
        found, act = self._pick(chain.from_iterable(groups), idle)
        return (found, act) if found or whole else (False, None)

    def _pick(self, enabled: Iterable[Action], idle: Collection[Action]) -> tuple[bool, Action | None]:
        """`pick` in one pass over `enabled` (the actions of every group in turn): the first move
        never taken (`_first_fresh`) at once; else what `choose(_without(enabled, idle))` gives
        without `Tick` — the least recently taken move (`_least_recent`), else the first user step
        not avoided. Each action's class verdict, memory and idleness are looked up once, where the
        groups, then `choose`, went through them twice."""
        last, verdicts, world_last = self.last_taken, self._by_class(), self.environment_last
        user_steps, avoid = self.user_steps, self.avoid
        best: Action | None = None
        world: Action | None = None
        user: Action | None = None
        best_at = world_at = 0
        for act in enabled:
            cls = type(act)
            verdict = verdicts.get(cls)
            if verdict is None:
                verdict = verdicts[cls] = self._default_for_class(cls)
            if not verdict or getattr(act, "success", True) is False:  # (no move: `default`)
                if user_steps and user is None and isinstance(act, UserStep) and not isinstance(act, avoid) and (
                        act not in idle):
                    user = act
                continue
            at = last.get(act, -1)
            if world_last and is_environment_timed(act):
                if (world is None or at < world_at) and not (at >= 0 and act in idle):
                    world, world_at = act, at
                continue
            if at < 0:
                return True, act  # (never taken, so not idle)
            if (best is None or at < best_at) and act not in idle:
                best, best_at = act, at
        return False, best if best is not None else world if world is not None else user

    def _first_fresh(self, group: Sequence[Action]) -> Action | None:
        """The first move of `group` never taken (not one that waits on the world, with
        `environment_last`): what `choose` picks when no earlier action is one."""
        last = self.last_taken
        for act in group:
            if act not in last and self.default(act) and not (self.environment_last and is_environment_timed(act)):
                return act
        return None

    def taken(self, act: Action) -> None:
        """Record that `act` was taken (whether the policy chose it or not)."""
        self.last_taken[act] = self.steps
        self.steps += 1
        if isinstance(act, Tick):
            self.ticks += 1


def _without(enabled: Sequence[Action], idle: Collection[Action]) -> Sequence[Action]:
    """`enabled` but for the actions in `idle`."""
    return [a for a in enabled if a not in idle] if idle else enabled


@attrs.frozen
class Settled:
    """Where a fair run stopped: the state, the actions taken, whether it ran out of steps,
    whether a wall-clock deadline cut it (then nothing can be concluded from it), how many of
    its last steps wrote nothing (`quiet`: the store's revision stayed the same), and (`settle` only)
    the keys still failing at the end (`failing`: each retry refused again, as a controller backing
    off for ever: `kubeprop.model.controllers.failing`)."""

    state: ClusterState
    trace: tuple[Action, ...]
    exhausted: bool
    interrupted: bool = False
    quiet: int = 0
    failing: tuple[FailingKey, ...] = ()

    @property
    def keeps_writing(self) -> bool:
        """True for a run out of steps that still wrote in its second half: a livelock. One that
        wrote nothing for half its steps or more is quiet in effect (it goes round states that
        write nothing, e.g. a retry that changes only a component's memory)."""
        return self.exhausted and self.quiet < (len(self.trace) + 1) // 2


def follow(model: ClusterModel, state: ClusterState, policy: FairPolicy, max_steps: int = 2000,
           deadline: float | None = None) -> Settled:
    """Follow `policy` from `state` until it has nothing to take, `max_steps` are taken
    (`exhausted`) or the `time.perf_counter()` value `deadline` passes (`interrupted`).

    A move that leaves the state unchanged (a stutter: a retry of a request refused for good) is
    set aside until the state changes: once every move has been tried there and changed nothing,
    the run goes on as if none were enabled — `Tick`, the user's next step, or the end. This is
    the controllers backing off while time passes (see the module docstring); without it such a
    run would take the same retry for ever at one state. A poll (a key requeued for ever, its
    reconciles changing only the controller's memory) is set aside the same way, and its own step
    does not bring back the moves set aside before it."""
    return _follow(model, state, policy, max_steps, deadline)[0]


Fork = tuple[int, ClusterState, FairPolicy, frozenset[Action], int]
"""Where a fair run first took a recovery: (steps taken before it, the state, the policy's memory,
the moves idle there, the steps before it that wrote nothing)."""


def _follow(model: ClusterModel, state: ClusterState, policy: FairPolicy, max_steps: int,
            deadline: float | None, trace: list[Action] | None = None,
            resumed: tuple[frozenset[Action], int] = (frozenset(), 0)) -> tuple[Settled, Fork | None]:
    """`follow`, also saying where the run first took a recovery (`Fork`), continuing `trace`
    (the actions of a run it resumes: its length counts towards `max_steps`; `resumed`, the moves
    idle where it resumes and the steps before that wrote nothing)."""
    trace = [] if trace is None else trace
    fork: Fork | None = None
    idle = set(resumed[0])  # the moves taken since the state last changed (each changed nothing)
    quiet = resumed[1]
    for _ in range(max_steps - len(trace)):
        if deadline is not None and time.perf_counter() >= deadline:
            return Settled(state, tuple(trace), exhausted=False, interrupted=True, quiet=quiet), fork
        act = policy.next_action(model, state, idle)
        if act is None:
            return Settled(state, tuple(trace), exhausted=False, quiet=quiet), fork
        if fork is None and is_recovery(act):
            fork = len(trace), state, policy.copy(), frozenset(idle), quiet
        policy.taken(act)
        after = step(model, state, act)
        if after == state or is_poll(model, state, act, after):
            idle.add(act)
        elif idle:
            idle = set()
        quiet = quiet + 1 if after.store.revision == state.store.revision else 0
        state = after
        trace.append(act)
    return Settled(state, tuple(trace), exhausted=True, quiet=quiet), fork


def is_poll(model: ClusterModel, state: ClusterState, act: Action, after: ClusterState) -> bool:
    """True if `act`, taken at `state`, was a poll: the reconcile of a key polling there
    (`queued_work.polling`: it wrote nothing, so only the controller's memory changed) that leaves it
    polling at `after` (where the clock's guard then lets time pass, so setting the move aside never
    ends the run while the key still has work to do)."""
    if not isinstance(act, Reconcile):
        return False
    requeued = after.controllers.get(act.controller)  # (a quick test first: most reconciles end their key)
    return (requeued is not None and act.key in requeued.queue and polling(model, state, act.controller, act.key)
            and polling(model, after, act.controller, act.key))


def settle(model: ClusterModel, state: ClusterState, max_steps: int = 2000, allow_ticks: bool = True,
           max_ticks: int = 60, avoid: tuple[type[Action], ...] = (), recover: bool = True,
           deadline: float | None = None, report_failing: bool = True) -> Settled:
    """Take progress actions fairly until none is left (Tick only when nothing else is). Actions
    of the classes in `avoid` are never taken (e.g. `Heal`, to keep a partition); with
    `recover=False` no environment recovery is (`RECOVERIES`). The result's `failing` lists the keys
    still queued at the end whose reconcile the API server would refuse again (`failing_keys`: a
    controller without the permission to write, or writing an invalid object, retries for ever);
    a caller that never reads it (a search settling each stem) passes `report_failing=False`."""
    policy = FairPolicy(recover=recover, avoid=avoid, max_ticks=max_ticks, allow_ticks=allow_ticks)
    settled = follow(model, state, policy, max_steps, deadline)
    if settled.interrupted or not report_failing:
        return settled
    failing = failing_keys(model, settled.state)
    return evolve(settled, failing=failing) if failing else settled


def fair_run(model: ClusterModel, state: ClusterState, max_steps: int = 5000, max_ticks: int = 100,
             deadline: float | None = None) -> Settled:
    """The run a user expects from their scenario: the control plane acts fairly and reacts to
    every change before the world moves on (a probe passing, a process exiting), the workload's
    next step is taken whenever the cluster is quiet, no fault happens and nothing recovers."""
    policy = expected_policy(max_ticks)
    return follow(model, state, policy, max_steps, deadline)


def expected_policy(max_ticks: int = 100) -> FairPolicy:
    """The fair policy of the run a user expects (`fair_run`)."""
    return FairPolicy(recover=False, user_steps=True, environment_last=True, max_ticks=max_ticks)


def needs_recovery(state: ClusterState) -> bool:
    """True if the environment has something to recover from (a partition, a node down, a node
    left cordoned by a failed maintenance)."""
    return (bool(state.partitioned) or any(d.startswith("node/") for d in state.down)
            or bool(maintenance_state(state).failed))


Follow = Callable[[ClusterModel, ClusterState, FairPolicy, int, float | None, list[Action] | None,
                   tuple[frozenset[Action], int]], tuple[Settled, Fork | None]]
"""`_follow`'s signature: a way of following the fair run (`kubeprop.properties.fair_memo` follows
the same run reading the steps of states it remembers)."""


def continuations(model: ClusterModel, state: ClusterState, max_steps: int = 5000, max_ticks: int = 100,
                  avoid: tuple[type[Action], ...] = (), deadline: float | None = None,
                  follow: Follow | None = None) -> Iterator[tuple[bool, Settled]]:
    """The fair continuations convergence is judged on, as (environment recovers, run): first
    the one where partitions heal, nodes restart and failed maintenances end, then — when there is anything to recover
    from — the one where they never do.

    The two are the same run until the first takes its first recovery: the fair choice among
    the enabled actions is the same choice among them without the recoveries whenever it is not
    a recovery itself, and both policies remember the same actions. So the second resumes the
    first from there (with the first's memory) instead of starting over: the same run, cheaper."""
    follow = _follow if follow is None else follow
    policy = FairPolicy(recover=True, avoid=avoid, max_ticks=max_ticks)
    recovering, fork = follow(model, state, policy, max_steps, deadline, None, (frozenset(), 0))
    yield True, recovering
    if not needs_recovery(state):
        return
    if recovering.interrupted and (fork is None or fork[0] == 0):
        yield False, Settled(state, (), exhausted=False, interrupted=True)  # the deadline has passed
        return
    if fork is None:  # it never took a recovery: the run without them is the same run
        yield False, recovering
        return
    taken, at, memory, idle, quiet = fork
    kept = evolve(memory, recover=False)
    yield False, follow(model, at, kept, max_steps, deadline, list(recovering.trace[:taken]), (idle, quiet))[0]


def run(model: ClusterModel, state: ClusterState, trace: Iterable[Action]) -> ClusterState:
    """Apply `trace` in order, checking each action is enabled (ValueError names the first that is not)."""
    for i, act in enumerate(trace):
        if act not in actions(model, state):
            raise ValueError(f"step {i + 1}: {act} is not enabled")
        state = step(model, state, act)
    return state


def first(candidates: Sequence[Action], kind: type[Action]) -> Action | None:
    """The first action of a class among `candidates`."""
    return next((a for a in candidates if isinstance(a, kind)), None)
