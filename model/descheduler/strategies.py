"""The descheduler's strategies, over a snapshot of the cluster.

Upstream: kubernetes-sigs/descheduler `pkg/framework/plugins/`, read at v0.33.0 (the release
paired with Kubernetes v1.33; v0.34's topology-spread order is the parameter
`deschedulerTopologyPreferFitting`):

- `removepodsviolatingnodetaints/node_taint.go`: pods that do not tolerate a NoSchedule taint of
  their node (PreferNoSchedule too with `includePreferNoSchedule`; `excludedTaints` by key or
  key=value);
- `removepodsviolatingnodeaffinity/node_affinity.go` (requiredDuringSchedulingIgnoredDuringExecution):
  pods with required node affinity (`utils.PodHasNodeAffinity`; a node selector alone does not
  qualify) their node no longer matches (selector and terms), that fit some ready node;
- `removeduplicates/removeduplicates.go`: on each node, pods whose owner, kind, name and images
  equal another pod's there are duplicates; an owner's duplicates above
  ⌈pods / target nodes⌉ per node are evicted, when at least two nodes could take the pods
  (taints and node selectors only — not resources: the reason a replacement may land back);
- `removepodsviolatingtopologyspreadconstraint/topologyspreadconstraint.go`: over the pods the
  evictor's Filter passes, per namespace and distinct constraint (DoNotSchedule; ScheduleAnyway
  when enabled), domains over the nodes with the topology key that the inclusion policies admit;
  unbalanced domains (max − min > maxSkew) give up pods from the largest to the smallest
  (balanceDomains), a pod only if it fits a node of a domain below the average;
- `nodeutilization/lownodeutilization.go`, `nodeutilization.go`: schedulable nodes whose requests
  are at or below every `thresholds` percentage are underutilized, others above any
  `targetThresholds` percentage overutilized; pods are evicted from overutilized nodes (largest raw
  usage first; SortPodsBasedOnPriorityLowToHigh) while the node stays above its targets and the
  underutilized nodes have room up to theirs, a pod only if it tolerates some underutilized node.

Each strategy calls `evict(pod)` for its victims in order; `evict` answers "ok", "failed" or
"limit" (the per-node limit was reached). Upstream iterates Go maps (random order) and sorts with
sort.Slice (ties in any order) in places; here every order is by name — one of the orders upstream
may take.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction

import attrs

from kubeprop.model.api.core import Taint
from kubeprop.model.api.objects import Node, Pod
from kubeprop.model.api.pod import Toleration, TopologySpreadConstraint
from kubeprop.model.api.selectors import LabelSelector, NodeSelector, selector_matches
from kubeprop.model.descheduler.evictor import evictable, fits_any_node, fits_other_node, pre_eviction_ok
from kubeprop.model.frozen import EMPTY
from kubeprop.model.scenario.schema_addons import (
    EvictorDecl,
    LowNodeUtilizationDecl,
    NodeAffinityDecl,
    NodeTaintsDecl,
    RemoveDuplicatesDecl,
    TopologySpreadDecl,
)
from kubeprop.model.scheduler.filters import find_untolerated_taint, required_node_affinity_matches, tolerates
from kubeprop.model.scheduler.nodeinfo import NodeInfo, pod_key, pod_requests

Evict = Callable[[Pod], str]


@attrs.frozen
class Snapshot:
    """What one strategy sees: the ready nodes (by name) with their pods; the keys of the pods the
    DefaultEvictor's Filter lets through (`filtered`: the podFilter of TopologySpread and
    LowNodeUtilization) and of those its PreEvictionFilter lets through as well (`evictable`:
    the podFilter of the other strategies, and what any strategy may evict)."""

    infos: tuple[NodeInfo, ...]
    evictable: frozenset[str]
    filtered: frozenset[str]

    @classmethod
    def of(cls, infos: tuple[NodeInfo, ...], args: EvictorDecl) -> Snapshot:
        """The snapshot of these ready nodes under the DefaultEvictor's arguments."""
        filtered = [p for i in infos for p in i.pods if evictable(p, args)]
        allowed = [p for p in filtered if pre_eviction_ok(p, args, infos)]
        return cls(infos, frozenset(map(pod_key, allowed)), frozenset(map(pod_key, filtered)))

    @property
    def nodes(self) -> tuple[Node, ...]:
        """The ready nodes."""
        return tuple(i.node for i in self.infos)

    def pods_on(self, info: NodeInfo) -> list[Pod]:
        """The node's pods the evictor's filters let through, by name."""
        return [p for p in info.pods if pod_key(p) in self.evictable]


