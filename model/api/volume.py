"""The claim and volume helpers the PV controller, the scheduler's VolumeBinding plug-in and the
external provisioner share: the binding annotations, matching a claim to a volume, the reference a
bound volume carries.

Upstream: `staging/src/k8s.io/component-helpers/storage/volume/pv_helpers.go` (FindMatchingVolume,
IsVolumeBoundToClaim, GetBindVolumeToClaim's claimRef, the annotations),
`pkg/controller/volume/persistentvolume/index.go` (findBestMatchForClaim),
`pkg/scheduler/framework/plugins/volumebinding/binder.go` (isPVCFullyBound).
Upstream keeps these in component-helpers so that the controller and the scheduler share them
without importing each other; here they live in the API package for the same reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim
from kubeprop.model.api.meta import ObjectReference
from kubeprop.model.api.objects import ApiObject
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import selector_matches
from kubeprop.model.api.storage import claim_class

ANN_BIND_COMPLETED: Final = "pv.kubernetes.io/bind-completed"
ANN_BOUND_BY_CONTROLLER: Final = "pv.kubernetes.io/bound-by-controller"
ANN_SELECTED_NODE: Final = "volume.kubernetes.io/selected-node"
ANN_STORAGE_PROVISIONER: Final = "volume.kubernetes.io/storage-provisioner"
ANN_BETA_STORAGE_PROVISIONER: Final = "volume.beta.kubernetes.io/storage-provisioner"
ANN_PROVISIONED_BY: Final = "pv.kubernetes.io/provisioned-by"
"""`AnnDynamicallyProvisioned`: the provisioner that created the volume."""
PVC_PROTECTION_FINALIZER: Final = "kubernetes.io/pvc-protection"
"""`volumeutil.PVCProtectionFinalizer` (`pkg/volume/util/finalizer.go`): a claim used by a pod is not removed."""
PV_PROTECTION_FINALIZER: Final = "kubernetes.io/pv-protection"
"""`volumeutil.PVProtectionFinalizer`: a bound volume is not removed."""
CLAIMS: Final = "persistentvolumeclaims"
VOLUMES: Final = "persistentvolumes"


def storage_request(claim: PersistentVolumeClaim) -> Quantity | None:
    """The claim's `resources.requests.storage`."""
    value = claim.spec.resources.requests.get("storage")
    return value if isinstance(value, Quantity) else None


def is_fully_bound(claim: PersistentVolumeClaim) -> bool:
    """isPVCFullyBound (scheduler's binder.go): `volumeName` set and `bind-completed` annotated."""
    return bool(claim.spec.volume_name) and ANN_BIND_COMPLETED in claim.metadata.annotations


def is_bound_to_claim(volume: PersistentVolume, claim: PersistentVolumeClaim) -> bool:
    """IsVolumeBoundToClaim: the volume's claimRef names the claim (and its UID, when set)."""
    ref = volume.spec.claim_ref
    if ref is None or ref.name != claim.metadata.name or ref.namespace != claim.metadata.namespace:
        return False
    return not ref.uid or ref.uid == claim.metadata.uid


def volume_matches(claim: PersistentVolumeClaim, volume: PersistentVolume) -> bool:
    """FindMatchingVolume's checks of one free volume: its class, volume mode, selector, every
    access mode the claim asks for, and enough capacity."""
    if volume.spec.storage_class_name != claim_class(claim.spec.storage_class_name):
        return False
    if (volume.spec.volume_mode or "Filesystem") != (claim.spec.volume_mode or "Filesystem"):
        return False
    selector = claim.spec.selector
    if selector is not None and not selector_matches(selector, volume.metadata.labels):
        return False
    if not set(claim.spec.access_modes) <= set(volume.spec.access_modes):
        return False
    want, have = storage_request(claim), volume.spec.capacity.get("storage")
    return want is None or (isinstance(have, Quantity) and have >= want)


def find_best_match(claim: PersistentVolumeClaim, volumes: Iterable[ApiObject], delay_binding: bool,
                    labels: dict[str, str] | None = None, fits_node: Any = None) -> PersistentVolume | None:
    """findBestMatchForClaim / FindMatchingVolume: a volume pre-bound to the claim wins; else, unless
    `delay_binding` (the PV controller leaves WaitForFirstConsumer claims to the scheduler), the
    smallest free Available volume that matches (`fits_node(volume)`, the scheduler's check of the
    volume's node affinity, when given)."""
    best: PersistentVolume | None = None
    for volume in volumes:
        if not isinstance(volume, PersistentVolume) or volume.metadata.deletion_timestamp is not None:
            continue
        if fits_node is not None and not fits_node(volume):
            continue
        if is_bound_to_claim(volume, claim) and volume_matches(claim, volume):
            return volume
        if delay_binding and fits_node is None:
            continue
        if volume.status.phase != "Available" or volume.spec.claim_ref is not None or not volume_matches(claim, volume):
            continue
        size, best_size = volume.spec.capacity.get("storage"), best.spec.capacity.get("storage") if best else None
        if best is None or (isinstance(size, Quantity) and isinstance(best_size, Quantity) and size < best_size):
            best = volume
    return best


MULTI_ATTACH_MODES: Final = frozenset({"ReadWriteMany", "ReadOnlyMany"})
"""The access modes that let the attach/detach controller attach a volume to several nodes."""


def attachable(volume: PersistentVolume) -> bool:
    """Whether the attach/detach controller attaches the volume to a node before the kubelet mounts
    it: a `csi` volume (`pkg/volume/csi/csi_plugin.go` skipAttach: attach is required unless a
    CSIDriver object says `attachRequired: false` — CSIDriver objects are not modelled, so every CSI
    volume is attached, as when its driver has none). `hostPath`, `local` and `nfs` volumes are not
    attachable (their plug-ins have no attacher), and RWO is then not enforced across nodes. Model
    choice: the in-tree sources the decoder drops (`PersistentVolumeSpec.IGNORED_JSON_FIELDS`:
    awsElasticBlockStore, gcePersistentDisk, azureDisk, rbd, iscsi, fc are attachable, cephfs and
    azureFile not) cannot be told apart, and count as not attachable."""
    return volume.spec.csi is not None


def multi_attach_forbidden(volume: PersistentVolume) -> bool:
    """isMultiAttachForbidden (`pkg/controller/volume/attachdetach/reconciler/reconciler.go`) for a
    PersistentVolume: access modes given and none of them ReadWriteMany or ReadOnlyMany (the PV's
    modes, not the claim's)."""
    modes = volume.spec.access_modes
    return bool(modes) and not MULTI_ATTACH_MODES.intersection(modes)


def claim_ref(claim: PersistentVolumeClaim) -> ObjectReference:
    """The reference to `claim` a volume bound to it carries (GetBindVolumeToClaim)."""
    return ObjectReference(kind="PersistentVolumeClaim", api_version="v1", namespace=claim.metadata.namespace,
                           name=claim.metadata.name, uid=claim.metadata.uid,
                           resource_version=claim.metadata.resource_version)
