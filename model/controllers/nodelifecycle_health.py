"""The node lifecycle controller's memory and its periodic pass: `monitorNodeHealth`, which marks
silent nodes Unknown and then runs `handleDisruption`, in one step.

Upstream (`pkg/controller/nodelifecycle/node_lifecycle_controller.go`, v1.33): every
`nodeMonitorPeriod` (5 s) monitorNodeHealth lists the nodes, runs tryUpdateNodeHealth on each (Ready
and the pressure conditions become Unknown once no heartbeat came for the grace period; an update
that fails is retried on a fresh GET, up to five tries within the pass, and a node whose update
keeps failing is left out of the zone counts: `_mark_unknown`), collects every node's current Ready
condition per zone, and at the end of the same pass calls handleDisruption: zone states
(ComputeZoneState) set the zone tainters' rate limiters, and entering "every zone in FullDisruption"
removes the NoExecute taints from every node (markNodeAsReachable, which short-circuits on the
cached node's taints and patches a fresh GET) and stops all tainters; leaving it resets every node's
probe timestamp (a fresh grace period) and the limiters.

In the model the pass is one action, `MonitorNodeHealth`, enabled when it has something to do
(a node to mark, or zone states / limiters to change) and not yet run at this model time. Because
upstream runs it every 5 s, within one 10 s tick of the model clock, `Tick` waits for a due pass
(`blocks_tick`): time cannot pass — and no taint-eviction timer fire — between the last node of a
zone going silent and the taints coming off for full disruption. Pods are marked NotReady by a
separate action (`MarkPodsNotReady`), so a crash can still fall between the node and its pods
(kubernetes#50067). Zone states are stored only when not Normal (a zone not seen yet is
Initial, which behaves as Normal), tainters only while they differ from a new, full one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from operator import is_
from typing import Any

import attrs

from kubeprop.model.api.core import Node, Taint
from kubeprop.model.api.meta import Condition, find_condition, set_condition
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.nodelifecycle_rules import (
    DEFAULT_TAINTER,
    EXCLUDE_DISRUPTION_LABEL,
    FULL,
    NORMAL,
    ZoneTainter,
    eviction_delay,
    is_health_taint,
    limiter_period,
    no_execute_taints,
    ready_status,
    zone_states,
)
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, is_up, send, view

NAME = "nodelifecycle"
"""The key of this controller's memory in `state.controllers`."""
IDENTITY = CONTROLLER_MANAGER_USER
UNKNOWN_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
"""`tryUpdateNodeHealth`: NetworkUnavailable is left alone."""


@attrs.frozen(cache_hash=True)
class ScheduledEviction:
    """A work item of the taint eviction controller's `TimedWorkerQueue`, stored in
    `NodeLifecycleMemory.evictions` under the pod's namespace/name — upstream's only key
    (`pkg/controller/tainteviction/timed_workers.go` `NewWorkArgs(name, namespace)`, `KeyFromWorkArgs`):
    the work deletes whatever pod has that name when it fires, not a particular pod.

    - `node`: the node the pod was on when the work was added (`handleNodeUpdate` cancels the work of
      the pods on a node whose NoExecute taints are gone);
    - `fire_at`: when the timer fires;
    - `evicted`: "" while the timer runs; once the work has finished — deleted a pod, or given up after
      `EVICTION_TRIES` failed tries — that pod's uid. Upstream the finished work leaves the queue
      (`getWrappedWorkerFunc` deletes its key whatever the work returned), and the pod is processed
      again only on a new event (its node's taints change, a pod is added under the name): the model,
      which enables taint eviction from the state rather than from events, keeps this marker so that
      the same pod is not deleted over and over while it terminates, nor tried again after the work
      gave up. A node event that changes the NoExecute taints removes it (`nodelifecycle_events`), and a
      pod of another uid under the name is a new event;
    - `tries`: the failed tries of the fired work so far (`deletePodHandler` tries
      addConditionAndDeletePod up to `retries` = 5 times, 10 ms apart); 0 until a try fails."""

    node: str
    fire_at: int
    evicted: str = attrs.field(default="", metadata={"fingerprint": "omit-if-default"})
    tries: int = attrs.field(default=0, metadata={"fingerprint": "omit-if-default"})


EVICTION_TRIES = 5
"""`pkg/controller/tainteviction/taint_eviction.go` `retries`: deletePodHandler's tries of
addConditionAndDeletePod before the work returns its error and leaves the queue."""


