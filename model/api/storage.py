"""`storage.k8s.io/v1` StorageClass and CSIDriver, their defaults and validation, and the claim helpers
that read them.

Upstream: `staging/src/k8s.io/api/storage/v1/types.go` (StorageClass), `pkg/apis/storage/v1/defaults.go`
(SetDefaults_StorageClass: reclaimPolicy Delete, volumeBindingMode Immediate),
`pkg/apis/storage/validation/validation.go` (ValidateStorageClass, ValidateStorageClassUpdate:
provisioner required; reclaimPolicy Delete or Retain; volumeBindingMode Immediate or
WaitForFirstConsumer; parameters, provisioner, reclaimPolicy and volumeBindingMode immutable),
`staging/src/k8s.io/component-helpers/storage/volume/helpers.go` (GetPersistentVolumeClaimClass,
IsDelayBindingMode), `pkg/volume/util/storageclass.go` (GetDefaultClass: the newest class
annotated `storageclass.kubernetes.io/is-default-class: "true"`).

CSIDriver (`staging/src/k8s.io/api/storage/v1/types.go` CSIDriverSpec; `pkg/apis/storage/v1/defaults.go`
SetDefaults_CSIDriver: attachRequired true; `pkg/apis/storage/validation/validation.go` ValidateCSIDriver,
ValidateCSIDriverUpdate: attachRequired required, and immutable — reported at `spec.attachedRequired`,
upstream's spelling): only `attachRequired` is read, by `kubeprop.model.api.volume.attachable` (a driver
that does not attach — NFS-like drivers such as nfs.csi.k8s.io or efs.csi.aws.com — is not kept on one
node by the attach/detach controller); the spec's other fields are accepted and dropped.

The cluster's own default class (the add-on a cluster installer creates: kind's and minikube's
`standard`, GKE's `standard-rwo`) is configured by the model parameter `defaultStorageClass`
(`kubeprop.model.cluster.provisioner`). Like the system PriorityClasses
(`kubeprop.model.api.scheduling`), it is kept out of the store, so that every state of a scenario
without claims stays as it was; `storage_class` and `default_storage_class` look it up beside the
stored classes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Final

import attrs

from kubeprop.model.api.meta import KindInfo, ObjectMeta
from kubeprop.model.api.names import is_valid_label_value
from kubeprop.model.api.validation_fields import (
    ErrorList,
    duplicate,
    immutable,
    invalid,
    label_name,
    messages,
    not_supported,
    required,
)
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap, frozen_map

STORAGE_GROUP: Final = "storage.k8s.io"
RESOURCE: Final = "storageclasses.storage.k8s.io"
IS_DEFAULT_CLASS: Final = "storageclass.kubernetes.io/is-default-class"
BETA_IS_DEFAULT_CLASS: Final = "storageclass.beta.kubernetes.io/is-default-class"
IMMEDIATE: Final = "Immediate"
WAIT_FOR_FIRST_CONSUMER: Final = "WaitForFirstConsumer"
BINDING_MODES: Final = (IMMEDIATE, WAIT_FOR_FIRST_CONSUMER)
RECLAIM_POLICIES: Final = ("Delete", "Retain")
NOT_SUPPORTED_PROVISIONER: Final = "kubernetes.io/no-provisioner"
"""`volume.NotSupportedProvisioner`: a class of statically created (local) volumes only."""


@attrs.frozen(cache_hash=True)
class StorageClass:
    """A class of storage: who provisions it, with which reclaim policy and binding mode
    (cluster-scoped, no spec/status split, no status)."""

    INFO: ClassVar[KindInfo] = KindInfo(STORAGE_GROUP, "v1", "StorageClass", "storageclasses",
                                        namespaced=False, status_subresource=False)

    metadata: ObjectMeta = ObjectMeta()
    provisioner: str = ""
    parameters: FrozenMap[str, str] = attrs.field(default=EMPTY, converter=frozen_map)
    reclaim_policy: str | None = None
    mount_options: tuple[str, ...] = ()
    allow_volume_expansion: bool | None = None
    volume_binding_mode: str | None = None
    allowed_topologies: tuple[Any, ...] = ()


CSI_DRIVERS: Final = "csidrivers.storage.k8s.io"


@attrs.frozen
class CSIDriverSpec:
    """What the kubelet and the attach/detach controller are told of a CSI driver; only
    `attachRequired` (and `podInfoOnMount`, defaulted and validated) is kept."""

    IGNORED_JSON_FIELDS: ClassVar[tuple[str, ...]] = (
        "fsGroupPolicy", "nodeAllocatableUpdatePeriodSeconds", "requiresRepublish", "seLinuxMount",
        "storageCapacity", "tokenRequests", "volumeLifecycleModes")
    attach_required: bool | None = None
    pod_info_on_mount: bool | None = None


@attrs.frozen(cache_hash=True)
class CSIDriver:
    """A CSI volume driver installed in the cluster, named as the driver is (cluster-scoped, no status)."""

    INFO: ClassVar[KindInfo] = KindInfo(STORAGE_GROUP, "v1", "CSIDriver", "csidrivers",
                                        namespaced=False, status_subresource=False)

    metadata: ObjectMeta = ObjectMeta()
    spec: CSIDriverSpec = CSIDriverSpec()


def default_csi_driver(obj: CSIDriver) -> CSIDriver:
    """SetDefaults_CSIDriver: attachRequired true, podInfoOnMount false."""
    spec = obj.spec
    return evolve(obj, spec=evolve(spec, attach_required=True if spec.attach_required is None else spec.attach_required,
                                   pod_info_on_mount=bool(spec.pod_info_on_mount)))


def validate_csi_driver(obj: CSIDriver) -> ErrorList:
    """validateCSIDriverSpec's attachRequired and podInfoOnMount: required (set by the defaults)."""
    return [*([required(("spec", "attachedRequired"))] if obj.spec.attach_required is None else []),
            *([required(("spec", "podInfoOnMount"))] if obj.spec.pod_info_on_mount is None else [])]


