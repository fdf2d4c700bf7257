"""The kube-scheduler as a component: its queue, its assume cache, and its actions.

Upstream (`pkg/scheduler/schedule_one.go`, `pkg/scheduler/backend/queue/scheduling_queue.go`,
`pkg/scheduler/backend/cache/cache.go`): one scheduling cycle at a time takes the head of the
active queue (priority, then enqueue time), filters and scores nodes *from its informer cache
plus its own assumed pods*, assumes the pod onto the chosen node, and binds it asynchronously
through the API server (409 if the pod is already bound). An unschedulable pod gets
PodScheduled=False with the FitError message and waits in the unschedulable pods until a
cluster event that may help, a failed binding, or the periodic flush (`kubeprop.model.scheduler.queue`).
Scoring includes the system-default topology spreading, whose selector comes from the
scheduler's Service, ReplicaSet and StatefulSet caches (`kubeprop.model.scheduler.default_spread`).

Model actions: `Schedule(scheduler, pod, node)` — one per top-scoring node, since ties are broken
at random upstream (`selectHost`); `Bind(scheduler, pod)` — the binding call for an assumed pod;
`MarkUnschedulable(scheduler, pod)`; `Preempt(scheduler, pod, node)` — priority preemption, preferring
victims no PodDisruptionBudget in the scheduler's cache protects (`kubeprop.model.scheduler.preemption`),
the victims marked DisruptionTarget before their deletion (`kubeprop.model.scheduler.prepare`).
Several instances without leader election (`schedulerInstances`, `leaderElection: false`) each
keep their own queue and assume cache: the dual-scheduler hazard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs

from kubeprop.model.api.meta import Condition, set_condition
from kubeprop.model.api.objects import Node, Pod
from kubeprop.model.api.server import Request
from kubeprop.model.api.store import WatchEvent
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scheduler.decide import ScheduleResult, SchedulerProfile, build_node_infos, schedule_one
from kubeprop.model.scheduler.default_spread import default_selector
from kubeprop.model.scheduler.pdbs import cached_pdbs
from kubeprop.model.scheduler.prepare import SCHEDULER_USER, prepare_candidate
from kubeprop.model.scheduler.queue import (
    DEFAULT_SCHEDULER_NAME,
    SchedulerState,
    helps,
    inputs,
    next_timer,
    on_tick,
    pending_queue,
)
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState, is_up, pod_key, send, view
from kubeprop.model.state.informer import ObjectView

__all__ = [
    "DEFAULT_SCHEDULER_NAME", "HANDLERS", "SCHEDULER_USER", "Bind", "MarkUnschedulable", "Preempt", "Schedule",
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
class Bind(Action):
    """The scheduler's binding call for an assumed pod (POST pods/binding)."""

    scheduler: str
    pod: str


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
    best-effort pods (`schedulerBalancedSkipsBestEffort`)."""
    disabled = parameters.get("schedulerDisabledFilters", ())
    return SchedulerProfile(
        disabled_filters=frozenset(disabled),
        taint_detail=bool(parameters.get("schedulerTaintReasonDetail", False)),
        dra_enabled=bool(parameters.get("schedulerDynamicResources", False)),
        balanced_skips_best_effort=bool(parameters.get("schedulerBalancedSkipsBestEffort", True)),
    )


def _pods(view_: ObjectView) -> list[Pod]:
    return [p for p in view_.list("pods") if isinstance(p, Pod)]


def decide(model: ClusterModel, state: ClusterState, instance: str) -> tuple[Pod, ScheduleResult] | None:
    """The head pod of `instance`'s queue and the scheduling decision for it, if any pod waits."""
    view_ = view(model, state, instance)
    memory: SchedulerState = state.schedulers[instance]
    queue = pending_queue(view_, memory)
    if not queue:
        return None
    nodes = [n for n in view_.list("nodes") if isinstance(n, Node)]
    infos = build_node_infos(nodes, _pods(view_), memory.assumed)
    pod = queue[0]
    return pod, schedule_one(pod, infos, model.scheduler_profile, default_spread_selector=default_selector(pod, view_),
                             pdbs=cached_pdbs(view_))


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """Bind for each assumed pod; then one scheduling cycle for the head of the queue."""
    for instance in model.scheduler_instances:
        if not is_up(state, instance):
            continue
        memory: SchedulerState = state.schedulers[instance]
        for assumed in memory.assumed:
            if assumed not in memory.bound:
                yield Bind(instance, assumed)
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


def _schedule(model: ClusterModel, state: ClusterState, act: Schedule) -> ClusterState:
    memory = _memory(state, act.scheduler)
    return _set_memory(state, act.scheduler, evolve(memory, assumed=memory.assumed.set(act.pod, act.node)))