@attrs.frozen(cache_hash=True)
class NodeLifecycleMemory:
    """What the controllers keep in memory, lost on a crash.

    - `started_at`: when the controller (re)started; None until `StartNodeLifecycle`;
    - `pods_not_ready_pending`: nodes whose Ready→not-Ready transition was seen but whose pods
      are not yet marked (`nodesToRetry`; used with markPodsNotReadyOnTransitionOnly);
    - `evictions`: the taint eviction queue, pod namespace/name → work (`ScheduledEviction`);
    - `zone_states`: zones not in Normal (`zoneStates`); `tainters`: zone rate limiters that
      differ from a full healthy one (`zoneNoExecuteTainter`);
    - `last_pass`: the model time of the last monitorNodeHealth pass;
    - `probes_reset_at`: when leaving full disruption last reset every node's probe timestamp;
    - `tainted`: the taint eviction controller's `taintedNodes` — each node's NoExecute taints as the
      node events that reached it showed them (nodes without any are absent), so that an event, which
      carries only the new node, can be told to change them (`kubeprop.model.controllers.nodelifecycle_events`).
      Set from the controller manager's cache when the controller starts, then by every node event, it
      is what that cache shows whenever it is read (the controller up and started;
      `tests/model/controllers/test_nodelifecycle_events.py` checks it along random runs): a function of
      the rest of the state, so it is left out of equality, hashes and fingerprints — two states that
      differ only there cannot occur, and recorded traces keep their fingerprints.
    """

    started_at: int | None = None
    pods_not_ready_pending: tuple[str, ...] = ()
    evictions: FrozenMap[str, ScheduledEviction] = EMPTY
    zone_states: FrozenMap[str, str] = EMPTY
    tainters: FrozenMap[str, ZoneTainter] = EMPTY
    last_pass: int | None = None
    probes_reset_at: int | None = None
    tainted: FrozenMap[str, tuple[Taint, ...]] = attrs.field(default=EMPTY, eq=False)

    def zone_state(self, zone: str) -> str:
        """The zone's state as of the last pass (Normal if never seen otherwise)."""
        return self.zone_states.get(zone, NORMAL)

    def tainter(self, zone: str) -> ZoneTainter:
        """The zone's tainter (a full healthy bucket if none is stored)."""
        return self.tainters.get(zone, DEFAULT_TAINTER)

    def normalized(self, now: int) -> NodeLifecycleMemory:
        """Drop what equals the defaults: Normal zones, full healthy buckets."""
        states = FrozenMap({z: s for z, s in self.zone_states.items() if s != NORMAL})
        tainters = FrozenMap({z: t for z, t in self.tainters.items()
                              if not (t.period == DEFAULT_TAINTER.period and t.ready_at <= now)})
        return evolve(self, zone_states=states, tainters=tainters)


def initial_nodelifecycle_memory(started_at: int | None = None, nodes: Iterable[object] = ()) -> NodeLifecycleMemory:
    """The memory at start. After a crash it is `started_at=None` (the controller must run
    `StartNodeLifecycle` after the restart); an initial cluster may pass `started_at=0`. A started
    controller knows the NoExecute taints of the `nodes` in its cache (`tainted`: upstream its
    informer's initial list is an add event of every node)."""
    return NodeLifecycleMemory(started_at=started_at, tainted=known_taints(nodes))


def known_taints(nodes: Iterable[object]) -> FrozenMap[str, tuple[Taint, ...]]:
    """`taintedNodes` of a controller that has seen `nodes`: name → NoExecute taints, for those with any."""
    return FrozenMap({n.metadata.name: taints for n in nodes
                      if isinstance(n, Node) and (taints := no_execute_taints(n))})


def memory(state: ClusterState) -> NodeLifecycleMemory:
    """The controllers' memory (initial if the lead stored none)."""
    value = state.controllers.get(NAME)
    return value if isinstance(value, NodeLifecycleMemory) else initial_nodelifecycle_memory()


@attrs.frozen(order=True)
class MonitorNodeHealth(Action):
    """One monitorNodeHealth pass: every node silent for the grace period gets Ready and the
    pressure conditions Unknown, then handleDisruption runs on the zone states (see the module)."""


# --- reading ---------------------------------------------------------------------------------


def cached_nodes(model: ClusterModel, state: ClusterState) -> list[Node]:
    """The nodes in the controller manager's cache, in name order."""
    return [n for n in view(model, state, CONTROLLER_MANAGER).list("nodes") if isinstance(n, Node)]


def cached_resource(model: ClusterModel, state: ClusterState, resource: str) -> object:
    """What stands for one resource of the controller manager's cache in memo keys (compared by
    identity): its `ResourceCache`, the store's objects with instant caches, or a new object
    (never equal to another) when it has no cache."""
    informer = state.informers.get(CONTROLLER_MANAGER)
    if informer is not None:
        return informer.resources.get(resource)
    return state.store.objects if model.instant_caches else object()


