"""The scheduling framework's filter phase: profile, plugin order, PreFilter, nominated pods.

Sources (repo `kubernetes/kubernetes`, master ~v1.35):

* `pkg/scheduler/apis/config/v1/default_plugins.go`: the default profile's filter order
  (NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit,
  [volume plugins], PodTopologySpread, InterPodAffinity) and score weights (TaintToleration 3,
  NodeAffinity 2, PodTopologySpread 2, InterPodAffinity 2, NodeResourcesFit 1,
  NodeResourcesBalancedAllocation 1, ImageLocality 1).
* `pkg/scheduler/framework/runtime/framework.go` RunFilterPlugins (stop at the first failing
  filter) and RunFilterPluginsWithNominatedPods / addGENominatedPods (a node must pass with the
  pods nominated to it of priority >= the pod's added, and again without them).
* `pkg/scheduler/schedule_one.go` findNodesThatFitPod: PreFilter (NodeAffinity may narrow the
  candidates; the others get "node(s) didn't satisfy plugin(s) [NodeAffinity]",
  unresolvable), numFeasibleNodesToFind, then Filter.

VolumeRestrictions and VolumeBinding run for pods with claims (`kubeprop.model.scheduler.volumerestrictions`,
`kubeprop.model.scheduler.volumebinding`: VolumeBinding's PreFilter after NodeAffinity's, their
Filters after NodeResourcesFit, VolumeRestrictions first: `volume_filter`); the other volume plugins
(NodeVolumeLimits, VolumeZone) and DynamicResources are not modelled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from typing import Protocol

import attrs

from kubeprop.model.api.pod import Pod
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scheduler.affinity import NamespaceLabels, inter_pod_affinity_status
from kubeprop.model.scheduler.filters import (
    FilterStatus,
    node_affinity_candidates,
    node_affinity_status,
    node_name_status,
    node_ports_status,
    node_resources_fit_status,
    node_unschedulable_status,
    taint_toleration_status,
)
from kubeprop.model.scheduler.nodeinfo import NodeInfo, pod_key, pod_priority
from kubeprop.model.scheduler.spread import pod_topology_spread_status
from kubeprop.model.scheduler.volumerestrictions import PLUGIN as VOLUME_RESTRICTIONS
from kubeprop.model.scheduler.volumerestrictions import Restrictions

__all__ = [
    "DEFAULT_PROFILE",
    "DEFAULT_SCORE_WEIGHTS",
    "FILTER_ORDER",
    "Diagnosis",
    "FilterFn",
    "SchedulerProfile",
    "diagnose",
    "filter_fns",
    "num_feasible_nodes_to_find",
    "replace_node",
    "run_filters",
    "run_filters_with_nominated",
    "volume_filter",
]

FilterFn = Callable[[Pod, NodeInfo, Sequence[NodeInfo]], FilterStatus | None]


class VolumeCheck(Protocol):
    """VolumeBinding's PreFilter state for one pod (`kubeprop.model.scheduler.volumebinding.PodVolumes`):
    the PreFilter's rejection message, or None and the Filter."""

    @property
    def prefilter(self) -> str | None: ...

    @property
    def read_write_once_pod(self) -> frozenset[str]: ...

    def status(self, pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo]) -> FilterStatus | None: ...

FILTER_ORDER: tuple[str, ...] = (
    "NodeUnschedulable",
    "NodeName",
    "TaintToleration",
    "NodeAffinity",
    "NodePorts",
    "NodeResourcesFit",
    "PodTopologySpread",
    "InterPodAffinity",
)

DEFAULT_SCORE_WEIGHTS: FrozenMap[str, int] = FrozenMap(
    {
        "TaintToleration": 3,
        "NodeAffinity": 2,
        "PodTopologySpread": 2,
        "InterPodAffinity": 2,
        "NodeResourcesFit": 1,
        "NodeResourcesBalancedAllocation": 1,
    }
)

REASON_CONFLICT = "pod affinity terms conflict"  # nodeaffinity errReasonConflict
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5


def _weights(value: FrozenMap[str, int] | dict[str, int]) -> FrozenMap[str, int]:
    return FrozenMap(value)


