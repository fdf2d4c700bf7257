"""The node lifecycle controller and the taint eviction controller (kube-controller-manager).

Upstream: `pkg/controller/nodelifecycle/node_lifecycle_controller.go` (monitorNodeHealth,
tryUpdateNodeHealth, processTaintBaseEviction, doNoScheduleTaintingPass, doNoExecuteTaintingPass,
handleDisruption, ComputeZoneState), `pkg/controller/util/node/controller_utils.go`
(MarkPodsNotReady, SwapNodeControllerTaint) and `pkg/controller/tainteviction/taint_eviction.go`
(processPodOnNode, getMinTolerationTime), `pkg/apis/core/v1/helper/helpers.go` GetMatchingTolerations.

Both run only while the controller manager is up, read its cache
(`view(model, state, CONTROLLER_MANAGER)`) and write as `system:kube-controller-manager`.

Heartbeats are abstract: upstream the controller watches each node's Lease (renewed every 10 s)
and the Ready condition's heartbeat; here `state.heartbeat_lost[node]` is the model time the
node's kubelet last reached the API server, and a node absent from it is heartbeating. The
controller's own memory of when it last saw a heartbeat (`nodeHealthMap`) starts afresh when it
starts: after a restart every silent node gets a full grace period again (`started_at`).

The periodic monitorNodeHealth pass — nodes marked Unknown and handleDisruption in one step, with
`Tick` waiting for a due pass — is in `kubeprop.model.controllers.nodelifecycle_health`; the
rules (zone states, the tainters' token buckets, tolerations) in `nodelifecycle_rules`. The other
actions: `MarkPodsNotReady`, `SyncNoScheduleTaints`, `TaintNode` (the zone tainter: a new
NoExecute taint takes a token of the zone's rate limiter — 0.1 nodes/s, 0.01 in a large zone in
PartialDisruption, none in a small one or while every zone is in FullDisruption — while
swapping not-ready ↔ unreachable is immediate), `UntaintNode` (a Ready node loses them),
`ScheduleTaintEviction` / `TaintEvictPod` (the taint eviction controller).

Parameters: `nodeMonitorGracePeriodSeconds` (50 s, the default since v1.32, kubernetes PR
#126287; 40 s in v1.31 and before) and `markPodsNotReadyOnTransitionOnly`. With True (upstream's
behaviour) the pods of a node are marked NotReady only when the controller itself moves the
node's Ready from True to something else, a transition remembered only in memory
(`nodesToRetry`): a crash between marking the node and marking its pods means they are never
marked (kubernetes#50067, #135205). With False the controller reconciles: pods on a not-Ready
node that are still Ready get marked at any time.

The taint eviction controller's work (`pkg/controller/tainteviction/taint_eviction.go`,
`timed_workers.go`) is keyed by the pod's namespace/name only, as upstream's: a timer deletes
whatever pod has the name when it fires — one recreated under the name (a StatefulSet's) on a
healthy node included, if the controller had not yet handled the old pod's delete event while the
name was free — and pods already terminating are processed like any other (DisruptionTarget, then a
DELETE without a UID precondition). Upstream reacts to events (a node's NoExecute taints changing,
a pod added, bound or deleted); the model enables the same work from the state it sees, and after a
deletion keeps a marker (`ScheduledEviction.evicted`) so that the pod is not deleted again until
something new happens: a node event that changes its NoExecute taints ends the work of the pods on it
as it reaches the controller manager (`nodelifecycle_events`), a pod of another uid takes the name.
The rest of the cancelling (`eviction_queued`) is done by the controller's next step (`gc_memory`).

A fired work that fails is tried again, up to 5 tries in all (`deletePodHandler`'s `retries`), with
no model time passing between them (10 ms apart upstream); then it is dropped, and the pod stays where
it is until a new event — a partition of the controller manager, an API server without etcd quorum
or an overloaded one longer than those tries leaves pods on a tainted node (`ScheduledEviction.tries`).

Left out: node-startup grace (nodes here always have a Ready condition), events, and the taint
queue's FIFO order (any node waiting in a zone may take its next token). There is no DaemonSet-pod
exemption to leave out in v1.33: the one upstream has is in `DeletePods`
(`pkg/controller/util/node/controller_utils.go`, "if the pod is managed by a daemonset, ignore it"),
which only the eviction without taints called (processNoTaintBaseEviction / doEvictionPass, gone
with `--enable-taint-manager` in v1.27); MarkPodsNotReady marks DaemonSet pods too, and the taint
eviction controller keeps them because the DaemonSet controller gives them NoExecute tolerations
of not-ready and unreachable without tolerationSeconds (`daemonset_util`).

Model choice: a node the monitorNodeHealth pass has just marked Unknown (or False) may be tainted
at once (`TaintNode`, enabled once the controller manager's cache shows it not Ready). Upstream the
same pass calls processTaintBaseEviction with the Ready condition tryUpdateNodeHealth *observed*
(the copy taken before its own update: "make a copy of it, since we may modify it in place later"),
still True, so the node joins its zone's NoExecute queue only at the next pass, `nodeMonitorPeriod`
(5 s) later. That delay is below the model's 10 s clock and is not modelled: the taint (and every
eviction after it) can come up to 5 s earlier than upstream's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs

from kubeprop.model.api.codec import encode
from kubeprop.model.api.core import (
    TAINT_NODE_MEMORY_PRESSURE,
    TAINT_NODE_NOT_READY,
    TAINT_NODE_UNREACHABLE,
    TAINT_NODE_UNSCHEDULABLE,
    Node,
    Taint,
)
from kubeprop.model.api.meta import Condition, condition_unchanged, find_condition, set_condition
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.nodelifecycle_health import (
    EVICTION_TRIES,
    IDENTITY,
    NAME,
    MonitorNodeHealth,
    NodeLifecycleMemory,
    ScheduledEviction,
    blocks_tick,
    eviction_queued,
    gc_memory,
    initial_nodelifecycle_memory,
    memory,
    monitor_node_health,
    pass_enabled,
    stale_since,
)
from kubeprop.model.controllers.nodelifecycle_rules import (
    eviction_delay,
    is_health_taint,
    ready_status,
    zone_key,
)
from kubeprop.model.evolve import evolve
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, is_up, pod_key, send, view
from kubeprop.model.state.informer import ObjectView

__all__ = [
    "HANDLERS", "IDENTITY", "NAME", "MarkPodsNotReady", "MonitorNodeHealth", "NodeLifecycleMemory",
    "ScheduleTaintEviction", "ScheduledEviction", "StartNodeLifecycle", "SyncNoScheduleTaints", "TaintEvictPod",
    "TaintNode", "UntaintNode", "blocks_tick", "enabled", "initial_nodelifecycle_memory", "memory", "next_timer",
]
CONDITION_TAINTS: dict[tuple[str, str], str] = {
    ("Ready", "False"): TAINT_NODE_NOT_READY, ("Ready", "Unknown"): TAINT_NODE_UNREACHABLE,
    ("MemoryPressure", "True"): TAINT_NODE_MEMORY_PRESSURE,
    ("DiskPressure", "True"): "node.kubernetes.io/disk-pressure",
    ("NetworkUnavailable", "True"): "node.kubernetes.io/network-unavailable",
    ("PIDPressure", "True"): "node.kubernetes.io/pid-pressure",
}
"""`nodeConditionToTaintKeyStatusMap`: conditions → NoSchedule taints."""


@attrs.frozen(order=True)
class StartNodeLifecycle(Action):
    """The controller has synced its caches and starts monitoring: its heartbeat memory is now."""


@attrs.frozen(order=True)
class MarkPodsNotReady(Action):
    """Every pod on a not-Ready node gets Ready=False (`MarkPodsNotReady`)."""

    node: str


@attrs.frozen(order=True)
class SyncNoScheduleTaints(Action):
    """The NoSchedule taints follow the node's conditions (`doNoScheduleTaintingPass`)."""

    node: str


