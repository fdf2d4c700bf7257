"""The node-local kube-scheduler filters: NodeUnschedulable, NodeName, TaintToleration,
NodeAffinity, NodePorts and NodeResourcesFit.

Each filter is a pure function `(pod, node_info, node_infos) -> FilterStatus | None` (None =
pass); `node_infos` (the whole snapshot) is unused here but keeps every filter's signature the
same as the cluster-wide ones in `scheduler_affinity` / `scheduler_spread`. A `FilterStatus`
carries upstream's reason strings (the words in the FitError message) and whether the failure
is UnschedulableAndUnresolvable (preemption cannot help). Sources, under
`pkg/scheduler/framework/plugins/` of `kubernetes/kubernetes`, read at master (~v1.35); where v1.33 differs, a
named parameter (docs/release.md gives each default and why):

* `nodeunschedulable/node_unschedulable.go`: a cordoned node passes only pods tolerating
  `node.kubernetes.io/unschedulable:NoSchedule`; "node(s) were unschedulable", unresolvable.
* `nodename/node_name.go`: spec.nodeName empty or equal; "node(s) didn't match the requested
  node name", unresolvable.
* `tainttoleration/taint_toleration.go` + `staging/src/k8s.io/api/core/v1/toleration.go`
  (ToleratesTaint) + `pkg/apis/core/v1/helper` (FindMatchingUntoleratedTaint): the first
  untolerated NoSchedule/NoExecute taint fails the node, unresolvable. The reason is "node(s)
  had untolerated taint(s)" since kubernetes PR #134740 (v1.35, cherry-picked into v1.34 patch
  releases as #135023); from v1.25 (PR #109119) the releases before printed "node(s) had
  untolerated taint {key: value}" (`taint_detail=True`, parameter `schedulerTaintReasonDetail`;
  docs/release.md).
* `nodeaffinity/node_affinity.go` (+ `component-helpers/.../nodeaffinity.go`
  GetRequiredNodeAffinity): nodeSelector AND required terms; "node(s) didn't match Pod's node
  affinity/selector", unresolvable. PreFilter narrows the candidates to the names in
  `matchFields metadata.name In [...]` when every term has one (DaemonSet pods).
* `nodeports/node_ports.go` + `framework/types.go` HostPortInfo.CheckConflict: "node(s) didn't
  have free ports for the requested pod ports", resolvable. The ports a pod wants (PreFilter's
  getContainerPorts) and those a node's pods hold (NodeInfo.updateUsedPorts) are those of
  `spec.containers` only in v1.33.0 to v1.33.5 and before; from kubernetes PR #132040 (v1.34;
  back-ported to v1.33.6 as #133390) both read `pkg/scheduler/util/utils.go` GetHostPorts:
  the containers plus the restartable (sidecar) init containers. A regular init container's
  host port counts in no release (`sidecars`, parameter `schedulerSidecarHostPorts`;
  docs/release.md).
* `noderesources/fit.go` (fitsRequest): "Too many pods", "Insufficient cpu", "Insufficient
  memory", "Insufficient ephemeral-storage", "Insufficient <scalar>", all reasons kept;
  unresolvable iff some request exceeds the node's whole allocatable. Requests only, no
  non-zero defaults.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from kubeprop.model.api.core import TAINT_NODE_UNSCHEDULABLE, Taint
from kubeprop.model.api.pod import Pod, Toleration
from kubeprop.model.scheduler.nodeinfo import CPU, EPHEMERAL, MEMORY, PODS, NodeInfo, pod_requests

__all__ = [
    "REASON_NODE_AFFINITY",
    "REASON_NODE_NAME",
    "REASON_NODE_PORTS",
    "REASON_TAINT",
    "REASON_UNSCHEDULABLE",
    "FilterStatus",
    "find_untolerated_taint",
    "host_ports",
    "node_affinity_candidates",
    "node_affinity_status",
    "node_name_status",
    "node_ports_status",
    "node_resources_fit_status",
    "node_unschedulable_status",
    "required_node_affinity_matches",
    "taint_toleration_status",
    "tolerates",
]

REASON_UNSCHEDULABLE = "node(s) were unschedulable"
REASON_NODE_NAME = "node(s) didn't match the requested node name"
REASON_TAINT = "node(s) had untolerated taint(s)"
REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports"
_FILTER_EFFECTS = frozenset({"NoSchedule", "NoExecute"})


@attrs.frozen
class FilterStatus:
    """A failed filter: plugin name, upstream reason strings, and whether it is unresolvable."""

    plugin: str
    reasons: tuple[str, ...]
    unresolvable: bool

    @property
    def message(self) -> str:
        """Status.Message(): the reasons joined by ", "."""
        return ", ".join(self.reasons)


def _fail(plugin: str, reason: str, unresolvable: bool) -> FilterStatus:
    return FilterStatus(plugin, (reason,), unresolvable)


# -- tolerations ----------------------------------------------------------------------------


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    """Toleration.ToleratesTaint (core/v1/toleration.go; `Toleration.tolerates`)."""
    return toleration.tolerates(taint)


def find_untolerated_taint(taints: Sequence[Taint], tolerations: Sequence[Toleration]) -> Taint | None:
    """FindMatchingUntoleratedTaint with DoNotScheduleTaintsFilterFunc: the first NoSchedule or
    NoExecute taint (in node order) that no toleration tolerates."""
    for taint in taints:
        if taint.effect in _FILTER_EFFECTS and not any(tolerates(t, taint) for t in tolerations):
            return taint
    return None


# -- node-local filters ---------------------------------------------------------------------


def node_unschedulable_status(pod: Pod, ni: NodeInfo, _nodes: Sequence[NodeInfo] = ()) -> FilterStatus | None:
    """NodeUnschedulable.Filter."""
    if not ni.node.spec.unschedulable:
        return None
    taint = Taint(key=TAINT_NODE_UNSCHEDULABLE, effect="NoSchedule")
    if any(tolerates(t, taint) for t in pod.spec.tolerations):
        return None
    return _fail("NodeUnschedulable", REASON_UNSCHEDULABLE, True)


def node_name_status(pod: Pod, ni: NodeInfo, _nodes: Sequence[NodeInfo] = ()) -> FilterStatus | None:
    """NodeName.Filter."""
    if not pod.spec.node_name or pod.spec.node_name == ni.name:
        return None
    return _fail("NodeName", REASON_NODE_NAME, True)


def taint_toleration_status(
    pod: Pod, ni: NodeInfo, _nodes: Sequence[NodeInfo] = (), taint_detail: bool = False
) -> FilterStatus | None:
    """TaintToleration.Filter; `taint_detail` selects the wording with the taint (v1.25 until #134740)."""
    taint = find_untolerated_taint(ni.node.spec.taints, pod.spec.tolerations)
    if taint is None:
        return None
    reason = f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}" if taint_detail else REASON_TAINT
    return _fail("TaintToleration", reason, True)