def stale_since(model: ClusterModel, state: ClusterState, mem: NodeLifecycleMemory, node: str) -> int | None:
    """The time after which the controller considers the node's heartbeat lost, if it is: the
    last heartbeat (or the controller's start, or the last probe reset) plus the grace period."""
    lost = state.heartbeat_lost.get(node)
    if lost is None or mem.started_at is None:
        return None
    probe = max(lost, mem.started_at, mem.probes_reset_at or 0)
    return probe + int(model.parameter("nodeMonitorGracePeriodSeconds"))


def _expired(model: ClusterModel, state: ClusterState, mem: NodeLifecycleMemory, node: str) -> bool:
    since = stale_since(model, state, mem, node)
    return since is not None and state.clock > since


def needs_unknown(node: Node) -> bool:
    """Some of the conditions the controller marks is missing or not Unknown."""
    return any((c := find_condition(node.status.conditions, t)) is None or c.status != "Unknown"
               for t in UNKNOWN_CONDITIONS)


def _observed(model: ClusterModel, state: ClusterState, mem: NodeLifecycleMemory, nodes: list[Node]
              ) -> dict[str, str]:
    """Each node's Ready status as the pass sees it: Unknown once its grace ran out."""
    return {n.metadata.name: "Unknown" if _expired(model, state, mem, n.metadata.name) else ready_status(n)
            for n in nodes}


def _plan_disruption(mem: NodeLifecycleMemory, nodes: list[Node], observed: dict[str, str], now: int
                     ) -> tuple[NodeLifecycleMemory, bool]:
    """handleDisruption on the pass's Ready statuses: the new memory, and whether every node's
    NoExecute taints come off (entering full disruption everywhere)."""
    counted = [n for n in nodes if n.metadata.name in observed]
    new = zone_states(counted, observed)
    states = {z: s for z, s in mem.zone_states.items() if z in new}
    tainters = {z: t for z, t in mem.tainters.items() if z in new}
    mem = evolve(mem, zone_states=FrozenMap(states), tainters=FrozenMap(tainters))
    all_are = all(s == FULL for s, _ in new.values())
    all_was = all(mem.zone_state(z) == FULL for z in new)
    if all_are and all_was:
        return mem.normalized(now), False
    if all_are:
        stopped = {z: mem.tainter(z).swap(None, now) for z in new}
        return evolve(mem, zone_states=FrozenMap({z: FULL for z in new}),
                      tainters=FrozenMap(stopped)).normalized(now), True
    if all_was:
        mem = evolve(mem, probes_reset_at=now)
    changed = {z: (s, size) for z, (s, size) in new.items() if all_was or mem.zone_state(z) != s}
    states.update({z: s for z, (s, _) in changed.items()})
    tainters.update({z: mem.tainter(z).swap(limiter_period(s, size), now) for z, (s, size) in changed.items()})
    return evolve(mem, zone_states=FrozenMap(states), tainters=FrozenMap(tainters)).normalized(now), False


_LAST_PASS: list[Any] = [(), False]
"""`pass_enabled`'s last inputs and answer: node lifecycle's `enabled` and the tick guard ask it
about the same state in turn."""


def pass_enabled(model: ClusterModel, state: ClusterState) -> bool:
    """Whether a monitorNodeHealth pass is due: the controller runs, has not passed at this model
    time, and a node needs marking or handleDisruption would change something."""
    reads = (model, state.down, state.controllers.get(NAME), cached_resource(model, state, "nodes"),
             state.heartbeat_lost, state.clock)
    last, answer = _LAST_PASS
    if len(last) == len(reads) and all(map(is_, last, reads)):
        return bool(answer)
    answer = _pass_enabled(model, state)
    _LAST_PASS[:] = [reads, answer]
    return answer


def _pass_enabled(model: ClusterModel, state: ClusterState) -> bool:
    if not is_up(state, CONTROLLER_MANAGER):
        return False
    mem = memory(state)
    if mem.started_at is None or mem.last_pass == state.clock:
        return False
    nodes = cached_nodes(model, state)
    if any(_expired(model, state, mem, n.metadata.name) and needs_unknown(n) for n in nodes):
        return True
    planned, untaint = _plan_disruption(mem, nodes, _observed(model, state, mem, nodes), state.clock)
    return untaint or planned != mem.normalized(state.clock)


def blocks_tick(model: ClusterModel, state: ClusterState) -> bool:
    """A due pass happens before the clock moves on (nodeMonitorPeriod 5 s < one tick), and so do the
    remaining tries of a taint eviction whose try failed (`retrying`: 10 ms apart upstream)."""
    return pass_enabled(model, state) or retrying(model, state)


