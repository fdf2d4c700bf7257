"""The API object model: every kind kubeprop knows, decoding from manifests, encoding for output.

Kinds are frozen attrs classes (defined in `pod`, `core`, `apps`, `autoscaling`, `policy`,
`scheduling`, `networking`, `rbac_kinds` and `ext`, re-exported here). Each has a
`metadata: ObjectMeta` and, per kind, `spec`/`status` or top-level data fields, exactly as in
the upstream JSON. Objects of CRD-defined kinds are
`CustomObject`s. `kind_info(obj)` gives group/version/kind/resource/scope for any object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import Any

import attrs

from kubeprop.model.api import autoscaling_v1
from kubeprop.model.api.apps import (
    DaemonSet,
    DaemonSetSpec,
    DaemonSetStatus,
    DaemonSetUpdateStrategy,
    Deployment,
    DeploymentSpec,
    DeploymentStatus,
    DeploymentStrategy,
    ReplicaSet,
    ReplicaSetSpec,
    ReplicaSetStatus,
    RollingUpdateDaemonSet,
    RollingUpdateDeployment,
    RollingUpdateStatefulSetStrategy,
    StatefulSet,
    StatefulSetSpec,
    StatefulSetStatus,
    StatefulSetUpdateStrategy,
)
from kubeprop.model.api.autoscaling import HorizontalPodAutoscaler
from kubeprop.model.api.batch import Job, JobSpec, JobStatus, UncountedTerminatedPods
from kubeprop.model.api.batch_cronjob import CronJob
from kubeprop.model.api.codec import DecodeError, decode_attrs, encode, freeze_json, thaw_json
from kubeprop.model.api.core import (
    ConfigMap,
    Endpoint,
    EndpointAddress,
    EndpointConditions,
    EndpointPort,
    Endpoints,
    EndpointSlice,
    EndpointSlicePort,
    EndpointSubset,
    Namespace,
    NamespaceSpec,
    NamespaceStatus,
    Node,
    NodeSpec,
    NodeStatus,
    PersistentVolume,
    PersistentVolumeClaim,
    PersistentVolumeClaimSpec,
    PersistentVolumeSpec,
    Secret,
    Service,
    ServiceAccount,
    ServicePort,
    ServiceSpec,
    Taint,
)
from kubeprop.model.api.crd_schema import unknown_fields, version_schema
from kubeprop.model.api.ext import CustomObject, CustomResourceDefinition
from kubeprop.model.api.meta import Condition, KindInfo, ObjectMeta, ObjectReference, OwnerReference
from kubeprop.model.api.networking import STORED_ONLY_KINDS, Ingress, IngressClass, NetworkPolicy
from kubeprop.model.api.pod import (
    Affinity,
    Container,
    ContainerStatus,
    NodeAffinity,
    PersistentVolumeClaimVolumeSource,
    Pod,
    PodAffinity,
    PodAffinityTerm,
    PodOS,
    PodReadinessGate,
    PodSpec,
    PodStatus,
    PodTemplateSpec,
    Probe,
    ResourceRequirements,
    Toleration,
    TopologySpreadConstraint,
    Volume,
)
from kubeprop.model.api.policy import PodDisruptionBudget
from kubeprop.model.api.rbac_kinds import (
    ClusterRole,
    ClusterRoleBinding,
    PolicyRule,
    Role,
    RoleBinding,
    RoleRef,
    Subject,
)
from kubeprop.model.api.scheduling import PriorityClass
from kubeprop.model.api.storage import CSIDriver, StorageClass
from kubeprop.model.api.unmodelled import unmodelled_reason
from kubeprop.model.evolve import evolve

__all__ = [
    "BUILTIN_KINDS",
    "STORED_ONLY_KINDS",
    "Affinity",
    "ApiObject",
    "CSIDriver",
    "ClusterRole",
    "ClusterRoleBinding",
    "Condition",
    "ConfigMap",
    "Container",
    "ContainerStatus",
    "CronJob",
    "CustomObject",
    "CustomResourceDefinition",
    "DaemonSet",
    "DaemonSetSpec",
    "DaemonSetStatus",
    "DaemonSetUpdateStrategy",
    "Deployment",
    "DeploymentSpec",
    "DeploymentStatus",
    "DeploymentStrategy",
    "Endpoint",
    "EndpointAddress",
    "EndpointConditions",
    "EndpointPort",
    "EndpointSlice",
    "EndpointSlicePort",
    "EndpointSubset",
    "Endpoints",
    "HorizontalPodAutoscaler",
    "Ingress",
    "IngressClass",
    "Job",
    "JobSpec",
    "JobStatus",
    "KindInfo",
    "Namespace",
    "NamespaceSpec",
    "NamespaceStatus",
    "NetworkPolicy",
    "Node",
    "NodeAffinity",
    "NodeSpec",
    "NodeStatus",
    "ObjectKey",
    "ObjectMeta",
    "ObjectReference",
    "OwnerReference",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "PersistentVolumeClaimSpec",
    "PersistentVolumeClaimVolumeSource",
    "PersistentVolumeSpec",
    "Pod",
    "PodAffinity",
    "PodAffinityTerm",
    "PodDisruptionBudget",
    "PodOS",
    "PodReadinessGate",
    "PodSpec",
    "PodStatus",
    "PodTemplateSpec",
    "PolicyRule",
    "PriorityClass",
    "Probe",
    "ReplicaSet",
    "ReplicaSetSpec",
    "ReplicaSetStatus",
    "ResourceRequirements",
    "Role",
    "RoleBinding",
    "RoleRef",
    "RollingUpdateDaemonSet",
    "RollingUpdateDeployment",
    "RollingUpdateStatefulSetStrategy",
    "Secret",
    "Service",
    "ServiceAccount",
    "ServicePort",
    "ServiceSpec",
    "StatefulSet",
    "StatefulSetSpec",
    "StatefulSetStatus",
    "StatefulSetUpdateStrategy",
    "StorageClass",
    "Subject",
    "Taint",
    "Toleration",
    "TopologySpreadConstraint",
    "UncountedTerminatedPods",
    "Volume",
    "decode_object",
    "encode_object",
    "is_stored_only",
    "kind_info",
    "object_key",
    "with_metadata",
]

ApiObject = (
    Pod | Node | Namespace | Service | Endpoints | EndpointSlice | PersistentVolume | PersistentVolumeClaim
    | ConfigMap | Secret | ServiceAccount | Deployment | ReplicaSet | StatefulSet | DaemonSet | Job | CronJob | Role
    | ClusterRole | RoleBinding | ClusterRoleBinding | CustomResourceDefinition | CustomObject | HorizontalPodAutoscaler
    | PodDisruptionBudget | PriorityClass | Ingress | IngressClass | NetworkPolicy | StorageClass | CSIDriver
)
"""Any API object the model stores."""

BUILTIN_KINDS: tuple[type[Any], ...] = (
    Pod, Node, Namespace, Service, Endpoints, EndpointSlice, PersistentVolume, PersistentVolumeClaim,
    ConfigMap, Secret, ServiceAccount, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, Role, ClusterRole,
    RoleBinding, ClusterRoleBinding, CustomResourceDefinition, HorizontalPodAutoscaler, PodDisruptionBudget,
    PriorityClass, StorageClass, CSIDriver, *STORED_ONLY_KINDS,
)

_FIELDS = attrgetter("resource", "namespace", "name")
"""An `ObjectKey`'s fields as the tuple it orders by."""

