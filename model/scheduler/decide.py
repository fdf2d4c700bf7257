"""The kube-scheduler's decision for one pod, as a pure function of its cache snapshot.

`schedule_one(pod, node_infos, profile)` replays one scheduling cycle of the default profile
(`pkg/scheduler/schedule_one.go` schedulePod / findNodesThatFitPod / prioritizeNodes /
selectHost in `kubernetes/kubernetes`, master ~v1.35):

1. A pod with status.nominatedNodeName tries that node first; if it passes every filter it is
   chosen outright.
2. PreFilter (NodeAffinity may narrow the candidates), then the filters in the profile's order,
   the first failure recording the node's status (`scheduler_framework`).
3. No feasible node: the FitError message ("0/3 nodes are available: 1 Insufficient cpu, ...")
   and the PostFilter: DefaultPreemption either nominates a node (the message then has no
   preemption part) or appends "preemption: 0/3 nodes are available: ...".
4. Exactly one feasible node: chosen without scoring.
5. Otherwise each enabled score plugin's normalised score (0..100) times its weight, summed;
   upstream breaks ties among the top nodes at random, so `best` holds *every* top node.

Each filter can also be called alone (`filter_taint_toleration(pod, node_info, node_infos)`
-> reason or None), e.g. to cross-check a symbolic encoding. The model assumes the caller skips
pods being deleted (upstream skips them before the cycle) and binds/assumes the chosen node.
Nodes are sampled like upstream (numFeasibleNodesToFind) only from 100 nodes on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from kubeprop.model.api.pod import Pod
from kubeprop.model.api.policy import PodDisruptionBudget
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.scheduler.affinity import (
    NamespaceLabels,
    inter_pod_affinity_raw_scores,
    inter_pod_affinity_status,
    normalize_min_max,
)
from kubeprop.model.scheduler.filters import (
    FilterStatus,
    node_affinity_status,
    node_name_status,
    node_ports_status,
    node_resources_fit_status,
    node_unschedulable_status,
    taint_toleration_status,
)
from kubeprop.model.scheduler.framework import (
    DEFAULT_PROFILE,
    DEFAULT_SCORE_WEIGHTS,
    FILTER_ORDER,
    Diagnosis,
    FilterFn,
    SchedulerProfile,
    VolumeCheck,
    diagnose,
    filter_fns,
    run_filters_with_nominated,
    volume_filter,
)
from kubeprop.model.scheduler.message import fit_error_message
from kubeprop.model.scheduler.nodeinfo import NodeInfo, build_node_infos, pod_key, pod_priority
from kubeprop.model.scheduler.preemption import (
    PreemptionCandidate,
    pick_preemption,
    preempt,
    preemption_candidates,
)
from kubeprop.model.scheduler.scores import (
    balanced_allocation_scores,
    least_allocated_scores,
    node_affinity_scores,
    taint_toleration_scores,
)
from kubeprop.model.scheduler.spread import pod_topology_spread_status, spread_normalized_scores

__all__ = [
    "DEFAULT_SCORE_WEIGHTS",
    "FILTER_ORDER",
    "FilterStatus",
    "NodeInfo",
    "PreemptionCandidate",
    "ScheduleResult",
    "SchedulerProfile",
    "build_node_infos",
    "feasible_nodes",
    "filter_inter_pod_affinity",
    "filter_node_affinity",
    "filter_node_name",
    "filter_node_ports",
    "filter_node_resources_fit",
    "filter_node_unschedulable",
    "filter_pod_topology_spread",
    "filter_reason",
    "filter_taint_toleration",
    "node_scores",
    "pick_preemption",
    "pod_key",
    "pod_priority",
    "preemption_candidates",
    "schedule_one",
]


# -- single filters -------------------------------------------------------------------------


def _reason(status: FilterStatus | None) -> str | None:
    return None if status is None else status.message


def filter_node_unschedulable(pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo] = ()) -> str | None:
    """NodeUnschedulable: "node(s) were unschedulable" or None."""
    return _reason(node_unschedulable_status(pod, ni, nodes))


def filter_node_name(pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo] = ()) -> str | None:
    """NodeName: "node(s) didn't match the requested node name" or None."""
    return _reason(node_name_status(pod, ni, nodes))


def filter_taint_toleration(
    pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo] = (), taint_detail: bool = False
) -> str | None:
    """TaintToleration: "node(s) had untolerated taint(s)" or None."""
    return _reason(taint_toleration_status(pod, ni, nodes, taint_detail))


def filter_node_affinity(pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo] = ()) -> str | None:
    """NodeAffinity (nodeSelector + required terms): "node(s) didn't match Pod's node affinity/selector"."""
    return _reason(node_affinity_status(pod, ni, nodes))


def filter_node_ports(pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo] = ()) -> str | None:
    """NodePorts: "node(s) didn't have free ports for the requested pod ports" or None."""
    return _reason(node_ports_status(pod, ni, nodes))


def filter_node_resources_fit(pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo] = ()) -> str | None:
    """NodeResourcesFit: e.g. "Insufficient cpu, Insufficient memory" (all reasons) or None."""
    return _reason(node_resources_fit_status(pod, ni, nodes))


def filter_pod_topology_spread(pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo]) -> str | None:
    """PodTopologySpread (DoNotSchedule) over the snapshot `nodes` (which must contain `ni`)."""
    return _reason(pod_topology_spread_status(pod, ni, nodes))


def filter_inter_pod_affinity(pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo],
                              namespaces: NamespaceLabels | None = None) -> str | None:
    """InterPodAffinity (required terms, both directions) over the snapshot `nodes`, namespace
    selectors against `namespaces` (the scheduler's namespace view; None: implied by the pods)."""
    return _reason(inter_pod_affinity_status(pod, ni, nodes, namespaces))


def filter_reason(
    plugin: str, pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo], profile: SchedulerProfile = DEFAULT_PROFILE
) -> str | None:
    """Run the filter plugin named `plugin` alone (as configured by `profile`)."""
    table = dict(filter_fns(evolve(profile, disabled_filters=frozenset())))
    return _reason(table[plugin](pod, ni, nodes))