def _evict_all(pods: Sequence[Pod], evict: Evict) -> None:
    for pod in pods:
        if evict(pod) == "limit":
            return


# --- Deschedule ----------------------------------------------------------------------------------

def node_taints(snapshot: Snapshot, args: NodeTaintsDecl, evict: Evict) -> None:
    """RemovePodsViolatingNodeTaints."""
    effects = ("NoSchedule", "PreferNoSchedule") if args.include_prefer_no_schedule else ("NoSchedule",)

    def counted(taint: Taint) -> bool:
        excluded = taint.key in args.excluded_taints or (
            bool(taint.value) and f"{taint.key}={taint.value}" in args.excluded_taints)
        return taint.effect in effects and not excluded

    for info in snapshot.infos:
        taints = [t for t in info.node.spec.taints if counted(t)]
        victims = [p for p in snapshot.pods_on(info)
                   if any(not any(tolerates(tol, t) for tol in p.spec.tolerations) for t in taints)]
        _evict_all(victims, evict)


def _has_required_affinity(pod: Pod) -> bool:
    """`pkg/utils/pod.go` PodHasNodeAffinity(pod, RequiredDuringSchedulingIgnoredDuringExecution):
    spec.affinity.nodeAffinity.required is set. A node selector alone does not count: the
    strategy leaves such a pod alone (though, once chosen, a pod's node selector counts in
    `required_node_affinity_matches`, as in upstream's PodMatchNodeSelector)."""
    affinity = pod.spec.affinity
    node_affinity = affinity.node_affinity if affinity else None
    return node_affinity is not None and node_affinity.required_during_scheduling_ignored_during_execution is not None


def node_affinity(snapshot: Snapshot, args: NodeAffinityDecl, evict: Evict) -> None:
    """RemovePodsViolatingNodeAffinity (requiredDuringSchedulingIgnoredDuringExecution)."""
    if "requiredDuringSchedulingIgnoredDuringExecution" not in args.node_affinity_type:
        return
    for info in snapshot.infos:
        victims = [p for p in snapshot.pods_on(info) if _has_required_affinity(p)
                   and fits_any_node(p, snapshot.infos) and not required_node_affinity_matches(p, info)]
        _evict_all(victims, evict)


# --- Balance -------------------------------------------------------------------------------------

def _duplicate_key(pod: Pod) -> tuple[str, ...]:
    images = sorted(c.image for c in pod.spec.containers)
    return tuple(sorted(f"{pod.metadata.namespace}/{r.kind}/{r.name}/{image}"
                        for r in pod.metadata.owner_references for image in images))


def _target_nodes(pods: Sequence[Pod], snapshot: Snapshot) -> int:
    """getTargetNodes: the nodes a (distinct) duplicate could land on, by taints and selectors;
    a pod's nodes count only when there are at least two."""
    targets: set[str] = set()
    for pod in pods:
        matching = {i.name for i in snapshot.infos if _lands(pod, i)}
        if len(matching) > 1:
            targets |= matching
    return len(targets)


def _lands(pod: Pod, info: NodeInfo) -> bool:
    return find_untolerated_taint(info.node.spec.taints, pod.spec.tolerations) is None and (
        required_node_affinity_matches(pod, info))


def duplicates(snapshot: Snapshot, args: RemoveDuplicatesDecl, evict: Evict) -> None:
    """RemoveDuplicates."""
    owners: dict[tuple[str, ...], dict[str, list[Pod]]] = {}
    occurrences: dict[tuple[str, ...], int] = {}
    for info in snapshot.infos:
        first: dict[tuple[str, ...], Pod] = {}
        for pod in snapshot.pods_on(info):
            refs = pod.metadata.owner_references
            if not refs or any(r.kind in args.exclude_owner_kinds for r in refs):
                continue
            key = _duplicate_key(pod)
            occurrences[key] = occurrences.get(key, 0) + 1
            if key in first:
                owners.setdefault(key, {}).setdefault(info.name, []).append(pod)
            else:
                first[key] = pod
    for key in sorted(owners):
        by_node = owners[key]
        targets = _target_nodes([p for pods in by_node.values() for p in pods], snapshot)
        if targets < 2:
            continue
        upper = math.ceil(occurrences[key] / targets)
        for node in sorted(by_node):
            pods = by_node[node]
            if len(pods) + 1 > upper:
                for pod in pods[upper - 1:]:
                    if evict(pod) == "limit":
                        break