_BY_GVK: dict[tuple[str, str], type[Any]] = {(cls.INFO.api_version, cls.INFO.kind): cls for cls in BUILTIN_KINDS}


@attrs.frozen(cache_hash=True)
class ObjectKey:
    """Where an object lives: resource (plural, with group), namespace ("" if cluster-scoped), name.

    Keys order as the tuple (resource, namespace, name), as attrs' `order=True` orders them (only
    against another `ObjectKey`), written out: every `FrozenMap` of stored objects is kept sorted by
    key, and attrs' generic comparison builds its tuples field by field. The hash is cached (attrs
    drops it when pickled: another process computes its own)."""

    resource: str
    namespace: str
    name: str

    def __lt__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _FIELDS(self) < _FIELDS(other)

    def __le__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _FIELDS(self) <= _FIELDS(other)

    def __gt__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _FIELDS(self) > _FIELDS(other)

    def __ge__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _FIELDS(self) >= _FIELDS(other)

    def __str__(self) -> str:
        return f"{self.resource}/{self.namespace}/{self.name}" if self.namespace else f"{self.resource}/{self.name}"


def is_stored_only(obj: ApiObject) -> bool:
    """Whether `obj` is of a kind the API server stores but no modelled component but the garbage
    collector reads (`kubeprop.model.api.networking`)."""
    return type(obj) in STORED_ONLY_KINDS


def kind_info(obj: ApiObject) -> KindInfo:
    """Group, version, kind, REST resource and scope of `obj`."""
    if isinstance(obj, CustomObject):
        return obj.info
    info: KindInfo = type(obj).INFO
    return info


