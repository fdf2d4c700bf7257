"""The API server's per-kind immutability rules on update: what `validate_update` adds, for the
kinds that have them, to the new object's own validation and the metadata update rules.

Sources: `pkg/apis/core/validation/validation.go` (ValidatePodUpdate, validateOnlyAddedTolerations,
ValidatePersistentVolume(Claim)Update, ValidateConfigMapUpdate, ValidateSecretUpdate,
validateUpgradeDowngradeClusterIPs), `pkg/registry/apps/*/strategy.go` (apps/v1 selectors are
immutable), `pkg/apis/rbac/validation/validation.go` (roleRef), the apiextensions validation
(ValidateCustomResourceDefinitionSpecUpdate) and the discovery validation (addressType).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim, Service
from kubeprop.model.api.meta import find_condition
from kubeprop.model.api.networking import IngressClass
from kubeprop.model.api.objects import (
    ClusterRoleBinding,
    ConfigMap,
    CustomResourceDefinition,
    DaemonSet,
    Deployment,
    EndpointSlice,
    Job,
    ReplicaSet,
    RoleBinding,
    Secret,
    StatefulSet,
)
from kubeprop.model.api.pod import Container, Pod, Toleration
from kubeprop.model.api.scheduling import PriorityClass
from kubeprop.model.api.storage import (
    CSIDriver,
    StorageClass,
    validate_csi_driver_update,
    validate_storage_class_update,
)
from kubeprop.model.api.validation_fields import (
    ErrorList,
    forbidden,
    immutable,
    invalid,
    required,
)
from kubeprop.model.api.validation_gates import gated_spec_munged, only_deleted_scheduling_gates
from kubeprop.model.api.validation_job import validate_job_update
from kubeprop.model.api.validation_networking import (
    validate_ingress_class_update,
)
from kubeprop.model.api.validation_placement import validate_tolerations
from kubeprop.model.api.validation_pod import MAX_INT32, validate_containers_only_for_pod
from kubeprop.model.api.validation_scheduling import validate_priority_class_update
from kubeprop.model.api.validation_workloads import (
    validate_stateful_set_update,
)
from kubeprop.model.evolve import evolve

__all__ = ["UPDATE_RULES", "pod_update"]

_POD_UPDATE_MSG: Final = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)
_PVC_UPDATE_MSG: Final = (
    "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"
)


def _only_added_tolerations(new: tuple[Toleration, ...], old: tuple[Toleration, ...]) -> ErrorList:
    """validateOnlyAddedTolerations: existing tolerations stay (tolerationSeconds may change)."""
    path = ("spec", "tolerations")
    for existing in old:
        if not any(evolve(existing, toleration_seconds=t.toleration_seconds) == t for t in new):
            return [forbidden(path, "existing toleration can not be modified except its tolerationSeconds")]
    return validate_tolerations(new, path)


def pod_update(new: Pod, old: Pod) -> ErrorList:
    """ValidatePodUpdate's immutability rules (after the spec's own validation)."""
    errs: ErrorList = []
    for field in ("containers", "initContainers"):
        new_ctrs = new.spec.containers if field == "containers" else new.spec.init_containers
        old_ctrs = old.spec.containers if field == "containers" else old.spec.init_containers
        if len(new_ctrs) != len(old_ctrs):
            return [*errs, forbidden(("spec", field), "pod updates may not add or remove containers")]
        errs += [required(("spec", field, i, "image")) for i, c in enumerate(new_ctrs) if not c.image]
        errs += validate_containers_only_for_pod(new_ctrs, ("spec", field))
    deadline_errs, stop = _active_deadline_update(new.spec.active_deadline_seconds, old.spec.active_deadline_seconds)
    errs += deadline_errs
    if stop:
        return errs
    errs += _only_added_tolerations(new.spec.tolerations, old.spec.tolerations)
    errs += only_deleted_scheduling_gates(new.spec.scheduling_gates, old.spec.scheduling_gates)
    grace = new.spec.termination_grace_period_seconds
    old_grace = old.spec.termination_grace_period_seconds
    if old_grace is not None and old_grace < 0 and grace == 1:
        grace = old_grace
    munged = evolve(
        new.spec, tolerations=old.spec.tolerations, termination_grace_period_seconds=grace,
        active_deadline_seconds=old.spec.active_deadline_seconds,
        containers=_old_images(new.spec.containers, old.spec.containers),
        init_containers=_old_images(new.spec.init_containers, old.spec.init_containers),
    )
    munged, gated_errs = gated_spec_munged(munged, old.spec)
    errs += gated_errs
    if munged != old.spec:
        errs.append(forbidden(("spec",), _POD_UPDATE_MSG))
    return errs


def _active_deadline_update(new: int | None, old: int | None) -> tuple[ErrorList, bool]:
    """ValidatePodUpdate: activeDeadlineSeconds may be added (0 to MaxInt32 here; the spec check
    asks for at least 1) or lowered, never raised or removed. The errors, and whether upstream
    returns at once (out of range, raised)."""
    path = ("spec", "activeDeadlineSeconds")
    if new is None:
        return ([] if old is None else [invalid(path, None, "must not update from a positive integer to nil value")],
                False)
    if not 0 <= new <= MAX_INT32:
        return [invalid(path, new, f"must be between 0 and {MAX_INT32}, inclusive")], True
    if old is not None and old < new:
        return [invalid(path, new, "must be less than or equal to previous value")], True
    return [], False


def _old_images(new: tuple[Container, ...], old: tuple[Container, ...]) -> tuple[Container, ...]:
    return tuple(evolve(c, image=o.image) for c, o in zip(new, old, strict=True))


_SelectorOwner = Deployment | ReplicaSet | DaemonSet


def _selector_immutable(new: _SelectorOwner, old: _SelectorOwner) -> ErrorList:
    """apps/v1 registry strategies (deployment, replicaset, daemonset `strategy.go`): spec.selector may not change."""
    return immutable(new.spec.selector, old.spec.selector, ("spec", "selector"))


def _service_update(new: Service, old: Service) -> ErrorList:
    """validateUpgradeDowngradeClusterIPs: the primary cluster IP may not change once set (an unset
    one counts as unchanged: the registry copies allocated values before validating)."""
    if "ExternalName" in (new.spec.type, old.spec.type):
        return []
    old_ips = old.spec.cluster_ips or ((old.spec.cluster_ip,) if old.spec.cluster_ip else ())
    new_ips = new.spec.cluster_ips or ((new.spec.cluster_ip,) if new.spec.cluster_ip else ())
    if old_ips and new_ips and new_ips[0] != old_ips[0]:
        return [invalid(("spec", "clusterIPs", 0), new_ips, "may not change once set")]
    return []


def _pvc_update(new: PersistentVolumeClaim, old: PersistentVolumeClaim) -> ErrorList:
    """ValidatePersistentVolumeClaimUpdate: spec immutable except volumeName (once), a storage class
    set from nil (once) and, for bound claims, the storage request (which may not shrink)."""
    new_spec, old_spec = new.spec, old.spec
    if not old_spec.volume_name:
        new_spec = evolve(new_spec, volume_name=old_spec.volume_name)
    if old_spec.storage_class_name is None and new_spec.storage_class_name:
        new_spec = evolve(new_spec, storage_class_name=None)
    new_size, old_size = new_spec.resources.requests.get("storage"), old_spec.resources.requests.get("storage")
    if new.status.phase == "Bound" and new_spec.resources.requests and old_size is not None:
        requests = new_spec.resources.requests.set("storage", old_size)
        new_spec = evolve(new_spec, resources=evolve(new_spec.resources, requests=requests))
    errs = [] if new_spec == old_spec else [forbidden(("spec",), _PVC_UPDATE_MSG)]
    if new_size is not None and old_size is not None and new_size < old_size:
        path = ("spec", "resources", "requests", "storage")
        errs.append(forbidden(path, "field can not be less than previous value"))
    return errs


def _pv_update(new: PersistentVolume, old: PersistentVolume) -> ErrorList:
    """ValidatePersistentVolumeUpdate: the volume source, volumeMode and a set nodeAffinity are immutable."""
    n, o = new.spec, old.spec
    errs: ErrorList = []
    if (n.host_path, n.local, n.nfs, n.csi) != (o.host_path, o.local, o.nfs, o.csi):
        msg = "spec.persistentvolumesource is immutable after creation"
        errs.append(forbidden(("spec", "persistentvolumesource"), msg))
    errs += immutable(n.volume_mode, o.volume_mode, ("volumeMode",))
    if o.node_affinity is not None:
        errs += immutable(n.node_affinity, o.node_affinity, ("nodeAffinity",))
    return errs


def _immutable_data(new: ConfigMap | Secret, old: ConfigMap | Secret) -> ErrorList:
    """ValidateConfigMapUpdate / ValidateSecretUpdate: `immutable: true` freezes the data."""
    if not old.immutable:
        return []
    msg = "field is immutable when `immutable` is set"
    errs = [] if new.immutable else [forbidden(("immutable",), msg)]
    if new.data != old.data:
        errs.append(forbidden(("data",), msg))
    if isinstance(new, ConfigMap) and isinstance(old, ConfigMap) and new.binary_data != old.binary_data:
        errs.append(forbidden(("binaryData",), msg))
    return errs


def _crd_update(new: CustomResourceDefinition, old: CustomResourceDefinition) -> ErrorList:
    """ValidateCustomResourceDefinitionSpecUpdate: group and plural fixed; scope and kind once established."""
    errs: ErrorList = []
    established = find_condition(old.status.conditions, "Established")
    if established is not None and established.status == "True":
        errs += immutable(new.spec.scope, old.spec.scope, ("spec", "scope"))
        errs += immutable(new.spec.names.kind, old.spec.names.kind, ("spec", "names", "kind"))
    errs += immutable(new.spec.group, old.spec.group, ("spec", "group"))
    return errs + immutable(new.spec.names.plural, old.spec.names.plural, ("spec", "names", "plural"))


def _role_ref_update(new: RoleBinding | ClusterRoleBinding, old: RoleBinding | ClusterRoleBinding) -> ErrorList:
    return [] if new.role_ref == old.role_ref else [invalid(("roleRef",), new.role_ref, "cannot change roleRef")]


UPDATE_RULES: Final[dict[type[Any], Callable[[Any, Any], ErrorList]]] = {
    Pod: pod_update,
    Deployment: _selector_immutable,
    ReplicaSet: _selector_immutable,
    DaemonSet: _selector_immutable,
    Job: validate_job_update,
    StatefulSet: lambda n, o: validate_stateful_set_update(n.spec, o.spec),
    Service: _service_update,
    PersistentVolumeClaim: _pvc_update,
    PersistentVolume: _pv_update,
    ConfigMap: _immutable_data,
    Secret: lambda n, o: _immutable_data(n, o) + immutable(n.type, o.type, ("type",)),
    EndpointSlice: lambda n, o: immutable(n.address_type, o.address_type, ("addressType",)),
    RoleBinding: _role_ref_update,
    ClusterRoleBinding: _role_ref_update,
    CustomResourceDefinition: _crd_update,
    PriorityClass: validate_priority_class_update,
    IngressClass: validate_ingress_class_update,
    StorageClass: validate_storage_class_update,
    CSIDriver: validate_csi_driver_update,
}
