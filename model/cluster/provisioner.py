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

Which provisioners run (`kubeprop.model.api.storage.provisioner_choice`): the cluster class's
(model parameter `defaultStorageClass`, `kubeprop.model.api.storage.CLUSTER_CLASSES`), and that of
every StorageClass the scenario ships — a user who ships a class runs its provisioner (an EKS-style
`gp3` class comes with ebs.csi.aws.com installed); before round 22 only the cluster class's ran and
such claims stayed Pending for ever, a false alarm. `kubernetes.io/no-provisioner` names none. The
three provisioners of the cluster classes behave as their class does wherever they are named; any
other is taken as a CSI driver of that name served by csi-provisioner: a `csi` volume, with the
topology of the `zonal` provisioner (`kubernetes-csi/external-provisioner` `pkg/controller/topology.go`
GenerateAccessibilityRequirements: the selected node's topology; the model reads the zone label
`topology.kubernetes.io/zone`, as the drivers' own keys — `topology.ebs.csi.aws.com/zone`, … — are
not node labels a scenario declares), except that a driver whose CSIDriver object says
`attachRequired: false` (file storage: efs.csi.aws.com, nfs.csi.k8s.io) is taken to report no
topology, and its volume has no node affinity. Its CSIDriver's `attachRequired` also decides
whether the attach/detach controller attaches it (`kubeprop.model.api.volume.attachable`).
A provisioner runs as long as the cluster class or a stored class names it (`running_provisioners`:
its deletions need one). The provisioned volume's node affinity is the choice's: `zonal` — the
selected node's `topology.kubernetes.io/zone` (none when the node has no zone label: the scenario
says nothing of zones), `node-local` — the selected node (`kubernetes.io/hostname`), `immediate` —
none. A claim of an Immediate class has no selected node: `zonal` then places it as csi-provisioner
does (`immediate_zone`: one zone of the cluster's, or of the class's `allowedTopologies`, picked by
the claim's name, so a StatefulSet's volumes spread over the zones), and `node-local` never
provisions it (rancher.io/local-path's Provision fails with "configuration error, no node was
specified"; the claim stays Pending, as on kind).

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
from kubeprop.model.api.storage import (
    CSI_DRIVERS,
    GENERIC_CSI,
    NOT_SUPPORTED_PROVISIONER,
    WAIT_FOR_FIRST_CONSUMER,
    CSIDriver,
    StorageClass,
    claim_class,
    cluster_storage_class,
    find_storage_class,
    makes_csi_volumes,
    provisioner_choice,
)
from kubeprop.model.api.storage import RESOURCE as STORAGE_CLASSES
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
    """The provisioner of `claim`'s class (`namespace/name`) creates its volume."""

    LANE = "environment"

    claim: str


@attrs.frozen(order=True)
class DeleteVolume(Action):
    """The provisioner that made the Released volume `volume` deletes it (its storage, then the object)."""

    LANE = "environment"

    volume: str


def _choice(model: ClusterModel) -> str:
    return str(model.parameter("defaultStorageClass"))


def wanted(model: ClusterModel, state: ClusterState, claim: PersistentVolumeClaim,
           builtin: StorageClass | None) -> StorageClass | None:
    """shouldProvision: the claim's class, if its provisioner is one the model runs
    (`provisioner_choice`) and is asked for it (the PV controller's annotation), the claim is still
    unbound and not being deleted, its class is still there, a WaitForFirstConsumer claim has its
    selected node, and its volume does not exist.

    A claim with a `selector` is never provisioned: every provisioner's Provision refuses it
    (`kubernetes-csi/external-provisioner` `pkg/controller/controller.go` Provision: "claim Selector
    is not supported", ProvisioningFinished; rancher.io/local-path's and the in-tree plugins' alike),
    so such a claim binds only to an existing volume its selector matches, or stays Pending."""
    annotations = claim.metadata.annotations
    if not annotations.get(ANN_STORAGE_PROVISIONER) or claim.spec.volume_name or claim.spec.selector is not None:
        return None
    if claim.metadata.deletion_timestamp is not None:
        return None
    cls = find_storage_class(state.store.list(STORAGE_CLASSES), builtin, claim_class(claim.spec.storage_class_name))
    if cls is None or annotations.get(ANN_STORAGE_PROVISIONER) != cls.provisioner \
            or provisioner_choice(cls.provisioner, _choice(model)) is None:
        return None
    if not annotations.get(ANN_SELECTED_NODE) and (
            cls.volume_binding_mode == WAIT_FOR_FIRST_CONSUMER or not provisions_without_node(cls.provisioner)):
        return None
    if state.store.get(ObjectKey(VOLUMES, "", f"pvc-{claim.metadata.uid}")) is not None:
        return None
    return cls


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """One ProvisionVolume per claim a provisioner would provision now, one DeleteVolume per volume
    one would delete."""
    builtin = cluster_storage_class(_choice(model))
    for claim in state.store.list(CLAIMS):
        if isinstance(claim, PersistentVolumeClaim) and wanted(model, state, claim, builtin) is not None:
            yield ProvisionVolume(f"{claim.metadata.namespace}/{claim.metadata.name}")
    volumes = state.store.list(VOLUMES)
    if any(ANN_PROVISIONED_BY in v.metadata.annotations for v in volumes):
        running = running_provisioners(state, builtin)
        for volume in state.store.list(VOLUMES):
            if deletable(volume, running):
                yield DeleteVolume(volume.metadata.name)


def running_provisioners(state: ClusterState, builtin: StorageClass | None) -> frozenset[str]:
    """The provisioners the model runs in `state`: the cluster class's, and that of every stored
    StorageClass that names one (`provisioner_choice`; not `kubernetes.io/no-provisioner`)."""
    names = {c.provisioner for c in state.store.list(STORAGE_CLASSES) if isinstance(c, StorageClass)}
    names |= {builtin.provisioner} if builtin is not None else set()
    return frozenset(n for n in names if n not in ("", NOT_SUPPORTED_PROVISIONER))


def deletable(volume: Any, running: frozenset[str]) -> bool:
    """shouldDelete (`controller/controller.go`): a volume a running provisioner made (its
    `pv.kubernetes.io/provisioned-by`), not being deleted, Released, with reclaim policy Delete."""
    return (isinstance(volume, PersistentVolume)
            and volume.metadata.annotations.get(ANN_PROVISIONED_BY) in running
            and volume.metadata.deletion_timestamp is None and volume.status.phase == "Released"
            and volume.spec.persistent_volume_reclaim_policy == "Delete")


def _affinity(choice: str, nodes: Sequence[Node], claim: PersistentVolumeClaim, cls: StorageClass) -> Any:
    """The provisioned volume's nodeAffinity for the provisioner `choice` (`provisioner_choice`;
    `GENERIC_CSI` provisions as `zonal`) among `nodes`: on the selected node, or for a `zonal` claim
    without one (Immediate) in the zone csi-provisioner prefers (module docstring)."""
    choice = "zonal" if choice == GENERIC_CSI else choice
    node_name = claim.metadata.annotations.get(ANN_SELECTED_NODE, "")
    if not node_name:
        term = immediate_zone(claim.metadata.name, cls.allowed_topologies, nodes) if choice == "zonal" else None
        return None if term is None else _required(term)
    node = next((n for n in nodes if n.metadata.name == node_name), None)
    if node is None:
        return None
    if choice == "node-local":
        return _required(((HOSTNAME_LABEL, node.metadata.labels.get(HOSTNAME_LABEL, node_name)),))
    if choice == "zonal" and ZONE_LABEL in node.metadata.labels:
        return _required(((ZONE_LABEL, node.metadata.labels[ZONE_LABEL]),))
    return None


def provisions_without_node(provisioner: str) -> bool:
    """Whether `provisioner` provisions a claim no scheduler selected a node for
    (Immediate): all but rancher.io/local-path ("configuration error, no node was specified")."""
    return provisioner != LOCAL_PATH


def _required(segments: Sequence[tuple[str, str]]) -> Any:
    """GenerateVolumeNodeAffinity: one required term, `key In [value]` per segment."""
    term = {"matchExpressions": [{"key": k, "operator": "In", "values": [v]} for k, v in segments]}
    return freeze_json({"required": {"nodeSelectorTerms": [term]}})


def volume_for(model: ClusterModel, state: ClusterState, claim: PersistentVolumeClaim,
               cls: StorageClass) -> PersistentVolume:
    """The volume the provisioner creates for `claim` of class `cls`."""
    nodes = [n for n in state.store.list("nodes") if isinstance(n, Node)]
    driver = state.store.get(ObjectKey(CSI_DRIVERS, "", cls.provisioner))
    return volume_for_choice(_choice(model), nodes, claim, cls, driver if isinstance(driver, CSIDriver) else None)


def volume_for_choice(choice: str, nodes: Sequence[Node], claim: PersistentVolumeClaim,
                      cls: StorageClass, driver: CSIDriver | None = None) -> PersistentVolume:
    """The volume the provisioner of class `cls` creates for `claim` among `nodes` on a cluster
    whose own class is `choice` (also `kubeprop schedule`'s prediction of an Immediate claim's
    volume): a `csi` volume of the driver named as the provisioner unless it makes hostPath ones
    (`makes_csi_volumes`). A `GENERIC_CSI` driver whose CSIDriver object (`driver`) says
    `attachRequired: false` (file storage: efs.csi.aws.com, nfs.csi.k8s.io) is taken to report no
    topology: its volume has no node affinity (module docstring)."""
    name = f"pvc-{claim.metadata.uid}"
    request = storage_request(claim)
    kind = provisioner_choice(cls.provisioner, choice) or choice
    source = {"csi": freeze_json({"driver": cls.provisioner, "volumeHandle": name})} \
        if makes_csi_volumes(cls.provisioner, choice) else \
        {"host_path": freeze_json({"path": f"/var/local-path-provisioner/{name}", "type": "DirectoryOrCreate"})}
    topology_less = kind == GENERIC_CSI and driver is not None and driver.spec.attach_required is False
    spec = PersistentVolumeSpec(
        capacity=FrozenMap({"storage": request}) if request is not None else FrozenMap(),
        access_modes=claim.spec.access_modes, persistent_volume_reclaim_policy=cls.reclaim_policy or "Delete",
        storage_class_name=cls.metadata.name, volume_mode=claim.spec.volume_mode or "Filesystem",
        claim_ref=claim_ref(claim), node_affinity=None if topology_less else _affinity(kind, nodes, claim, cls),
        **source)
    meta = ObjectMeta(name=name, annotations=FrozenMap({ANN_PROVISIONED_BY: cls.provisioner}))
    return PersistentVolume(metadata=meta, spec=spec)


def _provision(model: ClusterModel, state: ClusterState, act: ProvisionVolume) -> ClusterState:
    namespace, _, name = act.claim.partition("/")
    claim = state.store.get(ObjectKey(CLAIMS, namespace, name))
    assert isinstance(claim, PersistentVolumeClaim), "ProvisionVolume is not enabled"
    cls = wanted(model, state, claim, cluster_storage_class(_choice(model)))
    assert cls is not None, "ProvisionVolume is not enabled"
    request = Request(verb="create", user=PROVISIONER_USER, obj=volume_for(model, state, claim, cls))
    state, _ = send(model, state, PROVISIONER_USER, request, COMPONENT)
    return state


def _delete(model: ClusterModel, state: ClusterState, act: DeleteVolume) -> ClusterState:
    """deleteVolumeOperation: the storage is deleted (not modelled), then the volume object."""
    running = running_provisioners(state, cluster_storage_class(_choice(model)))
    assert deletable(state.store.get(ObjectKey(VOLUMES, "", act.volume)), running), "DeleteVolume is not enabled"
    request = Request(verb="delete", user=PROVISIONER_USER, resource=VOLUMES, name=act.volume)
    state, _ = send(model, state, PROVISIONER_USER, request, COMPONENT)
    return state


HANDLERS: dict[type[Any], Callable[[ClusterModel, ClusterState, Any], ClusterState]] = {
    ProvisionVolume: _provision,
    DeleteVolume: _delete,
}
