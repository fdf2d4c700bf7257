"""The claim and volume helpers the PV controller, the scheduler's VolumeBinding plug-in and the
external provisioner share: the binding annotations, matching a claim to a volume, the reference a
bound volume carries.

Upstream: `staging/src/k8s.io/component-helpers/storage/volume/pv_helpers.go` (FindMatchingVolume,
IsVolumeBoundToClaim, GetBindVolumeToClaim's claimRef, the annotations),
`pkg/controller/volume/persistentvolume/index.go` (findBestMatchForClaim → findByClaim: the
access-mode sets, fewest modes first),
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


ACCESS_MODE_ABBREVIATIONS: Final = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"),
                                     ("ReadWriteOncePod", "RWOP"))
"""GetAccessModesAsString's order and names (`pkg/apis/core/v1/helper/helpers.go`)."""


def access_mode_set(modes: Iterable[str]) -> str:
    """GetAccessModesAsString: the PV controller's index key of a volume's access modes — the modes
    it knows, without duplicates, in the fixed order RWO, ROX, RWX, RWOP (the index's stored copies
    of `helpers.go` are older than ReadWriteOncePod and list the first three; v1.22+ adds RWOP)."""
    given = set(modes)
    return ",".join(short for mode, short in ACCESS_MODE_ABBREVIATIONS if mode in given)


def _set_modes(key: str) -> frozenset[str]:
    """GetAccessModesFromString: the access modes of an index key."""
    names = dict((short, mode) for mode, short in ACCESS_MODE_ABBREVIATIONS)
    return frozenset(names[short] for short in key.split(",") if short in names)


def mode_sets(claim: PersistentVolumeClaim, volumes: Iterable[ApiObject], first: str = "") -> list[str]:
    """allPossibleMatchingAccessModes (`pkg/controller/volume/persistentvolume/index.go`): the index
    keys (`access_mode_set`) of the volumes whose sets hold every mode the claim asks for, fewest
    modes first. Upstream the keys come from a Go map (ListIndexFuncValues) and sort.Sort orders them
    by size only, so sets of one size come in an order that varies from run to run: here `first`
    (the environment's choice, `PersistentVolumeController.tie_break`) comes first among the sets of
    its size, the others in key order (the model's default when `first` is empty)."""
    wanted = set(claim.spec.access_modes)
    keys = {access_mode_set(v.spec.access_modes) for v in volumes if isinstance(v, PersistentVolume)}
    found = [k for k in keys if wanted <= _set_modes(k)]
    return sorted(found, key=lambda k: (len(_set_modes(k)), k != first, k))


def find_best_match(claim: PersistentVolumeClaim, volumes: Iterable[ApiObject], delay_binding: bool,
                    labels: dict[str, str] | None = None, fits_node: Any = None,
                    first: str = "") -> PersistentVolume | None:
    """The volume a claim is bound to, for the PV controller (`fits_node` None) or the scheduler.

    The PV controller's findBestMatchForClaim → findByClaim
    (`pkg/controller/volume/persistentvolume/index.go`, read at the newest copy the index holds,
    v1.29+: FindMatchingVolume takes the VolumeAttributesClass gate) indexes its volumes by their
    set of access modes (`access_mode_set`) and searches the sets that hold every mode the claim asks
    for one at a time, fewest modes first (`mode_sets`; `first` breaks ties between sets of one
    size): the first set where FindMatchingVolume finds a volume gives it. So a volume reserved for
    the claim wins only within its set, and a claim for RWO takes a large volume of set [RWO] before
    a small one of set [RWO,ROX].

    The scheduler (`fits_node(volume)`, the check of the volume's node affinity:
    `pkg/scheduler/framework/plugins/volumebinding/binder.go` findMatchingVolumes) calls
    FindMatchingVolume once over every volume of the claim's class (pvCache.ListPVs), checking
    access modes per volume."""
    if fits_node is not None:
        return _matching_volume(claim, volumes, delay_binding, fits_node)
    listed = [v for v in volumes if isinstance(v, PersistentVolume)]
    for key in mode_sets(claim, listed, first):
        found = _matching_volume(claim, [v for v in listed if access_mode_set(v.spec.access_modes) == key],
                                 delay_binding, None)
        if found is not None:
            return found
    return None


def tie_breaks(claim: PersistentVolumeClaim, volumes: Iterable[ApiObject], delay_binding: bool) -> tuple[str, ...]:
    """The access-mode sets that, searched first among the sets of their size (`mode_sets`' `first`),
    make the PV controller's findByClaim choose another volume than key order does: one set for each
    other outcome, in key order. Empty unless two sets of one size both hold a match for the claim
    before any smaller set does."""
    listed = [v for v in volumes if isinstance(v, PersistentVolume)]
    keys = mode_sets(claim, listed)
    sizes = [len(_set_modes(k)) for k in keys]
    if len(set(sizes)) == len(sizes):
        return ()
    default = find_best_match(claim, listed, delay_binding)
    seen, out = {None if default is None else default.metadata.name}, []
    for key in keys:
        found = find_best_match(claim, listed, delay_binding, first=key)
        name = None if found is None else found.metadata.name
        if name not in seen:
            seen.add(name)
            out.append(key)
    return tuple(out)


def _matching_volume(claim: PersistentVolumeClaim, volumes: Iterable[ApiObject], delay_binding: bool,
                     fits_node: Any) -> PersistentVolume | None:
    """FindMatchingVolume (`staging/src/k8s.io/component-helpers/storage/volume/pv_helpers.go`) over
    `volumes`, for the PV controller (`fits_node` None: one access-mode set of its index) or the
    scheduler. Volumes reserved for another claim, too small, of another volume mode or being
    deleted are skipped; then a volume pre-bound to the claim (its `claimRef`) wins at once —
    without the phase, selector and class checks, which come after (the kubernetes.io page
    "Reserving a PersistentVolume" says the class must match: the code does not check it on the PV
    controller's path) —, or, on the scheduler's path where its node affinity does not fit the
    node, ends the search with no match. Else, unless `delay_binding` on the PV controller's path
    (WaitForFirstConsumer claims are the scheduler's), the smallest Available volume of the claim's
    class whose labels match the claim's selector (and, for the scheduler, that fits the node and
    has the claim's access modes)."""
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
        if scheduler and not same_class:
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