def required_node_affinity_matches(pod: Pod, ni: NodeInfo) -> bool:
    """GetRequiredNodeAffinity(pod).Match(node): nodeSelector labels AND required terms."""
    labels = ni.labels
    for key, value in pod.spec.node_selector.sorted_items():
        if labels.get(key) != value:
            return False
    affinity = pod.spec.affinity
    node_affinity = affinity.node_affinity if affinity else None
    required = node_affinity.required_during_scheduling_ignored_during_execution if node_affinity else None
    return required is None or required.matches(ni.name, labels)


def node_affinity_status(pod: Pod, ni: NodeInfo, _nodes: Sequence[NodeInfo] = ()) -> FilterStatus | None:
    """NodeAffinity.Filter."""
    if required_node_affinity_matches(pod, ni):
        return None
    return _fail("NodeAffinity", REASON_NODE_AFFINITY, True)


def node_affinity_candidates(pod: Pod) -> frozenset[str] | None:
    """NodeAffinity.PreFilter's PreFilterResult: the node names the pod can only go to, or None
    for all nodes. Every required term must name nodes with `metadata.name In`; a term's
    requirements are intersected, the terms united (an empty result: no node fits)."""
    affinity = pod.spec.affinity
    node_affinity = affinity.node_affinity if affinity else None
    required = node_affinity.required_during_scheduling_ignored_during_execution if node_affinity else None
    if required is None:
        return None
    names: set[str] = set()
    for term in required.node_selector_terms:
        term_names: set[str] | None = None
        for req in term.match_fields:
            if req.key == "metadata.name" and req.operator == "In":
                values = set(req.values)
                term_names = values if term_names is None else term_names & values
        if term_names is None:
            return None
        names |= term_names
    return frozenset(names)


