"""Which parked (unschedulable) pods an event delivered to a scheduler moves back to the
backoff or active queue: the plugins that rejected each pod, the events they register and what
their queueing hints say (SchedulerQueueingHints, beta and on by default since v1.32:
`pkg/features/kube_features.go`).

Upstream (`kubernetes/kubernetes` v1.33):

* `pkg/scheduler/schedule_one.go` handleSchedulingFailure records on the QueuedPodInfo the
  plugins that rejected the pod (`UnschedulablePlugins`: the plugin of each node's failing
  Filter status, or of the PreFilter that rejected it; `PendingPlugins`: none in the model's
  plugins, DRA being off) — `Parked.plugins`, `rejectors`.
* `pkg/scheduler/backend/queue/scheduling_queue.go` isPodWorthRequeuing asks the hints of the
  rejecting plugins registered for the event: a pod no plugin rejected is moved by any event;
  one `Queue` moves it (after its back-off: `SchedulerState.move_some` puts a pod still backing
  off in the backoff queue, `requeuePodViaQueueingHint`); all `QueueSkip` leave it parked.
* `pkg/scheduler/eventhandlers.go`: an assigned pod added to the scheduler's cache (a pod bound,
  by this scheduler or another, is an add to the assigned-pod handler) is `AssignedPodAdd`, an
  update of an assigned pod `PodSchedulingPropertiesChange` (`pkg/scheduler/framework/events.go`:
  UpdatePodLabel, UpdatePodScaleDown, UpdatePodToleration, ...), each through
  MoveAllToActiveOrBackoffQueue; an unassigned pod's update goes to `PriorityQueue.Update`, which
  for a parked pod asks the hints of the pod's *own* update events.
* The hints (`pkg/scheduler/framework/plugins/*`, EventsToRegister): InterPodAffinity
  (`interpodaffinity/plugin.go` isSchedulableAfterPodChange, Pod/Add|UpdatePodLabel|Delete):
  an added assigned pod matching all of the pod's required affinity terms (an added pod helps
  no other InterPodAffinity rejection). Its label hint queues an updated assigned pod only when it
  starts to match all the affinity terms or stops matching all the anti-affinity terms, and never
  the parked pod's own label change; the model queues on every such label change, since one may
  also lift a single anti-affinity term or an existing pod's anti-affinity towards the parked pod
  (upstream then waits for the flush, and `scheduler-decisions-sound` would report a pod parked
  although it fits). PodTopologySpread (`podtopologyspread/plugin.go`
  isSchedulableAfterPodChange, Pod/Add|UpdatePodLabel|Delete): an assigned pod of the pod's
  namespace, or the pod itself (the hint further asks that the labels match a constraint's
  selector: the model queues without that test). TaintToleration (`tainttoleration/
  taint_toleration.go` isSchedulableAfterPodTolerationChange, Pod/UpdatePodToleration): the pod's
  own toleration change. NodeUnschedulable (`nodeunschedulable/node_unschedulable.go`, same event):
  the pod's own change when it now tolerates `node.kubernetes.io/unschedulable:NoSchedule`.
  NodeResourcesFit (`noderesources/fit.go`, Pod/Delete|UpdatePodScaleDown): a request scaled down.

Where the model's events are coarser than upstream's hints it errs toward moving (a retry of a
pod that still fits nowhere parks it again and changes nothing upstream would not): every Node
event moves every parked pod (upstream: the node hints of NodeAffinity, TaintToleration,
NodeResourcesFit, ... per UpdateNodeLabel/Taint/Allocatable), so does an assigned pod deleted,
being deleted or finished (the scheduler's informer drops terminal pods: a deletion to it) and a
claim, volume or StorageClass added or updated (VolumeBinding's events).
"""

from __future__ import annotations

from collections.abc import Mapping

from kubeprop.model.api.core import TAINT_NODE_UNSCHEDULABLE, Taint
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.store import WatchEvent
from kubeprop.model.scheduler.affinity import AffinityTerm, required_terms
from kubeprop.model.scheduler.filters import FilterStatus
from kubeprop.model.scheduler.nodeinfo import pod_requests
from kubeprop.model.state.informer import ObjectView

__all__ = [
    "VOLUME_RESOURCES",
    "moves_all",
    "own_update_moves",
    "rejectors",
    "requeued",
]

VOLUME_RESOURCES = frozenset({"persistentvolumeclaims", "persistentvolumes", "storageclasses.storage.k8s.io"})
"""VolumeBinding's EventsToRegister: a claim, volume or StorageClass added or updated."""

_UNSCHEDULABLE_TAINT = Taint(key=TAINT_NODE_UNSCHEDULABLE, effect="NoSchedule")


def rejectors(statuses: Mapping[str, FilterStatus]) -> frozenset[str]:
    """UnschedulablePlugins: the plugins whose (Pre)Filter status rejected some node (findNodesThatPassFilters
    inserts each failing status's plugin; a PreFilter rejection, in the model, is every node's status)."""
    return frozenset(s.plugin for s in statuses.values())