@attrs.frozen
class SchedulerProfile:
    """A scheduler profile: which plugins run, score weights, and version-dependent wording.

    `disabled_filters` / `disabled_scores` switch plugins off by name, as a KubeSchedulerProfile's
    `plugins.filter.disabled` / `plugins.score.disabled` do ("DefaultPreemption" in
    disabled_filters, or `preemption=False`, turns off the PostFilter). `taint_detail` selects
    the taint reason "node(s) had untolerated taint {k: v}" of v1.25 until kubernetes PR #134740
    (v1.35; v1.34 patch releases); `dra_enabled` adds
    the DynamicResources PostFilter's "no new claims to deallocate" (v1.34+ default clusters).
    `percentage_of_nodes_to_score` 0 means upstream's adaptive default;
    `balanced_skips_best_effort` is v1.33's NodeResourcesBalancedAllocation PreScore skipping
    pods without cpu/memory requests (kubernetes#129138; False: v1.32 and before);
    `sidecar_host_ports` makes NodePorts count the host ports of restartable init containers
    (kubernetes PR #132040, v1.34, back-ported to v1.33.6; False: v1.33.0 to v1.33.5 and before).
    `namespace_labels` is what InterPodAffinity's namespace lister holds (the scheduler's namespace
    informer view, `plugin.go` New: `nsLister`), which namespaceSelectors are evaluated against;
    None: not given, the namespaces implied by the pods (`affinity.implied_namespaces`).
    """

    disabled_filters: frozenset[str] = frozenset()
    disabled_scores: frozenset[str] = frozenset()
    score_weights: FrozenMap[str, int] = attrs.field(default=DEFAULT_SCORE_WEIGHTS, converter=_weights)
    preemption: bool = True
    taint_detail: bool = False
    dra_enabled: bool = False
    percentage_of_nodes_to_score: int = 0
    balanced_skips_best_effort: bool = True
    sidecar_host_ports: bool = True
    namespace_labels: NamespaceLabels | None = None

    def filter_enabled(self, name: str) -> bool:
        """Whether the named filter (or PreFilter/PostFilter) plugin runs."""
        return name not in self.disabled_filters

    def score_weight(self, name: str) -> int:
        """The weight of an enabled score plugin, 0 if disabled."""
        return 0 if name in self.disabled_scores else self.score_weights.get(name, 0)


DEFAULT_PROFILE = SchedulerProfile()


@lru_cache(maxsize=64)
def filter_fns(profile: SchedulerProfile) -> tuple[tuple[str, FilterFn], ...]:
    """The enabled filters in the default profile's order."""
    table: dict[str, FilterFn] = {
        "NodeUnschedulable": node_unschedulable_status,
        "NodeName": node_name_status,
        "TaintToleration": partial(taint_toleration_status, taint_detail=profile.taint_detail),
        "NodeAffinity": node_affinity_status,
        "NodePorts": partial(node_ports_status, sidecars=profile.sidecar_host_ports),
        "NodeResourcesFit": node_resources_fit_status,
        "PodTopologySpread": pod_topology_spread_status,
        "InterPodAffinity": partial(inter_pod_affinity_status, namespaces=profile.namespace_labels),
    }
    return tuple((name, table[name]) for name in FILTER_ORDER if profile.filter_enabled(name))


def replace_node(nodes: Sequence[NodeInfo], ni: NodeInfo) -> tuple[NodeInfo, ...]:
    """The snapshot with `ni` in place of the node of the same name."""
    return tuple(ni if n.name == ni.name else n for n in nodes)


VOLUME_FILTER_BEFORE = frozenset({"PodTopologySpread", "InterPodAffinity"})
"""The filters that come after VolumeBinding in the default profile (it follows NodeResourcesFit)."""


def volume_filter(volumes: VolumeCheck | None, profile: SchedulerProfile) -> FilterFn | None:
    """The pod's volume Filters as one filter, run in their place in the order: VolumeRestrictions
    (where the pod has ReadWriteOncePod claims), then VolumeBinding's (default_plugins.go order).
    None when neither runs: no claims, or VolumeBinding's PreFilter refused the pod (no Filter runs)."""
    if volumes is None or volumes.prefilter is not None:
        return None
    fns: list[FilterFn] = []
    if volumes.read_write_once_pod and profile.filter_enabled(VOLUME_RESTRICTIONS):
        fns.append(Restrictions(volumes.read_write_once_pod).status)
    if profile.filter_enabled("VolumeBinding"):
        fns.append(volumes.status)
    return fns[0] if len(fns) == 1 else partial(_first_failing, tuple(fns)) if fns else None


def _first_failing(fns: tuple[FilterFn, ...], pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo]) -> FilterStatus | None:
    for fn in fns:
        status = fn(pod, ni, nodes)
        if status is not None:
            return status
    return None