def host_ports(pod: Pod, sidecars: bool = True) -> list[tuple[str, str, int]]:
    """(hostIP, protocol, hostPort) of the pod's container ports with a host port (defaults
    0.0.0.0/TCP): GetHostPorts — the restartable init containers' first, then the containers' —
    with `sidecars`, else getContainerPorts / updateUsedPorts of v1.33.0 (the containers only).
    Regular init containers are never looked at: they have finished before the pod runs."""
    chosen = [c for c in pod.spec.init_containers if c.restart_policy == "Always"] if sidecars else []
    out = []
    for c in (*chosen, *pod.spec.containers):
        for p in c.ports:
            if p.host_port:
                out.append((p.host_ip or "0.0.0.0", p.protocol or "TCP", p.host_port))
    return out


def _port_conflict(want: tuple[str, str, int], used: list[tuple[str, str, int]]) -> bool:
    ip, proto, port = want
    same = [u for u in used if u[1] == proto and u[2] == port]
    if ip == "0.0.0.0":
        return bool(same)
    return any(u[0] in (ip, "0.0.0.0") for u in same)


def node_ports_status(
    pod: Pod, ni: NodeInfo, _nodes: Sequence[NodeInfo] = (), sidecars: bool = True
) -> FilterStatus | None:
    """NodePorts.Filter: a wanted host port already used on the node (HostPortInfo.CheckConflict);
    `sidecars`: the restartable init containers' ports count on both sides (v1.33.6+, v1.34+)."""
    wanted = host_ports(pod, sidecars)
    if not wanted:
        return None
    used = [hp for p in ni.pods for hp in host_ports(p, sidecars)]
    if any(_port_conflict(w, used) for w in wanted):
        return _fail("NodePorts", REASON_NODE_PORTS, False)
    return None


def _insufficient(name: str, want: int, ni: NodeInfo) -> tuple[str, bool] | None:
    alloc = ni.allocatable.get(name, 0)
    if want > alloc - ni.requested.get(name, 0):
        return (f"Insufficient {name}", want > alloc)
    return None


def node_resources_fit_status(pod: Pod, ni: NodeInfo, _nodes: Sequence[NodeInfo] = ()) -> FilterStatus | None:
    """NodeResourcesFit.Filter (fitsRequest): pods count, cpu, memory, ephemeral-storage, scalars.

    Scalar resources are checked in name order (upstream: map order; the reasons are sorted in
    the FitError message anyway).
    """
    found: list[tuple[str, bool]] = []
    if len(ni.pods) + 1 > ni.allocatable.get(PODS, 0):
        found.append(("Too many pods", False))
    request = pod_requests(pod)
    for name in (CPU, MEMORY, EPHEMERAL):
        want = request.get(name, 0)
        miss = _insufficient(name, want, ni) if want > 0 else None
        if miss:
            found.append(miss)
    for name, want in request.sorted_items():
        if name in (CPU, MEMORY, EPHEMERAL) or want == 0:
            continue
        miss = _insufficient(name, want, ni)
        if miss:
            found.append(miss)
    if not found:
        return None
    return FilterStatus("NodeResourcesFit", tuple(r for r, _ in found), any(u for _, u in found))