@attrs.frozen(order=True)
class TaintNode(Action):
    """A not-Ready node gets `not-ready:NoExecute` (Ready=False) or `unreachable:NoExecute`
    (Unknown): a new taint when its zone's tainter has a token (`doNoExecuteTaintingPass`), a
    swap of the other one at once (`processTaintBaseEviction`)."""

    node: str


@attrs.frozen(order=True)
class UntaintNode(Action):
    """Ready again: the NoExecute taints go (`processTaintBaseEviction` → `markNodeAsReachable`).
    Entering full disruption removes them inside the pass (`MonitorNodeHealth`)."""

    node: str


@attrs.frozen(order=True)
class ScheduleTaintEviction(Action):
    """The taint eviction controller sees a pod tolerating its node's NoExecute taints for a while
    and queues its deletion at now + the smallest tolerationSeconds."""

    pod: str


@attrs.frozen(order=True)
class TaintEvictPod(Action):
    """A pod not tolerating a NoExecute taint (or whose toleration ran out) is deleted, with a
    DisruptionTarget condition first (`addConditionAndDeletePod`)."""

    pod: str


# --- reading the cache -----------------------------------------------------------------------


def _nodes(cache: ObjectView) -> list[Node]:
    return [n for n in cache.list("nodes") if isinstance(n, Node)]