@attrs.frozen
class _Constraint:
    """A topology spread constraint as upstream keeps it (`topologySpreadConstraint`, built by
    newTopologySpreadConstraint): the selector with the owner's matchLabelKeys values merged in,
    the inclusion policies (nil: nodeAffinityPolicy Honor, nodeTaintsPolicy Ignore), and the
    owner pod's required node affinity and tolerations. Equal constraints are processed once."""

    max_skew: int
    topology_key: str
    selector: LabelSelector
    match_labels: tuple[tuple[str, str], ...]
    node_affinity_policy: str
    node_taints_policy: str
    node_selector: tuple[tuple[str, str], ...]
    required: NodeSelector | None
    tolerations: tuple[Toleration, ...]

    @classmethod
    def of(cls, c: TopologySpreadConstraint, selector: LabelSelector, pod: Pod) -> _Constraint:
        """newTopologySpreadConstraint."""
        labels = pod.metadata.labels
        affinity = pod.spec.affinity
        node_affinity = affinity.node_affinity if affinity else None
        return cls(c.max_skew, c.topology_key, selector,
                   tuple((k, labels[k]) for k in c.match_label_keys if k in labels),
                   c.node_affinity_policy or "Honor", c.node_taints_policy or "Ignore",
                   tuple(pod.spec.node_selector.sorted_items()),
                   node_affinity.required_during_scheduling_ignored_during_execution if node_affinity else None,
                   tuple(pod.spec.tolerations))

    def selects(self, pod: Pod) -> bool:
        """The (merged) selector matches the pod's labels."""
        labels = pod.metadata.labels
        return selector_matches(self.selector, labels) and all(labels.get(k) == v for k, v in self.match_labels)

    def includes(self, info: NodeInfo) -> bool:
        """matchNodeInclusionPolicies: with Honor, the owner's required node affinity (node
        selector and required terms) must match the node, and its tolerations must tolerate the
        node's NoSchedule/NoExecute taints."""
        if self.node_affinity_policy == "Honor":
            labels = info.labels
            if any(labels.get(k) != v for k, v in self.node_selector):
                return False
            if self.required is not None and not self.required.matches(info.name, labels):
                return False
        return self.node_taints_policy != "Honor" or (
            find_untolerated_taint(info.node.spec.taints, self.tolerations) is None)


def _constraints(pods: Sequence[Pod], allowed: Sequence[str]) -> list[_Constraint]:
    out: list[_Constraint] = []
    for pod in pods:
        for c in pod.spec.topology_spread_constraints:
            if c.when_unsatisfiable not in allowed or c.label_selector is None:
                continue  # a nil selector selects nothing: every domain is empty, hence balanced
            constraint = _Constraint.of(c, c.label_selector, pod)
            if constraint not in out:
                out.append(constraint)
    return out


def _domains(snapshot: Snapshot, tsc: _Constraint, pods: Sequence[Pod]) -> dict[str, list[Pod]]:
    """Balance's constraintTopologies: a domain for each value of the key among the nodes the
    inclusion policies admit, then the counted pods by their node's value (a pod on a node the
    policies exclude still counts, and may open a domain of its own, as upstream's map append)."""
    key = tsc.topology_key
    domains: dict[str, list[Pod]] = {i.labels[key]: [] for i in snapshot.infos
                                     if key in i.labels and tsc.includes(i)}
    labels = {i.name: i.labels for i in snapshot.infos}
    for pod in pods:
        value = labels.get(pod.spec.node_name, EMPTY).get(key)
        if pod.metadata.deletion_timestamp is None and tsc.selects(pod) and value is not None:
            domains.setdefault(value, []).append(pod)
    return domains


def topology_spread(snapshot: Snapshot, args: TopologySpreadDecl, evict: Evict, prefer_fitting: bool = False) -> None:
    """RemovePodsViolatingTopologySpreadConstraint (`Balance`, descheduler v0.33.0): the pods
    counted are those the evictor's Filter lets through (`podFilter`); the chosen ones are evicted
    if they pass the PreEvictionFilter too. `prefer_fitting` is v0.34's order (model parameter
    `deschedulerTopologyPreferFitting`, `_balance`)."""
    counted = [p for info in snapshot.infos for p in info.pods if pod_key(p) in snapshot.filtered]
    chosen: dict[str, Pod] = {}
    for namespace in sorted({p.metadata.namespace for p in counted}):
        in_ns = [p for p in counted if p.metadata.namespace == namespace]
        for tsc in _constraints(in_ns, args.constraints):
            domains = _domains(snapshot, tsc, in_ns)
            sizes = [len(pods) for pods in domains.values()]
            if not domains or max(sizes) - min(sizes) <= tsc.max_skew:
                continue
            for pod in _balance(snapshot, tsc, domains, prefer_fitting):
                chosen.setdefault(pod_key(pod), pod)
    for key in sorted(chosen):
        if key in snapshot.evictable:
            evict(chosen[key])


