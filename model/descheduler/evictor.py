"""The descheduler's DefaultEvictor and node-fit checks.

Upstream (kubernetes-sigs/descheduler): `pkg/framework/plugins/defaultevictor/defaultevictor.go`
(Filter: the `descheduler.alpha.kubernetes.io/evict` annotation makes any pod evictable; mirror,
static and terminating pods never are; then the protections of the legacy flags — system-critical
pods (`pkg/utils/pod.go` IsCriticalPriorityPod: `spec.priority` ≥ 2·10⁹; the class name is not read,
the Priority admission plugin has set the priority from it) and pods above `priorityThreshold`
unless `evictSystemCriticalPods`, pods with local storage (emptyDir, hostPath) unless
`evictLocalStoragePods`, DaemonSet pods, bare pods unless failed and `evictFailedBarePods`, pods
with a PVC when `ignorePvcPods`; PreEvictionFilter: with `nodeFit`, the pod must fit some other
ready node) and `pkg/descheduler/node/node.go` (NodeFit: node selector and required affinity,
NoSchedule/NoExecute taints tolerated, — on another node — enough free requests and pods,
schedulable, and no pod on the node matching a required anti-affinity term of the pod:
podMatchesInterPodAntiAffinity). Read at descheduler v0.33.0, the release paired with Kubernetes
v1.33.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubeprop.model.api.meta import find_condition
from kubeprop.model.api.objects import Node, Pod
from kubeprop.model.api.pod import MIRROR_POD_ANNOTATION, PodAffinityTerm
from kubeprop.model.api.selectors import selector_matches
from kubeprop.model.scenario.schema_addons import EvictorDecl
from kubeprop.model.scheduler.filters import (
    find_untolerated_taint,
    node_resources_fit_status,
    required_node_affinity_matches,
)
from kubeprop.model.scheduler.nodeinfo import NodeInfo

EVICT_ANNOTATION = "descheduler.alpha.kubernetes.io/evict"
SYSTEM_CRITICAL_PRIORITY = 2_000_000_000


def is_ready(node: Node) -> bool:
    """nodeutil.IsReady: no Ready condition other than True."""
    cond = find_condition(node.status.conditions, "Ready")
    return cond is None or cond.status == "True"


def _owner_kinds(pod: Pod) -> list[str]:
    return [r.kind for r in pod.metadata.owner_references]


def evictable(pod: Pod, args: EvictorDecl) -> bool:
    """DefaultEvictor.Filter."""
    if EVICT_ANNOTATION in pod.metadata.annotations:
        return True
    if MIRROR_POD_ANNOTATION in pod.metadata.annotations or pod.metadata.deletion_timestamp is not None:
        return False
    priority = pod.spec.priority
    if not args.evict_system_critical_pods:
        if priority is not None and priority >= SYSTEM_CRITICAL_PRIORITY:
            return False  # utils.IsCriticalPriorityPod: the priority only, not priorityClassName
        if args.priority_threshold is not None and priority is not None and priority >= args.priority_threshold:
            return False
    volumes = pod.spec.volumes
    if not args.evict_local_storage_pods and any(v.empty_dir is not None or v.host_path is not None for v in volumes):
        return False
    if "DaemonSet" in _owner_kinds(pod):
        return False
    if not pod.metadata.owner_references and not (args.evict_failed_bare_pods and pod.status.phase == "Failed"):
        return False
    return not (args.ignore_pvc_pods and any(v.persistent_volume_claim is not None for v in volumes))


def _anti_affinity_terms(pod: Pod) -> tuple[PodAffinityTerm, ...]:
    """`pkg/utils/predicates.go` GetPodAntiAffinityTerms: the required terms only."""
    affinity = pod.spec.affinity
    anti = affinity.pod_anti_affinity if affinity else None
    return anti.required_during_scheduling_ignored_during_execution if anti else ()


def _term_namespaces(pod: Pod, term: PodAffinityTerm) -> frozenset[str]:
    """`predicates.go` GetNamespacesFromPodAffinityTerm: the term's namespaces, else the pod's
    (the namespaceSelector is not read, unlike the scheduler's)."""
    return frozenset(term.namespaces) if term.namespaces else frozenset({pod.metadata.namespace})


def matches_inter_pod_anti_affinity(pod: Pod, info: NodeInfo) -> bool:
    """`node.go` podMatchesInterPodAntiAffinity: a pod on this very node (another name; any
    namespace the term lists) matches a required anti-affinity term of `pod`, and the node carries
    the term's topology key. Only the node's own pods count, not its topology domain's, and the
    other pods' anti-affinity is not consulted (upstream does neither)."""
    for term in _anti_affinity_terms(pod):
        if term.topology_key not in info.labels:
            continue
        namespaces = _term_namespaces(pod, term)
        for other in info.pods:
            if (other.metadata.name != pod.metadata.name and other.metadata.namespace in namespaces
                    and selector_matches(term.label_selector, other.metadata.labels)):
                return True
    return False


def node_fit(pod: Pod, info: NodeInfo) -> bool:
    """NodeFit: the pod could run on this node (resources only checked off its own node)."""
    node = info.node
    if not required_node_affinity_matches(pod, info):
        return False
    if find_untolerated_taint(node.spec.taints, pod.spec.tolerations) is not None:
        return False
    if pod.spec.node_name != info.name and node_resources_fit_status(pod, info) is not None:
        return False
    if node.spec.unschedulable:
        return False
    return not matches_inter_pod_anti_affinity(pod, info)


def fits_other_node(pod: Pod, infos: Sequence[NodeInfo]) -> bool:
    """PodFitsAnyOtherNode."""
    return any(node_fit(pod, info) for info in infos if info.name != pod.spec.node_name)


def fits_any_node(pod: Pod, infos: Sequence[NodeInfo]) -> bool:
    """PodFitsAnyNode."""
    return any(node_fit(pod, info) for info in infos)


def pre_eviction_ok(pod: Pod, args: EvictorDecl, infos: Sequence[NodeInfo]) -> bool:
    """DefaultEvictor.PreEvictionFilter: with nodeFit, the pod must fit another ready node."""
    return not args.node_fit or fits_other_node(pod, infos)
