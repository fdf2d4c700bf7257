"""The scheduler's VolumeBinding plug-in: PreFilter, Filter and the PreBind that waits for claims.

Upstream (`pkg/scheduler/framework/plugins/volumebinding/volume_binding.go`, `binder.go`):
- PreFilter (podHasPVCs, GetPodVolumeClaims): a pod whose claim is missing is refused with the
  lister's error `persistentvolumeclaim "x" not found`, one being deleted with `persistentvolumeclaim
  "x" is being deleted`, one Lost with `persistentvolumeclaim "x" bound to non-existent
  persistentvolume "v"`; a claim not fully bound whose class binds Immediate (or that is pre-bound
  by `volumeName`) gives "pod has unbound immediate PersistentVolumeClaims" — all
  UnschedulableAndUnresolvable: the pod waits for the PV controller.
- Filter (FindPodVolumes) on each node: a bound claim's volume must exist ("node(s) unavailable
  due to one or more pvc(s) bound to non-existent pv(s)") and its nodeAffinity match the node
  ("node(s) had volume node affinity conflict"); an unbound WaitForFirstConsumer claim needs a
  free matching volume whose node affinity matches the node (a static binding) or a class that
  provisions (`kubernetes.io/no-provisioner` does not) and whose `allowedTopologies` match the
  node (else "node(s) didn't find available persistent volumes to bind"); a claim whose
  `volume.kubernetes.io/selected-node` names another node fails at once. All unresolvable.
- Reserve and PreBind (AssumePodVolumes, BindPodVolumes): the decisions of the cycle's Filter for
  the chosen node (`PodVolumes.decisions`) are assumed in the binder's assume caches, which the
  next cycles read, then written as the cycle read them (a stale resourceVersion is a 409), and the
  binding waits until checkBindings finds every claim fully bound by the PV controller
  (`volumeName` and `pv.kubernetes.io/bind-completed`) on a volume that reaches the node:
  `kubeprop.model.scheduler.volumeassume`.
- Its EventsToRegister: claims, volumes and StorageClasses added or updated move parked pods.

Model choices: the plug-in reads the scheduler's caches of claims, volumes and StorageClasses,
which it watches only in scenarios that can have them (`sees_volumes`: the same test that runs the
PV controller), so every other scenario's states stay as they were; the cluster's own default
class is the parameter `defaultStorageClass` (`kubeprop.model.api.storage`). Storage capacity
(CSIStorageCapacity), CSI migration, generic ephemeral volumes, the bind timeout and the Score
(static bindings' utilisation) are not modelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from kubeprop.model.api.codec import decode, thaw_json
from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim
from kubeprop.model.api.objects import Node, ObjectKey, Pod
from kubeprop.model.api.selectors import NodeSelector, NodeSelectorTerm
from kubeprop.model.api.storage import (
    NOT_SUPPORTED_PROVISIONER,
    StorageClass,
    claim_class,
    cluster_storage_class,
    find_storage_class,
    is_delay_binding,
)
from kubeprop.model.api.storage import RESOURCE as STORAGE_CLASSES
from kubeprop.model.api.volume import (
    ANN_SELECTED_NODE,
    CLAIMS,
    VOLUMES,
    find_best_match,
    is_fully_bound,
)
from kubeprop.model.memo import IdentityMemo
from kubeprop.model.scheduler.filters import FilterStatus
from kubeprop.model.scheduler.nodeinfo import NodeInfo
from kubeprop.model.scheduler.volumerestrictions import read_write_once_pod_claims
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.model.state.informer import ObjectView

__all__ = ["PLUGIN", "RESOURCES", "PodVolumes", "node_affinity_matches", "pod_volumes", "sees_volumes", "watches"]

PLUGIN = "VolumeBinding"
RESOURCES = (CLAIMS, VOLUMES, STORAGE_CLASSES)
UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind"
NODE_CONFLICT = "node(s) had volume node affinity conflict"
PV_NOT_EXIST = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"


_SELECTORS: IdentityMemo[NodeSelector] = IdentityMemo(limit=1_024)
"""A volume's required node affinity, decoded, by the identity of its stored value (the Filter
asks for it once per pod and node)."""


def sees_volumes(model: ClusterModel) -> bool:
    """Whether the scenario can have claims or volumes (it runs the PV controller)."""
    return any(c.name == "persistentvolume-binder" for c in model.controllers)


def watches(model: ClusterModel, component: str) -> tuple[str, ...]:
    """A scheduler instance watches claims, volumes and StorageClasses where the scenario can have
    them (a `Hooks.watches` source)."""
    return RESOURCES if component in model.scheduler_instances and sees_volumes(model) else ()


def claim_names(pod: Pod) -> tuple[str, ...]:
    """The claims the pod's volumes name, in volume order."""
    return tuple(v.persistent_volume_claim.claim_name for v in pod.spec.volumes if v.persistent_volume_claim)


