"""The cluster's dynamic provisioner: environment actions that create a claim's volume and delete
a released one.

Upstream the PV controller provisions nothing itself for CSI and out-of-tree classes: it
annotates the claim with `volume.kubernetes.io/storage-provisioner` (`pkg/controller/volume/
persistentvolume/pv_controller.go` provisionClaimOperationExternal), and an external provisioner
that watches claims — the CSI external-provisioner, kind's rancher.io/local-path, minikube's
hostpath provisioner, all built on `sigs.k8s.io/sig-storage-lib-external-provisioner`
(`controller/controller.go` shouldProvision, provisionClaimOperation) — creates a volume named
`pvc-<claim UID>` pre-bound to the claim (`claimRef` with its UID), with the claim's size and
access modes and the class's reclaim policy, annotated `pv.kubernetes.io/provisioned-by`; for a
WaitForFirstConsumer class only once the scheduler has written `volume.kubernetes.io/selected-node`,
and with the node affinity its storage has there. The PV controller then binds the two.

`ProvisionVolume(claim)` is that act. `DeleteVolume(volume)` is the provisioner's other half
(`controller/controller.go` shouldDelete, deleteVolumeOperation): a volume it provisioned whose
claim is gone — Released, reclaim policy Delete (the class's `reclaimPolicy`, Delete by default),
not being deleted — has its storage deleted and then the object (a DELETE; the
`kubernetes.io/pv-protection` finalizer holds it until the PV protection controller sees it
unbound). The provisioner's own finalizer (`external-provisioner.volume.kubernetes.io/finalizer`,
which csi-provisioner adds under HonorPVReclaimPolicy so that a volume deleted before its claim
still has its storage deleted) is not modelled, nor is the deletion of a static CSI volume of the
provisioner's driver: only the volumes it provisioned are deleted.

Only the provisioner of the cluster's own default class runs (model parameter
`defaultStorageClass`, `kubeprop.model.api.storage.CLUSTER_CLASSES`): a claim of a stored
StorageClass with the same provisioner is provisioned too; one of any other provisioner waits,
Pending, as it would on a cluster without that provisioner. The provisioned volume's node affinity
is the choice's: `zonal` — the selected node's `topology.kubernetes.io/zone` (none when the node
has no zone label: the scenario says nothing of zones), `node-local` — the selected node
(`kubernetes.io/hostname`), `immediate` — none. A claim of an Immediate class has no selected node:
`zonal` then places it as csi-provisioner does (`immediate_zone`: one zone of the cluster's, or of
the class's `allowedTopologies`, picked by the claim's name, so a StatefulSet's volumes spread over
the zones), and `node-local` never provisions it (rancher.io/local-path's Provision fails with
"configuration error, no node was specified"; the claim stays Pending, as on kind).

Both are progress that waits on the world (`kubeprop.model.cluster.drive.ENVIRONMENT_TIMED`):
weakly fair, so a claim's volume comes eventually (and a released one goes), but the fair run takes
it only once the control plane has nothing left to do, and a search may delay it past anything
else; nothing forces it at any moment. The provisioner reads the store (not a lagging cache), and
its failures (a full disk, a quota) are not modelled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs

from kubeprop.model.api.codec import freeze_json
from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim, PersistentVolumeSpec
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Node, ObjectKey
from kubeprop.model.api.server import Request
from kubeprop.model.api.storage import RESOURCE as STORAGE_CLASSES
from kubeprop.model.api.storage import (
    WAIT_FOR_FIRST_CONSUMER,
    StorageClass,
    claim_class,
    cluster_storage_class,
    find_storage_class,
)
from kubeprop.model.api.volume import (
    ANN_PROVISIONED_BY,
    ANN_SELECTED_NODE,
    ANN_STORAGE_PROVISIONER,
    CLAIMS,
    VOLUMES,
    claim_ref,
    storage_request,
)
from kubeprop.model.cluster.provisioner_topology import ZONE_LABEL, immediate_zone
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import PROVISIONER_USER
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState, send

COMPONENT = "provisioner"
HOSTNAME_LABEL = "kubernetes.io/hostname"
LOCAL_PATH = "rancher.io/local-path"


@attrs.frozen(order=True)
class ProvisionVolume(Action):
    """The cluster's provisioner creates the volume of `claim` (`namespace/name`)."""

    LANE = "environment"

    claim: str


@attrs.frozen(order=True)
class DeleteVolume(Action):
    """The cluster's provisioner deletes the Released volume `volume` (its storage, then the object)."""

    LANE = "environment"

    volume: str


def _cluster_class(model: ClusterModel) -> StorageClass | None:
    return cluster_storage_class(str(model.parameter("defaultStorageClass")))


def wanted(model: ClusterModel, state: ClusterState, claim: PersistentVolumeClaim,
           builtin: StorageClass) -> StorageClass | None:
    """shouldProvision: the claim's class, if the cluster's provisioner is asked for it (the PV
    controller's annotation), the claim is still unbound and not being deleted, its class is
    still there, a WaitForFirstConsumer claim has its selected node, and its volume does not exist."""
    annotations = claim.metadata.annotations
    if annotations.get(ANN_STORAGE_PROVISIONER) != builtin.provisioner or claim.spec.volume_name:
        return None
    if claim.metadata.deletion_timestamp is not None:
        return None
    cls = find_storage_class(state.store.list(STORAGE_CLASSES), builtin, claim_class(claim.spec.storage_class_name))
    if cls is None or cls.provisioner != builtin.provisioner:
        return None
    if not annotations.get(ANN_SELECTED_NODE) and (
            cls.volume_binding_mode == WAIT_FOR_FIRST_CONSUMER or builtin.provisioner == LOCAL_PATH):
        return None  # local-path: "configuration error, no node was specified" (module docstring)
    if state.store.get(ObjectKey(VOLUMES, "", f"pvc-{claim.metadata.uid}")) is not None:
        return None
    return cls


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """One ProvisionVolume per claim the cluster's provisioner would provision now, one DeleteVolume
    per volume it would delete."""
    builtin = _cluster_class(model)
    if builtin is None:
        return
    for claim in state.store.list(CLAIMS):
        if isinstance(claim, PersistentVolumeClaim) and wanted(model, state, claim, builtin) is not None:
            yield ProvisionVolume(f"{claim.metadata.namespace}/{claim.metadata.name}")
    for volume in state.store.list(VOLUMES):
        if deletable(volume, builtin):
            yield DeleteVolume(volume.metadata.name)


