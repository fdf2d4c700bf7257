"""The API server's validation stage: pure functions from an object (and its old version) to the
list of field errors a real API server would return with 422 Invalid.

`validate_create(obj)` checks a new object after defaulting; `validate_update(new, old)` checks
an update of the main resource (the new object as with create, plus metadata and per-kind
immutability); `validate_status_update(new, old)` an update of the status subresource. Every
error is returned, in upstream's order (maps in key order), as `FieldError`s that print like
upstream's `field.Error`: `spec.replicas: Invalid value: -1: must be greater than or equal to 0`.

Sources: `staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go` (ValidateObjectMeta,
ValidateObjectMetaUpdate), `pkg/apis/core/validation/validation.go` (ValidatePod(Update),
ValidateService(Update), ValidatePersistentVolume(Claim)(Update), ValidateConfigMapUpdate,
ValidateSecretUpdate), `pkg/apis/apps/validation/validation.go`, `pkg/registry/apps/*/strategy.go`
(apps/v1 selectors are immutable), `pkg/apis/rbac/validation/validation.go`,
`pkg/apis/discovery/validation/validation.go` and the apiextensions validation; the per-kind
rules live in `validation_pod` (with `validation_containers` and `validation_placement`),
`validation_workloads`, `validation_kinds`, `validation_api` and `validation_update_rules` (the
per-kind immutability on update) (shared field checks and `FieldError` itself in `validation_fields`).

Left out (the model does not keep the fields, or they are version-dependent): env var name
syntax, probe handler details, securityContext, lifecycle hooks, ephemeral containers, DNS
config, resource claims, hostPort conflicts, volume-source specifics (a volume whose source the
model drops is not reported as sourceless), Service IP families / external IPs / traffic
policies / node-port ranges, CRD schemas and conversion, pod-specific annotations other than
pod-deletion-cost (`validation_annotations`), managedFields.
Warnings (e.g. a negative terminationGracePeriodSeconds, which upstream only warns about) are not
errors. The `resourceVersion` precondition is the API server's (`server_write`), not here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from kubeprop.model.api.autoscaling import HorizontalPodAutoscaler
from kubeprop.model.api.codec import FieldPath
from kubeprop.model.api.container_transitions import NON_TERMINATED_MESSAGE, illegal_transitions
from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim, Service
from kubeprop.model.api.meta import FOREGROUND_FINALIZER, ORPHAN_FINALIZER, ObjectMeta
from kubeprop.model.api.names import (
    is_dns1123_label,
    is_qualified_name,
    name_is_dns1035_label,
    name_is_dns_label,
    name_is_dns_subdomain,
)
from kubeprop.model.api.networking import Ingress, IngressClass, NetworkPolicy
from kubeprop.model.api.objects import (
    ApiObject,
    ClusterRole,
    ClusterRoleBinding,
    ConfigMap,
    CronJob,
    CustomObject,
    CustomResourceDefinition,
    DaemonSet,
    Deployment,
    Endpoints,
    EndpointSlice,
    Job,
    Namespace,
    Node,
    ReplicaSet,
    Role,
    RoleBinding,
    Secret,
    ServiceAccount,
    StatefulSet,
    kind_info,
)
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.policy import PodDisruptionBudget
from kubeprop.model.api.scheduling import PriorityClass
from kubeprop.model.api.storage import CSIDriver, StorageClass, validate_csi_driver, validate_storage_class
from kubeprop.model.api.validation_annotations import (
    deletion_cost_is_invalid,
    template_cost_path,
    validate_pod_specific_annotations,
)
from kubeprop.model.api.validation_api import (
    crd_name_messages,
    rbac_name_messages,
    validate_binding,
    validate_cluster_role,
    validate_crd_spec,
    validate_policy_rules,
)
from kubeprop.model.api.validation_cronjob import validate_cron_job
from kubeprop.model.api.validation_daemonset import validate_daemon_set_spec, validate_daemon_set_status
from kubeprop.model.api.validation_fields import (
    DUPLICATE,
    FORBIDDEN,
    INVALID,
    NOT_FOUND,
    NOT_SUPPORTED,
    REQUIRED,
    TOO_LONG,
    TOO_MANY,
    ErrorList,
    FieldError,
    RawValue,
    forbidden,
    immutable,
    invalid,
    messages,
    nonnegative,
    render_path,
    required,
    validate_annotations,
    validate_labels,
)
from kubeprop.model.api.validation_gates import gated_node_name
from kubeprop.model.api.validation_job import validate_job, validate_job_status
from kubeprop.model.api.validation_kinds import (
    STANDARD_FINALIZERS,
    namespace_finalizer_messages,
    validate_config_map,
    validate_endpoint_slice,
    validate_endpoints,
    validate_pv_spec,
    validate_pvc_spec,
    validate_secret,
    validate_service_spec,
    validate_taints,
)
from kubeprop.model.api.validation_networking import (
    validate_ingress,
    validate_ingress_class,
    validate_network_policy,
)
from kubeprop.model.api.validation_pod import (
    validate_containers_only_for_pod,
    validate_pod_spec,
)
from kubeprop.model.api.validation_policy import validate_hpa, validate_pdb, validate_pdb_status
from kubeprop.model.api.validation_scheduling import validate_priority_class
from kubeprop.model.api.validation_update_rules import UPDATE_RULES, pod_update
from kubeprop.model.api.validation_workloads import (
    collision_count_decremented,
    validate_deployment_spec,
    validate_replica_set_spec,
    validate_stateful_set_spec,
    validate_workload_status,
)

__all__ = [
    "DUPLICATE", "FORBIDDEN", "INVALID", "NOT_FOUND", "NOT_SUPPORTED", "REQUIRED", "TOO_LONG", "TOO_MANY",
    "FieldError", "RawValue", "name_messages", "render_path", "validate_create", "validate_object_meta",
    "validate_object_meta_update", "validate_status_update", "validate_update",
]

NameFn = Callable[[str, bool], list[str]]
META: Final[FieldPath] = ("metadata",)


# -- names ------------------------------------------------------------------------------------


def _name_fn(obj: ApiObject) -> NameFn:
    """The kind's ValidateNameFunc (`prefix` is True for a generateName prefix)."""
    if isinstance(obj, Namespace):
        return name_is_dns_label
    if isinstance(obj, Service):
        return name_is_dns1035_label
    if isinstance(obj, Role | ClusterRole | RoleBinding | ClusterRoleBinding):
        return rbac_name_messages
    if isinstance(obj, CustomResourceDefinition):
        spec = obj.spec
        return lambda name, prefix: name_is_dns_subdomain(name, True) if prefix else crd_name_messages(name, spec)
    return name_is_dns_subdomain