def validate_csi_driver_update(new: CSIDriver, old: CSIDriver) -> ErrorList:
    """ValidateCSIDriverUpdate: attachRequired is immutable."""
    return immutable(new.spec.attach_required, old.spec.attach_required, ("spec", "attachedRequired"))


def default_storage_class_object(obj: StorageClass) -> StorageClass:
    """SetDefaults_StorageClass: reclaimPolicy Delete, volumeBindingMode Immediate."""
    return evolve(obj, reclaim_policy=obj.reclaim_policy or "Delete",
                  volume_binding_mode=obj.volume_binding_mode or IMMEDIATE)


def validate_storage_class(obj: StorageClass) -> ErrorList:
    """ValidateStorageClass after ObjectMeta: provisioner, reclaim policy, binding mode."""
    errs: ErrorList = []
    if not obj.provisioner:
        errs.append(required(("provisioner",)))
    if obj.reclaim_policy not in RECLAIM_POLICIES:
        errs.append(not_supported(("reclaimPolicy",), obj.reclaim_policy, RECLAIM_POLICIES))
    if obj.volume_binding_mode not in BINDING_MODES:
        errs.append(not_supported(("volumeBindingMode",), obj.volume_binding_mode, BINDING_MODES))
    return errs + _allowed_topologies(obj.allowed_topologies)


def _allowed_topologies(terms: Any) -> ErrorList:
    """validateAllowedTopologies (`pkg/apis/storage/validation/validation.go`) with
    ValidateTopologySelectorTerm (`pkg/apis/core/validation/validation.go`): each term an object of
    `matchLabelExpressions`, each a `key` (a label name, not repeated in the term) with at least one
    `values` entry, each a label value; a term equal to an earlier one is a duplicate. The field is
    kept as decoded JSON, so a value of the wrong type is refused here, as upstream's decoder does."""
    errs: ErrorList = []
    seen: list[dict[str, frozenset[str]]] = []
    for i, term in enumerate(terms if isinstance(terms, tuple | list) else ()):
        path = ("allowedTopologies", i, "matchLabelExpressions")
        expressions = term.get("matchLabelExpressions", ()) if isinstance(term, Mapping) else None
        if not isinstance(expressions, tuple | list):
            errs.append(invalid(("allowedTopologies", i), term, "must be an object with matchLabelExpressions, "
                                "a list of {key, values}"))
            continue
        found: dict[str, frozenset[str]] = {}
        for j, expression in enumerate(expressions):
            errs += _topology_requirement(expression, (*path, j), found)
        if found in seen:
            errs.append(duplicate(path, ""))
        seen.append(found)
    if not isinstance(terms, tuple | list):
        errs.append(invalid(("allowedTopologies",), terms, "must be a list of topology selector terms"))
    return errs