def deletable(volume: Any, builtin: StorageClass) -> bool:
    """shouldDelete (`controller/controller.go`): a volume this provisioner made (its
    `pv.kubernetes.io/provisioned-by`), not being deleted, Released, with reclaim policy Delete."""
    return (isinstance(volume, PersistentVolume)
            and volume.metadata.annotations.get(ANN_PROVISIONED_BY) == builtin.provisioner
            and volume.metadata.deletion_timestamp is None and volume.status.phase == "Released"
            and volume.spec.persistent_volume_reclaim_policy == "Delete")


def _affinity(model: ClusterModel, state: ClusterState, claim: PersistentVolumeClaim, cls: StorageClass) -> Any:
    """The provisioned volume's nodeAffinity: on the selected node, or for a `zonal` claim without
    one (Immediate) in the zone csi-provisioner prefers (module docstring)."""
    choice = str(model.parameter("defaultStorageClass"))
    node_name = claim.metadata.annotations.get(ANN_SELECTED_NODE, "")
    if not node_name:
        nodes = [n for n in state.store.list("nodes") if isinstance(n, Node)]
        term = immediate_zone(claim.metadata.name, cls.allowed_topologies, nodes) if choice == "zonal" else None
        return None if term is None else _required(term)
    node = state.store.get(ObjectKey("nodes", "", node_name))
    if not isinstance(node, Node):
        return None
    if choice == "node-local":
        return _required(((HOSTNAME_LABEL, node.metadata.labels.get(HOSTNAME_LABEL, node_name)),))
    if choice == "zonal" and ZONE_LABEL in node.metadata.labels:
        return _required(((ZONE_LABEL, node.metadata.labels[ZONE_LABEL]),))
    return None


def _required(segments: Sequence[tuple[str, str]]) -> Any:
    """GenerateVolumeNodeAffinity: one required term, `key In [value]` per segment."""
    term = {"matchExpressions": [{"key": k, "operator": "In", "values": [v]} for k, v in segments]}
    return freeze_json({"required": {"nodeSelectorTerms": [term]}})


def volume_for(model: ClusterModel, state: ClusterState, claim: PersistentVolumeClaim,
               cls: StorageClass) -> PersistentVolume:
    """The volume the provisioner creates for `claim` of class `cls`."""
    name = f"pvc-{claim.metadata.uid}"
    request = storage_request(claim)
    source = {"csi": freeze_json({"driver": cls.provisioner, "volumeHandle": name})} \
        if cls.provisioner.endswith(".csi.storage.gke.io") else \
        {"host_path": freeze_json({"path": f"/var/local-path-provisioner/{name}", "type": "DirectoryOrCreate"})}
    spec = PersistentVolumeSpec(
        capacity=FrozenMap({"storage": request}) if request is not None else FrozenMap(),
        access_modes=claim.spec.access_modes, persistent_volume_reclaim_policy=cls.reclaim_policy or "Delete",
        storage_class_name=cls.metadata.name, volume_mode=claim.spec.volume_mode or "Filesystem",
        claim_ref=claim_ref(claim),
        node_affinity=_affinity(model, state, claim, cls), **source)
    meta = ObjectMeta(name=name, annotations=FrozenMap({ANN_PROVISIONED_BY: cls.provisioner}))
    return PersistentVolume(metadata=meta, spec=spec)


def _provision(model: ClusterModel, state: ClusterState, act: ProvisionVolume) -> ClusterState:
    builtin = _cluster_class(model)
    namespace, _, name = act.claim.partition("/")
    claim = state.store.get(ObjectKey(CLAIMS, namespace, name))
    assert builtin is not None and isinstance(claim, PersistentVolumeClaim), "ProvisionVolume is not enabled"
    cls = wanted(model, state, claim, builtin)
    assert cls is not None, "ProvisionVolume is not enabled"
    request = Request(verb="create", user=PROVISIONER_USER, obj=volume_for(model, state, claim, cls))
    state, _ = send(model, state, PROVISIONER_USER, request, COMPONENT)
    return state


def _delete(model: ClusterModel, state: ClusterState, act: DeleteVolume) -> ClusterState:
    """deleteVolumeOperation: the storage is deleted (not modelled), then the volume object."""
    builtin = _cluster_class(model)
    assert builtin is not None and deletable(state.store.get(ObjectKey(VOLUMES, "", act.volume)), builtin), \
        "DeleteVolume is not enabled"
    request = Request(verb="delete", user=PROVISIONER_USER, resource=VOLUMES, name=act.volume)
    state, _ = send(model, state, PROVISIONER_USER, request, COMPONENT)
    return state


HANDLERS: dict[type[Any], Callable[[ClusterModel, ClusterState, Any], ClusterState]] = {
    ProvisionVolume: _provision,
    DeleteVolume: _delete,
}