def node_affinity_matches(volume: PersistentVolume, node: Node) -> bool:
    """CheckNodeAffinity (`component-helpers/storage/volume/pv_helpers.go`): a volume without a
    required node affinity fits every node; else some term must match the node's labels."""
    affinity = volume.spec.node_affinity
    required = affinity.get("required") if hasattr(affinity, "get") else None
    if required is None:
        return True
    selector = _SELECTORS.get1(required, _node_selector, required)  # decoded once per stored value
    return selector.matches(node.metadata.name, node.metadata.labels)


def _node_selector(required: Any) -> NodeSelector:
    selector: NodeSelector = decode(NodeSelector, thaw_json(required))
    return selector


def _topology_matches(cls: StorageClass, node: Node) -> bool:
    """MatchTopologySelectorTerms over the class's allowedTopologies (none: every node)."""
    if not cls.allowed_topologies:
        return True
    for term in cls.allowed_topologies:
        expressions = [{"key": e.get("key"), "operator": "In", "values": list(e.get("values", ()))}
                       for e in term.get("matchLabelExpressions", ())]
        parsed: NodeSelectorTerm = decode(NodeSelectorTerm, {"matchExpressions": expressions})
        if parsed.matches(node.metadata.name, node.metadata.labels):
            return True
    return False


