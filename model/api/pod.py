"""The Pod kind and its parts: containers, probes, resources, scheduling constraints, status;
and the Ready condition's helpers of `pkg/api/v1/pod/util.go` (controllers and eviction use them).

Field names and meanings follow `staging/src/k8s.io/api/core/v1/types.go`. Fields that the model
accepts but gives no semantics are typed `Any` (kept as immutable JSON) or listed in a class's
IGNORED_JSON_FIELDS (dropped); those whose absence would change what the checker sees are in its
REFUSED_JSON_FIELDS (bad input when set); the docs (docs/objects.md) list what is modelled.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from kubeprop.model.api.core import Taint
from kubeprop.model.api.integers import Int32, Int64
from kubeprop.model.api.meta import Condition, KindInfo, ObjectMeta, find_condition
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import LabelSelector, NodeSelector, NodeSelectorTerm
from kubeprop.model.frozen import EMPTY, FrozenMap, frozen_map

ResourceList = FrozenMap[str, Quantity]

_LATER = {"fingerprint": "omit-if-default"}
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
"""The annotation of a mirror pod, the API server's copy of a kubelet's static pod
(`pkg/kubelet/types/pod_update.go` ConfigMirrorAnnotationKey)."""
"""Metadata of a field added after states were recorded: left out of a fingerprint while it holds
its default (None encodes as absent), so recorded traces and pinned state counts stay valid."""


@attrs.frozen
class ResourceRequirements:
    """Container requests and limits (`core/v1 ResourceRequirements`)."""

    REFUSED_JSON_FIELDS: ClassVar[dict[str, str]] = {
        "claims": "dynamic resource allocation (a pod's resourceClaims) is not modelled: upstream the scheduler "
                  "keeps the pod pending until its claims are allocated; remove the field",
    }

    requests: ResourceList = attrs.field(default=EMPTY, converter=frozen_map)
    limits: ResourceList = attrs.field(default=EMPTY, converter=frozen_map)


@attrs.frozen
class Probe:
    """A readiness, liveness or startup probe. Outcomes are environment actions in the model, so
    only the timing fields matter; the handler is kept as data."""

    exec_: Any = attrs.field(default=None, metadata={"json": "exec"})
    http_get: Any = None
    tcp_socket: Any = None
    grpc: Any = None
    initial_delay_seconds: Int32 | None = None
    timeout_seconds: Int32 | None = None
    period_seconds: Int32 | None = None
    success_threshold: Int32 | None = None
    failure_threshold: Int32 | None = None
    termination_grace_period_seconds: Int64 | None = None


@attrs.frozen
class ContainerPort:
    """A port a container exposes."""

    container_port: Int32 = 0
    name: str = ""
    protocol: str = ""
    host_port: Int32 | None = None
    host_ip: str = attrs.field(default="", metadata={"json": "hostIP"})


@attrs.frozen
class EnvVar:
    """An environment variable; valueFrom is kept as data."""

    name: str = ""
    value: str | None = None
    value_from: Any = None


@attrs.frozen
class VolumeMount:
    """Where a pod volume is mounted in a container."""

    name: str = ""
    mount_path: str = ""
    read_only: bool | None = None
    sub_path: str = ""
    mount_propagation: str = ""


@attrs.frozen(cache_hash=True)
class Container:
    """A container of a pod (`core/v1 Container`)."""

    IGNORED_JSON_FIELDS: ClassVar[tuple[str, ...]] = (
        "workingDir", "terminationMessagePath", "terminationMessagePolicy",
        "securityContext", "stdin", "stdinOnce", "tty", "volumeDevices", "resizePolicy",
    )

    name: str = ""
    image: str = ""
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    ports: tuple[ContainerPort, ...] = ()
    env: tuple[EnvVar, ...] = ()
    env_from: tuple[Any, ...] = ()
    resources: ResourceRequirements = ResourceRequirements()
    readiness_probe: Probe | None = None
    liveness_probe: Probe | None = None
    startup_probe: Probe | None = None
    volume_mounts: tuple[VolumeMount, ...] = ()
    image_pull_policy: str = ""
    restart_policy: str = ""
    lifecycle: Any = attrs.field(default=None, metadata=_LATER)
    """postStart and preStop hooks, kept as data. A `preStop` hook (exec, httpGet, sleep) runs before
    SIGTERM within the grace period (`kuberuntime_container.go` killContainer/executePreStopHook):
    the kubelet model's `PreStopOverrun` (`kubeprop.model.kubelet.actions`); postStart has no semantics."""


