"""The scheduling queue's nominator: which pods the scheduler holds nominated to which nodes.

Upstream (`kubernetes/kubernetes` v1.33, `pkg/scheduler/backend/queue/nominator.go`; the queue's
`Add`, `Update`, `Delete` in `scheduling_queue.go`; the handlers in `pkg/scheduler/eventhandlers.go`;
`schedule_one.go` handleSchedulingFailure and assume): the pods nominated to a node are the
*nominator's*, an in-memory map of the scheduler, not the informer's `status.nominatedNodeName`.

- handleSchedulingFailure calls `AddNominatedPod` with the cycle's NominatingInfo *before* the
  status patch ("Without this, there would be a race condition between the next scheduling cycle
  and the time the scheduler receives a Pod Update for the nominated pod"): ModeOverride sets the
  node (preemption chose one) or clears it ("": preemption found no candidate); ModeNoop (no
  PostFilter result) takes the node of the pod as the informer cache has it (the failure handler
  replaced the cycle's pod by the cached one). So the nomination holds even while the patch is in
  flight, when the patch failed, and when the cache has not delivered it yet.
- The pod informer's handlers for unassigned pods: an add takes the pod's nominatedNodeName
  (`moveToActiveQ` → addNominatedPod with no info), unless the pod is scheduling-gated:
  `moveToActiveQ` runs the PreEnqueue plugins first and parks a gated pod in `unschedulablePods`
  without reaching addNominatedPod; an update (not of an assumed pod, gated or not: `Update` calls
  UpdateNominatedPod for a pod in any of the queues) goes through
  `UpdateNominatedPod(old, new)`, which keeps the in-memory node when neither the old nor the new
  object names one, and otherwise takes the new object's; a delete — the pod deleted, or bound
  (the filtering handler turns that update into a delete of the old object) — drops it.
  `assume` drops the assumed pod (`DeleteNominatedPodIfExists`).
- A nomination that changes or goes away frees room: `updatePodInSchedulingQueue`
  (hasNominatedNodeNameChanged: the old object named a node and the new one another or none) and
  `deletePodFromSchedulingQueue` (the old object named a node) move the parked pods of lower or
  equal priority (`getLEPriorityPreCheck`) with the AssignedPodDelete event.
- A restarted scheduler starts with an empty nominator and rebuilds it from its informer's initial
  list (every unassigned pod is an add).

Model state (`SchedulerState`): `nominated`, the nominator (pod key → node); `seen`, the
nominatedNodeName the scheduler's pod informer last delivered for each unassigned pod that has one
(what upstream's update and delete handlers read from the *old* object; a function of the cache,
kept because the model's handlers see only the new one). A relist hands the handlers a pod the
cache did not hold as an add, one it held and that changed as an update, and leaves out one that
did not change (upstream an update with equal resourceVersions, which the handler skips:
`kubeprop.model.cluster.informers` relisted).

A nominated pod being deleted (deletionTimestamp set, not yet bound) keeps its nomination until its
deletion event, and the cycles count it (`addGENominatedPods` in `pkg/scheduler/framework/runtime/
framework.go` takes every pod `NominatedPodsForNode` returns; nothing in the nominator or the
handlers looks at the deletionTimestamp): `nodeinfo.build_node_infos` counts it.
"""

from __future__ import annotations

from collections.abc import Iterable

from kubeprop.model.api.objects import Pod
from kubeprop.model.api.store import WatchEvent
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scheduler.nodeinfo import pod_priority
from kubeprop.model.scheduler.queue import SchedulerState, is_gated
from kubeprop.model.scheduler.served import served

__all__ = ["KEEP", "add_nominated", "lower_nominated", "on_pod_event", "rebuild"]

KEEP = None
"""ModeNoop: handleSchedulingFailure keeps the nomination the cached pod has."""


def _key(pod: Pod) -> str:
    return f"{pod.metadata.namespace}/{pod.metadata.name}"


