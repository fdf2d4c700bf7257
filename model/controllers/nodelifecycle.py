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

The taint eviction controller (`ScheduleTaintEviction`, `TaintEvictPod`) is in
`kubeprop.model.controllers.nodelifecycle_tainteviction`.

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

from kubeprop.model.api.core import (
    TAINT_NODE_MEMORY_PRESSURE,
    TAINT_NODE_NOT_READY,
    TAINT_NODE_UNREACHABLE,
    TAINT_NODE_UNSCHEDULABLE,
    Node,
    Taint,
)
from kubeprop.model.api.meta import find_condition, set_condition
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.nodelifecycle_health import (
    IDENTITY,
    NAME,
    MonitorNodeHealth,
    NodeLifecycleMemory,
    ScheduledEviction,
    blocks_tick,
    initial_nodelifecycle_memory,
    memory,
    monitor_node_health,
    pass_enabled,
    stale_since,
)
from kubeprop.model.controllers.nodelifecycle_rules import (
    is_health_taint,
    ready_status,
    zone_key,
)
from kubeprop.model.controllers.nodelifecycle_tainteviction import (
    ScheduleTaintEviction,
    TaintEvictPod,
    cached_nodes,
    enabled_evictions,
    save_memory,
    schedule_taint_eviction,
    send_as_controller,
    taint_evict_pod,
)
from kubeprop.model.evolve import evolve
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, is_up, view
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


# --- reading the cache -----------------------------------------------------------------------


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
    for node in cached_nodes(cache):
        yield from _enabled_node(model, state, mem, node, cache)
    yield from enabled_evictions(state, mem, cache)


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
    for node in cached_nodes(view(model, state, CONTROLLER_MANAGER)):
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


def _node(model: ClusterModel, state: ClusterState, name: str) -> Node:
    node = next(n for n in cached_nodes(view(model, state, CONTROLLER_MANAGER)) if n.metadata.name == name)
    return node


def start(model: ClusterModel, state: ClusterState, act: StartNodeLifecycle) -> ClusterState:
    """Remember the start time (every node's heartbeat counts as seen now) and the NoExecute taints of
    the cached nodes (`tainted`)."""
    cached = initial_nodelifecycle_memory(state.clock, cached_nodes(view(model, state, CONTROLLER_MANAGER)))
    return save_memory(state, evolve(memory(state), started_at=state.clock, tainted=cached.tainted), model)


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
        state, ok, code = send_as_controller(model, state, Request(verb="update-status", user=IDENTITY, obj=obj))
        failed = failed or (not ok and code != 404)
    mem = memory(state)
    if not failed:
        mem = evolve(mem, pods_not_ready_pending=tuple(n for n in mem.pods_not_ready_pending if n != act.node))
    return save_memory(state, mem, model)


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
        state, _, code = send_as_controller(model, state, Request(verb="update", user=IDENTITY, obj=obj))
        fresh = state.store.get(ObjectKey("nodes", "", node.metadata.name)) if code == 409 else None
        if not isinstance(fresh, Node):
            break
        current = fresh
    return save_memory(state, memory(state), model)


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


HANDLERS: dict[type, Any] = {
    StartNodeLifecycle: start, MonitorNodeHealth: monitor_node_health, MarkPodsNotReady: mark_pods_not_ready,
    SyncNoScheduleTaints: sync_no_schedule_taints, TaintNode: taint_node, UntaintNode: untaint_node,
    ScheduleTaintEviction: schedule_taint_eviction, TaintEvictPod: taint_evict_pod,
}
"""Action class → pure handler."""