def _bind(model: ClusterModel, state: ClusterState, act: Bind) -> ClusterState:
    """POST pods/binding. On success the pod stays assumed until the informer shows it bound; on
    failure (409, an injected error) the assumption is forgotten and the pod is retried."""
    memory = _memory(state, act.scheduler)
    node = memory.assumed[act.pod]
    namespace, _, name = act.pod.partition("/")
    request = Request(verb="bind", user=SCHEDULER_USER, resource="pods", namespace=namespace, name=name,
                      node_name=node)
    state, response = send(model, state, SCHEDULER_USER, request, act.scheduler)
    memory = _memory(state, act.scheduler)
    if response.ok:
        memory = evolve(memory, bound=memory.bound | {act.pod})
    else:  # handleBindingCycleError: ForgetPod, then MoveAllToActiveOrBackoffQueue(AssignedPodDelete)
        memory = evolve(memory, assumed=memory.assumed.delete(act.pod), bound=memory.bound - {act.pod})
        memory = memory.move_all()
    return _set_memory(state, act.scheduler, memory)


def _park(model: ClusterModel, state: ClusterState, instance: str, key: str) -> ClusterState:
    """The pod joins the unschedulable pods, stamped with the time and the scheduler's inputs."""
    memory = _memory(state, instance)
    return _set_memory(state, instance, memory.park(key, state.clock, inputs(model, state, instance, memory)))


def _mark_unschedulable(model: ClusterModel, state: ClusterState, act: MarkUnschedulable) -> ClusterState:
    decision = decide(model, state, act.scheduler)
    assert decision is not None
    pod, result = decision
    condition = Condition(type="PodScheduled", status="False", reason="Unschedulable", message=result.message,
                          last_transition_time=state.clock)
    current = next((c for c in pod.status.conditions if c.type == "PodScheduled"), None)
    if current is None or (current.status, current.message) != ("False", result.message):
        updated = evolve(pod, status=evolve(
            pod.status, conditions=set_condition(pod.status.conditions, condition)))
        state, _ = send(model, state, SCHEDULER_USER, Request(verb="update-status", user=SCHEDULER_USER, obj=updated),
                        act.scheduler)
    return _park(model, state, act.scheduler, act.pod)


def _preempt(model: ClusterModel, state: ClusterState, act: Preempt) -> ClusterState:
    """Mark the victims DisruptionTarget and delete them gracefully, clear lower-priority
    nominations on the node (`kubeprop.model.scheduler.prepare`), then nominate the node
    (`defaultpreemption` PostFilter); a failed preparation nominates nothing."""
    decision = decide(model, state, act.scheduler)
    assert decision is not None
    pod, result = decision
    candidate = result.preemption
    assert candidate is not None and candidate.node == act.node, "Preempt is not enabled"
    state, prepared = prepare_candidate(model, state, act.scheduler, pod, act.node, candidate.victims)
    if prepared:
        nominated = evolve(pod, status=evolve(pod.status, nominated_node_name=act.node))
        state, _ = send(model, state, SCHEDULER_USER,
                        Request(verb="update-status", user=SCHEDULER_USER, obj=nominated), act.scheduler)
    return _park(model, state, act.scheduler, act.pod)


def on_events(model: ClusterModel, state: ClusterState, component: str, events: tuple[WatchEvent, ...]
              ) -> ClusterState:
    """Event handlers of a scheduler instance: confirm bound assumptions (the pod arrives bound);
    forget an assumed pod deleted before its binding was confirmed (upstream its binding fails
    and handleBindingCycleError moves the parked pods); move the parked pods on helpful events."""
    if component not in model.scheduler_instances or component not in state.schedulers:
        return state
    memory = _memory(state, component)
    assumed = memory.assumed
    move = False
    for event in events:
        key = f"{event.key.namespace}/{event.key.name}"
        if event.key.resource == "pods" and key in assumed:
            obj = event.object
            if event.type == "DELETED":
                move = True
                assumed = assumed.delete(key)
            elif isinstance(obj, Pod) and obj.spec.node_name:
                assumed = assumed.delete(key)
        move = move or helps(event)
    bound = frozenset(k for k in memory.bound if k in assumed)
    new = SchedulerState(assumed, memory.unschedulable, bound)
    if move:
        new = new.move_all()
    return state if new == memory else _set_memory(state, component, new)


def reset(model: ClusterModel, state: ClusterState, component: str) -> ClusterState:
    """A scheduler instance (re)starts with an empty queue memory and assume cache."""
    if component not in model.scheduler_instances:
        return state
    return _set_memory(state, component, SchedulerState())


HANDLERS: dict[type[Any], Callable[[ClusterModel, ClusterState, Any], ClusterState]] = {
    Schedule: _schedule,
    Bind: _bind,
    MarkUnschedulable: _mark_unschedulable,
    Preempt: _preempt,
}