def moves_all(event: WatchEvent) -> bool:
    """An event the model lets move every parked pod (see the module docstring: coarser than the
    hints, erring toward moving): any Node event; a claim, volume or StorageClass added or updated;
    an assigned pod deleted, being deleted or finished."""
    if event.key.resource == "nodes":
        return True
    if event.key.resource in VOLUME_RESOURCES:
        return event.type != "DELETED"
    obj = event.object
    if event.key.resource != "pods" or not isinstance(obj, Pod) or not obj.spec.node_name:
        return False
    return event.type == "DELETED" or obj.metadata.deletion_timestamp is not None or obj.status.phase in (
        "Succeeded", "Failed")


def _matches_all(terms: tuple[AffinityTerm, ...], pod: Pod) -> bool:
    """podMatchesAllAffinityTerms: no terms match nothing. The hint matches the terms as they are
    (not merged) with no namespace labels (`plugin.go` isSchedulableAfterPodChange: Matches(pod,
    nil)), so a term selecting namespaces by labels alone never queues the pod here."""
    return bool(terms) and all(t.matches(pod) for t in terms)


def _scaled_down(old: Pod, new: Pod) -> bool:
    """extractPodScaleDown: some request of the old pod is lower or gone in the new one."""
    before, after = pod_requests(old), pod_requests(new)
    return any(name not in after or after[name] < want for name, want in before.items())


def _assigned_pod_hint(plugins: frozenset[str], target: Pod | None, old: Pod | None, new: Pod) -> bool:
    """isPodWorthRequeuing for AssignedPodAdd (`old` None) or an assigned pod's update: whether a
    rejecting plugin's hint says Queue for the parked pod `target` (as the scheduler's cache has it)."""
    if not plugins or target is None:
        return True
    same_namespace = new.metadata.namespace == target.metadata.namespace
    if old is None:
        return (("InterPodAffinity" in plugins and _matches_all(required_terms(target, anti=False), new))
                or ("PodTopologySpread" in plugins and same_namespace))
    if old.metadata.labels != new.metadata.labels and (  # UpdatePodLabel
            "InterPodAffinity" in plugins or ("PodTopologySpread" in plugins and same_namespace)):
        return True
    return "NodeResourcesFit" in plugins and _scaled_down(old, new)  # UpdatePodScaleDown


def own_update_moves(plugins: frozenset[str], old: Pod | None, new: Pod) -> bool:
    """PriorityQueue.Update for a parked pod: whether a rejecting plugin's hint says Queue for one
    of the events of the pod's own update (`PodSchedulingPropertiesChange`); a status-only update
    (the scheduler's own failure patch) is the general Pod/Update, which none of them registers."""
    if not plugins or old is None:
        return True
    if old.spec.tolerations != new.spec.tolerations:  # UpdatePodToleration
        if plugins & {"TaintToleration", "PodTopologySpread"}:
            return True
        if "NodeUnschedulable" in plugins and any(t.tolerates(_UNSCHEDULABLE_TAINT) for t in new.spec.tolerations):
            return True
    if old.metadata.labels != new.metadata.labels and plugins & {"InterPodAffinity", "PodTopologySpread"}:
        return True  # UpdatePodLabel
    return "NodeResourcesFit" in plugins and _scaled_down(old, new)  # UpdatePodScaleDown


def requeued(event: WatchEvent, parked: Mapping[str, frozenset[str]], view_: ObjectView) -> frozenset[str]:
    """The parked pods (key → rejecting plugins) that a pod `event` the scheduler's informer handed
    it moves, by their rejecting plugins' hints: an assigned pod added or updated moves those whose
    hints say Queue (MoveAllToActiveOrBackoffQueue with AssignedPodAdd / the update's events); an
    update of a parked pod itself may move that pod (PriorityQueue.Update). `view_` is the
    scheduler's cache, which holds the parked pods as the queue has them."""
    obj = event.object
    if event.key.resource != "pods" or not isinstance(obj, Pod) or event.type == "DELETED" or not parked:
        return frozenset()
    old = getattr(event, "old", None)
    old_pod = old if isinstance(old, Pod) else None
    if not obj.spec.node_name:
        key = f"{event.key.namespace}/{event.key.name}"
        if key in parked and event.type == "MODIFIED" and own_update_moves(parked[key], old_pod, obj):
            return frozenset({key})
        return frozenset()
    if old_pod is not None and not old_pod.spec.node_name:
        old_pod = None  # bound: an add to the assigned-pod cache
    out = set()
    for key, plugins in parked.items():
        namespace, _, name = key.partition("/")
        target = view_.get(ObjectKey("pods", namespace, name))
        if _assigned_pod_hint(plugins, target if isinstance(target, Pod) else None, old_pod, obj):
            out.add(key)
    return frozenset(out)