def retrying(model: ClusterModel, state: ClusterState) -> bool:
    """Whether a fired taint eviction work has failed a try and has tries left (`tries`), and is still
    queued (`eviction_queued`, so its next try, `TaintEvictPod`, is enabled): deletePodHandler's five
    tries take some 40 ms, so model time does not pass between them."""
    if not is_up(state, CONTROLLER_MANAGER):
        return False
    pending = [(key, entry) for key, entry in memory(state).evictions.items() if entry.tries and not entry.evicted]
    if not pending:
        return False
    cache = view(model, state, CONTROLLER_MANAGER)
    nodes = {n.metadata.name: n for n in cache.list("nodes") if isinstance(n, Node)}
    for key, entry in pending:
        namespace, name = key.split("/", 1)
        pod = cache.get(ObjectKey("pods", namespace, name))
        if entry.fire_at <= state.clock and eviction_queued(pod if isinstance(pod, Pod) else None, entry, nodes):
            return True
    return False


# --- the pass --------------------------------------------------------------------------------


def _unknown(node: Node, now: int) -> Node:
    conditions = node.status.conditions
    for type_ in UNKNOWN_CONDITIONS:
        cond = find_condition(conditions, type_)
        if cond is None:
            conditions = (*conditions, Condition(
                type=type_, status="Unknown", reason="NodeStatusNeverUpdated",
                message="Kubelet never posted node status.", last_heartbeat_time=node.metadata.creation_timestamp,
                last_transition_time=now))
        elif cond.status != "Unknown":
            new = evolve(cond, status="Unknown", reason="NodeStatusUnknown",
                         message="Kubelet stopped posting node status.", last_transition_time=now)
            conditions = set_condition(conditions, new)
    return evolve(node, status=evolve(node.status, conditions=conditions))


NODE_HEALTH_UPDATE_RETRY = 5
"""`scheduler.NodeHealthUpdateRetry` (`pkg/controller/nodelifecycle/scheduler/rate_limited_queue.go`):
the tries monitorNodeHealth gives one node's health update."""


def _mark_unknown(model: ClusterModel, state: ClusterState, node: Node) -> tuple[ClusterState, str | None, bool]:
    """tryUpdateNodeHealth for a silent node: (state, its Ready status for the zone counts or
    None if its update failed, whether Ready went from True to Unknown).

    monitorNodeHealth's updateNodeFunc (`node_lifecycle_controller.go`, v1.33) wraps it in
    `wait.PollImmediate(retrySleepTime, retrySleepTime*scheduler.NodeHealthUpdateRetry)` (20 ms,
    100 ms): after any failed try — a conflict, a refusal, an injected failure alike — it GETs the
    node from the API server and tries again on that node; a failed GET ("Probably Node was
    deleted") ends the retries at once, and a node whose tries all fail is skipped ("Skipping - no
    pods will be evicted": out of the zone counts). The tries come at 0, 20, 40, 60 and 80 ms (a
    sixth at 100 ms races the timeout: the model takes `NODE_HEALTH_UPDATE_RETRY`), all below the
    model's clock, so within this one step; the GET after the last failed try is sent too, as
    upstream's condition function sends it before the poll notices the timeout. A fresh node that
    no longer needs the update (another writer marked it) counts as Unknown."""
    current = node
    for _ in range(NODE_HEALTH_UPDATE_RETRY):
        request = Request(verb="update-status", user=IDENTITY, obj=_unknown(current, state.clock))
        state, response = send(model, state, IDENTITY, request, CONTROLLER_MANAGER)
        if response.ok:
            return state, "Unknown", ready_status(current) == "True"
        get = Request(verb="get", user=IDENTITY, resource="nodes", name=node.metadata.name)
        state, response = send(model, state, IDENTITY, get, CONTROLLER_MANAGER)
        if not response.ok or not isinstance(response.obj, Node):
            return state, None, False
        current = response.obj
        if not needs_unknown(current):
            return state, "Unknown", False
    return state, None, False


def _mark_reachable(model: ClusterModel, state: ClusterState, node: Node) -> ClusterState:
    """markNodeAsReachable: if the cached node has a not-ready/unreachable NoExecute taint,
    remove both from the node read fresh (RemoveTaintOffNode)."""
    if not any(is_health_taint(t) for t in node.spec.taints):
        return state
    fresh = state.store.get(ObjectKey("nodes", "", node.metadata.name))
    if not isinstance(fresh, Node):
        return state
    kept = tuple(t for t in fresh.spec.taints if not is_health_taint(t))
    if kept == fresh.spec.taints:
        return state
    obj = evolve(fresh, spec=evolve(fresh.spec, taints=kept))
    state, _ = send(model, state, IDENTITY, Request(verb="update", user=IDENTITY, obj=obj), CONTROLLER_MANAGER)
    return state


