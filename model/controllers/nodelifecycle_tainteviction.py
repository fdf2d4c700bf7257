"""The taint eviction controller (kube-controller-manager), beside the node lifecycle controller
(`kubeprop.model.controllers.nodelifecycle`, which re-exports its actions and handlers, their home
before the split), with the cache reads and writes the two share (`cached_nodes`, `save_memory`,
`send_as_controller`). Upstream: `pkg/controller/tainteviction/taint_eviction.go` (processPodOnNode,
getMinTolerationTime), `pkg/apis/core/v1/helper/helpers.go` GetMatchingTolerations.

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
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from kubeprop.model.api.codec import encode
from kubeprop.model.api.core import Node
from kubeprop.model.api.meta import Condition, condition_unchanged, find_condition, set_condition
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.nodelifecycle_health import (
    EVICTION_TRIES,
    IDENTITY,
    NAME,
    NodeLifecycleMemory,
    ScheduledEviction,
    eviction_queued,
    gc_memory,
    memory,
)
from kubeprop.model.controllers.nodelifecycle_rules import eviction_delay
from kubeprop.model.evolve import evolve
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, pod_key, send, view
from kubeprop.model.state.informer import ObjectView


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


# --- the controller manager's cache and writes, shared with the node lifecycle controller -----


def cached_nodes(cache: ObjectView) -> list[Node]:
    """The nodes in the controller manager's cache."""
    return [n for n in cache.list("nodes") if isinstance(n, Node)]


def cached_pod(cache: ObjectView, key: str) -> Pod | None:
    """The pod `key` (namespace/name) in the cache, None if there is none."""
    namespace, name = key.split("/", 1)
    pod = cache.get(ObjectKey("pods", namespace, name))
    return pod if isinstance(pod, Pod) else None


def save_memory(state: ClusterState, mem: NodeLifecycleMemory, model: ClusterModel) -> ClusterState:
    """The state with the node lifecycle memory `mem` (both controllers keep theirs in it), its
    finished work collected (`gc_memory`)."""
    mem = gc_memory(model, state, mem)
    return evolve(state, controllers=state.controllers.set(NAME, mem))


def _live_pod(model: ClusterModel, state: ClusterState, key: str) -> Pod:
    """The pod `key` (namespace/name) in the controller manager's cache (it is there)."""
    namespace, name = key.split("/", 1)
    cache = view(model, state, CONTROLLER_MANAGER)
    pod = next(p for p in cache.list("pods", namespace) if p.metadata.name == name)
    assert isinstance(pod, Pod)
    return pod


def send_as_controller(model: ClusterModel, state: ClusterState, request: Request) -> tuple[ClusterState, bool, int]:
    """`request` sent as the controllers (`IDENTITY`) from the controller manager: the state, ok, the code."""
    state, response = send(model, state, IDENTITY, request, CONTROLLER_MANAGER)
    return state, response.ok, response.code


# --- the taint eviction controller ---------------------------------------------------------------


def enabled_evictions(state: ClusterState, mem: NodeLifecycleMemory, cache: ObjectView) -> Iterator[Action]:
    """processPodOnNode for every pod on a NoExecute-tainted node (terminating ones too: upstream has no
    deletionTimestamp check), then the timers that fired (`eviction_queued`), whatever pod now has the name."""
    nodes = {n.metadata.name: n for n in cached_nodes(cache)}
    fired = {key for key, entry in mem.evictions.items() if not entry.evicted and state.clock >= entry.fire_at
             and eviction_queued(cached_pod(cache, key), entry, nodes)}
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


def schedule_taint_eviction(model: ClusterModel, state: ClusterState, act: ScheduleTaintEviction) -> ClusterState:
    """Queue the pod's deletion at now + its smallest matching tolerationSeconds (processPodOnNode's
    AddWork, keyed by the pod's namespace/name)."""
    pod = _live_pod(model, state, act.pod)
    node = next((n for n in cached_nodes(view(model, state, CONTROLLER_MANAGER))
                 if n.metadata.name == pod.spec.node_name), None)
    delay = eviction_delay(pod, node)
    assert delay is not None
    mem = memory(state)
    entry = ScheduledEviction(pod.spec.node_name, state.clock + delay)
    return save_memory(state, evolve(mem, evictions=mem.evictions.set(act.pod, entry)), model)


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
            state, ok, code = send_as_controller(model, state, request)
            done = code == 404
        if ok:
            request = Request(verb="delete", user=IDENTITY, resource="pods", namespace=namespace, name=name)
            state, ok, code = send_as_controller(model, state, request)
            done = code == 404
    mem = memory(state)
    if ok and isinstance(live, Pod):
        mem = evolve(mem, evictions=mem.evictions.set(act.pod, ScheduledEviction(
            live.spec.node_name, state.clock, evicted=live.metadata.uid)))
    elif done:
        mem = evolve(mem, evictions=mem.evictions.delete(act.pod))
    else:
        mem = _failed_try(model, state, mem, act.pod)
    return save_memory(state, mem, model)


def _failed_try(model: ClusterModel, state: ClusterState, mem: NodeLifecycleMemory, key: str) -> NodeLifecycleMemory:
    """A failed try of the work for `key` (`pkg/controller/tainteviction/taint_eviction.go` deletePodHandler:
    `for i := 0; i < retries; i++`, 10 ms apart, `retries` = 5): counted in the work's `tries` (a work
    that fired without a timer, for a pod that tolerates nothing, gets its entry here); at the fifth the
    work returns its error and `getWrappedWorkerFunc` drops it from the queue, which the model marks as
    finished for the pod in the controller's cache (`ScheduledEviction.evicted`): it is not tried again
    until a new event — its node's NoExecute taints change (`nodelifecycle_events`), a pod of another
    uid takes the name. The tries do not let the clock pass between them (`blocks_tick`)."""
    cached = cached_pod(view(model, state, CONTROLLER_MANAGER), key)
    if cached is None:
        return mem
    entry = mem.evictions.get(key)
    tries = (entry.tries if entry is not None and not entry.evicted else 0) + 1
    if tries >= EVICTION_TRIES:
        done = ScheduledEviction(cached.spec.node_name, state.clock, evicted=cached.metadata.uid)
        return evolve(mem, evictions=mem.evictions.set(key, done))
    node, fire_at = (entry.node, entry.fire_at) if entry is not None else (cached.spec.node_name, state.clock)
    return evolve(mem, evictions=mem.evictions.set(key, ScheduledEviction(node, fire_at, tries=tries)))
