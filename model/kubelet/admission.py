"""Kubelet admission: the checks a kubelet makes before it starts a pod bound to its node, and
the runtime of a pod it admits (`admit`, `admitted`).

Upstream: `pkg/kubelet/kubelet.go` (HandlePodAdditions → canAdmitPod → rejectPod) and
`pkg/kubelet/lifecycle/predicate.go` (predicateAdmitHandler.Admit, generalFilter), which runs the
scheduler's `AdmissionCheck` (`pkg/scheduler/eventhandlers.go`: NodeResourcesFit's `Fits`, the
required node affinity and selector, NodeName, NodePorts) against the pods the kubelet already
admitted (`GetActivePods`), then refuses an untolerated NoExecute taint. A pod the scheduler bound
passes them when its cache was right; they matter for a pod created with `spec.nodeName` (it
bypasses the scheduler), for two schedulers that each over-commit a node, and for a taint added
after the binding (`node.kubernetes.io/unreachable` by the node lifecycle controller, or a user).
The first failure is the one reported, as upstream: the OS checks first (`os_rejection`), then
resources (`OutOfcpu`, `OutOfmemory`, `OutOfpods`, …), then the predicates by name.

The host ports the NodePorts check counts are those the scheduler's NodePorts filter counts in the
same release: upstream the kubelet runs that very code (`predicate.go` generalFilter →
`pkg/scheduler/eventhandlers.go` AdmissionCheck → `pkg/scheduler/framework/plugins/nodeports/node_ports.go`
Fits → getContainerPorts, and the NodeInfo's UsedPorts), so one parameter, `schedulerSidecarHostPorts`
(`sidecar_host_ports`), says for both whether the restartable (sidecar) init containers' host ports count
(v1.33.6+, v1.34+) or the containers' only (v1.33.0 to v1.33.5; docs/release.md).

The kubelet's OS (upstream `runtime.GOOS`, which it also writes into its Node's `kubernetes.io/os`
label and restores there on a mismatch) is the label its topology node was declared with, `linux`
unless the scenario says otherwise (`kubeprop.model.scenario.bootstrap.node_object`): a later
relabelling of the Node object does not change it, as upstream.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial

from kubeprop.model.api.objects import Node, ObjectKey, Taint
from kubeprop.model.api.pod import Pod
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY
from kubeprop.model.kubelet.runtime import (
    ContainerRuntime,
    KubeletState,
    PodRuntime,
    container_runtime,
    has_pre_stop,
    init_runtime,
)
from kubeprop.model.scheduler.filters import (
    REASON_NODE_AFFINITY,
    REASON_NODE_NAME,
    REASON_NODE_PORTS,
    node_affinity_status,
    node_name_status,
    node_ports_status,
)
from kubeprop.model.scheduler.nodeinfo import CPU, EPHEMERAL, MEMORY, PODS, NodeInfo, pod_requests
from kubeprop.model.state.cluster import ClusterModel, ClusterState, kubelet, reaches_apiserver

__all__ = [
    "OS_FIELD_REJECTION",
    "OS_LABEL",
    "OS_SELECTOR_REJECTION",
    "TAINT_REJECTION",
    "admission_rejection",
    "admit",
    "admitted",
    "kubelet_os",
    "node_ip",
    "os_rejection",
    "pod_ip",
    "rejected_runtime",
    "resource_rejection",
    "sidecar_host_ports",
    "visible_taints",
]

OS_LABEL = "kubernetes.io/os"
"""`v1.LabelOSStable`."""
OS_SELECTOR_REJECTION = ("PodOSSelectorNodeLabelDoesNotMatch",
                         "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label")
OS_FIELD_REJECTION = ("PodOSNotSupported", "Failed to admit pod as the OS field doesn't match node OS")
"""`predicate.go` Admit: the reasons and messages of its two OS checks."""

TAINT_REJECTION = ("TaintToleration",
                   "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate")
"""`predicate.go` generalFilter: PredicateFailureError{tainttoleration.Name, ErrReasonNotMatch}."""


def kubelet_os(model: ClusterModel, node: str) -> str:
    """The OS the node's kubelet runs on (`runtime.GOOS`): its topology declaration's
    `kubernetes.io/os` label, `linux` by default."""
    for decl in model.scenario.spec.topology.nodes:
        if decl.name == node:
            return decl.labels.get(OS_LABEL, "linux")
    return "linux"


def os_rejection(node_os: str, pod: Pod) -> tuple[str, str] | None:
    """`predicate.go` Admit's first checks, before the resources: rejectPodAdmissionBasedOnOSSelector
    (the pod's *label* `kubernetes.io/os`, when set, must be the node's OS: upstream reads
    `pod.Labels`, not the node selector) and rejectPodAdmissionBasedOnOSField (`spec.os.name`, when
    set, must be the node's OS)."""
    selector = pod.metadata.labels.get(OS_LABEL)
    if selector is not None and selector != node_os:
        return OS_SELECTOR_REJECTION
    if pod.spec.os is not None and pod.spec.os.name != node_os:
        return OS_FIELD_REJECTION
    return None


def visible_taints(state: ClusterState, node: str) -> tuple[Taint, ...]:
    """The node's taints as the kubelet's node informer has them: the API's while it reaches the
    API server; while cut off, only those added before (a taint without `timeAdded` is old)."""
    obj = state.store.get(ObjectKey("nodes", "", node))
    if not isinstance(obj, Node):
        return ()
    if reaches_apiserver(state, kubelet(node)):
        return obj.spec.taints
    since = state.heartbeat_lost.get(node, state.clock)
    return tuple(t for t in obj.spec.taints if t.time_added is None or t.time_added <= since)


def admission_rejection(taints: tuple[Taint, ...], pod: Pod) -> tuple[str, str] | None:
    """canAdmitPod's taint check (`generalFilter`): the first NoExecute taint no toleration of
    the pod tolerates rejects it (static pods are exempt upstream; the model has none)."""
    for taint in taints:
        if taint.effect == "NoExecute" and not any(t.tolerates(taint) for t in pod.spec.tolerations):
            return TAINT_REJECTION
    return None


_PREDICATES = {sidecars: (("NodeAffinity", REASON_NODE_AFFINITY, node_affinity_status),
                         ("NodeName", REASON_NODE_NAME, node_name_status),
                         ("NodePorts", REASON_NODE_PORTS, partial(node_ports_status, sidecars=sidecars)))
               for sidecars in (False, True)}
"""AdmissionCheck's predicates after the resources, in its order: (name, reason, the filter), by
whether NodePorts counts the sidecars' host ports (`sidecar_host_ports`)."""


def _out_of(resource: str, pod: Pod, info: NodeInfo) -> tuple[str, str] | None:
    """`predicate.go` InsufficientResourceError for `resource` when the pod does not fit."""
    if resource == PODS:
        wanted, used = 1, len(info.pods)
    else:
        wanted, used = pod_requests(pod).get(resource, 0), info.requested.get(resource, 0)
        if wanted == 0:
            return None
    capacity = info.allocatable.get(resource, 0)
    if used + wanted <= capacity:
        return None
    return (f"OutOf{resource}", f"Node didn't have enough resource: {resource}, requested: {wanted}, "
                                f"used: {used}, capacity: {capacity}")


def _extended(name: str) -> bool:
    """`v1helper.IsExtendedResourceName`: a `domain/name` outside `kubernetes.io`. Admit drops a
    request for one the node does not have (`removeMissingExtendedResources`)."""
    return "/" in name and "kubernetes.io/" not in name and not name.startswith("requests.")


def sidecar_host_ports(model: ClusterModel) -> bool:
    """Whether the NodePorts check counts the sidecars' host ports: the scheduler's parameter
    `schedulerSidecarHostPorts`, since the kubelet runs the same code (see the module docstring)."""
    return bool(model.parameter("schedulerSidecarHostPorts"))


def resource_rejection(node: Node, admitted: Iterable[Pod], pod: Pod, *, sidecars: bool) -> tuple[str, str] | None:
    """`predicate.go` Admit's general filter before the taints: (reason, message) of the first
    failure of `AdmissionCheck` for `pod` on `node` next to the pods the kubelet `admitted`
    (active, not `pod`), or None. Resources in `noderesources.Fits` order: the pod count, cpu,
    memory, ephemeral storage, then the scalar resources by name (upstream: map order). `sidecars`:
    NodePorts counts the restartable init containers' host ports (`sidecar_host_ports`)."""
    info = NodeInfo.of(node, admitted)
    scalars = [name for name, _ in pod_requests(pod).sorted_items()
               if name not in (CPU, MEMORY, EPHEMERAL) and (name in info.allocatable or not _extended(name))]
    for resource in (PODS, CPU, MEMORY, EPHEMERAL, *scalars):
        out = _out_of(resource, pod, info)
        if out is not None:
            return out
    for name, reason, status in _PREDICATES[sidecars]:
        if status(pod, info) is not None:
            return name, f"Predicate {name} failed: {reason}"
    return None


def rejected_runtime(pod: Pod, now: int, rejection: tuple[str, str]) -> PodRuntime:
    """A pod refused at admission: recorded with no container started, so the status manager
    reports it Failed (`rejectPod`) and it is never restarted."""
    grace = pod.spec.termination_grace_period_seconds
    return PodRuntime(uid=pod.metadata.uid, containers=tuple(ContainerRuntime(c.name) for c in pod.spec.containers),
                      pod_ip="", admitted_at=now, restart_policy=pod.spec.restart_policy or "Always",
                      grace_seconds=30 if grace is None else grace, rejected=rejection)


def pod_ip(model: ClusterModel, k: KubeletState, node: str, pod: Pod | None = None) -> str:
    """The IP the kubelet reports for `pod`: a host-network pod's is its node's (`node_ip`), every
    other's 10.244.<node index>.<lowest free host ≥ 2> (.1 is the bridge); upstream IPAM is random."""
    if pod is not None and pod.spec.host_network:
        return node_ip(model, node)
    index = model.nodes.index(node) if node in model.nodes else 0
    used = {r.pod_ip for r in k.pods.values()}
    host = 2
    while f"10.244.{index}.{host}" in used:
        host += 1
    return f"10.244.{index}.{host}"


def node_ip(model: ClusterModel, node: str) -> str:
    """The node's InternalIP, 172.18.0.<node index + 2> (a stand-in: the model writes no
    `status.addresses`, which upstream's kubelet fills from `--node-ip` or its hostname). A host-network
    pod's IP: `pkg/kubelet/kubelet_pods.go` generateAPIPodStatus — "HostNetwork Pods inherit the node
    IPs as PodIPs" (getHostIPsAnyWay: the node's InternalIP first) — so two such pods on one node share it."""
    index = model.nodes.index(node) if node in model.nodes else 0
    return f"172.18.0.{index + 2}"


def admit(model: ClusterModel, k: KubeletState, node: str, pod: Pod, now: int,
          errors: Mapping[str, str] = EMPTY, mounted: bool = True) -> PodRuntime:
    """The pod admitted, its first init container(s) or its containers started (`start_next`), each
    with its probes (`container_runtime`); those whose configuration does not resolve (`errors`) wait
    (`kubeprop.model.kubelet.config`). Unless its volumes did not all mount: then nothing starts
    (`mount_pending`, `kubeprop.model.kubelet.volumes`)."""
    containers = tuple(container_runtime(c) for c in pod.spec.containers)
    inits = tuple(init_runtime(c) for c in pod.spec.init_containers)
    runtime = admitted(model, k, node, pod, now, containers, inits)
    return runtime.start_next(now, errors) if mounted else evolve(runtime, mount_pending=True)


def admitted(model: ClusterModel, k: KubeletState, node: str, pod: Pod, now: int,
             containers: tuple[ContainerRuntime, ...], inits: tuple[ContainerRuntime, ...]) -> PodRuntime:
    """The pod as admitted, nothing started yet; after a node reboot, its containers' restart counts
    as the log directory left for its uid says (`runtime.PodLogs`)."""
    logs = k.logs.get(f"{pod.metadata.namespace}/{pod.metadata.name}") if k.logs else None
    if logs is not None and logs.uid == pod.metadata.uid:
        containers, inits = tuple(map(logs.logged, containers)), tuple(map(logs.logged, inits))
    grace = pod.spec.termination_grace_period_seconds
    claims = tuple(sorted(
        f"{pod.metadata.namespace}/{v.persistent_volume_claim.claim_name}"
        for v in pod.spec.volumes if v.persistent_volume_claim is not None
    ))
    return PodRuntime(uid=pod.metadata.uid, containers=containers, pod_ip=pod_ip(model, k, node, pod), admitted_at=now,
                      restart_policy=pod.spec.restart_policy or "Always", grace_seconds=30 if grace is None else grace,
                      claims=claims, active_deadline_seconds=pod.spec.active_deadline_seconds, init_containers=inits,
                      pre_stop=any(has_pre_stop(c) for c in (*pod.spec.init_containers, *pod.spec.containers)))