@attrs.frozen
class PreferredSchedulingTerm:
    """A weighted node-affinity preference."""

    weight: Int32 = 0
    preference: NodeSelectorTerm = NodeSelectorTerm()


@attrs.frozen
class NodeAffinity:
    """Required (filter) and preferred (score) node affinity."""

    required_during_scheduling_ignored_during_execution: NodeSelector | None = None
    preferred_during_scheduling_ignored_during_execution: tuple[PreferredSchedulingTerm, ...] = ()


@attrs.frozen
class PodAffinityTerm:
    """Pods matching `label_selector` (in `namespaces`) co-located by `topology_key`."""

    label_selector: LabelSelector | None = None
    namespaces: tuple[str, ...] = ()
    topology_key: str = ""
    namespace_selector: LabelSelector | None = None
    match_label_keys: tuple[str, ...] = ()
    mismatch_label_keys: tuple[str, ...] = ()


@attrs.frozen
class WeightedPodAffinityTerm:
    """A weighted inter-pod (anti-)affinity preference."""

    weight: Int32 = 0
    pod_affinity_term: PodAffinityTerm = PodAffinityTerm()


@attrs.frozen
class PodAffinity:
    """Inter-pod affinity or anti-affinity (the same shape for both)."""

    required_during_scheduling_ignored_during_execution: tuple[PodAffinityTerm, ...] = ()
    preferred_during_scheduling_ignored_during_execution: tuple[WeightedPodAffinityTerm, ...] = ()


@attrs.frozen
class Affinity:
    """Node affinity, pod affinity and pod anti-affinity."""

    node_affinity: NodeAffinity | None = None
    pod_affinity: PodAffinity | None = None
    pod_anti_affinity: PodAffinity | None = None


@attrs.frozen
class Toleration:
    """A toleration (`core/v1 Toleration`)."""

    key: str = ""
    operator: str = ""
    value: str = ""
    effect: str = ""
    toleration_seconds: Int64 | None = None

    def tolerates(self, taint: Taint) -> bool:
        """`Toleration.ToleratesTaint` (staging/src/k8s.io/api/core/v1/toleration.go): effects
        and keys match where set; Equal (or empty) compares values, Exists matches any."""
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        if self.operator in ("", "Equal"):
            return self.value == taint.value
        return self.operator == "Exists"


@attrs.frozen
class TopologySpreadConstraint:
    """A pod topology spread constraint."""

    max_skew: Int32 = 0
    topology_key: str = ""
    when_unsatisfiable: str = ""
    label_selector: LabelSelector | None = None
    min_domains: Int32 | None = None
    node_affinity_policy: str = ""
    node_taints_policy: str = ""
    match_label_keys: tuple[str, ...] = ()


@attrs.frozen
class PersistentVolumeClaimVolumeSource:
    """A pod volume backed by a PersistentVolumeClaim."""

    claim_name: str = ""
    read_only: bool | None = None