def _topology_requirement(expression: Any, path: tuple[Any, ...], found: dict[str, frozenset[str]]) -> ErrorList:
    """validateTopologySelectorLabelRequirement, and the duplicate-key check of its term."""
    key = expression.get("key") if isinstance(expression, Mapping) else None
    values = expression.get("values") if isinstance(expression, Mapping) else None
    if not isinstance(key, str) or not isinstance(values, tuple | list) \
            or not all(isinstance(v, str) for v in values):
        return [invalid(path, expression, "must be {key: a label name, values: a list of label values}")]
    errs = label_name(key, (*path, "key"))
    if not values:
        errs.append(required((*path, "values"), "must specify as least one value"))
    for k, value in enumerate(values):
        errs += messages(value, (*path, "values", k), is_valid_label_value(value))
    if key in found:
        errs.append(duplicate((*path, "key"), key))
    found[key] = frozenset(values)
    return errs


def validate_storage_class_update(new: StorageClass, old: StorageClass) -> ErrorList:
    """ValidateStorageClassUpdate: parameters, provisioner, reclaimPolicy and volumeBindingMode
    are immutable."""
    return [*immutable(new.parameters, old.parameters, ("parameters",)),
            *immutable(new.provisioner, old.provisioner, ("provisioner",)),
            *immutable(new.reclaim_policy, old.reclaim_policy, ("reclaimPolicy",)),
            *immutable(new.volume_binding_mode, old.volume_binding_mode, ("volumeBindingMode",))]


def is_default(obj: StorageClass) -> bool:
    """storageutil.IsDefaultAnnotation: either annotation is "true"."""
    annotations = obj.metadata.annotations
    return annotations.get(IS_DEFAULT_CLASS) == "true" or annotations.get(BETA_IS_DEFAULT_CLASS) == "true"


def default_storage_class(stored: Iterable[Any], builtin: StorageClass | None) -> StorageClass | None:
    """GetDefaultClass over the stored classes and the cluster's own (`builtin`, which counts as the
    oldest: it was there before anything was applied): the newest default class, ties broken by
    name; None when there is none."""
    candidates = [c for c in stored if isinstance(c, StorageClass) and is_default(c)]
    if builtin is not None and is_default(builtin) and not any(c.metadata.name == builtin.metadata.name
                                                               for c in candidates):
        candidates.append(builtin)
    if not candidates:
        return None
    candidates.sort(key=lambda c: (-(c.metadata.creation_timestamp or 0), c.metadata.name))
    return candidates[0]


def claim_class(storage_class_name: str | None) -> str:
    """GetPersistentVolumeClaimClass (without the long-removed beta annotation): the class name, ""
    when unset."""
    return storage_class_name or ""


# -- the cluster's own default class (model parameter `defaultStorageClass`) -------------------

DEFAULT_CLASS_NAME: Final = "standard"
"""The name of the cluster's default class (kind's and minikube's; GKE's is `standard-rwo`)."""
CLUSTER_CLASSES: Final[dict[str, tuple[str, str]]] = {
    "zonal": ("pd.csi.storage.gke.io", WAIT_FOR_FIRST_CONSUMER),
    "node-local": ("rancher.io/local-path", WAIT_FOR_FIRST_CONSUMER),
    "immediate": ("k8s.io/minikube-hostpath", IMMEDIATE),
}
"""`defaultStorageClass` → (provisioner, volumeBindingMode) of the cluster's default class:
`zonal` as GKE's `standard-rwo` (and EKS's `gp2`, AKS's `managed-csi`: WaitForFirstConsumer, a
provisioned volume usable in the zone of the node the scheduler selected), `node-local` as kind's
`standard` (rancher.io/local-path: WaitForFirstConsumer, a provisioned volume on the selected
node only), `immediate` as minikube's `standard` (Immediate, a volume usable from any node);
`none` (a bare kubeadm cluster) has no default class and no provisioner."""
STORAGE_CLASS_CHOICES: Final = (*CLUSTER_CLASSES, "none")