def _pods_on(cache: ObjectView, node: str) -> list[Pod]:
    return [p for p in cache.list("pods") if isinstance(p, Pod) and p.spec.node_name == node]


# --- enabled ---------------------------------------------------------------------------------


def _transition_only(model: ClusterModel) -> bool:
    return bool(model.parameter("markPodsNotReadyOnTransitionOnly"))


def _pods_to_mark(cache: ObjectView, node: str) -> list[Pod]:
    out = []
    for pod in _pods_on(cache, node):
        cond = find_condition(pod.status.conditions, "Ready")
        if cond is not None and cond.status != "False":
            out.append(pod)
    return out


def _enabled_node(model: ClusterModel, state: ClusterState, mem: NodeLifecycleMemory, node: Node,
                  cache: ObjectView) -> Iterator[Action]:
    name = node.metadata.name
    ready = ready_status(node)
    if ready != "True" and _pods_to_mark(cache, name) and (
            not _transition_only(model) or name in mem.pods_not_ready_pending):
        yield MarkPodsNotReady(name)
    if _no_schedule_taints(node) != _current_no_schedule(node):
        yield SyncNoScheduleTaints(name)
    wanted, current = _wanted_no_execute(node), _current_no_execute(node)
    if wanted is None and current is not None:
        yield UntaintNode(name)
    elif wanted is not None and wanted != current and (
            current is not None or mem.tainter(zone_key(node)).available(state.clock)):
        yield TaintNode(name)


def _enabled_evictions(state: ClusterState, mem: NodeLifecycleMemory, cache: ObjectView) -> Iterator[Action]:
    """processPodOnNode for every pod on a NoExecute-tainted node (terminating ones too: upstream has no
    deletionTimestamp check), then the timers that fired (`eviction_queued`), whatever pod now has the name."""
    nodes = {n.metadata.name: n for n in _nodes(cache)}
    fired = {key for key, entry in mem.evictions.items() if not entry.evicted and state.clock >= entry.fire_at
             and eviction_queued(_cached_pod(cache, key), entry, nodes)}
    for pod in cache.list("pods"):
        if not isinstance(pod, Pod) or not pod.spec.node_name:
            continue
        key = pod_key(pod)
        delay = eviction_delay(pod, nodes.get(pod.spec.node_name))
        entry = mem.evictions.get(key)
        if entry is not None and not eviction_queued(pod, entry, nodes):
            entry = None
        if key in fired or (delay == 0 and (entry is None or not entry.evicted)):
            fired.discard(key)
            yield TaintEvictPod(key)
        elif delay is not None and entry is None:
            yield ScheduleTaintEviction(key)
    for key in sorted(fired):  # pods not on a tainted node (now): replaced under the name, or unscheduled
        yield TaintEvictPod(key)


def _cached_pod(cache: ObjectView, key: str) -> Pod | None:
    namespace, name = key.split("/", 1)
    pod = cache.get(ObjectKey("pods", namespace, name))
    return pod if isinstance(pod, Pod) else None


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """Every enabled node lifecycle / taint eviction action (nodes and pods in name order)."""
    if not is_up(state, CONTROLLER_MANAGER):
        return
    mem = memory(state)
    if mem.started_at is None:
        yield StartNodeLifecycle()
        return
    if pass_enabled(model, state):
        yield MonitorNodeHealth()
    cache = view(model, state, CONTROLLER_MANAGER)
    for node in _nodes(cache):
        yield from _enabled_node(model, state, mem, node, cache)
    yield from _enabled_evictions(state, mem, cache)