def monitor_node_health(model: ClusterModel, state: ClusterState, act: MonitorNodeHealth) -> ClusterState:
    """The pass: mark every silent node Unknown, then handleDisruption (see the module)."""
    mem = memory(state)
    nodes = cached_nodes(model, state)
    observed: dict[str, str] = {}
    transitioned: list[str] = []
    ready: set[str] = set()
    for node in nodes:
        name = node.metadata.name
        status: str | None = ready_status(node)
        if _expired(model, state, mem, name):
            status = "Unknown"
            if needs_unknown(node):
                state, status, went_down = _mark_unknown(model, state, node)
                if went_down:
                    transitioned.append(name)
        if status == "True":
            ready.add(name)
        if status is not None and EXCLUDE_DISRUPTION_LABEL not in node.metadata.labels:
            observed[name] = status
    mem = memory(state)
    if model.parameter("markPodsNotReadyOnTransitionOnly"):
        # nodesToRetry: a node leaves it when this pass finds it Ready (not when the cache, which
        # has not yet seen this pass's own Unknown write, still shows it Ready)
        pending = {n for n in mem.pods_not_ready_pending if n not in ready} | set(transitioned)
        mem = evolve(mem, pods_not_ready_pending=tuple(sorted(pending)))
    mem, untaint = _plan_disruption(mem, nodes, observed, state.clock)
    if untaint:
        for node in nodes:
            state = _mark_reachable(model, state, node)
    mem = gc_memory(model, state, evolve(mem, last_pass=state.clock))
    return evolve(state, controllers=state.controllers.set(NAME, mem))


def _no_execute(node: Node | None) -> bool:
    return node is not None and any(t.effect == "NoExecute" for t in node.spec.taints)


def eviction_queued(pod: Pod | None, entry: ScheduledEviction, nodes: Mapping[str, Node]) -> bool:
    """Whether the taint eviction work `entry` is still queued, the controller manager's cache showing
    `pod` under its name (None: no pod of that name). `pkg/controller/tainteviction/taint_eviction.go`
    cancels a pod's work only when `handlePodUpdate` finds no pod of the name in its lister, when
    `processPodOnNode` finds the pod on a NoExecute-tainted node tolerating it forever, and when
    `handleNodeUpdate` sees the node's NoExecute taints gone (every pod on the node, terminating
    and terminal ones too: `getPodsAssignedToNode`). None of them looks at the uid or at
    deletionTimestamp, and `handlePodUpdate` returns without cancelling when the pod's nodeName is not
    the event's: a pod recreated under the name (a StatefulSet's) before the controller handles the
    old one's delete event keeps the old pod's timer, unscheduled or on another, untainted node.
    A finished work's marker (`evicted`) lasts while its pod stays on a tainted node that it does not
    tolerate forever. These rules are applied at the controller's steps (`gc_memory`); a node's events
    apply handleNodeUpdate's as they arrive (`kubeprop.model.controllers.nodelifecycle_events`)."""
    if pod is None:
        return False
    node = nodes.get(pod.spec.node_name)
    delay = eviction_delay(pod, node)
    if entry.evicted:
        return pod.metadata.uid == entry.evicted and delay is not None
    if _no_execute(node) and delay is None:
        return False
    return not (pod.spec.node_name == entry.node and node is not None and not _no_execute(node))


def gc_memory(model: ClusterModel, state: ClusterState, mem: NodeLifecycleMemory) -> NodeLifecycleMemory:
    """Drop memory that no longer applies: pending nodes that are gone (a Ready one leaves in the
    health pass that finds it Ready, `monitor_node_health`), and taint eviction work the controller
    cancels (`eviction_queued`)."""
    cache = view(model, state, CONTROLLER_MANAGER)
    nodes = {n.metadata.name: n for n in cache.list("nodes") if isinstance(n, Node)}
    pending = tuple(n for n in mem.pods_not_ready_pending if n in nodes)
    kept = {}
    for key, entry in mem.evictions.items():
        namespace, name = key.split("/", 1)
        pod = cache.get(ObjectKey("pods", namespace, name))
        if eviction_queued(pod if isinstance(pod, Pod) else None, entry, nodes):
            kept[key] = entry
    return evolve(mem, pods_not_ready_pending=pending, evictions=FrozenMap(kept))
