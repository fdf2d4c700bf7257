"""The pod garbage collector: force-deletes pods no kubelet will ever finish.

Upstream: `pkg/controller/podgc/gc_controller.go` (gc, gcTerminated, gcTerminating, gcOrphaned,
discoverDeletedNodes, gcUnscheduledTerminating, markFailedAndDeletePodWithCondition).

- Orphaned pods: bound to a node that no longer exists → marked Failed (condition
  DisruptionTarget, reason DeletionByPodGC) and deleted with grace 0. Upstream (gcOrphaned) puts a
  node its informer lacks in quarantine first — `nodeQueue.AddAfter(nodeName, quarantineTime)`,
  `quarantineTime` 40 s — and only once it leaves that delaying queue (discoverDeletedNodes) confirms
  its absence with a live GET. The model does the same: the first reconcile that finds a pod's node
  missing records when (`PodGcMemory.quarantine`, the time kept as upstream's delaying queue keeps an
  item's first ready time) and requeues the key; the GET is sent once `QUARANTINE_SECONDS` passed
  (`quarantine_over`), and its 404 is a verdict on the node, the key retried. Any other answer ends
  the quarantine without a verdict (a GET error: "Node will be added back to the queue in the
  subsequent loop if still needed"; a node the GET finds: not deleted), so a node still missing from
  the cache is quarantined afresh. Meanwhile the requeued key changes nothing (a stutter: time
  passes, `queued_work`), and the end of the quarantine is a wake-up (`memory_wakeups`), so a `Tick`
  lands on it.
- What a verdict covers: upstream's `deletedNodesNames` lives for one `gc` pass, and that pass
  deletes only the pods of its own list, taken from the informer at the pass's start, before the
  GET (`gc`: `podLister.List`, then gcOrphaned(pods, nodes)). A pod bound to that node name later
  is seen by a later pass, whose own `deletedNodesNames` starts empty: the node goes into
  quarantine again and the pod waits another 40 s and another GET. The model decides pod by pod,
  so it keeps with the verdict the UIDs of the pods its cache showed bound to the node when the
  GET was sent (`PodGcMemory.probing`, then `deleted_nodes`): those pods are deleted as their keys
  come up, each UID dropped once its delete is sent (a failed patch or delete is retried behind a
  new quarantine, as upstream's next pass would); any other pod on that node name starts a new
  quarantine. Where the model still differs: upstream deletes the covered pods within the same
  pass, the model as each key is reconciled, so a covered pod is deleted after the node
  reappears in the cache only upstream (the model drops a verdict on a node its cache shows).
- Terminating pods on a node that is not Ready and carries the `node.kubernetes.io/out-of-service`
  taint (any effect: upstream checks the key only) → marked Failed and deleted with grace 0. This
  is how an operator releases a StatefulSet pod stuck Terminating on a dead node.
- Terminating pods never bound to a node → marked Failed and deleted with grace 0.
- Terminated (Succeeded/Failed) pods beyond `terminated_pod_threshold` (upstream flag
  `--terminated-pod-gc-threshold`, default 12500; 0 disables) → the excess deleted, evicted pods
  first, then oldest first.

Marking Failed is a status patch (`markFailedAndDeletePodWithCondition` calls `utilpod.PatchPodStatus`,
`pkg/util/pod/pod.go`, since v1.27: a two-way strategic merge patch from the cached status with the
pod's UID as its only precondition, no resourceVersion) and the delete has no preconditions, as
upstream.

Model choices: upstream runs every 20 s over all pods; the model reacts to pod and node events
instead (a pod is queued when it becomes a candidate). Work-queue keys are pod keys
`namespace/name`, plus `TERMINATED_KEY` for the threshold rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.codec import encode
from kubeprop.model.api.core import Node
from kubeprop.model.api.meta import Condition, condition_unchanged, find_condition, set_condition
from kubeprop.model.api.objects import ApiObject, ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.server import Request, Response
from kubeprop.model.controllers.base import Reconciliation
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER, is_pod_terminal, pod_key, split_key
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.state.informer import ObjectView

OUT_OF_SERVICE_TAINT = "node.kubernetes.io/out-of-service"
TERMINATED_KEY = "*terminated"
QUARANTINE_SECONDS = 40
"""`gc_controller.go` quarantineTime: how long a node missing from the informer waits before the GET."""


@attrs.frozen(cache_hash=True)
class PodGcMemory:
    """What podgc remembers between reconciles.

    `deleted_nodes`: (node, pod UID) for each node a live GET confirmed deleted (upstream:
    discoverDeletedNodes' result) and each pod that verdict still covers (upstream: the pods of that
    pass's list bound to it), not yet deleted. `quarantine`: when each node missing from the cache
    was put in quarantine (upstream: `nodeQueue.AddAfter`). `probing`: the UIDs listed when a node's
    GET was sent, until its answer (within one reconcile: `observe` moves them to `deleted_nodes` or
    drops them; left out of fingerprints while empty, so recorded traces keep theirs)."""

    deleted_nodes: frozenset[tuple[str, str]] = frozenset()
    quarantine: FrozenMap[str, int] = EMPTY
    probing: FrozenMap[str, frozenset[str]] = attrs.field(default=EMPTY, metadata={"fingerprint": "omit-if-default"})

    def quarantine_over(self, node: str, now: int) -> bool:
        """Whether `node` has been in quarantine for `QUARANTINE_SECONDS` at `now`."""
        since = self.quarantine.get(node)
        return since is not None and now >= since + QUARANTINE_SECONDS


def node_ready(node: Node) -> bool:
    """nodeutil.IsNodeReady: Ready condition True."""
    cond = find_condition(node.status.conditions, "Ready")
    return cond is not None and cond.status == "True"


def out_of_service(node: Node) -> bool:
    """Not Ready and tainted `node.kubernetes.io/out-of-service` (gcTerminating's node test)."""
    return not node_ready(node) and any(t.key == OUT_OF_SERVICE_TAINT for t in node.spec.taints)


def _node(view: ObjectView, name: str) -> Node | None:
    node = view.get(ObjectKey("nodes", "", name))
    return node if isinstance(node, Node) else None


def _bound_uids(view: ObjectView, node: str) -> frozenset[str]:
    """The UIDs of the pods the cache shows bound to `node`."""
    return frozenset(p.metadata.uid for p in view.list("pods") if isinstance(p, Pod) and p.spec.node_name == node)


def _pruned(view: ObjectView, memory: PodGcMemory, now: int) -> PodGcMemory:
    """The memory without the verdicts on nodes the cache shows again, nor the UIDs of covered pods
    the cache no longer shows, nor the quarantines over of nodes it shows (upstream's
    discoverDeletedNodes pops the item and finds the node), nor a probe whose answer never came."""
    bound = {node: _bound_uids(view, node) for node in {n for n, _ in memory.deleted_nodes}
             if _node(view, node) is None}
    deleted = frozenset((node, uid) for node, uid in memory.deleted_nodes if uid in bound.get(node, ()))
    over = [n for n in memory.quarantine if _node(view, n) is not None and memory.quarantine_over(n, now)]
    quarantine = memory.quarantine
    for node in over:
        quarantine = quarantine.delete(node)
    return evolve(memory, deleted_nodes=deleted, quarantine=quarantine, probing=EMPTY)


@attrs.frozen
class PodGCController:
    """The pod garbage collector as a `Controller` (see the module docstring)."""

    terminated_pod_threshold: int = 12500
    name: str = "podgc"
    watches: tuple[str, ...] = ("pods", "nodes")
    identity: str = CONTROLLER_MANAGER_USER

    def initial_memory(self) -> Any:
        """No node is known deleted at start."""
        return PodGcMemory()

    def observe(self, memory: Any, request: Request, response: Response) -> Any:
        """A node GET ends the node's quarantine; answered 404, the node is confirmed deleted for the
        pods listed when the GET was sent."""
        if request.verb != "get" or request.resource != "nodes":
            return memory
        covered = memory.probing.get(request.name, frozenset())
        memory = evolve(memory, quarantine=memory.quarantine.delete(request.name),
                        probing=memory.probing.delete(request.name))
        if response.code == 404:
            return evolve(memory, deleted_nodes=memory.deleted_nodes | {(request.name, uid) for uid in covered})
        return memory

    def candidate(self, pod: Pod, view: ObjectView) -> bool:
        """Whether one of the per-pod rules may apply to the pod as the cache shows it."""
        terminating = pod.metadata.deletion_timestamp is not None
        if not pod.spec.node_name:
            return terminating
        node = _node(view, pod.spec.node_name)
        return node is None or (terminating and out_of_service(node))

    def _too_many_terminated(self, view: ObjectView) -> bool:
        if self.terminated_pod_threshold <= 0:
            return False
        count = sum(1 for p in view.list("pods") if isinstance(p, Pod) and is_pod_terminal(p))
        return count > self.terminated_pod_threshold

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        """Pods that became candidates; for a node deleted or put out of service, its pods."""
        if isinstance(obj, Pod):
            keys = [pod_key(obj)] if view.get(ObjectKey("pods", obj.metadata.namespace, obj.metadata.name)) \
                is not None and self.candidate(obj, view) else []
            if is_pod_terminal(obj) and self._too_many_terminated(view):
                keys.append(TERMINATED_KEY)
            return tuple(keys)
        if isinstance(obj, Node):
            node = _node(view, obj.metadata.name)
            if node is not None and not out_of_service(node):
                return ()
            return tuple(pod_key(p) for p in view.list("pods") if isinstance(p, Pod)
                         and p.spec.node_name == obj.metadata.name and self.candidate(p, view))
        return ()

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """One pod through gcOrphaned / gcTerminating / gcUnscheduledTerminating, or gcTerminated."""
        memory = _pruned(view, memory, now)
        if key == TERMINATED_KEY:
            return Reconciliation(self._gc_terminated(view), memory)
        namespace, name = split_key(key)
        pod = view.get(ObjectKey("pods", namespace, name))
        if not isinstance(pod, Pod) or not self.candidate(pod, view):
            return Reconciliation(memory=memory)
        if not pod.spec.node_name:
            return Reconciliation(self._mark_failed_and_delete(pod, None, now), memory)
        node = _node(view, pod.spec.node_name)
        if node is not None:
            return Reconciliation(self._mark_failed_and_delete(pod, None, now), memory)
        verdict = (pod.spec.node_name, pod.metadata.uid)
        if verdict not in memory.deleted_nodes:
            return self._quarantined(view, pod.spec.node_name, memory, now)
        memory = evolve(memory, deleted_nodes=memory.deleted_nodes - {verdict})
        condition = Condition(type="DisruptionTarget", status="True", reason="DeletionByPodGC",
                              message="PodGC: node no longer exists", last_transition_time=now)
        return Reconciliation(self._mark_failed_and_delete(pod, condition, now), memory)

    def memory_wakeups(self, memory: PodGcMemory, queue: tuple[str, ...]) -> Iterable[tuple[str, int]]:
        """The end of each node's quarantine (upstream's delaying queue hands the node back then), on
        a queued key: the pods it holds stay queued meanwhile (`_quarantined`), so the model's clock
        stops there (`base.next_timer`) and their retry sends the GET."""
        return tuple((queue[0], since + QUARANTINE_SECONDS) for _, since in memory.quarantine.sorted_items())

    def _quarantined(self, view: ObjectView, node: str, memory: PodGcMemory, now: int) -> Reconciliation:
        """gcOrphaned for a node missing from the cache (or a pod the node's verdict does not cover):
        into quarantine, the key requeued; the live GET once the quarantine is over
        (discoverDeletedNodes), the pods the cache shows on the node then being the ones its answer
        covers."""
        if node not in memory.quarantine:
            return Reconciliation(memory=evolve(memory, quarantine=memory.quarantine.set(node, now)), requeue=True)
        if not memory.quarantine_over(node, now):
            return Reconciliation(memory=memory, requeue=True)
        get = Request(verb="get", user=self.identity, resource="nodes", name=node)
        memory = evolve(memory, probing=memory.probing.set(node, _bound_uids(view, node)))
        return Reconciliation((get,), memory, requeue=True)

    def _gc_terminated(self, view: ObjectView) -> tuple[Request, ...]:
        """gcTerminated: delete the excess terminated pods, evicted first (`PodIsEvicted`: Failed with
        reason Evicted), then oldest first, equal creation times by name
        (`byEvictionAndCreationTimestamp.Less`, `pkg/controller/podgc/gc_controller.go`); pods of
        one name and time in two namespaces are left in `sort.Sort`'s order upstream (not stable),
        by namespace here."""
        if self.terminated_pod_threshold <= 0:
            return ()
        terminated = [p for p in view.list("pods") if isinstance(p, Pod) and is_pod_terminal(p)]
        excess = len(terminated) - self.terminated_pod_threshold
        if excess <= 0:
            return ()
        terminated.sort(key=lambda p: (not (p.status.phase == "Failed" and p.status.reason == "Evicted"),
                                       p.metadata.creation_timestamp or 0, p.metadata.name, p.metadata.namespace))
        return tuple(r for p in terminated[:excess] for r in self._mark_failed_and_delete(p, None, 0))

    def _mark_failed_and_delete(self, pod: Pod, condition: Condition | None, now: int) -> tuple[Request, ...]:
        """markFailedAndDeletePodWithCondition: phase Failed (unless terminal), then delete, grace 0.
        The phase (and the condition) go as a status patch against the cached status
        (`pkg/util/pod/pod.go` PatchPodStatus: a two-way strategic merge patch, the UID as its
        precondition), so what the cache has not seen of the live status is kept."""
        requests = []
        if not is_pod_terminal(pod):
            status: dict[str, object] = {"phase": "Failed"}
            if condition is not None and not condition_unchanged(pod.status.conditions, condition):
                merged = find_condition(set_condition(pod.status.conditions, condition), condition.type)
                status["conditions"] = [encode(merged)]
            requests.append(Request(verb="patch-status", user=self.identity, resource="pods",
                                    namespace=pod.metadata.namespace, name=pod.metadata.name,
                                    patch={"metadata": {"uid": pod.metadata.uid}, "status": status},
                                    patch_type="strategic"))
        requests.append(Request(verb="delete", user=self.identity, resource="pods", namespace=pod.metadata.namespace,
                                name=pod.metadata.name, grace_period_seconds=0))
        return tuple(requests)