def _eviction_order(pod: Pod) -> tuple[bool, bool, int, str]:
    """sortDomains' order within a domain (pods leave from the back): pods with a node selector or
    node affinity first (hasSelectorOrAffinity), then by ascending priority, no priority lowest
    (comparePodsByPriority negated); upstream's sort.Slice leaves ties in any order, here by name."""
    affinity = pod.spec.affinity
    pinned = bool(pod.spec.node_selector) or (affinity is not None and affinity.node_affinity is not None)
    priority = pod.spec.priority
    return (not pinned, priority is not None, priority or 0, pod_key(pod))


def _balance(snapshot: Snapshot, tsc: _Constraint, domains: dict[str, list[Pod]], prefer_fitting: bool) -> list[Pod]:
    """balanceDomains. Upstream (v0.33) takes the last `move` pods of the largest domain in
    `_eviction_order` and evicts those that fit a node of a domain below the average
    (topologyBalanceNodeFit, default true). From v0.34 (descheduler PR #1719, commit fbf11df72)
    it first stable-sorts that domain's pods so that those fitting such a node come last, i.e. are
    taken first (`prefer_fitting`)."""
    ideal = sum(map(len, domains.values())) / len(domains)
    ordered = sorted(((value, sorted(pods, key=_eviction_order)) for value, pods in domains.items()),
                     key=lambda d: (len(d[1]), d[0]))
    key = tsc.topology_key
    sizes = {value: len(pods) for value, pods in ordered}
    below = [i for i in snapshot.infos if key in i.labels and tsc.includes(i) and sizes[i.labels[key]] < ideal]
    out: list[Pod] = []
    i, j = 0, len(ordered) - 1
    while i < j:
        if len(ordered[j][1]) <= ideal:
            j -= 1
        skew = len(ordered[j][1]) - len(ordered[i][1])
        if skew <= tsc.max_skew:
            i += 1
            continue
        move = int(min(math.ceil(len(ordered[j][1]) - ideal), math.ceil(ideal - len(ordered[i][1])),
                       math.ceil((skew - tsc.max_skew) / 2)))
        if move <= 0:
            i += 1
            continue
        pods = ordered[j][1]
        if prefer_fitting:
            pods = sorted(pods, key=lambda p: fits_other_node(p, below))
        above = pods[len(pods) - move:]
        out += [p for p in above if fits_other_node(p, below)]
        ordered[j] = (ordered[j][0], pods[:len(pods) - move])
        ordered[i] = (ordered[i][0], ordered[i][1] + above)
    return out


_BASIC = ("cpu", "memory", "pods")
"""The resources LowNodeUtilization measures (its `extendedResourceNames`: the thresholds' names
plus cpu, memory and pods; other resource names are not modelled)."""


def _usage(info: NodeInfo) -> dict[str, int]:
    """NodeUtilization of the node's non-terminal pods: cpu in millicores, memory in bytes, pods."""
    return {"cpu": info.requested.get("cpu", 0), "memory": info.requested.get("memory", 0), "pods": len(info.pods)}


def _percent(used: dict[str, int], info: NodeInfo) -> dict[str, float]:
    """ResourceUsageToResourceThreshold: used / allocatable * 100 (0 without allocatable)."""
    out = {}
    for name in _BASIC:
        capacity = info.allocatable.get(name, 0)
        out[name] = used[name] / capacity * 100 if capacity > 0 else 0.0
    return out


def _capped(info: NodeInfo, name: str, thresholds: Mapping[str, int]) -> int:
    """capNodeCapacityToThreshold: the allocatable amount up to the threshold percentage (in
    float64, truncated), the whole allocatable amount when no threshold names the resource."""
    capacity = info.allocatable.get(name, 0)
    return int(float(thresholds[name]) * 0.01 * float(capacity)) if name in thresholds else capacity


