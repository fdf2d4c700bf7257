"""Upstream behaviour the kubelet lets through: pods bound by their creator, volumes nothing attaches.

Pods bound by their creator: the kubelet, not the scheduler, keeps the node whole.

A pod created with `spec.nodeName` set is bound from its first write: no scheduler filters it
(`pkg/scheduler/eventhandlers.go` only queues pods without a node; the API server's validation
does not check resources, `pkg/apis/core/validation`). Until the node's kubelet admits or
refuses it, the pods bound to that node may request more than it has — `node-not-overcommitted`
fails — and the kubelet then refuses the pods that do not fit with `OutOfcpu`, `OutOfmemory`,
`OutOfpods`, … (`pkg/kubelet/lifecycle/predicate.go` Admit; `pkg/kubelet/kubelet.go`
HandlePodAdditions → rejectPod: phase Failed), which the model does too
(`kubeprop.model.kubelet.admission.resource_rejection`). The Kubernetes documentation says so of
`nodeName` ("Pods … bypass the scheduler … if the named node does not have the resources to
accommodate the Pod, the Pod will fail and its reason will indicate why, for example OutOfmemory
or OutOfcpu", concepts/scheduling-eviction/assign-pod-node, nodeName).

Recognized only where the creator-bound pods are the cause: the pods the scheduler bound to the
node fit it by themselves. An over-commit by scheduler-bound pods alone (two schedulers, a stale
cache) is not this behaviour.

A ReadWriteOnce volume that is not attached (`hostPath`, `local`, `nfs`) or whose PV's access
modes allow several nodes (ReadWriteMany or ReadOnlyMany besides ReadWriteOnce): only the
attach/detach controller keeps a ReadWriteOnce volume on one node, and only for a volume it attaches
and whose PV forbids multi-attach (`pkg/controller/volume/attachdetach/reconciler/reconciler.go`
isMultiAttachForbidden; `kubeprop.model.api.volume.attachable`). For the others the kubelets of two
nodes mount it at once (`pkg/volume/hostpath`, `pkg/volume/nfs`, `pkg/volume/local` have no
attacher), as the Kubernetes documentation says ("ReadWriteOnce access mode still can allow
multiple pods to access the volume when the pods are running on the same node" — and the mode is a
matching promise, enforced by the attach only: concepts/storage/persistent-volumes, Access Modes).
`read-write-once-volume-on-one-node` still states the hazard (two nodes write one volume); the
double mount is not the control plane's fault.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubeprop.model.api.core import Node, PersistentVolume, PersistentVolumeClaim
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.storage import CSI_DRIVERS, CSIDriver
from kubeprop.model.api.volume import CLAIMS, VOLUMES, attachable, csi_driver, multi_attach_forbidden
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.invariants import overcommitted
from kubeprop.properties.registry import Violation

__all__ = ["CREATOR_BOUND_CITATIONS", "CREATOR_BOUND_SUMMARY", "UNATTACHED_RWO_CITATIONS", "UNATTACHED_RWO_SUMMARY",
           "creator_bound_pods_overcommit", "unattached_read_write_once"]

CREATOR_BOUND_SUMMARY = (
    "Pods created with spec.nodeName bypass the scheduler, so the pods bound to a node can request more than it "
    "has; its kubelet then refuses those that do not fit (phase Failed, reason OutOfcpu, OutOfmemory, OutOfpods, "
    "…). The pods the scheduler bound fit the node by themselves."
)
CREATOR_BOUND_CITATIONS = (
    "pkg/kubelet/lifecycle/predicate.go (Admit, generalFilter: InsufficientResourceError → OutOf<resource>)",
    "pkg/kubelet/kubelet.go (HandlePodAdditions → canAdmitPod → rejectPod)",
    "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
)


def _creator_bound(states: Sequence[ClusterState], pod: Pod) -> bool:
    """Whether `pod` (by uid) was bound in the first state that holds it: created with spec.nodeName."""
    key = ObjectKey("pods", pod.metadata.namespace, pod.metadata.name)
    for state in states:
        first = state.store.get(key)
        if isinstance(first, Pod) and first.metadata.uid == pod.metadata.uid:
            return bool(first.spec.node_name)
    return False


def creator_bound_pods_overcommit(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                                  violation: Violation) -> bool:
    """The violated node holds a pod created already bound, and the pods bound to it otherwise fit it."""
    name, last = violation.named("Node"), states[-1]
    node = None if name is None else last.store.get(ObjectKey("nodes", "", name))
    if not isinstance(node, Node):
        return False
    bound = [p for p in last.store.list("pods") if isinstance(p, Pod) and p.spec.node_name == name]
    by_creator = [p for p in bound if _creator_bound(states, p)]
    if not by_creator:
        return False
    return overcommitted(node, [p for p in bound if p not in by_creator]) is None


UNATTACHED_RWO_SUMMARY = (
    "ReadWriteOnce is enforced across nodes only by the attach/detach controller, for a volume it attaches (CSI) "
    "whose PersistentVolume allows neither ReadWriteMany nor ReadOnlyMany. This claim's volume is a hostPath, local "
    "or NFS volume, a CSI volume whose driver does not attach (CSIDriver attachRequired: false), or its PV allows "
    "several nodes, so the kubelets of two nodes mount it at once in a real cluster "
    "too: pods on two nodes write the one volume."
)
UNATTACHED_RWO_CITATIONS = (
    "pkg/controller/volume/attachdetach/reconciler/reconciler.go (isMultiAttachForbidden, reportMultiAttachError)",
    "pkg/volume/hostpath/host_path.go, pkg/volume/nfs/nfs.go, pkg/volume/local/local.go (no Attacher)",
    "pkg/volume/csi/csi_plugin.go (CanAttach, skipAttach: CSIDriver attachRequired)",
    "https://kubernetes.io/docs/concepts/storage/persistent-volumes/#access-modes",
)


def _unattached(pv: PersistentVolume, driver: CSIDriver | None) -> bool:
    """A volume whose double mount upstream allows: a source the model knows has no attacher, a CSI
    volume whose driver (`driver`, its CSIDriver object) does not attach, or a PV whose access modes
    allow multi-attach. (A PV whose source the decoder dropped is not judged.)"""
    known = pv.spec.host_path is not None or pv.spec.local is not None or pv.spec.nfs is not None
    return known or (pv.spec.csi is not None and (not multi_attach_forbidden(pv) or not attachable(pv, driver)))


def unattached_read_write_once(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                               violation: Violation) -> bool:
    """The violation is a ReadWriteOnce claim on two nodes, and the claim's volume is one upstream
    lets two nodes mount."""
    name, last = violation.named("PVC"), states[-1]
    if name is None or "ReadWriteOnce claim" not in violation.message or "ReadWriteOncePod" in violation.message:
        return False
    namespace, _, claim_name = name.partition("/")
    claim = last.store.get(ObjectKey(CLAIMS, namespace, claim_name))
    if not isinstance(claim, PersistentVolumeClaim) or not claim.spec.volume_name:
        return False
    pv = last.store.get(ObjectKey(VOLUMES, "", claim.spec.volume_name))
    if not isinstance(pv, PersistentVolume):
        return False
    driver = last.store.get(ObjectKey(CSI_DRIVERS, "", csi_driver(pv)))
    return _unattached(pv, driver if isinstance(driver, CSIDriver) else None)