def next_timer(model: ClusterModel, state: ClusterState) -> int | None:
    """The earliest future time a node's grace period runs out, a taint eviction fires, or a zone
    tainter gets the token a waiting node needs."""
    if not is_up(state, CONTROLLER_MANAGER):
        return None
    mem = memory(state)
    times = [e.fire_at for e in mem.evictions.values() if not e.evicted]
    for name in state.heartbeat_lost:
        since = stale_since(model, state, mem, name)
        if since is not None:
            times.append(since + 1)
    for node in _nodes(view(model, state, CONTROLLER_MANAGER)):
        tainter = mem.tainter(zone_key(node))
        if _wanted_no_execute(node) is not None and _current_no_execute(node) is None and tainter.period is not None:
            times.append(tainter.ready_at)
    future = [t for t in times if t > state.clock]
    return min(future) if future else None


# --- taint sets ------------------------------------------------------------------------------


def _current_no_schedule(node: Node) -> tuple[str, ...]:
    keys = set(k for k in CONDITION_TAINTS.values()) | {TAINT_NODE_UNSCHEDULABLE}
    return tuple(sorted(t.key for t in node.spec.taints if t.effect == "NoSchedule" and t.key in keys))


def _no_schedule_taints(node: Node) -> tuple[str, ...]:
    """The condition-driven NoSchedule taint keys the node should have."""
    pairs = ((c.type, c.status) for c in node.status.conditions)
    keys = {CONDITION_TAINTS[p] for p in pairs if p in CONDITION_TAINTS}
    if node.spec.unschedulable:
        keys.add(TAINT_NODE_UNSCHEDULABLE)
    return tuple(sorted(keys))


def _current_no_execute(node: Node) -> str | None:
    keys = sorted(t.key for t in node.spec.taints if is_health_taint(t))
    return keys[0] if len(keys) == 1 else ("both" if keys else None)


def _wanted_no_execute(node: Node) -> str | None:
    """The NoExecute taint key a node of this Ready status should carry (None for a Ready one)."""
    ready = ready_status(node)
    if ready == "True":
        return None
    return TAINT_NODE_NOT_READY if ready == "False" else TAINT_NODE_UNREACHABLE


# --- handlers --------------------------------------------------------------------------------


def _save(state: ClusterState, mem: NodeLifecycleMemory, model: ClusterModel) -> ClusterState:
    mem = gc_memory(model, state, mem)
    return evolve(state, controllers=state.controllers.set(NAME, mem))


def _node(model: ClusterModel, state: ClusterState, name: str) -> Node:
    node = next(n for n in _nodes(view(model, state, CONTROLLER_MANAGER)) if n.metadata.name == name)
    return node


def _pod(model: ClusterModel, state: ClusterState, key: str) -> Pod:
    namespace, name = key.split("/", 1)
    cache = view(model, state, CONTROLLER_MANAGER)
    pod = next(p for p in cache.list("pods", namespace) if p.metadata.name == name)
    assert isinstance(pod, Pod)
    return pod


def _send(model: ClusterModel, state: ClusterState, request: Request) -> tuple[ClusterState, bool, int]:
    state, response = send(model, state, IDENTITY, request, CONTROLLER_MANAGER)
    return state, response.ok, response.code


def start(model: ClusterModel, state: ClusterState, act: StartNodeLifecycle) -> ClusterState:
    """Remember the start time (every node's heartbeat counts as seen now) and the NoExecute taints of
    the cached nodes (`tainted`)."""
    cached = initial_nodelifecycle_memory(state.clock, _nodes(view(model, state, CONTROLLER_MANAGER)))
    return _save(state, evolve(memory(state), started_at=state.clock, tainted=cached.tainted), model)


def mark_pods_not_ready(model: ClusterModel, state: ClusterState, act: MarkPodsNotReady) -> ClusterState:
    """UpdateStatus of each Ready pod on the node with Ready=False; NotFound is skipped, any other
    failure keeps the node pending for a retry."""
    failed = False
    for pod in _pods_to_mark(view(model, state, CONTROLLER_MANAGER), act.node):
        cond = find_condition(pod.status.conditions, "Ready")
        assert cond is not None
        conditions = set_condition(pod.status.conditions,
                                   evolve(cond, status="False", last_transition_time=state.clock))
        obj = evolve(pod, status=evolve(pod.status, conditions=conditions))
        state, ok, code = _send(model, state, Request(verb="update-status", user=IDENTITY, obj=obj))
        failed = failed or (not ok and code != 404)
    mem = memory(state)
    if not failed:
        mem = evolve(mem, pods_not_ready_pending=tuple(n for n in mem.pods_not_ready_pending if n != act.node))
    return _save(state, mem, model)


