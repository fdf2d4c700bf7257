"""Core (`v1`) kinds other than Pod: Namespace, Node, Service, Endpoints, PersistentVolume(Claim),
ConfigMap, Secret, ServiceAccount; and `discovery.k8s.io/v1` EndpointSlice.

Field names follow `staging/src/k8s.io/api/core/v1/types.go` and
`staging/src/k8s.io/api/discovery/v1/types.go`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from kubeprop.model.api.integers import Int32, Int64, IntOrString
from kubeprop.model.api.meta import Condition, KindInfo, ObjectMeta, ObjectReference
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.frozen import EMPTY, FrozenMap, frozen_map

ResourceList = FrozenMap[str, Quantity]

TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
TAINT_NODE_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
"""Well-known taints (`staging/src/k8s.io/api/core/v1/well_known_taints.go`): the node lifecycle
controller and the scheduler set them, admission and the scheduler's filters read them."""
LABEL_HOSTNAME = "kubernetes.io/hostname"
LABEL_TOPOLOGY_ZONE = "topology.kubernetes.io/zone"
"""Well-known node labels (`staging/src/k8s.io/api/core/v1/well_known_labels.go`)."""


@attrs.frozen
class NamespaceSpec:
    """Namespace finalizers (the `kubernetes` finalizer)."""

    finalizers: tuple[str, ...] = ()


@attrs.frozen
class NamespaceStatus:
    """Active or Terminating."""

    phase: str = ""
    conditions: tuple[Condition, ...] = ()


@attrs.frozen(cache_hash=True)
class Namespace:
    """A namespace: the scope of namespaced objects and of RoleBindings."""

    INFO: ClassVar[KindInfo] = KindInfo("", "v1", "Namespace", "namespaces", namespaced=False)

    metadata: ObjectMeta = ObjectMeta()
    spec: NamespaceSpec = NamespaceSpec()
    status: NamespaceStatus = NamespaceStatus()


@attrs.frozen
class Taint:
    """A node taint (`core/v1 Taint`): NoSchedule, PreferNoSchedule or NoExecute."""

    key: str = ""
    value: str = ""
    effect: str = ""
    time_added: Int64 | None = None


@attrs.frozen
class NodeSpec:
    """Node spec: cordon flag and taints."""

    IGNORED_JSON_FIELDS: ClassVar[tuple[str, ...]] = ("podCIDRs", "configSource", "externalID")

    unschedulable: bool = False
    taints: tuple[Taint, ...] = ()
    pod_cidr: str = attrs.field(default="", metadata={"json": "podCIDR"})
    provider_id: str = attrs.field(default="", metadata={"json": "providerID"})


@attrs.frozen
class NodeStatus:
    """Node capacity, allocatable resources (incl. `pods`) and conditions."""

    IGNORED_JSON_FIELDS: ClassVar[tuple[str, ...]] = (
        "daemonEndpoints", "images", "volumesInUse", "volumesAttached", "config", "runtimeHandlers", "features",
    )

    capacity: ResourceList = attrs.field(default=EMPTY, converter=frozen_map)
    allocatable: ResourceList = attrs.field(default=EMPTY, converter=frozen_map)
    conditions: tuple[Condition, ...] = ()
    addresses: tuple[Any, ...] = ()
    node_info: Any = None
    phase: str = ""


@attrs.frozen(cache_hash=True)
class Node:
    """A node. Its *actual* running containers live in kubelet state, not here."""

    INFO: ClassVar[KindInfo] = KindInfo("", "v1", "Node", "nodes", namespaced=False)

    metadata: ObjectMeta = ObjectMeta()
    spec: NodeSpec = NodeSpec()
    status: NodeStatus = NodeStatus()


@attrs.frozen
class ServicePort:
    """A Service port; targetPort is an int or a named container port."""

    port: Int32 = 0
    name: str = ""
    protocol: str = ""
    target_port: IntOrString | None = None
    node_port: Int32 | None = None
    app_protocol: str = ""