def run_filters(pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo], profile: SchedulerProfile,
                volumes: FilterFn | None = None) -> FilterStatus | None:
    """RunFilterPlugins: the first failing enabled filter's status, or None. `volumes` is the pod's
    VolumeBinding filter (`kubeprop.model.scheduler.volumebinding`), run in its place in the order."""
    for name, fn in filter_fns(profile):
        if volumes is not None and name in VOLUME_FILTER_BEFORE:
            status = volumes(pod, ni, nodes)
            volumes = None
            if status is not None:
                return status
        status = fn(pod, ni, nodes)
        if status is not None:
            return status
    return None if volumes is None else volumes(pod, ni, nodes)


def run_filters_with_nominated(
    pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo], profile: SchedulerProfile, volumes: FilterFn | None = None
) -> FilterStatus | None:
    """RunFilterPluginsWithNominatedPods: pass with the nominated pods of priority >= the pod's
    on the node (other than the pod itself), and also without them."""
    key, prio = pod_key(pod), pod_priority(pod)
    added = [p for p in ni.nominated if pod_priority(p) >= prio and pod_key(p) != key]
    if added:
        with_nominated = ni.with_pods(added=added)
        status = run_filters(pod, with_nominated, replace_node(nodes, with_nominated), profile, volumes)
        if status is not None:
            return status
    return run_filters(pod, ni, nodes, profile, volumes)


def num_feasible_nodes_to_find(num_all_nodes: int, percentage: int = 0) -> int:
    """schedule_one.go numFeasibleNodesToFind."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    if percentage == 0:
        percentage = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    return max(num_all_nodes * percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)


@attrs.frozen
class Diagnosis:
    """The outcome of the filter phase for one pod."""

    feasible: tuple[str, ...]
    statuses: FrozenMap[str, FilterStatus]
    prefilter: FilterStatus | None = None


def _prefilter(
    pod: Pod, nodes: Sequence[NodeInfo], profile: SchedulerProfile
) -> tuple[list[NodeInfo], Diagnosis | None, dict[str, FilterStatus]]:
    """NodeAffinity.PreFilter: (candidates, a Diagnosis if PreFilter rejects, absent-node statuses)."""
    if not profile.filter_enabled("NodeAffinity"):
        return list(nodes), None, {}
    names = node_affinity_candidates(pod)
    if names is None:
        return list(nodes), None, {}
    if not names:
        status = FilterStatus("NodeAffinity", (REASON_CONFLICT,), True)
        return [], Diagnosis((), FrozenMap({n.name: status for n in nodes}), status), {}
    absent = FilterStatus("NodeAffinity", ("node(s) didn't satisfy plugin(s) [NodeAffinity]",), True)
    return [n for n in nodes if n.name in names], None, {n.name: absent for n in nodes if n.name not in names}


def diagnose(pod: Pod, nodes: Sequence[NodeInfo], profile: SchedulerProfile, start_index: int = 0,
             volumes: VolumeCheck | None = None) -> Diagnosis:
    """findNodesThatFitPod without the nominated-node shortcut: PreFilter, then Filter over the
    candidates from `start_index` (nextStartNodeIndex) on, stopping after numFeasibleNodesToFind
    feasible nodes. Nodes are tried one after another (upstream: in parallel). `volumes` is what
    VolumeBinding's PreFilter found for the pod (None: the pod has no claims)."""
    candidates, failed, statuses = _prefilter(pod, nodes, profile)
    if failed is not None:
        return failed
    if volumes is not None and profile.filter_enabled("VolumeBinding") and volumes.prefilter is not None:
        rejected = FilterStatus("VolumeBinding", (volumes.prefilter,), True)  # UnschedulableAndUnresolvable
        return Diagnosis((), FrozenMap({n.name: rejected for n in nodes}), rejected)
    extra = volume_filter(volumes, profile)
    want = num_feasible_nodes_to_find(len(candidates), profile.percentage_of_nodes_to_score)
    feasible: list[str] = []
    for i in range(len(candidates)):
        if len(feasible) >= want:
            break
        ni = candidates[(start_index + i) % len(candidates)]
        status = run_filters_with_nominated(pod, ni, nodes, profile, extra)
        if status is None:
            feasible.append(ni.name)
        else:
            statuses[ni.name] = status
    return Diagnosis(tuple(sorted(feasible)), FrozenMap(statuses))
