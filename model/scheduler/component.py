"""The kube-scheduler as a component: its queue, its assume cache, and its actions.

Upstream (`pkg/scheduler/schedule_one.go`, `pkg/scheduler/internal/queue/scheduling_queue.go`,
`pkg/scheduler/internal/cache/cache.go`): one scheduling cycle at a time takes the head of the
active queue (priority, then enqueue time), filters and scores nodes *from its informer cache
plus its own assumed pods*, assumes the pod onto the chosen node, and binds it asynchronously
through the API server (409 if the pod is already bound). An unschedulable pod gets
PodScheduled=False with the FitError message and waits in the unschedulable queue until a
cluster event that may help (a node change, a pod freeing resources).

Model actions: `Schedule(scheduler, pod, node)` — one per top-scoring node, since ties are broken
at random upstream (`selectHost`); `Bind(scheduler, pod)` — the binding call for an assumed pod;
`MarkUnschedulable(scheduler, pod)`; `Preempt(scheduler, pod, node)` — basic priority preemption.
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
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.scheduler.decide import ScheduleResult, SchedulerProfile, build_node_infos, schedule_one
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState, is_up, send, view
from kubeprop.model.state.informer import ObjectView

SCHEDULER_USER = "system:kube-scheduler"
DEFAULT_SCHEDULER_NAME = "default-scheduler"


@attrs.frozen(cache_hash=True)
class SchedulerState:
    """One scheduler instance's memory: assumed pods (pod key → node; binding not yet observed)
    and the unschedulable queue. Lost when the scheduler crashes."""

    assumed: FrozenMap[str, str] = EMPTY
    unschedulable: frozenset[str] = frozenset()
    bound: frozenset[str] = frozenset()
    """Assumed pods whose binding call succeeded, awaiting the informer's confirmation
    (`cache.FinishBinding`)."""


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
    """The scheduler profile the parameters ask for (plugins disabled by a model variant)."""
    disabled = parameters.get("schedulerDisabledFilters", ())
    return SchedulerProfile(disabled_filters=frozenset(disabled))


def _key(pod: Pod) -> str:
    return f"{pod.metadata.namespace}/{pod.metadata.name}"


def _pods(view_: ObjectView) -> list[Pod]:
    return [p for p in view_.list("pods") if isinstance(p, Pod)]


def pending_queue(view_: ObjectView, memory: SchedulerState) -> list[Pod]:
    """The active queue: unbound, non-terminating pods for the default scheduler, not assumed and
    not parked as unschedulable, by priority (high first), then creation time, then name."""
    pods = [
        p for p in _pods(view_)
        if not p.spec.node_name and p.metadata.deletion_timestamp is None
        and p.spec.scheduler_name in ("", DEFAULT_SCHEDULER_NAME)
        and p.status.phase not in ("Succeeded", "Failed")
        and _key(p) not in memory.assumed and _key(p) not in memory.unschedulable
    ]
    return sorted(pods, key=lambda p: (-(p.spec.priority or 0), p.metadata.creation_timestamp or 0, _key(p)))


def decide(model: ClusterModel, state: ClusterState, instance: str) -> tuple[Pod, ScheduleResult] | None:
    """The head pod of `instance`'s queue and the scheduling decision for it, if any pod waits."""
    view_ = view(model, state, instance)
    memory: SchedulerState = state.schedulers[instance]
    queue = pending_queue(view_, memory)
    if not queue:
        return None
    nodes = [n for n in view_.list("nodes") if isinstance(n, Node)]
    infos = build_node_infos(nodes, _pods(view_), memory.assumed)
    return queue[0], schedule_one(queue[0], infos, model.scheduler_profile)


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
                yield Schedule(instance, _key(pod), node)
        elif result.preemption is not None:
            yield Preempt(instance, _key(pod), result.preemption.node)
        else:
            yield MarkUnschedulable(instance, _key(pod))


def _memory(state: ClusterState, instance: str) -> SchedulerState:
    memory: SchedulerState = state.schedulers[instance]
    return memory