@attrs.frozen
class ServiceSpec:
    """Service spec (`core/v1 ServiceSpec`)."""

    IGNORED_JSON_FIELDS: ClassVar[tuple[str, ...]] = (
        "ipFamilies", "ipFamilyPolicy", "externalIPs", "loadBalancerIP", "loadBalancerSourceRanges",
        "externalTrafficPolicy", "internalTrafficPolicy", "healthCheckNodePort", "sessionAffinityConfig",
        "allocateLoadBalancerNodePorts", "loadBalancerClass", "trafficDistribution",
    )

    selector: FrozenMap[str, str] | None = None
    ports: tuple[ServicePort, ...] = ()
    type: str = ""
    cluster_ip: str = attrs.field(default="", metadata={"json": "clusterIP"})
    cluster_ips: tuple[str, ...] = attrs.field(default=(), metadata={"json": "clusterIPs"})
    publish_not_ready_addresses: bool = False
    session_affinity: str = ""
    external_name: str = ""


@attrs.frozen(cache_hash=True)
class Service:
    """A Service: a stable address for the Ready pods its selector matches."""

    INFO: ClassVar[KindInfo] = KindInfo("", "v1", "Service", "services", namespaced=True)

    metadata: ObjectMeta = ObjectMeta()
    spec: ServiceSpec = ServiceSpec()
    status: Any = None


@attrs.frozen
class EndpointAddress:
    """One address of an Endpoints subset."""

    ip: str = ""
    hostname: str = ""
    node_name: str | None = None
    target_ref: ObjectReference | None = None


@attrs.frozen
class EndpointPort:
    """A port of an Endpoints subset."""

    port: Int32 = 0
    name: str = ""
    protocol: str = ""
    app_protocol: str = ""


@attrs.frozen
class EndpointSubset:
    """Ready `addresses` and `notReadyAddresses` sharing a port set."""

    addresses: tuple[EndpointAddress, ...] = ()
    not_ready_addresses: tuple[EndpointAddress, ...] = ()
    ports: tuple[EndpointPort, ...] = ()


@attrs.frozen(cache_hash=True)
class Endpoints:
    """The Endpoints object the endpoints controller keeps for a Service (same name)."""

    INFO: ClassVar[KindInfo] = KindInfo("", "v1", "Endpoints", "endpoints", namespaced=True, status_subresource=False)

    metadata: ObjectMeta = ObjectMeta()
    subsets: tuple[EndpointSubset, ...] = ()


@attrs.frozen
class EndpointConditions:
    """ready / serving / terminating of one EndpointSlice endpoint."""

    ready: bool | None = None
    serving: bool | None = None
    terminating: bool | None = None


@attrs.frozen
class Endpoint:
    """One endpoint (pod) of an EndpointSlice."""

    IGNORED_JSON_FIELDS: ClassVar[tuple[str, ...]] = ("deprecatedTopology", "hints")

    addresses: tuple[str, ...] = ()
    conditions: EndpointConditions = EndpointConditions()
    hostname: str | None = None
    node_name: str | None = None
    zone: str | None = None
    target_ref: ObjectReference | None = None


@attrs.frozen
class EndpointSlicePort:
    """A port of an EndpointSlice."""

    name: str | None = None
    port: Int32 | None = None
    protocol: str | None = None
    app_protocol: str | None = None


@attrs.frozen(cache_hash=True)
class EndpointSlice:
    """An EndpointSlice (`discovery.k8s.io/v1`), at most maxEndpointsPerSlice endpoints."""

    INFO: ClassVar[KindInfo] = KindInfo(
        "discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", namespaced=True, status_subresource=False
    )

    metadata: ObjectMeta = ObjectMeta()
    address_type: str = ""
    endpoints: tuple[Endpoint, ...] = ()
    ports: tuple[EndpointSlicePort, ...] = ()


@attrs.frozen
class PersistentVolumeSpec:
    """PersistentVolume spec; the volume source is kept as data."""

    IGNORED_JSON_FIELDS: ClassVar[tuple[str, ...]] = (
        "mountOptions", "iscsi", "awsElasticBlockStore", "gcePersistentDisk", "cephfs", "rbd", "fc", "azureDisk",
        "azureFile", "volumeAttributesClassName",
    )
    REFUSED_JSON_VALUES: ClassVar[dict[str, dict[str, str]]] = {
        "persistentVolumeReclaimPolicy": {
            "Recycle": "the Recycle reclaim policy (deprecated) is not modelled: upstream the PV controller runs a "
                       "recycler pod that scrubs a released hostPath or NFS volume and makes it Available again "
                       "(pv_controller.go recycleVolumeOperation); write Retain, or Delete"},
    }

    capacity: ResourceList = attrs.field(default=EMPTY, converter=frozen_map)
    access_modes: tuple[str, ...] = ()
    persistent_volume_reclaim_policy: str = ""
    storage_class_name: str = ""
    volume_mode: str = ""
    claim_ref: ObjectReference | None = None
    host_path: Any = None
    local: Any = None
    nfs: Any = None
    csi: Any = None
    node_affinity: Any = None


