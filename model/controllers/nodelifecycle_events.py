"""The taint eviction controller's node event handler: what a node's watch event, reaching the
controller manager, does to the work queue (`NodeLifecycleMemory.evictions`).

Upstream (`pkg/controller/tainteviction/taint_eviction.go`, v1.33): NodeUpdated queues a node when it
is added or deleted, or when an update changes its NoExecute taints (old against new,
`helper.Semantic.DeepEqual` of getNoExecuteTaints: a heartbeat, a condition or a NoSchedule taint does
not count). handleNodeUpdate then records the node's taints (`taintedNodes`; a node gone is forgotten,
and nothing is cancelled) and looks at every pod on the node (`getPodsAssignedToNode`, terminating and
terminal ones too):

- no NoExecute taint left: the work of each is cancelled (`cancelWorkWithEvent`);
- otherwise processPodOnNode: a pod that does not tolerate every taint has its work cancelled and added
  again to fire now; one tolerating them for ever has it cancelled; one tolerating them for a while keeps
  a work created earlier (its trigger is sooner) and gets a new one, at now + the smallest
  tolerationSeconds, if it had none — and a work that finished (deleted the pod, or gave up after its
  tries) has left the queue (`timed_workers.go` getWrappedWorkerFunc), so the pod gets new work.

`on_events` (one of `model.hooks.on_events`) applies this when the event reaches the controller manager:
the work cancelled leaves `evictions`, a finished work's marker (`ScheduledEviction.evicted`) included,
and the new work is enabled from the state as before (`ScheduleTaintEviction`, or `TaintEvictPod` for a
pod that must go now). An event carries only the new object, so the old taints are the memory's
`tainted`, upstream's `taintedNodes`. Before, the memory was cleaned only when a node lifecycle action
saved it (`gc_memory`): a node whose NoExecute taints went and came back (two deliveries, a user's
`kubectl taint` steps or a flapping node) with no such action in between kept its pods' markers, and a pod
whose work had finished was never evicted again.

Left as they were: handlePodUpdate's cancellation when no pod has the name any more is applied by the
controller's next step (`gc_memory`), so that a pod recreated under the name before the controller
handles the old one's delete event keeps the old pod's timer (kubernetes#29522); a pod's own updates (a
toleration added, a binding) are processed from the state. Left out: upstream's workers may handle two
updates of a node as one when they lag (taints gone and back: a running timer is kept, not restarted);
the model handles each event as it arrives. A work already firing is not stopped upstream by its
cancellation (the goroutine runs its remaining tries); the model drops it with its tries.
"""

from __future__ import annotations

from kubeprop.model.api.core import Node
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.store import WatchEvent
from kubeprop.model.controllers.nodelifecycle_health import NAME, NodeLifecycleMemory
from kubeprop.model.controllers.nodelifecycle_rules import eviction_delay, no_execute_taints
from kubeprop.model.evolve import evolve
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, is_up, view
from kubeprop.model.state.informer import ObjectView

__all__ = ["node_event", "on_events"]


def on_events(model: ClusterModel, state: ClusterState, component: str, events: tuple[WatchEvent, ...]
              ) -> ClusterState:
    """NodeUpdated / handleNodeUpdate for each node event that reached the running, started controller
    manager, in order (the state itself when nothing changed)."""
    if component != CONTROLLER_MANAGER or not any(e.key.resource == "nodes" for e in events):
        return state
    mem = state.controllers.get(NAME)
    if not isinstance(mem, NodeLifecycleMemory) or mem.started_at is None or not is_up(state, CONTROLLER_MANAGER):
        return state
    cache = view(model, state, CONTROLLER_MANAGER)
    new = mem
    for event in events:
        if event.key.resource == "nodes":
            new = node_event(cache, new, event)
    return state if new is mem else evolve(state, controllers=state.controllers.set(NAME, new))


def node_event(cache: ObjectView, mem: NodeLifecycleMemory, event: WatchEvent) -> NodeLifecycleMemory:
    """One node event: record its NoExecute taints; if it was added or they changed, cancel the work
    of the pods on it that handleNodeUpdate cancels (`_process_pods`)."""
    name = event.key.name
    node = event.object if event.type != "DELETED" and isinstance(event.object, Node) else None
    taints = no_execute_taints(node) if node is not None else ()
    if event.type == "MODIFIED" and taints == mem.tainted.get(name, ()):
        return mem  # NodeUpdated: the NoExecute taints are the same, nothing is queued
    tainted = mem.tainted.set(name, taints) if taints else mem.tainted.delete(name)
    if tainted != mem.tainted:
        mem = evolve(mem, tainted=tainted)
    if node is None:
        return mem  # handleNodeUpdate: a node gone is forgotten, its pods' work stays
    return _process_pods(cache, mem, node)


def _process_pods(cache: ObjectView, mem: NodeLifecycleMemory, node: Node) -> NodeLifecycleMemory:
    """The work (running or finished) of the pods now on `node`, keyed by name, that handleNodeUpdate
    ends: all of it when the node has no NoExecute taint; else all but a running timer of a pod that
    tolerates the taints for a while (processPodOnNode keeps the earlier work). A pod with no work left
    gets new work from the state (`ScheduleTaintEviction`, `TaintEvictPod`)."""
    evictions = mem.evictions
    for key, entry in mem.evictions.items():
        namespace, name = key.split("/", 1)
        pod = cache.get(ObjectKey("pods", namespace, name))
        if not isinstance(pod, Pod) or pod.spec.node_name != node.metadata.name:
            continue
        delay = eviction_delay(pod, node)
        if delay is not None and delay > 0 and not entry.evicted:
            continue
        evictions = evictions.delete(key)
    return mem if evictions is mem.evictions else evolve(mem, evictions=evictions)