def feasible_nodes(
    pod: Pod, node_infos: Sequence[NodeInfo], profile: SchedulerProfile = DEFAULT_PROFILE
) -> tuple[str, ...]:
    """The nodes passing PreFilter and every enabled filter (no sampling, no nominated shortcut)."""
    nodes = _sorted(node_infos)
    return diagnose(pod, nodes, evolve(profile, percentage_of_nodes_to_score=100)).feasible


# -- scoring --------------------------------------------------------------------------------

_Scorer = Callable[[Pod, Sequence[NodeInfo], Sequence[NodeInfo], LabelSelector | None, NamespaceLabels | None],
                   dict[str, int]]

_SCORERS: tuple[tuple[str, _Scorer], ...] = (
    ("TaintToleration", lambda pod, f, _n, _s, _ns: taint_toleration_scores(pod, f)),
    ("NodeAffinity", lambda pod, f, _n, _s, _ns: node_affinity_scores(pod, f)),
    ("PodTopologySpread", lambda pod, f, n, s, _ns: spread_normalized_scores(pod, f, n, s)),
    ("InterPodAffinity", lambda pod, f, n, _s, ns: normalize_min_max(inter_pod_affinity_raw_scores(pod, f, n, ns))),
    ("NodeResourcesFit", lambda pod, f, _n, _s, _ns: least_allocated_scores(pod, f)),
    ("NodeResourcesBalancedAllocation", lambda pod, f, _n, _s, _ns: balanced_allocation_scores(pod, f)),
)
_SCORERS_V132: tuple[tuple[str, _Scorer], ...] = tuple(
    (name, (lambda pod, f, _n, _s, _ns: balanced_allocation_scores(pod, f, skip_best_effort=False))
     if name == "NodeResourcesBalancedAllocation" else scorer) for name, scorer in _SCORERS)
"""The scorers with v1.32's BalancedAllocation (best-effort pods scored too)."""


def node_scores(
    pod: Pod,
    feasible: Sequence[NodeInfo],
    nodes: Sequence[NodeInfo],
    profile: SchedulerProfile = DEFAULT_PROFILE,
    default_spread_selector: LabelSelector | None = None,
) -> dict[str, dict[str, int]]:
    """Per enabled score plugin, its weighted normalised score for each feasible node."""
    out: dict[str, dict[str, int]] = {}
    for name, scorer in _SCORERS if profile.balanced_skips_best_effort else _SCORERS_V132:
        weight = profile.score_weight(name)
        if weight:
            scores = scorer(pod, feasible, nodes, default_spread_selector, profile.namespace_labels)
            out[name] = {n: s * weight for n, s in scores.items()}
    return out


# -- the cycle ------------------------------------------------------------------------------