UPDATE_TAINT_ATTEMPTS = 5
"""`pkg/controller/controller_utils.go` UpdateTaintBackoff.Steps: RetryOnConflict's attempts."""


def _write_taints(model: ClusterModel, state: ClusterState, node: Node,
                  edit: Callable[[Node], tuple[Taint, ...]]) -> ClusterState:
    """Write the node with `edit(node)` as its taints, as `SwapNodeControllerTaint` does through
    `AddOrUpdateTaintOnNode` / `RemoveTaintOffNode` (`pkg/controller/controller_utils.go`): the
    first attempt starts from the cached node (upstream a GET with resourceVersion "0"), and a
    409 Conflict is retried from a fresh read (`clientretry.RetryOnConflict(UpdateTaintBackoff)`,
    a consistent GET), so a stale cache delays a taint by milliseconds, not by a rate-limiter token."""
    current = node
    for _ in range(UPDATE_TAINT_ATTEMPTS):
        obj = evolve(current, spec=evolve(current.spec, taints=edit(current)))
        state, _, code = _send(model, state, Request(verb="update", user=IDENTITY, obj=obj))
        fresh = state.store.get(ObjectKey("nodes", "", node.metadata.name)) if code == 409 else None
        if not isinstance(fresh, Node):
            break
        current = fresh
    return _save(state, memory(state), model)


def sync_no_schedule_taints(model: ClusterModel, state: ClusterState, act: SyncNoScheduleTaints) -> ClusterState:
    """Add the missing condition taints (timeAdded = now), remove the stale ones."""
    node = _node(model, state, act.node)
    wanted = _no_schedule_taints(node)
    managed = set(CONDITION_TAINTS.values()) | {TAINT_NODE_UNSCHEDULABLE}

    def edit(current: Node) -> tuple[Taint, ...]:
        kept = tuple(t for t in current.spec.taints
                     if not (t.effect == "NoSchedule" and t.key in managed and t.key not in wanted))
        present = {t.key for t in kept if t.effect == "NoSchedule"}
        return kept + tuple(Taint(key=k, effect="NoSchedule", time_added=state.clock) for k in wanted
                            if k not in present)

    return _write_taints(model, state, node, edit)


def _without_no_execute(node: Node) -> tuple[Taint, ...]:
    return tuple(t for t in node.spec.taints if not is_health_taint(t))


def taint_node(model: ClusterModel, state: ClusterState, act: TaintNode) -> ClusterState:
    """Put the wanted NoExecute taint (timeAdded = now) in place of the other; a new one takes
    a token from the zone's tainter (Try: the token is spent whether or not the write succeeds)."""
    node = _node(model, state, act.node)
    wanted = _wanted_no_execute(node)
    if _current_no_execute(node) is None:
        mem = memory(state)
        zone = zone_key(node)
        mem = evolve(mem, tainters=mem.tainters.set(zone, mem.tainter(zone).take(state.clock)))
        state = evolve(state, controllers=state.controllers.set(NAME, mem))
    added = (Taint(key=wanted, effect="NoExecute", time_added=state.clock),) if wanted else ()
    return _write_taints(model, state, node, lambda current: _without_no_execute(current) + added)


def untaint_node(model: ClusterModel, state: ClusterState, act: UntaintNode) -> ClusterState:
    """Remove the not-ready / unreachable NoExecute taints."""
    return _write_taints(model, state, _node(model, state, act.node), _without_no_execute)


def schedule_taint_eviction(model: ClusterModel, state: ClusterState, act: ScheduleTaintEviction) -> ClusterState:
    """Queue the pod's deletion at now + its smallest matching tolerationSeconds (processPodOnNode's
    AddWork, keyed by the pod's namespace/name)."""
    pod = _pod(model, state, act.pod)
    node = next((n for n in _nodes(view(model, state, CONTROLLER_MANAGER)) if n.metadata.name == pod.spec.node_name),
                None)
    delay = eviction_delay(pod, node)
    assert delay is not None
    mem = memory(state)
    entry = ScheduledEviction(pod.spec.node_name, state.clock + delay)
    return _save(state, evolve(mem, evictions=mem.evictions.set(act.pod, entry)), model)