def _qos_rank(pod: Pod) -> int:
    """`pkg/utils/qos.go` GetPodQOS as a rank: 0 BestEffort, 1 Burstable, 2 Guaranteed."""
    requests: dict[str, Fraction] = {}
    limits: dict[str, Fraction] = {}
    guaranteed = True
    for container in (*pod.spec.containers, *pod.spec.init_containers):
        for name, q in container.resources.requests.sorted_items():
            if name in ("cpu", "memory") and q.sign() > 0:
                requests[name] = requests.get(name, Fraction(0)) + q.as_fraction()
        found = set()
        for name, q in container.resources.limits.sorted_items():
            if name in ("cpu", "memory") and q.sign() > 0:
                found.add(name)
                limits[name] = limits.get(name, Fraction(0)) + q.as_fraction()
        guaranteed = guaranteed and found >= {"cpu", "memory"}
    if not requests and not limits:
        return 0
    if guaranteed and len(requests) == len(limits) and all(limits.get(n) == v for n, v in requests.items()):
        return 2
    return 1


def _priority_low_to_high(pod: Pod) -> tuple[bool, int, int, str]:
    """`pkg/descheduler/pod/pods.go` SortPodsBasedOnPriorityLowToHigh: pods without a priority
    first, then by priority; at equal (or no) priority BestEffort, Burstable, Guaranteed.
    Upstream's sort.Slice leaves other ties in any order; here by name."""
    return (pod.spec.priority is not None, pod.spec.priority or 0, _qos_rank(pod), pod_key(pod))


def _tolerates_a_destination(pod: Pod, destinations: Sequence[NodeInfo]) -> bool:
    """`pkg/utils/pod.go` PodToleratesTaints: the pod tolerates every taint, whatever its effect,
    of at least one underutilized node (and has at least as many tolerations as it has taints)."""
    tolerations = pod.spec.tolerations
    return any(len(tolerations) >= len(taints) and all(any(tolerates(t, taint) for t in tolerations)
                                                      for taint in taints)
               for taints in (d.node.spec.taints for d in destinations))


def _classify(snapshot: Snapshot, args: LowNodeUtilizationDecl,
              usage: dict[str, dict[str, int]]) -> tuple[list[NodeInfo], list[NodeInfo]]:
    """classifier.Classify with static thresholds: a schedulable node at or below every
    `thresholds` percentage is underutilized (isNodeBelowThreshold), else a node above some
    `targetThresholds` percentage is overutilized (isNodeAboveThreshold)."""
    low: list[NodeInfo] = []
    high: list[NodeInfo] = []
    for info in snapshot.infos:
        percent = _percent(usage[info.name], info)
        if not info.node.spec.unschedulable and all(
                percent[n] <= t for n, t in args.thresholds.sorted_items() if n in _BASIC):
            low.append(info)
        elif any(percent[n] > t for n, t in args.target_thresholds.sorted_items() if n in _BASIC):
            high.append(info)
    return low, high


def low_node_utilization(snapshot: Snapshot, args: LowNodeUtilizationDecl, evict: Evict) -> None:
    """LowNodeUtilization (`lownodeutilization.go` Balance, `nodeutilization.go`
    evictPodsFromSourceNodes / evictPods; static thresholds, requests as usage)."""
    usage = {i.name: _usage(i) for i in snapshot.infos}
    low, high = _classify(snapshot, args, usage)
    if not low or len(low) <= args.number_of_nodes or len(low) == len(snapshot.infos) or not high:
        return
    targets = args.target_thresholds
    room = {n: sum(_capped(i, n, targets) - usage[i.name][n] for i in low) for n in _BASIC}
    high.sort(key=lambda i: (-sum(usage[i.name].values()), i.name))  # sortNodesByUsage: raw amounts
    for info in high:
        used = usage[info.name]

        def go_on(info: NodeInfo = info, used: dict[str, int] = used) -> bool:
            """continueEvictionCond: some resource above its capped target, room for every one."""
            return any(used[n] > _capped(info, n, targets) for n in _BASIC) and all(room[n] > 0 for n in _BASIC)

        pods = sorted((p for p in info.pods if pod_key(p) in snapshot.filtered), key=_priority_low_to_high)
        for pod in pods:
            if not go_on():
                break
            if not _tolerates_a_destination(pod, low) or pod_key(pod) not in snapshot.evictable:
                continue
            outcome = evict(pod)
            if outcome == "limit":
                break
            if outcome == "ok":
                requested = pod_requests(pod)
                for n in _BASIC:
                    taken = 1 if n == "pods" else requested.get(n, 0)
                    used[n] -= taken
                    room[n] -= taken