@attrs.frozen
class PersistentVolumeStatus:
    """Available, Bound, Released or Failed."""

    phase: str = ""
    message: str = ""
    reason: str = ""


@attrs.frozen(cache_hash=True)
class PersistentVolume:
    """A PersistentVolume (cluster-scoped)."""

    INFO: ClassVar[KindInfo] = KindInfo("", "v1", "PersistentVolume", "persistentvolumes", namespaced=False)

    metadata: ObjectMeta = ObjectMeta()
    spec: PersistentVolumeSpec = PersistentVolumeSpec()
    status: PersistentVolumeStatus = PersistentVolumeStatus()


@attrs.frozen
class VolumeResourceRequirements:
    """Storage requested by a claim."""

    requests: ResourceList = attrs.field(default=EMPTY, converter=frozen_map)
    limits: ResourceList = attrs.field(default=EMPTY, converter=frozen_map)


@attrs.frozen
class PersistentVolumeClaimSpec:
    """PVC spec: access modes (ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod) and size."""

    IGNORED_JSON_FIELDS: ClassVar[tuple[str, ...]] = ("dataSource", "dataSourceRef", "volumeAttributesClassName")

    access_modes: tuple[str, ...] = ()
    resources: VolumeResourceRequirements = VolumeResourceRequirements()
    storage_class_name: str | None = None
    volume_name: str = ""
    volume_mode: str = ""
    selector: LabelSelector | None = None


@attrs.frozen
class PersistentVolumeClaimStatus:
    """Pending, Bound or Lost."""

    IGNORED_JSON_FIELDS: ClassVar[tuple[str, ...]] = ("allocatedResources", "allocatedResourceStatuses")

    phase: str = ""
    access_modes: tuple[str, ...] = ()
    capacity: ResourceList = attrs.field(default=EMPTY, converter=frozen_map)
    conditions: tuple[Condition, ...] = ()


@attrs.frozen(cache_hash=True)
class PersistentVolumeClaim:
    """A PersistentVolumeClaim; also the shape of a StatefulSet's volumeClaimTemplates."""

    INFO: ClassVar[KindInfo] = KindInfo("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", namespaced=True)

    metadata: ObjectMeta = ObjectMeta()
    spec: PersistentVolumeClaimSpec = PersistentVolumeClaimSpec()
    status: PersistentVolumeClaimStatus = PersistentVolumeClaimStatus()


@attrs.frozen(cache_hash=True)
class ConfigMap:
    """Configuration data: stored, and read by the kubelet for a container's environment (`envFrom`,
    `valueFrom`: `kubeprop.model.kubelet.config`) and to mount `configMap` and `projected` volumes
    (`kubeprop.model.kubelet.volumes`)."""

    INFO: ClassVar[KindInfo] = KindInfo("", "v1", "ConfigMap", "configmaps", namespaced=True, status_subresource=False)

    metadata: ObjectMeta = ObjectMeta()
    data: FrozenMap[str, str] = attrs.field(default=EMPTY, converter=frozen_map)
    binary_data: FrozenMap[str, str] = attrs.field(default=EMPTY, converter=frozen_map)
    immutable: bool | None = None


@attrs.frozen(cache_hash=True)
class Secret:
    """Secret data (base64 in `data`, plain text in `stringData`, merged into data on write)."""

    INFO: ClassVar[KindInfo] = KindInfo("", "v1", "Secret", "secrets", namespaced=True, status_subresource=False)

    metadata: ObjectMeta = ObjectMeta()
    data: FrozenMap[str, str] = attrs.field(default=EMPTY, converter=frozen_map)
    string_data: FrozenMap[str, str] = attrs.field(default=EMPTY, converter=frozen_map)
    type: str = ""
    immutable: bool | None = None


@attrs.frozen(cache_hash=True)
class ServiceAccount:
    """A ServiceAccount: an identity `system:serviceaccount:<ns>:<name>` for authentication."""

    INFO: ClassVar[KindInfo] = KindInfo(
        "", "v1", "ServiceAccount", "serviceaccounts", namespaced=True, status_subresource=False
    )

    metadata: ObjectMeta = ObjectMeta()
    secrets: tuple[Any, ...] = ()
    image_pull_secrets: tuple[Any, ...] = ()
    automount_service_account_token: bool | None = None
