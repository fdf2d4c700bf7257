"""The clock waits for the scheduler, and for work in flight to components that are up (tick guards).

`Tick` moves the clock by the scenario's tick (10 s by default). A tick taken while a component that
is up has work it does at once upstream stands for that component sitting on it for that long, which
upstream takes a fault the trace would show (the process down, a partition, a flood of the API
server). `kubeprop.model.controllers.queued_work` keeps the clock from a controller with a key it can
reconcile now; this module decides the same for the scheduler, for watch events in flight and for
the kubelets' prompt work. Without them a search around the fair run of
tests/model/data/waits/api-rollout.yaml still held the new pods 70 s with no fault in its trace —
their events undelivered to the scheduler, or the pods bound but not started — until the Deployment's
60 s progress deadline passed (`bench_false_alarms.py`, `kubeprop check`).

**The scheduler (`scheduler_holds_clock`): no `Tick` while an instance that is up can attempt a pod
now** — the head of its active queue (a scheduling cycle: `Schedule`, `Preempt` or
`MarkUnschedulable`), an assumed pod whose binding cycle can run (`Bind`, not waiting on its volumes),
or a call of an asynchronous preemption. Upstream `Scheduler.Run` loops `ScheduleOne` with no pause
(`pkg/scheduler/scheduler.go`: `wait.UntilWithContext(ctx, sched.ScheduleOne, 0)`), whose `NextPod`
pops the active queue as soon as it holds a pod (`pkg/scheduler/backend/queue/scheduling_queue.go`
Pop), and the binding cycle runs at once in its own goroutine (`schedule_one.go` runBindingCycle): a
cycle takes milliseconds. What waits upstream waits in the model too: parked pods (until an event
or the 30 s flush: a timer), a binding waiting for its volumes, and a pod in the backoff queue
(`kubeprop.model.scheduler.backoff`: 1 s doubling up to 10 s, `pkg/scheduler/apis/config/v1/defaults.go`
PodInitialBackoffSeconds, PodMaxBackoffSeconds; its end is the scheduler's timer) — unless the active
queue is empty and SchedulerPopFromBackoffQ (v1.33) pops it at once.

**Work in flight (`in_flight_holds_clock`): no tick while a watch event waits for a component that
is up and reaches the API server, a dropped watch waits to be listed again, or a kubelet has prompt
work — unless the tick reaches a timer and the environment acted since the last tick, and then not
while any of the work in flight at the last tick still is.** Stale caches are how the model finds
real races: a delivery may come after any number of other components' steps, and the order of
deliveries is free. What a real cluster does not do without a fault is hold an event for a live,
connected client for seconds: the watch cache sends it to every watcher at once, and a watcher too
slow to take it is closed (`staging/src/k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go` add:
"Forcing watcher close due to unresponsiveness" once its dispatch timer fires), after which the
reflector lists again — after 800 ms, with jitter up to 1.6 s, backing off to 30 s only on failures
(`staging/src/k8s.io/client-go/tools/cache/reflector.go` NewExponentialBackoffManager(800ms, 30s,
2m, 2.0, 1.0)). A tick that reaches no timer only moves the clock: taken with work in flight it
stands for 10 s more of a watch upstream delivers in milliseconds, so it is never taken. A timer
firing while work is in flight is a race upstream can have only for work begun a moment before the
timer, and between two ticks the model's clock stands still: what the system does after a tick —
the timers it reached firing, the work they and the work in flight then cause — happens upstream
within milliseconds of the timer that tick reached, seconds before the next one (the model's
timers are whole seconds apart, and timers due together fire after the same tick, in any order).
Only the environment starts work at a moment of its own choosing (`environment_kinds`: a user's
step, a fault or recovery, an application exiting): its work may be a millisecond old when the next
timer fires. So after a tick, work in flight holds the clock until the environment acts; then a
tick that reaches a timer may be taken with the environment's work in flight (the timer's work runs
on the stale cache, the event arrives after), but not with work that was in flight at the last tick
already — that would have waited a whole tick and more (`TickRace`: the state remembers it, less
each action taken since, so a `SyncPodStatus` for the same pod later is new work). Without the
first half, trial19 found `kubectl rollout status --timeout=30s` timing out on the correct model
(tests/model/data/inflight/fa1b.yaml): a pod's readiness probe passed at 10 s and its status write
waited while the probe's 5 s period and then kubectl's deadline let two ticks pass; with the
watch-event twin, the `setImage` update sat undelivered to the controller manager for 30 s. Upstream
the status manager writes at once (`pkg/kubelet/status/status_manager.go` SetContainerReadiness →
updateStatusInternal → podStatusChannel → syncBatch). The same holds for a
kubelet's prompt work: starting a pod it was sent (`StartPod`: the pod worker syncs a pod as soon as
it is added, `pkg/kubelet/pod_workers.go` UpdatePod → podWorkerLoop), writing a status that changed
(`SyncPodStatus`: `pkg/kubelet/status/status_manager.go` SetPodStatus → syncPod), killing a pod the
API deleted (`KillPod`), finishing one whose containers stopped (`FinishTermination`), cleaning up a
pod gone from the API (`CleanupOrphan`: HandlePodCleanups every `housekeepingPeriod`, 2 s,
`pkg/kubelet/kubelet.go`). What takes time upstream stays free of the rule: probes, an application
exiting, restarts after a back-off, kill deadlines, node status reports (every 10 s) and memory
pressure. A partitioned kubelet and a process that is down count as not up: time passes during an
outage. The model does not stand for slow image pulls (its `StartPod` starts the containers): a pod
that takes a minute to start is not explored.

What the guards read — `Tick`'s footprint (`kubeprop.model.cluster.footprint`) and the
enabled-actions cache's `_tick` key (`kubeprop.model.cluster.enabled_reads`) include it: the schedulers'
memory and caches and whether they are up; every informer cache, the store's event log, what is down
and partitioned, etcd's quorum; the kubelets' runtime state, their caches and the clock; every
timer (whether the tick reaches one); and `ClusterState.tick_race`, which `Tick` sets
(`after_tick`) and every other step updates (`after_action`, from `compose.step`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any

import attrs

from kubeprop.model.cluster import informers, workload_wait
from kubeprop.model.cluster.outages import tick_step
from kubeprop.model.evolve import evolve
from kubeprop.model.kubelet import component as kubelet
from kubeprop.model.kubelet.actions import (
    CleanupOrphan,
    ContainerExit,
    DiskPressure,
    DiskPressureReclaimed,
    FinishTermination,
    KillPod,
    MemoryPressure,
    PIDPressure,
    StartPod,
    StopGracefully,
    SyncPodStatus,
)
from kubeprop.model.scheduler import component as scheduler
from kubeprop.model.state import actions as act_mod
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState

__all__ = ["PROMPT_KUBELET_WORK", "TickRace", "after_action", "after_tick", "holds", "in_flight_holds_clock",
           "in_flight_work", "scheduler_holds_clock", "tick_reaches_race_timer",
           "tick_reaches_timer"]

PROMPT_KUBELET_WORK = (StartPod, SyncPodStatus, KillPod, FinishTermination, CleanupOrphan)
"""The kubelet actions upstream takes within a second or two of what enables them (see the module
docstring); the other kubelet actions wait on a timer or on the world."""


@attrs.frozen(cache_hash=True)
class TickRace:
    """What the last `Tick` left behind for the guard on work in flight (`ClusterState.tick_race`).

    `work`: the work in flight (watch deliveries, relists, `PROMPT_KUBELET_WORK`) when that tick was
    taken, less each one taken since — a label such as `SyncPodStatus(node, pod)` that comes back
    after it was taken is new work, and a `Deliver` names its revision. `environment_since`: whether
    an action of the environment (`environment_kinds`: a user step, a fault, an application exiting)
    came since that tick. Plain values: compared and fingerprinted by value, never by `hash()`."""

    work: frozenset[Action] = frozenset()
    environment_since: bool = False


def environment_kinds() -> frozenset[type[Any]]:
    """The action kinds the environment takes at a moment of its own choosing, not at a timer's nor
    in answer to other work: the user's steps, the faults and recoveries, an application exiting or
    a node's pressure, the operator's maintenance and etcd restores, a flood of the API server and
    the environment's usage levels. Work they start may be in flight when a timer fires: they may
    come a millisecond before it. A kind not listed counts as the system's own (its work drains
    before the next tick: the stricter reading)."""
    return _environment_kinds()


@lru_cache(maxsize=1)
def _environment_kinds() -> frozenset[type[Any]]:
    from kubeprop.model.cluster import environment, maintenance, overload, restore  # (they import `faults`)

    return frozenset({
        act_mod.UserStep, act_mod.CrashNode, act_mod.RestartNode, act_mod.Partition, act_mod.Heal,
        act_mod.CrashContainer, act_mod.CrashComponent, act_mod.CrashDuringReconcile, act_mod.RestartComponent,
        act_mod.DropWatch, ContainerExit, StopGracefully, MemoryPressure, DiskPressure,
        DiskPressureReclaimed, PIDPressure, environment.SetUsage, environment.SetLoad, environment.EnvironmentRule,
        maintenance.StartMaintenance, maintenance.EndMaintenance, restore.SnapshotEtcd, restore.RestoreEtcd,
        overload.StartOverload, overload.EndOverload, overload.Starve,
    })


def scheduler_holds_clock(model: ClusterModel, state: ClusterState) -> bool:
    """True while a scheduler instance that is up has a pod it can attempt, bind, or a preemption
    call to make now (any of its actions is enabled): `Tick` is not enabled then."""
    return next(scheduler.enabled(model, state), None) is not None


def tick_reaches_timer(model: ClusterModel, state: ClusterState) -> bool:
    """Whether a tick from `state` reaches some component's pending timer (`faults.next_timer`: the
    earliest future timer); the tick as `Tick` would take it (shortened to a crashed process's restart
    deadline: `outages`). The earliest future timer is within the tick exactly when some future timer
    is, so the timers (`Hooks.timers`) are asked in turn only until one is: the same answer, and the
    costlier ones (the kubelets', which look at every node's pods) often not asked."""
    return _reaches(model, state, model.hooks.timers)


def tick_reaches_race_timer(model: ClusterModel, state: ClusterState) -> bool:
    """`tick_reaches_timer` leaving out the deadline of a kubectl command that waits
    (`workload_wait.next_timer`): the timers work in flight may race. A command's deadline is its
    `--timeout` after the command began, not a moment that may fall a millisecond after the work
    in flight began: a tick to it with the work still in flight would stand for the whole timeout
    with that work undelivered (`kubectl set image` then `kubectl rollout status --timeout=10s`
    timed out at the first tick of 10 s, the Deployment's event never delivered). What this leaves
    out is a command timing out a millisecond before work that an environment action started just
    before its deadline would have let it return (the stricter reading: the kinder one)."""
    return _reaches(model, state, (timer for timer in model.hooks.timers if timer is not workload_wait.next_timer))


def _reaches(model: ClusterModel, state: ClusterState, timers: Iterable[Callable[..., int | None]]) -> bool:
    """Whether a tick from `state`, as `Tick` would take it (`outages.tick_step`), reaches one of
    `timers`' pending times; asked in turn only until one does."""
    clock = state.clock
    bound = clock + tick_step(model, state)
    return any((t := timer(model, state)) is not None and clock < t <= bound for timer in timers)


def in_flight_holds_clock(model: ClusterModel, state: ClusterState) -> bool:
    """True while some component that is up has work in flight (a watch event to be delivered, a
    dropped watch to list again, a kubelet's `PROMPT_KUBELET_WORK`) and a tick would reach no timer,
    or no action of the environment came since the last tick, or some of that work was in flight
    at the last tick already (`holds`)."""
    return holds(state.tick_race, _in_flight(model, state), lambda: tick_reaches_race_timer(model, state))


def holds(race: TickRace | None, work: Iterable[Action], reaches_timer: Callable[[], bool]) -> bool:
    """The guard on work in flight, given `state.tick_race`, the work in flight (`in_flight_work`)
    and whether a tick reaches a timer (asked last: the costliest)."""
    pending = tuple(work)
    if not pending:
        return False
    if race is not None and (not race.environment_since or not race.work.isdisjoint(pending)):
        return True
    return not reaches_timer()


def in_flight_work(deliveries: Iterable[Action], kubelet_actions: Iterable[Action]) -> Iterator[Action]:
    """The work in flight, given the enabled watch deliveries and relists (`informers.enabled`) and
    kubelet actions (`kubelet.enabled`): all the former, the latter's `PROMPT_KUBELET_WORK`."""
    yield from deliveries
    yield from (act for act in kubelet_actions if isinstance(act, PROMPT_KUBELET_WORK))


def _in_flight(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    return in_flight_work(informers.enabled(model, state), kubelet.enabled(model, state))


def after_tick(model: ClusterModel, after: ClusterState, work: Iterable[Action]) -> ClusterState:
    """`after` (the state a `Tick` reached) remembering `work`, the work in flight where it was
    taken (`TickRace`), where the in-flight guard is one of the model's tick guards."""
    if in_flight_holds_clock not in model.hooks.tick_guards:
        return after
    return evolve(after, tick_race=TickRace(frozenset(work)))


def after_action(state: ClusterState, act: Action) -> ClusterState:
    """`state` (reached by `act`, not a `Tick`) with `act` no longer remembered as in flight at the
    last tick, and an action of the environment noted (`TickRace`); the same state where neither
    changes it. None once the environment acted and nothing of that work is left: the same as
    before the first tick, so the states meet again."""
    race: TickRace | None = state.tick_race
    if race is None:
        return state
    work = race.work - {act} if act in race.work else race.work
    since = race.environment_since or type(act) in environment_kinds()
    if work is race.work and since == race.environment_since:
        return state
    return evolve(state, tick_race=None if since and not work else TickRace(work, since))