@attrs.frozen
class PodVolumes:
    """What VolumeBinding found for one pod in the scheduler's caches (PreFilter's state):
    the PreFilter rejection, if any; the bound claims' volumes (None: missing); the unbound
    WaitForFirstConsumer claims; the volumes and classes to match them against; and the claims
    whose access modes hold ReadWriteOncePod (VolumeRestrictions' PreFilter state:
    `kubeprop.model.scheduler.volumerestrictions`, which reads the same claim cache)."""

    prefilter: str | None = None
    bound: tuple[PersistentVolume | None, ...] = ()
    to_bind: tuple[PersistentVolumeClaim, ...] = ()
    volumes: tuple[PersistentVolume, ...] = ()
    classes: tuple[Any, ...] = ()
    builtin: StorageClass | None = None
    read_write_once_pod: frozenset[str] = frozenset()

    def reasons(self, node: Node) -> tuple[str, ...]:
        """FindPodVolumes on `node`: the conflict reasons, in upstream's order (none: it fits)."""
        bound_ok = pvs_found = unbound_ok = True
        for volume in self.bound:
            if volume is None:
                pvs_found = False
                break
            if not node_affinity_matches(volume, node):
                bound_ok = False
                break
        chosen: set[str] = set()
        for claim in self.to_bind:
            selected = claim.metadata.annotations.get(ANN_SELECTED_NODE)
            if selected is not None and selected != node.metadata.name:
                unbound_ok = False
                break
            free = [v for v in self.volumes if v.metadata.name not in chosen]
            match = None if selected is not None else find_best_match(
                claim, free, True, fits_node=lambda v: node_affinity_matches(v, node))
            if match is not None:
                chosen.add(match.metadata.name)
                continue
            cls = find_storage_class(self.classes, self.builtin, claim_class(claim.spec.storage_class_name))
            if cls is None or cls.provisioner in ("", NOT_SUPPORTED_PROVISIONER) or not _topology_matches(cls, node):
                unbound_ok = False
        return tuple(r for r, ok in ((NODE_CONFLICT, bound_ok), (BIND_CONFLICT, unbound_ok),
                                     (PV_NOT_EXIST, pvs_found)) if not ok)

    def decisions(self, node: Node) -> tuple[tuple[tuple[PersistentVolumeClaim, PersistentVolume], ...],
                                             tuple[PersistentVolumeClaim, ...]]:
        """FindPodVolumes' podVolumes on `node`, a node the Filter passed (`binder.go`): the static
        bindings (claim, the free volume findMatchingVolumes chose) and the claims to provision —
        first those whose selected-node annotation names the node, then those no free volume
        matches (upstream's order). Model choice: the claims to match are taken in the pod's order
        (upstream sorts them by requested size, byPVCSize)."""
        selected: list[PersistentVolumeClaim] = []
        unmatched: list[PersistentVolumeClaim] = []
        bindings: list[tuple[PersistentVolumeClaim, PersistentVolume]] = []
        for claim in self.to_bind:
            if claim.metadata.annotations.get(ANN_SELECTED_NODE) is not None:
                selected.append(claim)
                continue
            chosen = {v.metadata.name for _, v in bindings}
            free = [v for v in self.volumes if v.metadata.name not in chosen]
            match = find_best_match(claim, free, True, fits_node=lambda v: node_affinity_matches(v, node))
            if match is None:
                unmatched.append(claim)
            else:
                bindings.append((claim, match))
        return tuple(bindings), (*selected, *unmatched)

    def status(self, pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo]) -> FilterStatus | None:
        """The Filter as a scheduler filter function (unresolvable)."""
        found = self.reasons(ni.node)
        return FilterStatus(PLUGIN, found, True) if found else None


def pod_volumes(view: ObjectView, pod: Pod, cluster_class: str) -> PodVolumes | None:
    """PreFilter: None for a pod without claims (Skip), else what the Filter needs, or the
    rejection (`PodVolumes.prefilter`)."""
    names = claim_names(pod)
    if not names:
        return None
    classes = tuple(view.list(STORAGE_CLASSES))
    builtin = cluster_storage_class(cluster_class)
    claims: list[PersistentVolumeClaim] = []
    for name in names:
        claim = view.get(ObjectKey(CLAIMS, pod.metadata.namespace, name))
        if not isinstance(claim, PersistentVolumeClaim):
            return PodVolumes(prefilter=f'persistentvolumeclaim "{name}" not found')
        if claim.status.phase == "Lost":
            return PodVolumes(prefilter=f'persistentvolumeclaim "{name}" bound to non-existent persistentvolume '
                                        f'"{claim.spec.volume_name}"')
        if claim.metadata.deletion_timestamp is not None:
            return PodVolumes(prefilter=f'persistentvolumeclaim "{name}" is being deleted')
        claims.append(claim)
    bound: list[PersistentVolume | None] = []
    to_bind: list[PersistentVolumeClaim] = []
    for claim in claims:
        if is_fully_bound(claim):
            volume = view.get(ObjectKey(VOLUMES, "", claim.spec.volume_name))
            bound.append(volume if isinstance(volume, PersistentVolume) else None)
        elif is_delay_binding(claim_class(claim.spec.storage_class_name), classes, builtin) \
                and not claim.spec.volume_name:
            to_bind.append(claim)
        else:
            return PodVolumes(prefilter=UNBOUND_IMMEDIATE)
    volumes = tuple(v for v in view.list(VOLUMES) if isinstance(v, PersistentVolume))
    return PodVolumes(None, tuple(bound), tuple(to_bind), volumes, classes, builtin,
                      read_write_once_pod_claims(view, pod))