@attrs.frozen
class Volume:
    """A pod volume. PVC-backed volumes have semantics in the model (ReadWriteOnce use), and the
    kubelet mounts `configMap`, `secret` and `projected` volumes only once their objects exist
    (`kubeprop.model.kubelet.volumes`); the sources are kept as data."""

    IGNORED_JSON_FIELDS: ClassVar[tuple[str, ...]] = (
        "downwardAPI", "nfs", "csi", "ephemeral", "image", "iscsi", "awsElasticBlockStore", "gcePersistentDisk",
    )

    name: str = ""
    persistent_volume_claim: PersistentVolumeClaimVolumeSource | None = None
    config_map: Any = None
    secret: Any = None
    empty_dir: Any = None
    host_path: Any = None
    projected: Any = None


@attrs.frozen
class PodOS:
    """The OS a pod's containers need (`core/v1 PodOS`): `linux` or `windows`. The scheduler ignores
    it; the kubelet refuses a pod whose OS is not its own (`pkg/kubelet/lifecycle/predicate.go`
    rejectPodAdmissionBasedOnOSField, reason PodOSNotSupported)."""

    name: str = ""


@attrs.frozen
class PodSchedulingGate:
    """A scheduling gate (`core/v1 PodSchedulingGate`): while a pod has any, the scheduler leaves
    it alone (`kubeprop.model.scheduler.queue`)."""

    name: str = ""


@attrs.frozen
class PodReadinessGate:
    """A readiness gate (`core/v1 PodReadinessGate`): the pod is Ready only once its
    `status.conditions` hold a condition of this type with status True, which something other than
    the kubelet sets (`pkg/kubelet/status/generate.go` GeneratePodReadyCondition,
    `kubeprop.model.kubelet.status`)."""

    condition_type: str = ""


@attrs.frozen(cache_hash=True)
class PodSpec:
    """What a pod runs and where it may run (`core/v1 PodSpec`)."""

    IGNORED_JSON_FIELDS: ClassVar[tuple[str, ...]] = (
        "dnsPolicy", "dnsConfig", "securityContext", "imagePullSecrets",
        "hostPID", "hostIPC", "shareProcessNamespace", "hostAliases",
        "enableServiceLinks", "hostUsers",
        "setHostnameAsFQDN", "serviceAccount", "automountServiceAccountToken",
    )
    REFUSED_JSON_FIELDS: ClassVar[dict[str, str]] = {
        "runtimeClassName": (
            "the model has no RuntimeClass (the kind is refused): upstream the RuntimeClass admission plug-in "
            "refuses a pod naming a class that does not exist (403 pod rejected: RuntimeClass not found) and "
            "adds the class's overhead, nodeSelector and tolerations to the pod; remove the field and write "
            "those into the pod (template)"),
        "resourceClaims": (
            "dynamic resource allocation (ResourceClaims) is not modelled: upstream the scheduler keeps the pod "
            "pending until its claims are allocated; remove the field (and the containers' resources.claims)"),
        "ephemeralContainers": (
            "upstream refuses a pod or pod template written with ephemeral containers (422 Forbidden; they are "
            "added to a running pod through the ephemeralcontainers subresource, which the model does not "
            "serve); remove the field"),
    }
    """Fields whose absence would change what the checker sees (`kubeprop.model.api.codec`): set, they
    are bad input (`spec.runtimeClassName: not modelled: …`); unset (null, false, empty), accepted."""

    containers: tuple[Container, ...] = ()
    init_containers: tuple[Container, ...] = ()
    restart_policy: str = ""
    termination_grace_period_seconds: Int64 | None = None
    node_name: str = ""
    node_selector: FrozenMap[str, str] = attrs.field(default=EMPTY, converter=frozen_map)
    affinity: Affinity | None = None
    tolerations: tuple[Toleration, ...] = ()
    topology_spread_constraints: tuple[TopologySpreadConstraint, ...] = ()
    priority: Int32 | None = None
    priority_class_name: str = ""
    preemption_policy: str = ""
    scheduler_name: str = ""
    service_account_name: str = ""
    volumes: tuple[Volume, ...] = ()
    hostname: str = ""
    subdomain: str = ""
    readiness_gates: tuple[PodReadinessGate, ...] = ()
    overhead: ResourceList = attrs.field(default=EMPTY, converter=frozen_map)
    scheduling_gates: tuple[PodSchedulingGate, ...] = attrs.field(default=(), metadata=_LATER)
    active_deadline_seconds: Int64 | None = attrs.field(default=None, metadata=_LATER)
    """Seconds the pod may be active on its node, counted from `status.startTime`; then the
    kubelet kills it and reports it Failed, reason DeadlineExceeded (`pkg/kubelet/active_deadline.go`)."""
    os: PodOS | None = attrs.field(default=None, metadata=_LATER)
    """The OS the pod needs: the kubelet admits it only on a node of that OS (`kubeprop.model.kubelet.admission`)."""
    host_network: bool = attrs.field(default=False, metadata=_LATER)
    """The pod shares its node's network namespace (`core/v1 PodSpec.hostNetwork`). Upstream v1.33, and
    the model: a Pod's container ports default to host ports, hostPort = containerPort
    (`pkg/apis/core/v1/defaults.go` SetDefaults_Pod → defaultHostNetworkPorts; a template's are not
    defaulted), and validation wants them equal (`validatePodHostNetworkDeps`), so the scheduler's
    NodePorts keeps two such pods with one port off a node; the kubelet reports the node's IP as the
    pod's (`pkg/kubelet/kubelet_pods.go` generateAPIPodStatus; `kubeprop.model.kubelet.admission.node_ip`),
    which the Endpoints and EndpointSlice controllers publish; the DaemonSet controller adds the
    `node.kubernetes.io/network-unavailable` toleration (`daemonset_util`)."""