def qualified_resource(info: KindInfo) -> str:
    """`deployments.apps`, or plain `pods` for the core group: unique across groups."""
    return f"{info.resource}.{info.group}" if info.group else info.resource


def object_key(obj: ApiObject) -> ObjectKey:
    """The storage key of `obj`."""
    info = kind_info(obj)
    namespace = obj.metadata.namespace if info.namespaced else ""
    return ObjectKey(qualified_resource(info), namespace, obj.metadata.name)


def with_metadata(obj: ApiObject, metadata: ObjectMeta) -> ApiObject:
    """A copy of `obj` with new metadata."""
    return evolve(obj, metadata=metadata)


def known_kinds(crds: Sequence[CustomResourceDefinition] = ()) -> dict[tuple[str, str], KindInfo]:
    """Every (apiVersion, kind) that can be decoded, built-in and CRD-defined."""
    known = {gvk: cls.INFO for gvk, cls in _BY_GVK.items()}
    for crd in crds:
        for info in crd.kind_infos():
            known[(info.api_version, info.kind)] = info
    return known


def decode_object(body: Mapping[str, Any], crds: Sequence[CustomResourceDefinition] = ()) -> ApiObject:
    """Decode one manifest document into an API object, strictly (unknown fields are errors).

    An apiVersion/kind that is neither built in nor defined by one of `crds` is a DecodeError
    at field `kind`, listing the kinds that are known.
    """
    if not isinstance(body, Mapping):
        raise DecodeError((), "a manifest must be an object with apiVersion and kind")
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if not isinstance(api_version, str) or not api_version:
        raise DecodeError(("apiVersion",), "Required value: a string such as v1 or apps/v1")
    if not isinstance(kind, str) or not kind:
        raise DecodeError(("kind",), "Required value: a string such as Deployment")
    rest = {k: v for k, v in body.items() if k not in ("apiVersion", "kind")}
    if (api_version, kind) == (autoscaling_v1.API_VERSION, autoscaling_v1.KIND):
        return autoscaling_v1.decode_hpa_v1(rest)  # served, converted to the stored autoscaling/v2
    cls = _BY_GVK.get((api_version, kind))
    if cls is not None:
        obj: ApiObject = decode_attrs(cls, rest)
        return obj
    for crd in crds:
        for info in crd.kind_infos():
            if (info.api_version, info.kind) == (api_version, kind):
                metadata = decode_attrs(ObjectMeta, rest.pop("metadata", {}), ("metadata",))
                content = {k: freeze_json(v, (k,)) for k, v in rest.items()}
                for path, declared in unknown_fields(version_schema(crd, info.version), content)[:1]:
                    raise DecodeError(path, f"unknown field (not declared in the schema of {crd.metadata.name}); "
                                            f"declared fields here: {declared}")
                return CustomObject(info=info, metadata=metadata, content=content)
    raise DecodeError(("kind",), _unknown_kind_message(api_version, kind, crds))


def _unknown_kind_message(api_version: str, kind: str, crds: Sequence[CustomResourceDefinition]) -> str:
    reason = unmodelled_reason(api_version, kind)
    if reason is not None:
        return f"{kind} ({api_version}) is not modelled: {reason}"
    if kind == "Scenario" and api_version.startswith("kubeprop.dev/"):
        return ("a kubeprop Scenario file among manifests: check it on its own (kubeprop check FILE), or name it "
                "scenario.yaml so that its folder is read as that scenario")
    same_kind = sorted(av for (av, k) in known_kinds(crds) if k == kind)
    if same_kind:
        return f"no kind {kind} in version {api_version}; {kind} is served as {', '.join(same_kind)}"
    names = sorted({k for (_, k) in known_kinds(crds)})
    return (
        f"unknown kind {kind} ({api_version}); known kinds: {', '.join(names)}, "
        "or any kind defined by a CustomResourceDefinition in the same input (for a workload apply step, also "
        "one among the scenario's manifests or applied by an earlier step)"
    )


def encode_object(obj: ApiObject) -> dict[str, Any]:
    """The object as plain JSON data with apiVersion and kind first (empty fields omitted)."""
    info = kind_info(obj)
    out: dict[str, Any] = {"apiVersion": info.api_version, "kind": info.kind}
    if isinstance(obj, CustomObject):
        out["metadata"] = encode(obj.metadata)
        out.update({k: thaw_json(v) for k, v in obj.content.items()})
        return out
    body = encode(obj)
    out.update({k: thaw_json(v) for k, v in body.items()})
    return out