def cluster_storage_class(choice: str) -> StorageClass | None:
    """CSIDriver (`staging/src/k8s.io/api/storage/v1/types.go` CSIDriverSpec; `pkg/apis/storage/v1/defaults.go`
SetDefaults_CSIDriver: attachRequired true; `pkg/apis/storage/validation/validation.go` ValidateCSIDriver,
ValidateCSIDriverUpdate: attachRequired required, and immutable — reported at `spec.attachedRequired`,
upstream's spelling): only `attachRequired` is read, by `kubeprop.model.api.volume.attachable` (a driver
that does not attach — NFS-like drivers such as nfs.csi.k8s.io or efs.csi.aws.com — is not kept on one
node by the attach/detach controller); the spec's other fields are accepted and dropped.

The cluster's own default class for the parameter value `choice` (None for `none`),
    defaulted as the API server would store it (reclaimPolicy Delete)."""
    found = CLUSTER_CLASSES.get(choice)
    if found is None:
        return None
    provisioner, mode = found
    meta = ObjectMeta(name=DEFAULT_CLASS_NAME, annotations=FrozenMap({IS_DEFAULT_CLASS: "true"}))
    return StorageClass(metadata=meta, provisioner=provisioner, reclaim_policy="Delete", volume_binding_mode=mode)


GENERIC_CSI: Final = "csi"
"""`provisioner_choice` of a provisioner the model knows by nothing but its name: a CSI driver."""
HOSTPATH_PROVISIONERS: Final = frozenset({CLUSTER_CLASSES["node-local"][0], CLUSTER_CLASSES["immediate"][0]})
"""The provisioners of the cluster classes that make `hostPath` volumes rather than CSI ones."""


def provisioner_choice(provisioner: str, choice: str) -> str | None:
    """How the model provisions for a class naming `provisioner` on a cluster whose own class is
    `choice` (the model parameter `defaultStorageClass`): None when nothing provisions it (none
    named, or `kubernetes.io/no-provisioner`); the cluster's choice for its own provisioner; the
    choice whose provisioner it is for the other two known ones (a stored rancher.io/local-path
    class on a `zonal` cluster provisions as `node-local`); `GENERIC_CSI` for any other — a CSI
    driver the user who ships the class is taken to have installed (`kubeprop.model.cluster.provisioner`)."""
    if provisioner in ("", NOT_SUPPORTED_PROVISIONER):
        return None
    if choice in CLUSTER_CLASSES and CLUSTER_CLASSES[choice][0] == provisioner:
        return choice
    return next((c for c, (name, _) in CLUSTER_CLASSES.items() if name == provisioner), GENERIC_CSI)


def makes_csi_volumes(provisioner: str, choice: str) -> bool:
    """Whether the model's provisioner for `provisioner` (`provisioner_choice`) creates `csi`
    volumes, which the attach/detach controller may attach (`kubeprop.model.api.volume.attachable`)."""
    return provisioner_choice(provisioner, choice) is not None and provisioner not in HOSTPATH_PROVISIONERS


def find_storage_class(stored: Iterable[Any], builtin: StorageClass | None, name: str) -> StorageClass | None:
    """The class called `name`: a stored one, else the cluster's own; None if there is none."""
    for obj in stored:
        if isinstance(obj, StorageClass) and obj.metadata.name == name:
            return obj
    if builtin is not None and builtin.metadata.name == name:
        return builtin
    return None


def is_delay_binding(class_name: str, stored: Iterable[Any], builtin: StorageClass | None) -> bool:
    """IsDelayBindingMode: True when the claim's class exists and binds WaitForFirstConsumer; a
    claim without a class, or whose class is missing, binds Immediate."""
    if not class_name:
        return False
    found = find_storage_class(stored, builtin, class_name)
    return found is not None and found.volume_binding_mode == WAIT_FOR_FIRST_CONSUMER