@attrs.frozen
class ContainerStatus:
    """What the kubelet reports about one container."""

    name: str = ""
    ready: bool = False
    restart_count: Int32 = 0
    started: bool | None = None
    state: Any = None
    last_state: Any = None
    image: str = ""
    image_id: str = attrs.field(default="", metadata={"json": "imageID"})
    container_id: str = attrs.field(default="", metadata={"json": "containerID"})


@attrs.frozen(cache_hash=True)
class PodStatus:
    """Pod status as reported by the kubelet (and the scheduler's PodScheduled condition)."""

    IGNORED_JSON_FIELDS: ClassVar[tuple[str, ...]] = ("podIPs", "hostIPs", "qosClass", "resize")

    phase: str = ""
    conditions: tuple[Condition, ...] = ()
    message: str = ""
    reason: str = ""
    pod_ip: str = attrs.field(default="", metadata={"json": "podIP"})
    host_ip: str = attrs.field(default="", metadata={"json": "hostIP"})
    start_time: Int64 | None = None
    nominated_node_name: str = ""
    container_statuses: tuple[ContainerStatus, ...] = ()
    init_container_statuses: tuple[ContainerStatus, ...] = ()


@attrs.frozen
class PodTemplateSpec:
    """The pod template of a workload controller."""

    metadata: ObjectMeta = ObjectMeta()
    spec: PodSpec = PodSpec()


@attrs.frozen(cache_hash=True)
class Pod:
    """A Pod: the unit the scheduler places and a kubelet runs."""

    INFO: ClassVar[KindInfo] = KindInfo("", "v1", "Pod", "pods", namespaced=True)

    metadata: ObjectMeta = ObjectMeta()
    spec: PodSpec = PodSpec()
    status: PodStatus = PodStatus()


def pod_ready_condition(pod: Pod) -> Condition | None:
    """The pod's Ready condition, if any (`pkg/api/v1/pod/util.go` GetPodReadyCondition)."""
    return find_condition(pod.status.conditions, "Ready")


def is_pod_ready(pod: Pod) -> bool:
    """Ready condition with status True (`pkg/api/v1/pod/util.go` IsPodReady)."""
    cond = pod_ready_condition(pod)
    return cond is not None and cond.status == "True"
