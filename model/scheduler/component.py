"""The kube-scheduler as a component: its queue, its assume cache, and its actions.

Upstream (`pkg/scheduler/schedule_one.go`, `pkg/scheduler/backend/queue/scheduling_queue.go`,
`pkg/scheduler/backend/cache/cache.go`): one scheduling cycle at a time takes the head of the
active queue (priority, then enqueue time), filters and scores nodes *from its informer cache
plus its own assumed pods*, assumes the pod onto the chosen node, and binds it asynchronously
through the API server; a failed binding is handleBindingCycleError's (PodScheduled=False,
SchedulerError: `kubeprop.model.scheduler.binding`). An unschedulable pod gets
PodScheduled=False with the FitError message and waits in the unschedulable pods until a
cluster event that may help, a failed binding, or the periodic flush (`kubeprop.model.scheduler.queue`).
Scoring includes the system-default topology spreading, whose selector comes from the
scheduler's Service, ReplicaSet and StatefulSet caches (`kubeprop.model.scheduler.default_spread`).

Model actions: `Schedule(scheduler, pod, node)` — one per top-scoring node, since ties are broken
at random upstream (`selectHost`); `Bind(scheduler, pod)` — the binding cycle of an assumed pod
(for a pod with claims to bind, first VolumeBinding's PreBind writes, then, once the PV controller
has bound them, the binding: `kubeprop.model.scheduler.binding`, `kubeprop.model.scheduler.volumebinding`);
`MarkUnschedulable(scheduler, pod)`; `Preempt(scheduler, pod, node)` — priority preemption, preferring
victims no PodDisruptionBudget in the scheduler's cache protects (`kubeprop.model.scheduler.preemption`),
the victims marked DisruptionTarget before their deletion (`kubeprop.model.scheduler.prepare`), by
the asynchronous preemption's own steps `ClearNominations` and `PreemptVictim` in v1.33
(`kubeprop.model.scheduler.async_preemption`), within the cycle where `schedulerAsyncPreemption`
is false.
Several instances without leader election (`schedulerInstances`, `leaderElection: false`) each
keep their own queue and assume cache: the dual-scheduler hazard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs

from kubeprop.model.api.objects import Node, ObjectKey, Pod
from kubeprop.model.api.store import WatchEvent
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.memo import LastValues
from kubeprop.model.scheduler import async_preemption, nominator, status_patch
from kubeprop.model.scheduler.async_preemption import ClearNominations, PreemptVictim
from kubeprop.model.scheduler.backoff import attempted
from kubeprop.model.scheduler.binding import Bind, bind, forget_volumes, reserve, volume_phase
from kubeprop.model.scheduler.decide import ScheduleResult, SchedulerProfile, build_node_infos, schedule_one
from kubeprop.model.scheduler.default_spread import default_selector
from kubeprop.model.scheduler.namespaces import profile_with_namespaces
from kubeprop.model.scheduler.nodeinfo import pod_priority
from kubeprop.model.scheduler.nominator import KEEP
from kubeprop.model.scheduler.pdbs import cached_pdbs
from kubeprop.model.scheduler.prepare import SCHEDULER_USER, prepare_candidate, record_failure
from kubeprop.model.scheduler.queue import (
    DEFAULT_SCHEDULER_NAME,
    SchedulerState,
    inputs,
    next_pod,
    next_timer,
    on_tick,
    pending_queue,
)
from kubeprop.model.scheduler.requeue import moves_all, rejectors, requeued
from kubeprop.model.scheduler.status_patch import RetryStatusPatch
from kubeprop.model.scheduler.volumeassume import AssumedView, forget_events
from kubeprop.model.scheduler.volumebinding import pod_volumes
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState, is_up, pod_key, view
from kubeprop.model.state.informer import ObjectView

__all__ = [
    "DEFAULT_SCHEDULER_NAME", "HANDLERS", "SCHEDULER_USER", "Bind", "ClearNominations", "MarkUnschedulable",
    "Preempt", "PreemptVictim", "RetryStatusPatch", "Schedule",
    "SchedulerState", "decide", "enabled", "next_timer", "on_events", "on_tick", "pending_queue", "profile_for",
    "reset",
]


@attrs.frozen(order=True)
class Schedule(Action):
    """The scheduler assumes `pod` onto `node` (a top-scoring node)."""

    scheduler: str
    pod: str
    node: str


@attrs.frozen(order=True)
class MarkUnschedulable(Action):
    """No node fits: PodScheduled=False with the FitError message; the pod waits for an event."""

    scheduler: str
    pod: str


@attrs.frozen(order=True)
class Preempt(Action):
    """No node fits, but evicting lower-priority pods on `node` would make room."""

    scheduler: str
    pod: str
    node: str


def profile_for(parameters: FrozenMap[str, Any]) -> SchedulerProfile:
    """The scheduler profile the parameters ask for: plugins disabled by a model variant, and
    the release-dependent rules (docs/release.md): the taint wording with key and value
    (`schedulerTaintReasonDetail`, v1.25 until PR #134740), the DynamicResources PostFilter of
    v1.34+ default clusters (`schedulerDynamicResources`), v1.33's BalancedAllocation skipping
    best-effort pods (`schedulerBalancedSkipsBestEffort`), NodePorts counting sidecars' host ports
    (`schedulerSidecarHostPorts`, v1.33.6+ and v1.34+)."""
    disabled = parameters.get("schedulerDisabledFilters", ())
    return SchedulerProfile(
        disabled_filters=frozenset(disabled),
        taint_detail=bool(parameters.get("schedulerTaintReasonDetail", False)),
        dra_enabled=bool(parameters.get("schedulerDynamicResources", False)),
        balanced_skips_best_effort=bool(parameters.get("schedulerBalancedSkipsBestEffort", True)),
        sidecar_host_ports=bool(parameters.get("schedulerSidecarHostPorts", True)),
    )


def _pods(view_: ObjectView) -> list[Pod]:
    return [p for p in view_.list("pods") if isinstance(p, Pod)]


def decide(model: ClusterModel, state: ClusterState, instance: str) -> tuple[Pod, ScheduleResult] | None:
    """The pod `instance`'s queue pops (`queue.next_pod`: the active queue's head, or with
    `schedulerPopFromBackoffQ` the backoff queue's when the active queue is empty) and the
    scheduling decision for it, if any pod waits. Remembered by what it reads (`_DECISIONS`): the
    cycle's step (`MarkUnschedulable`, `Preempt`) decides again what its enabled actions decided."""
    view_ = view(model, state, instance)
    memory: SchedulerState = state.schedulers[instance]
    return _DECISIONS.get((model, memory, view_), _decide, model, view_, memory)


_DECISIONS: LastValues[tuple[Pod, ScheduleResult] | None] = LastValues()
"""`decide`'s last answers by the identity of the model, the instance's memory and its view (its
informer cache): all a scheduling cycle reads (the profile and parameters are the model's)."""


def _decide(model: ClusterModel, view_: ObjectView, memory: SchedulerState) -> tuple[Pod, ScheduleResult] | None:
    pod = next_pod(view_, memory, bool(model.parameter("schedulerPopFromBackoffQ")))
    if pod is None:
        return None
    nodes = [n for n in view_.list("nodes") if isinstance(n, Node)]
    infos = build_node_infos(nodes, _pods(view_), memory.assumed, memory.nominated)
    cache = memory.volume_cache  # VolumeBinding reads claims and volumes through its assume caches
    volume_view = AssumedView(view_, cache) if cache else view_
    volumes = pod_volumes(volume_view, pod, str(model.parameter("defaultStorageClass")))
    profile = profile_with_namespaces(model, view_)  # InterPodAffinity's namespace lister
    return pod, schedule_one(pod, infos, profile, default_spread_selector=default_selector(pod, view_),
                             pdbs=cached_pdbs(view_), volumes=volumes)


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """The preemption goroutines' next calls; Bind for each assumed pod; the failure patches' next
    attempts (`status_patch`); then one scheduling cycle for the head of the queue, unless the
    last cycle's patch is still being retried."""
    for instance in model.scheduler_instances:
        if not is_up(state, instance):
            continue
        memory: SchedulerState = state.schedulers[instance]
        yield from async_preemption.enabled(memory, instance)
        for assumed in memory.assumed:
            waiting = memory.volume_binds.get(assumed)
            if assumed not in memory.bound and (waiting is None or not waiting.sent
                                                or volume_phase(model, state, instance, assumed) != "wait"):
                yield Bind(instance, assumed)
        if memory.retrying:
            yield from status_patch.enabled(memory, instance)
            if any(r.cycle for r in memory.retrying.values()):
                continue
        decision = decide(model, state, instance)
        if decision is None:
            continue
        pod, result = decision
        if result.best:
            for node in result.best:
                yield Schedule(instance, pod_key(pod), node)
        elif result.preemption is not None:
            yield Preempt(instance, pod_key(pod), result.preemption.node)
        else:
            yield MarkUnschedulable(instance, pod_key(pod))


def _memory(state: ClusterState, instance: str) -> SchedulerState:
    memory: SchedulerState = state.schedulers[instance]
    return memory


def _set_memory(state: ClusterState, instance: str, memory: SchedulerState) -> ClusterState:
    return evolve(state, schedulers=state.schedulers.set(instance, memory))


def _popped(state: ClusterState, instance: str, key: str, failed: bool) -> ClusterState:
    """`Pop`: the pod leaves the backoff queue (when it came from there); a cycle that `failed`
    counts one attempt more (`SchedulerState.attempts`)."""
    memory = _memory(state, instance)
    backoff = memory.backoff.delete(key)
    attempts = attempted(memory.attempts, key) if failed else memory.attempts
    if backoff is memory.backoff and attempts is memory.attempts:
        return state
    return _set_memory(state, instance, evolve(memory, attempts=attempts, backoff=backoff))


def _schedule(model: ClusterModel, state: ClusterState, act: Schedule) -> ClusterState:
    """assume: the pod is assumed onto the node and leaves the nominator (DeleteNominatedPodIfExists);
    then the Reserve plugins: VolumeBinding's assumes its claims' decisions (`binding.reserve`)."""
    state = _popped(state, act.scheduler, act.pod, failed=False)
    memory = _memory(state, act.scheduler)
    nominated = memory.nominated.delete(act.pod) if act.pod in memory.nominated else memory.nominated
    state = _set_memory(state, act.scheduler, evolve(memory, assumed=memory.assumed.set(act.pod, act.node),
                                                     nominated=nominated))
    return reserve(model, state, act.scheduler, act.pod, act.node)


def _park(model: ClusterModel, state: ClusterState, instance: str, key: str, result: ScheduleResult) -> ClusterState:
    """The pod joins the unschedulable pods, stamped with the time, the scheduler's inputs and the
    plugins that rejected it (handleSchedulingFailure: `UnschedulablePlugins` from the FitError's
    diagnosis, `requeue.rejectors`)."""
    memory = _memory(state, instance)
    stamp = inputs(model, state, instance, memory)
    return _set_memory(state, instance, memory.park(key, state.clock, stamp, rejectors(result.statuses)))


def _mark_unschedulable(model: ClusterModel, state: ClusterState, act: MarkUnschedulable) -> ClusterState:
    """handleSchedulingFailure without a nomination (`prepare.record_failure`): the PostFilter
    clears the pod's nomination when preemption found no candidate, keeps it otherwise; the pod is
    parked and gets PodScheduled=False by a status patch."""
    decision = decide(model, state, act.scheduler)
    assert decision is not None
    pod, result = decision
    state = _popped(state, act.scheduler, act.pod, failed=True)
    state = record_failure(model, state, act.scheduler, pod, result.message, "" if result.clear_nomination else KEEP)
    return _park(model, state, act.scheduler, act.pod, result)


def _preempt(model: ClusterModel, state: ClusterState, act: Preempt) -> ClusterState:
    """The PostFilter nominated `act.node`. Asynchronous preemption (`schedulerAsyncPreemption`,
    v1.33): the pod enters `preempting` and the goroutine's steps follow
    (`kubeprop.model.scheduler.async_preemption`); synchronous (v1.32 and before): the victims are
    marked and deleted and lower-priority nominations cleared now (`kubeprop.model.scheduler.prepare`),
    and a failure leaves the nomination as it was and ends the message with "preemption: <error>".
    Then handleSchedulingFailure: the pod is parked and gets PodScheduled=False (Unschedulable,
    the FitError) and the nomination in one status patch (`prepare.record_failure`)."""
    decision = decide(model, state, act.scheduler)
    assert decision is not None
    pod, result = decision
    candidate = result.preemption
    assert candidate is not None and candidate.node == act.node, "Preempt is not enabled"
    state = _popped(state, act.scheduler, act.pod, failed=True)
    nominated: str | None = act.node
    message = result.message
    if model.parameter("schedulerAsyncPreemption"):
        state = async_preemption.start(model, state, act.scheduler, pod, act.node, candidate.victims)
    else:
        state, error = prepare_candidate(model, state, act.scheduler, pod, act.node, candidate.victims)
        if error is not None:
            nominated, message = KEEP, f"{message} preemption: {error}"
    state = record_failure(model, state, act.scheduler, pod, message, nominated)
    return _park(model, state, act.scheduler, act.pod, result)


def on_events(model: ClusterModel, state: ClusterState, component: str, events: tuple[WatchEvent, ...]
              ) -> ClusterState:
    """Event handlers of a scheduler instance: confirm bound assumptions (the pod arrives bound);
    forget an assumed pod deleted before its binding was confirmed (upstream its binding fails
    and handleBindingCycleError moves the parked pods and un-reserves its volumes); the assume
    caches of claims and volumes take a newer object the informer delivers; keep the nominator
    (`kubeprop.model.scheduler.nominator`); move the parked pods an event may help
    (`kubeprop.model.scheduler.requeue`: every one on a Node, volume or assigned-pod deletion
    event, those whose rejecting plugins' hints say Queue on an assigned pod added or updated or
    on their own update), and those of lower or equal priority when a nomination changes or goes away."""
    if component not in model.scheduler_instances or component not in state.schedulers:
        return state
    memory = _memory(state, component)
    assumed = memory.assumed
    move = False
    freed: int | None = None
    new = memory
    some: set[str] = set()
    for event in events:
        key = f"{event.key.namespace}/{event.key.name}"
        if event.key.resource == "pods":
            new, up_to = nominator.on_pod_event(new, event)
            if up_to is not None:
                freed = up_to if freed is None else max(freed, up_to)
            if event.type == "DELETED" or (isinstance(event.object, Pod) and event.object.spec.node_name):
                new = new.forget(key)  # deletePodFromSchedulingQueue: bound (assignedPod) or deleted
            if key in assumed:
                obj = event.object
                if event.type == "DELETED":
                    move = True
                    assumed = assumed.delete(key)
                elif isinstance(obj, Pod) and obj.spec.node_name:
                    assumed = assumed.delete(key)
            if not move and new.unschedulable:
                parked = {k: p.plugins for k, p in new.unschedulable.items() if k not in some}
                some |= requeued(event, parked, view(model, state, component))
        move = move or moves_all(event)
    new = _after_events(model, state, component, memory, new, assumed, events, move, freed, some)
    return state if new == memory else _set_memory(state, component, new)


def _after_events(model: ClusterModel, state: ClusterState, component: str, memory: SchedulerState,
                  new: SchedulerState, assumed: FrozenMap[str, str], events: tuple[WatchEvent, ...], move: bool,
                  freed: int | None, some: set[str]) -> SchedulerState:
    """`on_events`' close, once the events are handled (`assumed`: the assumed pods still
    unconfirmed, kept): the confirmed bindings of `memory` kept while still assumed; the volume binds
    of a pod no longer assumed un-reserved and the volume assume cache updated by the events; then
    the parked pods moved: all (`move`), else those of priority up to `freed` (a nomination
    changed or went away) and `some` (the ones the events' hints queue)."""
    bound = frozenset(k for k in memory.bound if k in assumed)
    for key in [k for k in new.volume_binds if k not in assumed]:
        new = forget_volumes(new, key)  # the binding cycle ends without binding: Unreserve
    if new.volume_cache:
        new = new.with_volumes(new.volume_binds, forget_events(new.volume_cache, events))
    new = evolve(new, assumed=assumed, bound=bound)
    if move:
        return new.move_all(state.clock)
    if freed is not None and new.unschedulable:
        some |= _up_to(view(model, state, component), new, freed)
    if some:
        new = new.move_some(frozenset(some), state.clock)
    return new


def _up_to(view_: ObjectView, memory: SchedulerState, priority: int) -> frozenset[str]:
    """getLEPriorityPreCheck: the parked pods of priority up to `priority` (as the cache has them)."""
    out = set()
    for key in memory.unschedulable:
        namespace, _, name = key.partition("/")
        pod = view_.get(ObjectKey("pods", namespace, name))
        if not isinstance(pod, Pod) or pod_priority(pod) <= priority:
            out.add(key)
    return frozenset(out)


def reset(model: ClusterModel, state: ClusterState, component: str) -> ClusterState:
    """A scheduler instance (re)starts with an empty queue memory and assume cache; its nominator
    is rebuilt from its informer's initial list (every unassigned pod naming a node is an add)."""
    if component not in model.scheduler_instances:
        return state
    memory = nominator.rebuild(SchedulerState(), view(model, state, component).list("pods"))
    return _set_memory(state, component, memory)


HANDLERS: dict[type[Any], Callable[[ClusterModel, ClusterState, Any], ClusterState]] = {
    Schedule: _schedule,
    Bind: bind,
    MarkUnschedulable: _mark_unschedulable,
    Preempt: _preempt,
    **async_preemption.HANDLERS,
    **status_patch.HANDLERS,
}