def _set_memory(state: ClusterState, instance: str, memory: SchedulerState) -> ClusterState:
    return attrs.evolve(state, schedulers=state.schedulers.set(instance, memory))


def _schedule(model: ClusterModel, state: ClusterState, act: Schedule) -> ClusterState:
    memory = _memory(state, act.scheduler)
    return _set_memory(state, act.scheduler, attrs.evolve(memory, assumed=memory.assumed.set(act.pod, act.node)))


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
        memory = attrs.evolve(memory, bound=memory.bound | {act.pod})
    else:
        memory = attrs.evolve(memory, assumed=memory.assumed.delete(act.pod), bound=memory.bound - {act.pod})
    return _set_memory(state, act.scheduler, memory)


def _mark_unschedulable(model: ClusterModel, state: ClusterState, act: MarkUnschedulable) -> ClusterState:
    decision = decide(model, state, act.scheduler)
    assert decision is not None
    pod, result = decision
    condition = Condition(type="PodScheduled", status="False", reason="Unschedulable", message=result.message,
                          last_transition_time=state.clock)
    current = next((c for c in pod.status.conditions if c.type == "PodScheduled"), None)
    if current is None or (current.status, current.message) != ("False", result.message):
        updated = attrs.evolve(pod, status=attrs.evolve(
            pod.status, conditions=set_condition(pod.status.conditions, condition)))
        state, _ = send(model, state, SCHEDULER_USER, Request(verb="update-status", user=SCHEDULER_USER, obj=updated),
                        act.scheduler)
    memory = _memory(state, act.scheduler)
    return _set_memory(state, act.scheduler, attrs.evolve(memory, unschedulable=memory.unschedulable | {act.pod}))


def _preempt(model: ClusterModel, state: ClusterState, act: Preempt) -> ClusterState:
    """Delete the victims gracefully and nominate the node (`defaultpreemption` PostFilter)."""
    decision = decide(model, state, act.scheduler)
    assert decision is not None
    pod, result = decision
    candidate = result.preemption
    assert candidate is not None and candidate.node == act.node, "Preempt is not enabled"
    for victim in candidate.victims:
        namespace, _, name = victim.partition("/")
        request = Request(verb="delete", user=SCHEDULER_USER, resource="pods", namespace=namespace, name=name)
        state, _ = send(model, state, SCHEDULER_USER, request, act.scheduler)
    nominated = attrs.evolve(pod, status=attrs.evolve(pod.status, nominated_node_name=act.node))
    state, _ = send(model, state, SCHEDULER_USER, Request(verb="update-status", user=SCHEDULER_USER, obj=nominated),
                    act.scheduler)
    memory = _memory(state, act.scheduler)
    return _set_memory(state, act.scheduler, attrs.evolve(memory, unschedulable=memory.unschedulable | {act.pod}))


def _helps(event: WatchEvent) -> bool:
    """Whether an event may make an unschedulable pod schedulable (node changes; pods leaving)."""
    if event.key.resource == "nodes":
        return True
    obj = event.object
    if event.key.resource != "pods" or not isinstance(obj, Pod) or not obj.spec.node_name:
        return False
    return event.type == "DELETED" or obj.metadata.deletion_timestamp is not None or obj.status.phase in (
        "Succeeded", "Failed")


def on_events(model: ClusterModel, state: ClusterState, component: str, events: tuple[WatchEvent, ...]
              ) -> ClusterState:
    """Event handlers of a scheduler instance: confirm bound assumptions, requeue parked pods."""
    if component not in model.scheduler_instances or component not in state.schedulers:
        return state
    memory = _memory(state, component)
    assumed = memory.assumed
    for event in events:
        key = f"{event.key.namespace}/{event.key.name}"
        if event.key.resource == "pods" and key in assumed:
            obj = event.object
            if event.type == "DELETED" or (isinstance(obj, Pod) and obj.spec.node_name):
                assumed = assumed.delete(key)
    unschedulable = frozenset() if any(_helps(e) for e in events) else memory.unschedulable
    bound = frozenset(k for k in memory.bound if k in assumed)
    new = SchedulerState(assumed, unschedulable, bound)
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