def name_messages(obj: ApiObject, name: str) -> list[str]:
    """Why `name` is not a valid name for an object of `obj`'s kind (empty if it is)."""
    return _name_fn(obj)(name, False)


# -- metadata ---------------------------------------------------------------------------------


def validate_object_meta(meta: ObjectMeta, namespaced: bool, name_fn: NameFn, kube: bool = True) -> ErrorList:
    """ValidateObjectMeta on create (`kube`: core's extra finalizer-name rule for built-in kinds)."""
    errs: ErrorList = []
    if meta.generate_name:
        errs += messages(meta.generate_name, (*META, "generateName"), name_fn(meta.generate_name, True))
    if not meta.name:
        errs.append(required((*META, "name"), "name or generateName is required"))
    else:
        errs += messages(meta.name, (*META, "name"), name_fn(meta.name, False))
    if namespaced and not meta.namespace:
        errs.append(required((*META, "namespace")))
    elif namespaced:
        errs += messages(meta.namespace, (*META, "namespace"), is_dns1123_label(meta.namespace))
    elif meta.namespace:
        errs.append(forbidden((*META, "namespace"), "not allowed on this type"))
    errs += nonnegative(meta.generation, (*META, "generation"))
    return errs + _meta_common(meta, kube)


def _meta_common(meta: ObjectMeta, kube: bool) -> ErrorList:
    """Labels, annotations, owner references and finalizers (create and update)."""
    errs = validate_labels(meta.labels, (*META, "labels"))
    errs += validate_annotations(meta.annotations, (*META, "annotations"))
    errs += _owner_references(meta)
    path = (*META, "finalizers")
    for name in meta.finalizers:
        errs += messages(name, path, is_qualified_name(name))
    if ORPHAN_FINALIZER in meta.finalizers and FOREGROUND_FINALIZER in meta.finalizers:
        errs.append(invalid(path, meta.finalizers, "finalizer orphan and foregroundDeletion cannot be both set"))
    if kube:
        errs += [invalid((*path, i), name, "name is neither a standard finalizer name nor is it fully qualified")
                 for i, name in enumerate(meta.finalizers) if "/" not in name and name not in STANDARD_FINALIZERS]
    return errs