@attrs.frozen
class ScheduleResult:
    """The outcome of one scheduling cycle.

    `best` is every top-scoring feasible node (sorted; upstream picks one at random), empty when
    nothing fits; `scores` holds the summed weighted score per feasible node (empty when fewer
    than two nodes are feasible: no scoring then); `filter_reasons` the failing node's status
    message (its first failing filter); `message` the FitError message when nothing fits;
    `preemption` the node nominated by preemption, if any; `clear_nomination` whether the
    PostFilter asks to clear the pod's nomination (preemption found no candidate).
    """

    feasible: tuple[str, ...]
    scores: FrozenMap[str, int]
    best: tuple[str, ...]
    filter_reasons: FrozenMap[str, str]
    message: str = ""
    statuses: FrozenMap[str, FilterStatus] = EMPTY
    preemption: PreemptionCandidate | None = None
    clear_nomination: bool = False

    @property
    def scheduled(self) -> bool:
        """Whether some node was found."""
        return bool(self.best)


def _sorted(node_infos: Sequence[NodeInfo]) -> tuple[NodeInfo, ...]:
    return tuple(sorted(node_infos, key=lambda n: n.name))


def _reasons(statuses: FrozenMap[str, FilterStatus]) -> FrozenMap[str, str]:
    return FrozenMap({n: s.message for n, s in statuses.items()})


def _nominated_fit(pod: Pod, nodes: tuple[NodeInfo, ...], profile: SchedulerProfile,
                   volumes: VolumeCheck | None) -> str | None:
    """evaluateNominatedNode: the nominated node if it passes every filter (after a VolumeBinding
    PreFilter that let the pod through: PreFilter runs first upstream)."""
    name = pod.status.nominated_node_name
    if volumes is not None and volumes.prefilter is not None and profile.filter_enabled("VolumeBinding"):
        return None
    extra = volume_filter(volumes, profile)
    for ni in nodes:
        if name and ni.name == name and run_filters_with_nominated(pod, ni, nodes, profile, extra) is None:
            return name
    return None


def _postfilter(pod: Pod, nodes: tuple[NodeInfo, ...], profile: SchedulerProfile, d: Diagnosis,
                pdbs: Sequence[PodDisruptionBudget], volumes: FilterFn | None = None) -> ScheduleResult:
    """The unschedulable outcome: FitError message plus the PostFilter plugins' result."""
    reasons: list[str] = ["no new claims to deallocate"] if profile.dra_enabled else []
    candidate = None
    clear = False
    if profile.preemption and profile.filter_enabled("DefaultPreemption"):
        outcome = preempt(pod, nodes, profile, d, pdbs, volumes)
        candidate, clear = outcome.candidate, outcome.clear_nomination
        if outcome.message:
            reasons.append(outcome.message)
    post = "" if candidate else ", ".join(reasons)
    prefilter = d.prefilter.message if d.prefilter else ""
    message = fit_error_message(len(nodes), d.statuses, prefilter, post)
    return ScheduleResult((), EMPTY, (), _reasons(d.statuses), message, d.statuses, candidate, clear)


def schedule_one(
    pod: Pod,
    node_infos: Sequence[NodeInfo],
    profile: SchedulerProfile = DEFAULT_PROFILE,
    *,
    start_index: int = 0,
    default_spread_selector: LabelSelector | None = None,
    pdbs: Sequence[PodDisruptionBudget] = (),
    volumes: VolumeCheck | None = None,
) -> ScheduleResult:
    """One scheduling cycle for `pod` over the snapshot `node_infos`.

    `start_index` is the scheduler's nextStartNodeIndex (matters only from 100 nodes on);
    `default_spread_selector` is the selector upstream derives from the pod's Services and
    owning ReplicaSet/StatefulSet for the system-default topology spreading (None: none);
    `pdbs` the PodDisruptionBudgets in the scheduler's cache, which preemption prefers not to
    violate (`kubeprop.model.scheduler.preemption`); `volumes` what VolumeBinding's PreFilter
    found for the pod's claims (`kubeprop.model.scheduler.volumebinding.pod_volumes`; None: it
    has none).
    """
    nodes = _sorted(node_infos)
    nominated = _nominated_fit(pod, nodes, profile, volumes)
    if nominated:
        return ScheduleResult((nominated,), EMPTY, (nominated,), EMPTY)
    d = diagnose(pod, nodes, profile, start_index, volumes)
    if not d.feasible:
        return _postfilter(pod, nodes, profile, d, pdbs, volume_filter(volumes, profile))
    reasons = _reasons(d.statuses)
    if len(d.feasible) == 1:
        return ScheduleResult(d.feasible, EMPTY, d.feasible, reasons, "", d.statuses)
    feasible = [ni for ni in nodes if ni.name in d.feasible]
    per_plugin = node_scores(pod, feasible, nodes, profile, default_spread_selector)
    totals = {n: sum(scores[n] for scores in per_plugin.values()) for n in d.feasible}
    top = max(totals.values())
    best = tuple(n for n in d.feasible if totals[n] == top)
    return ScheduleResult(d.feasible, FrozenMap(totals), best, reasons, "", d.statuses)