def taint_evict_pod(model: ClusterModel, state: ClusterState, act: TaintEvictPod) -> ClusterState:
    """addConditionAndDeletePod (`pkg/controller/tainteviction/taint_eviction.go`): the work knows only the
    pod's namespace/name. GET the pod of that name live — whichever pod it is now, a replacement
    created under the name included (kubernetes#29522) — and add DisruptionTarget=True
    (DeletionByTaintManager) by a status patch, sent only when `UpdatePodCondition` changes something
    (`pkg/util/pod/pod.go` PatchPodStatus: a two-way strategic merge patch of the live status with the
    fetched pod's UID as its precondition, so nothing else of the status is rewritten), a terminating
    pod too; then DELETE by name with default options (no UID precondition). One action is one try of
    deletePodHandler's loop. A pod gone (404) ends the work (upstream tries on, getting 404 each time,
    and the work ends all the same); another failure counts a try (`_failed_try`)."""
    namespace, name = act.pod.split("/", 1)
    get = Request(verb="get", user=IDENTITY, resource="pods", namespace=namespace, name=name)
    state, response = send(model, state, IDENTITY, get, CONTROLLER_MANAGER)
    live = response.obj
    ok, done = response.ok and isinstance(live, Pod), response.code == 404
    if ok and isinstance(live, Pod):
        cond = Condition(type="DisruptionTarget", status="True", reason="DeletionByTaintManager",
                         message="Taint manager: deleting due to NoExecute taint", last_transition_time=state.clock)
        if not condition_unchanged(live.status.conditions, cond):
            merged = find_condition(set_condition(live.status.conditions, cond), cond.type)
            patch = {"metadata": {"uid": live.metadata.uid}, "status": {"conditions": [encode(merged)]}}
            request = Request(verb="patch-status", user=IDENTITY, resource="pods", namespace=namespace, name=name,
                              patch=patch, patch_type="strategic")
            state, ok, code = _send(model, state, request)
            done = code == 404
        if ok:
            request = Request(verb="delete", user=IDENTITY, resource="pods", namespace=namespace, name=name)
            state, ok, code = _send(model, state, request)
            done = code == 404
    mem = memory(state)
    if ok and isinstance(live, Pod):
        mem = evolve(mem, evictions=mem.evictions.set(act.pod, ScheduledEviction(
            live.spec.node_name, state.clock, evicted=live.metadata.uid)))
    elif done:
        mem = evolve(mem, evictions=mem.evictions.delete(act.pod))
    else:
        mem = _failed_try(model, state, mem, act.pod)
    return _save(state, mem, model)


def _failed_try(model: ClusterModel, state: ClusterState, mem: NodeLifecycleMemory, key: str) -> NodeLifecycleMemory:
    """A failed try of the work for `key` (`pkg/controller/tainteviction/taint_eviction.go` deletePodHandler:
    `for i := 0; i < retries; i++`, 10 ms apart, `retries` = 5): counted in the work's `tries` (a work
    that fired without a timer, for a pod that tolerates nothing, gets its entry here); at the fifth the
    work returns its error and `getWrappedWorkerFunc` drops it from the queue, which the model marks as
    finished for the pod in the controller's cache (`ScheduledEviction.evicted`): it is not tried again
    until a new event — its node's NoExecute taints change (`nodelifecycle_events`), a pod of another
    uid takes the name. The tries do not let the clock pass between them (`blocks_tick`)."""
    cached = _cached_pod(view(model, state, CONTROLLER_MANAGER), key)
    if cached is None:
        return mem
    entry = mem.evictions.get(key)
    tries = (entry.tries if entry is not None and not entry.evicted else 0) + 1
    if tries >= EVICTION_TRIES:
        done = ScheduledEviction(cached.spec.node_name, state.clock, evicted=cached.metadata.uid)
        return evolve(mem, evictions=mem.evictions.set(key, done))
    node, fire_at = (entry.node, entry.fire_at) if entry is not None else (cached.spec.node_name, state.clock)
    return evolve(mem, evictions=mem.evictions.set(key, ScheduledEviction(node, fire_at, tries=tries)))


HANDLERS: dict[type, Any] = {
    StartNodeLifecycle: start, MonitorNodeHealth: monitor_node_health, MarkPodsNotReady: mark_pods_not_ready,
    SyncNoScheduleTaints: sync_no_schedule_taints, TaintNode: taint_node, UntaintNode: untaint_node,
    ScheduleTaintEviction: schedule_taint_eviction, TaintEvictPod: taint_evict_pod,
}
"""Action class → pure handler."""