def _owner_references(meta: ObjectMeta) -> ErrorList:
    """ValidateOwnerReferences (paths are not indexed, as upstream's are not)."""
    path = (*META, "ownerReferences")
    errs: ErrorList = []
    first_controller = ""
    for ref in meta.owner_references:
        parts = ref.api_version.split("/")
        version = parts[-1] if len(parts) <= 2 else ""
        if not version:
            errs.append(invalid((*path, "apiVersion"), ref.api_version, "version must not be empty"))
        for field, value in (("kind", ref.kind), ("name", ref.name), ("uid", ref.uid)):
            if not value:
                errs.append(invalid((*path, field), value, "must not be empty"))
        if (ref.api_version, ref.kind) == ("v1", "Event"):
            errs.append(invalid(path, ref, "/v1, Kind=Event is disallowed from being an owner"))
        if ref.controller:
            current = f"{ref.kind}/{ref.name}"
            if first_controller:
                errs.append(invalid(path, meta.owner_references, "Only one reference can have Controller set to "
                                    f'true. Found "true" in references for {first_controller} and {current}'))
            else:
                first_controller = current
    return errs


def validate_object_meta_update(new: ObjectMeta, old: ObjectMeta, kube: bool = True) -> ErrorList:
    """ValidateObjectMetaUpdate: no new finalizers while deleting, identity fields immutable."""
    errs: ErrorList = []
    if old.deletion_timestamp is not None:
        extra = sorted(set(new.finalizers) - set(old.finalizers))
        if extra:
            listed = RawValue("[]string{" + ", ".join(f'"{f}"' for f in extra) + "}")
            errs.append(forbidden((*META, "finalizers"), "no new finalizers can be added if the object is being "
                                  f"deleted, found new finalizers {listed}"))
    if new.generation < old.generation:
        errs.append(invalid((*META, "generation"), new.generation, "must not be decremented"))
    for field, new_value, old_value in (
        ("name", new.name, old.name), ("namespace", new.namespace, old.namespace), ("uid", new.uid, old.uid),
        ("creationTimestamp", new.creation_timestamp, old.creation_timestamp),
        ("deletionTimestamp", new.deletion_timestamp, old.deletion_timestamp),
        ("deletionGracePeriodSeconds", new.deletion_grace_period_seconds, old.deletion_grace_period_seconds),
    ):
        errs += immutable(new_value, old_value, (*META, field))
    return errs + _meta_common(new, kube)


# -- create -----------------------------------------------------------------------------------


def _validate_pod(pod: Pod) -> ErrorList:
    errs = validate_pod_specific_annotations(pod.metadata.annotations, (*META, "annotations"))
    errs += validate_pod_spec(pod.spec, ("spec",))
    errs += validate_containers_only_for_pod(pod.spec.containers, ("spec", "containers"))
    errs += validate_containers_only_for_pod(pod.spec.init_containers, ("spec", "initContainers"))
    return errs + gated_node_name(pod.spec)


def _validate_namespace(ns: Namespace) -> ErrorList:
    path = ("spec", "finalizers")
    return [invalid(path, ns.spec.finalizers[i], m)
            for i, msgs in namespace_finalizer_messages(ns.spec.finalizers).items() for m in msgs]


_SPEC_VALIDATORS: Final[dict[type[Any], Callable[[Any], ErrorList]]] = {
    Pod: _validate_pod,
    Deployment: lambda o: validate_deployment_spec(o.spec, ("spec",)),
    ReplicaSet: lambda o: validate_replica_set_spec(o.spec, ("spec",)),
    StatefulSet: lambda o: validate_stateful_set_spec(o.spec, ("spec",)),
    DaemonSet: lambda o: validate_daemon_set_spec(o.spec, ("spec",)),
    Job: validate_job,
    CronJob: validate_cron_job,
    Service: validate_service_spec,
    Endpoints: validate_endpoints,
    EndpointSlice: validate_endpoint_slice,
    PersistentVolume: lambda o: validate_pv_spec(o.spec, ("spec",)),
    PersistentVolumeClaim: lambda o: validate_pvc_spec(o.spec, ("spec",)),
    ConfigMap: validate_config_map,
    Secret: validate_secret,
    Namespace: _validate_namespace,
    Node: lambda o: validate_taints(o.spec.taints, ("spec", "taints")),
    Role: lambda o: validate_policy_rules(o.rules, True),
    ClusterRole: validate_cluster_role,
    RoleBinding: lambda o: validate_binding(o.role_ref, o.subjects, True),
    ClusterRoleBinding: lambda o: validate_binding(o.role_ref, o.subjects, False),
    CustomResourceDefinition: lambda o: validate_crd_spec(o.spec, ("spec",)),
    ServiceAccount: lambda o: [],
    CustomObject: lambda o: [],
    HorizontalPodAutoscaler: validate_hpa,
    PodDisruptionBudget: validate_pdb,
    PriorityClass: validate_priority_class,
    Ingress: validate_ingress,
    IngressClass: validate_ingress_class,
    NetworkPolicy: validate_network_policy,
    StorageClass: validate_storage_class,
    CSIDriver: validate_csi_driver,
}


