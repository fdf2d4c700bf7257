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

from collections.abc import Iterable, Mapping
from typing import Any, Final

from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim
from kubeprop.model.api.meta import ObjectReference
from kubeprop.model.api.objects import ApiObject
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import selector_matches
from kubeprop.model.api.storage import CSIDriver, claim_class

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


def _large_enough(claim: PersistentVolumeClaim, volume: PersistentVolume) -> bool:
    """The volume's `capacity.storage` is at least the claim's request (no request: any volume)."""
    want, have = storage_request(claim), volume.spec.capacity.get("storage")
    return want is None or (isinstance(have, Quantity) and have >= want)


def _same_volume_mode(claim: PersistentVolumeClaim, volume: PersistentVolume) -> bool:
    """Not CheckVolumeModeMismatches: both Filesystem when not given."""
    return (volume.spec.volume_mode or "Filesystem") == (claim.spec.volume_mode or "Filesystem")


def _access_modes(claim: PersistentVolumeClaim, volume: PersistentVolume) -> bool:
    """CheckAccessModes: the volume has every access mode the claim asks for."""
    return set(claim.spec.access_modes) <= set(volume.spec.access_modes)


def volume_mismatch(volume: PersistentVolume, claim: PersistentVolumeClaim) -> str | None:
    """checkVolumeSatisfyClaim (`pkg/controller/volume/persistentvolume/pv_controller.go`): why the
    volume a claim names by `volumeName` cannot be bound to it, or None. The PV controller then leaves
    the claim Pending (event VolumeMismatch, "Cannot bind to requested volume "<pv>": <why>"). No
    selector check: naming the volume is the choice. (VolumeAttributesClass is not modelled.)"""
    if volume.metadata.deletion_timestamp is not None:
        return f'the volume is marked for deletion "{volume.metadata.name}"'
    if not _large_enough(claim, volume):
        return "requested PV is too small"
    if volume.spec.storage_class_name != claim_class(claim.spec.storage_class_name):
        return "storageClassName does not match"
    if not _same_volume_mode(claim, volume):
        return "incompatible volumeMode"
    if not _access_modes(claim, volume):
        return "incompatible accessMode"
    return None


def find_best_match(claim: PersistentVolumeClaim, volumes: Iterable[ApiObject], delay_binding: bool,
                    labels: dict[str, str] | None = None, fits_node: Any = None) -> PersistentVolume | None:
    """findBestMatchForClaim / FindMatchingVolume
    (`staging/src/k8s.io/component-helpers/storage/volume/pv_helpers.go`), for the PV controller
    (`fits_node` None: `pkg/controller/volume/persistentvolume/index.go` findByClaim, which searches
    only the volumes with every access mode the claim asks for) or the scheduler (`fits_node(volume)`,
    the check of the volume's node affinity: `binder.go` findMatchingVolumes, which lists only the
    volumes of the claim's class). Volumes reserved for another claim, too small, of another volume
    mode or being deleted are skipped; then a volume pre-bound to the claim (its `claimRef`) wins at
    once — without the phase, selector and class checks, which come after (the
    kubernetes.io page "Reserving a PersistentVolume" says the class must match: the code does not
    check it on the PV controller's path) —, or, on the scheduler's path where its node affinity does
    not fit the node, ends the search with no match. Else, unless `delay_binding` on the PV
    controller's path (WaitForFirstConsumer claims are the scheduler's), the smallest Available
    volume of the claim's class whose labels match the claim's selector (and, for the scheduler,
    that fits the node and has the claim's access modes)."""
    best: PersistentVolume | None = None
    scheduler = fits_node is not None
    for volume in volumes:
        if not isinstance(volume, PersistentVolume) or volume.metadata.deletion_timestamp is not None:
            continue
        if volume.spec.claim_ref is not None and not is_bound_to_claim(volume, claim):
            continue
        if not _large_enough(claim, volume) or not _same_volume_mode(claim, volume):
            continue
        same_class = volume.spec.storage_class_name == claim_class(claim.spec.storage_class_name)
        if (scheduler and not same_class) or (not scheduler and not _access_modes(claim, volume)):
            continue  # not in the list searched
        fits = not scheduler or bool(fits_node(volume))
        if is_bound_to_claim(volume, claim):
            return volume if fits else None
        if (delay_binding and not scheduler) or volume.status.phase != "Available" or not same_class or not fits:
            continue
        selector = claim.spec.selector
        if (selector is not None and not selector_matches(selector, volume.metadata.labels)) \
                or (scheduler and not _access_modes(claim, volume)):
            continue
        size, best_size = volume.spec.capacity.get("storage"), best.spec.capacity.get("storage") if best else None
        if best is None or (isinstance(size, Quantity) and isinstance(best_size, Quantity) and size < best_size):
            best = volume
    return best


MULTI_ATTACH_MODES: Final = frozenset({"ReadWriteMany", "ReadOnlyMany"})
"""The access modes that let the attach/detach controller attach a volume to several nodes."""


def attachable(volume: PersistentVolume, driver: CSIDriver | None = None) -> bool:
    """Whether the attach/detach controller attaches the volume to a node before the kubelet mounts
    it: a `csi` volume unless its driver's CSIDriver object (`driver`, the one named as
    `csi_driver(volume)`; None when there is none) says `attachRequired: false`
    (`pkg/volume/csi/csi_plugin.go` CanAttach → skipAttach: "Don't skip attach if CSIDriver does not
    exist"; the controller's desired state of the world holds only volumes whose plug-in can attach,
    `pkg/controller/volume/attachdetach/util/util.go` ProcessPodVolumes). `hostPath`, `local` and
    `nfs` volumes are not attachable (their plug-ins have no attacher), and RWO is then not enforced
    across nodes. Model choice: the in-tree sources the decoder drops
    (`PersistentVolumeSpec.IGNORED_JSON_FIELDS`: awsElasticBlockStore, gcePersistentDisk, azureDisk,
    rbd, iscsi, fc are attachable, cephfs and azureFile not) cannot be told apart, and count as not
    attachable."""
    return volume.spec.csi is not None and (driver is None or driver.spec.attach_required is not False)


def csi_driver(volume: PersistentVolume) -> str:
    """The name of the CSI driver of a `csi` volume ("" for any other): its CSIDriver object's name."""
    csi = volume.spec.csi
    return str(csi.get("driver") or "") if isinstance(csi, Mapping) else ""


def multi_attach_forbidden(volume: PersistentVolume) -> bool:
    """isMultiAttachForbidden (`pkg/controller/volume/attachdetach/reconciler/reconciler.go`) for a
    PersistentVolume: access modes given and none of them ReadWriteMany or ReadOnlyMany (the PV's
    modes, not the claim's)."""
    return forbids_multi_attach(volume.spec.access_modes)


def forbids_multi_attach(modes: tuple[str, ...]) -> bool:
    """isMultiAttachForbidden's test of access modes: given, and none ReadWriteMany or ReadOnlyMany."""
    return bool(modes) and not MULTI_ATTACH_MODES.intersection(modes)


def claim_ref(claim: PersistentVolumeClaim) -> ObjectReference:
    """The reference to `claim` a volume bound to it carries (GetBindVolumeToClaim)."""
    return ObjectReference(kind="PersistentVolumeClaim", api_version="v1", namespace=claim.metadata.namespace,
                           name=claim.metadata.name, uid=claim.metadata.uid,
                           resource_version=claim.metadata.resource_version)