def _set(nominations: FrozenMap[str, str], key: str, node: str) -> FrozenMap[str, str]:
    if node:
        return nominations if nominations.get(key) == node else nominations.set(key, node)
    return nominations.delete(key) if key in nominations else nominations


def add_nominated(memory: SchedulerState, cached: Pod | None, override: str | None) -> SchedulerState:
    """AddNominatedPod from handleSchedulingFailure: `override` the node ("" clears), or KEEP
    (ModeNoop: the cached pod's nominatedNodeName). A pod missing from the cache or already bound
    there is not nominated (addNominatedPodUnlocked asks the pod lister)."""
    if cached is None:
        return memory
    key = _key(cached)
    node = cached.status.nominated_node_name if override is None else override
    if cached.spec.node_name:
        node = ""
    nominated = _set(memory.nominated, key, node)
    return memory if nominated is memory.nominated else evolve(memory, nominated=nominated)


def _unassigned(obj: object) -> bool:
    return isinstance(obj, Pod) and not obj.spec.node_name and served(obj)


def on_pod_event(memory: SchedulerState, event: WatchEvent) -> tuple[SchedulerState, int | None]:
    """The scheduler's pod handlers for one pod event: (the memory, the priority up to which the
    parked pods move because a nomination changed or went away, or None)."""
    obj = event.object
    if not isinstance(obj, Pod):
        return memory, None
    key = _key(obj)
    old = memory.seen.get(key, "")
    if event.type == "DELETED" or not _unassigned(obj):  # deletePodFromSchedulingQueue (of the old object)
        freed = obj.status.nominated_node_name if event.type == "DELETED" and _unassigned(obj) else old
        if key in memory.nominated or key in memory.seen:
            memory = evolve(memory, nominated=memory.nominated.delete(key) if key in memory.nominated
                            else memory.nominated, seen=memory.seen.delete(key) if key in memory.seen else memory.seen)
        return memory, (pod_priority(obj) if freed else None)
    new = obj.status.nominated_node_name
    seen = _set(memory.seen, key, new)
    if key in memory.assumed:  # updatePodInSchedulingQueue returns for an assumed pod
        return (memory if seen is memory.seen else evolve(memory, seen=seen)), None
    nominated = memory.nominated
    if event.type == "ADDED" and is_gated(obj):
        pass  # moveToActiveQ parks a gated pod before it reaches addNominatedPod
    elif new or old or key not in nominated:  # UpdateNominatedPod: kept only when neither names a node
        nominated = _set(nominated, key, new)
    if seen is not memory.seen or nominated is not memory.nominated:
        memory = evolve(memory, seen=seen, nominated=nominated)
    return memory, (pod_priority(obj) if old and old != new else None)


def rebuild(memory: SchedulerState, pods: Iterable[object]) -> SchedulerState:
    """A (re)started scheduler's nominator: every unassigned pod of its initial list that names a node,
    but the scheduling-gated ones (each is an add: `moveToActiveQ` parks a gated pod un-nominated)."""
    listed = [p for p in pods if isinstance(p, Pod) and _unassigned(p) and p.status.nominated_node_name]
    if not listed:
        return memory
    found = FrozenMap({_key(p): p.status.nominated_node_name for p in listed})
    nominated = FrozenMap({_key(p): p.status.nominated_node_name for p in listed if not is_gated(p)})
    return evolve(memory, nominated=nominated, seen=found)


def lower_nominated(memory: SchedulerState, pods: Iterable[object], priority: int, preemptor: str,
                    node: str) -> list[Pod]:
    """getLowerPriorityNominatedPods: the pods the nominator holds on `node` with a priority below
    `priority`, as the queue has them (the cached objects)."""
    wanted = {k for k, n in memory.nominated.items() if n == node and k != preemptor}
    return [p for p in pods if isinstance(p, Pod) and _key(p) in wanted and pod_priority(p) < priority]