def _is_kube(obj: ApiObject) -> bool:
    """Whether core's ObjectMeta wrapper (standard finalizer names) applies: built-in, non-CRD kinds."""
    return not isinstance(obj, CustomObject | CustomResourceDefinition)


def validate_create(obj: ApiObject) -> list[FieldError]:
    """All errors upstream's create validation reports for `obj` (already defaulted)."""
    info = kind_info(obj)
    errs = validate_object_meta(obj.metadata, info.namespaced, _name_fn(obj), _is_kube(obj))
    return _dedup(errs + _SPEC_VALIDATORS[type(obj)](obj))


# -- update -----------------------------------------------------------------------------------


def validate_update(new: ApiObject, old: ApiObject) -> list[FieldError]:
    """All errors upstream's update validation reports: metadata update rules, the new object's
    validity (without re-checking its name) and the kind's immutable fields."""
    if type(new) is not type(old):
        return [invalid(("kind",), kind_info(new).kind, f"must be {kind_info(old).kind}")]
    errs = validate_object_meta_update(new.metadata, old.metadata, _is_kube(new))
    if isinstance(new, Pod) and isinstance(old, Pod):
        allow = deletion_cost_is_invalid(old.metadata.annotations)
        errs += validate_pod_specific_annotations(new.metadata.annotations, (*META, "annotations"), allow)
        return _dedup(errs + validate_pod_spec(new.spec, ("spec",)) + pod_update(new, old))
    errs += _SPEC_VALIDATORS[type(new)](new)
    if isinstance(old, Deployment | ReplicaSet | StatefulSet) and deletion_cost_is_invalid(
            old.spec.template.metadata.annotations):
        # AllowInvalidPodDeletionCost: the old template already had an invalid value.
        skip = template_cost_path(("spec", "template"))
        errs = [e for e in errs if e.path != skip]
    rule = UPDATE_RULES.get(type(new))
    return _dedup(errs + (rule(new, old) if rule is not None else []))


def _dedup(errs: ErrorList) -> ErrorList:
    """ErrorList.ToAggregate drops errors whose message repeats an earlier one."""
    seen: set[str] = set()
    out: ErrorList = []
    for err in errs:
        text = str(err)
        if text not in seen:
            seen.add(text)
            out.append(err)
    return out


# -- status -----------------------------------------------------------------------------------


def validate_status_update(new: ApiObject, old: ApiObject) -> list[FieldError]:
    """An update of the status subresource: metadata update rules and the status's own checks."""
    errs = validate_object_meta_update(new.metadata, old.metadata, _is_kube(new))
    path: FieldPath = ("status",)
    if isinstance(new, Deployment) and isinstance(old, Deployment):
        errs += validate_workload_status(new.status, path)
        errs += collision_count_decremented(new.status.collision_count, old.status.collision_count,
                                            (*path, "collisionCount"))
    elif isinstance(new, ReplicaSet):
        errs += validate_workload_status(new.status, path)
    elif isinstance(new, StatefulSet) and isinstance(old, StatefulSet):
        errs += validate_workload_status(new.status, path)
        errs += collision_count_decremented(new.status.collision_count, old.status.collision_count,
                                            (*path, "collisionCount"))
    elif isinstance(new, DaemonSet) and isinstance(old, DaemonSet):
        errs += validate_daemon_set_status(new.status, old.status, path)
    elif isinstance(new, Job):
        errs += validate_job_status(new.status, path)
    elif isinstance(new, PodDisruptionBudget):
        errs += validate_pdb_status(new)
    elif isinstance(new, Pod) and isinstance(old, Pod):
        if new.status.nominated_node_name:
            errs += messages(new.status.nominated_node_name, (*path, "nominatedNodeName"),
                             name_is_dns_subdomain(new.status.nominated_node_name))
        errs += [forbidden((*path, field, index, "state"), NON_TERMINATED_MESSAGE)
                 for field, index, _ in illegal_transitions(new.status, old.status, old.spec)]
    return _dedup(errs)
