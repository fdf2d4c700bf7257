"""The scheduler's VolumeRestrictions plug-in: at most one pod uses a ReadWriteOncePod claim.

Upstream (`pkg/scheduler/framework/plugins/volumerestrictions/volume_restrictions.go`, v1.33):
- PreFilter (readWriteOncePodPVCsForPod, calPreFilterState): the pod's claims whose `accessModes`
  hold `ReadWriteOncePod` (read from the scheduler's claim lister), and how many of them some pod
  in the snapshot already uses (`StorageInfos().IsPVCUsedByPods`: the cache's pods, assumed ones
  included, terminal ones not). No such claim and no inline disk to check: Skip. A missing claim
  is UnschedulableAndUnresolvable with the lister's `persistentvolumeclaim "x" not found` — the
  same refusal VolumeBinding's PreFilter gives (`kubeprop.model.scheduler.volumebinding`), which
  the model lets stand for both.
- Filter (satisfyReadWriteOncePod): while that count is above 0 every node is refused,
  Unschedulable (not unresolvable: preemption may help) with "node has pod using
  PersistentVolumeClaim with the same name and ReadWriteOncePod access mode".
- AddPod / RemovePod (its PreFilterExtensions): a pod added to a node (a nominated pod in
  RunFilterPluginsWithNominatedPods) or removed from it (a preemption victim) that names one of
  those claims raises or lowers the count. The model computes the Filter from the snapshot it is
  handed (`nodes`, in which the framework has put the node with pods added or removed), which
  gives the same verdict as long as at most one pod uses the claim — all the scheduler lets happen.
  Model choice: where two pods already use it (pods created with `spec.nodeName`, bypassing the
  scheduler), upstream's count lets a preemption that removes one of them through; the model
  still sees the other and refuses.
- The disk conflicts of inline `gcePersistentDisk`, `awsElasticBlockStore`, `rbd` and `iscsi`
  volumes (isVolumeConflict, "node(s) had no available disk") are not modelled: the model's pods
  carry no such volumes.

Its events (EventsToRegister: a pod deleted, a node added, a claim added) are among those that
already move parked pods (`kubeprop.model.scheduler.requeue.moves_all`).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from kubeprop.model.api.core import PersistentVolumeClaim
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.volume import CLAIMS
from kubeprop.model.scheduler.filters import FilterStatus
from kubeprop.model.scheduler.nodeinfo import NodeInfo, pod_key
from kubeprop.model.state.informer import ObjectView

__all__ = ["PLUGIN", "READ_WRITE_ONCE_POD", "RWOP_CONFLICT", "Restrictions", "claim_users",
           "read_write_once_pod_claims"]

PLUGIN = "VolumeRestrictions"
READ_WRITE_ONCE_POD = "ReadWriteOncePod"
RWOP_CONFLICT = "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode"
"""`volume_restrictions.go` ErrReasonReadWriteOncePodConflict."""


def read_write_once_pod_claims(view: ObjectView, pod: Pod) -> frozenset[str]:
    """readWriteOncePodPVCsForPod: the names of the pod's claims, as stored in `view`, whose access
    modes hold ReadWriteOncePod (a missing claim is left to VolumeBinding's PreFilter)."""
    names = set()
    for volume in pod.spec.volumes:
        ref = volume.persistent_volume_claim
        if ref is None:
            continue
        claim = view.get(ObjectKey(CLAIMS, pod.metadata.namespace, ref.claim_name))
        if isinstance(claim, PersistentVolumeClaim) and READ_WRITE_ONCE_POD in claim.spec.access_modes:
            names.add(ref.claim_name)
    return frozenset(names)


def claim_users(pod: Pod, claims: frozenset[str], nodes: Sequence[NodeInfo]) -> tuple[str, ...]:
    """The keys of the pods in the snapshot `nodes`, other than `pod`, that name one of `claims` (in
    `pod`'s namespace): IsPVCUsedByPods."""
    key, namespace = pod_key(pod), pod.metadata.namespace
    return tuple(pod_key(p) for ni in nodes for p in ni.pods
                 if p.metadata.namespace == namespace and pod_key(p) != key
                 and any(v.persistent_volume_claim is not None and v.persistent_volume_claim.claim_name in claims
                         for v in p.spec.volumes))


@attrs.frozen
class Restrictions:
    """The plug-in's PreFilter state for one pod: its ReadWriteOncePod claims."""

    claims: frozenset[str] = frozenset()

    def status(self, pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo]) -> FilterStatus | None:
        """satisfyReadWriteOncePod: refused (Unschedulable) while another pod uses one of the claims."""
        if self.claims and claim_users(pod, self.claims, nodes):
            return FilterStatus(PLUGIN, (RWOP_CONFLICT,), False)
        return None
