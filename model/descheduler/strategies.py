"""The descheduler's strategies, over a snapshot of the cluster.

Upstream (kubernetes-sigs/descheduler `pkg/framework/plugins/`):

- `removepodsviolatingnodetaints/node_taint.go`: pods that do not tolerate a NoSchedule taint of
  their node (PreferNoSchedule too with `includePreferNoSchedule`; `excludedTaints` by key or
  key=value);
- `removepodsviolatingnodeaffinity/node_affinity.go` (requiredDuringSchedulingIgnoredDuringExecution):
  pods with required node affinity (or a node selector) their node no longer matches, that fit
  some ready node;
- `removeduplicates/removeduplicates.go`: on each node, pods whose owner, kind, name and images
  equal another pod's there are duplicates; an owner's duplicates above
  ⌈pods / target nodes⌉ per node are evicted, when at least two nodes could take the pods
  (taints and node selectors only — not resources: the reason a replacement may land back);
- `removepodsviolatingtopologyspreadconstraint/topologyspreadconstraint.go`: per namespace and
  distinct constraint (DoNotSchedule; ScheduleAnyway when enabled), domains over the nodes with
  the topology key; unbalanced domains (max − min > maxSkew) give up pods from the largest to the
  smallest (balanceDomains), a pod only if it fits a node of a domain below the average;
- `nodeutilization/lownodeutilization.go`: nodes whose requests are below every `thresholds`
  percentage (and schedulable) are underutilized, above any `targetThresholds` percentage
  overutilized; pods are evicted from overutilized nodes (most used first, lowest priority first)
  while the node stays above its targets and the underutilized nodes have room up to theirs.

Each strategy calls `evict(pod)` for its victims in order; `evict` answers "ok", "failed" or
"limit" (the per-node limit was reached). Upstream iterates Go maps (random order) in places;
here every order is by name — one of the orders upstream may take.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import attrs

from kubeprop.model.api.core import Taint
from kubeprop.model.api.objects import Node, Pod
from kubeprop.model.api.selectors import selector_matches
from kubeprop.model.descheduler.evictor import fits_any_node, fits_other_node
from kubeprop.model.scenario.schema_addons import (
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
    """What one strategy sees: the ready nodes (by name) with their pods, and the evictable pods."""

    infos: tuple[NodeInfo, ...]
    evictable: frozenset[str]

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
    affinity = pod.spec.affinity
    node_affinity = affinity.node_affinity if affinity else None
    required = node_affinity.required_during_scheduling_ignored_during_execution if node_affinity else None
    return bool(pod.spec.node_selector) or required is not None


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


def _constraints(pods: Sequence[Pod], allowed: Sequence[str]) -> list[tuple[str, int, object, Pod]]:
    out: list[tuple[str, int, object, Pod]] = []
    seen: set[tuple[str, int, str]] = set()
    for pod in pods:
        for c in pod.spec.topology_spread_constraints:
            if c.when_unsatisfiable not in allowed or c.label_selector is None:
                continue
            ident = (c.topology_key, c.max_skew, repr(c.label_selector))
            if ident not in seen:
                seen.add(ident)
                out.append((c.topology_key, c.max_skew, c.label_selector, pod))
    return out


def topology_spread(snapshot: Snapshot, args: TopologySpreadDecl, evict: Evict) -> None:
    """RemovePodsViolatingTopologySpreadConstraint (balanceDomains)."""
    all_pods = [p for info in snapshot.infos for p in info.pods]
    chosen: dict[str, Pod] = {}
    for namespace in sorted({p.metadata.namespace for p in all_pods}):
        in_ns = [p for p in all_pods if p.metadata.namespace == namespace and pod_key(p) in snapshot.evictable]
        for topology_key, max_skew, selector, _ in _constraints(in_ns, args.constraints):
            domains: dict[str, list[Pod]] = {i.node.metadata.labels[topology_key]: [] for i in snapshot.infos
                                             if topology_key in i.node.metadata.labels}
            for info in snapshot.infos:
                value = info.node.metadata.labels.get(topology_key)
                if value is None:
                    continue
                domains[value] += [p for p in info.pods if p.metadata.namespace == namespace
                                   and p.metadata.deletion_timestamp is None
                                   and selector_matches(selector, p.metadata.labels)]  # type: ignore[arg-type]
            if not domains or max(map(len, domains.values())) - min(map(len, domains.values())) <= max_skew:
                continue
            for pod in _balance(snapshot, domains, topology_key, max_skew):
                chosen.setdefault(pod_key(pod), pod)
    for key in sorted(chosen):
        evict(chosen[key])


def _balance(snapshot: Snapshot, domains: dict[str, list[Pod]], key: str, max_skew: int) -> list[Pod]:
    total = sum(map(len, domains.values()))
    ideal = total / len(domains)
    ordered = sorted(((value, sorted(pods, key=lambda p: (pod_key(p) in snapshot.evictable, pod_key(p))))
                      for value, pods in domains.items()), key=lambda d: (len(d[1]), d[0]))
    below = [i for i in snapshot.infos if len(domains.get(i.node.metadata.labels.get(key, ""), [])) < ideal]
    out: list[Pod] = []
    i, j = 0, len(ordered) - 1
    while i < j:
        if len(ordered[j][1]) <= ideal:
            j -= 1
        skew = len(ordered[j][1]) - len(ordered[i][1])
        if skew <= max_skew:
            i += 1
            continue
        move = int(min(math.ceil(len(ordered[j][1]) - ideal), math.ceil(ideal - len(ordered[i][1])),
                       math.ceil((skew - max_skew) / 2)))
        if move <= 0:
            i += 1
            continue
        pods = sorted(ordered[j][1], key=lambda p: fits_other_node(p, below))
        above = pods[len(pods) - move:]
        out += [p for p in above if fits_other_node(p, below)]
        ordered[j] = (ordered[j][0], pods[:len(pods) - move])
        ordered[i] = (ordered[i][0], ordered[i][1] + above)
    return out


_RESOURCE_NAMES = {"cpu": "cpu", "memory": "memory", "pods": "pods"}


def _usage(info: NodeInfo) -> dict[str, int]:
    used = {"cpu": info.requested.get("cpu", 0), "memory": info.requested.get("memory", 0)}
    used["pods"] = len([p for p in info.pods if p.status.phase not in ("Succeeded", "Failed")])
    return used


def _percent(used: dict[str, int], info: NodeInfo) -> dict[str, float]:
    out = {}
    for name in ("cpu", "memory", "pods"):
        capacity = info.allocatable.get(name, 0)
        out[name] = 100.0 * used[name] / capacity if capacity else 0.0
    return out


def low_node_utilization(snapshot: Snapshot, args: LowNodeUtilizationDecl, evict: Evict) -> None:
    """LowNodeUtilization (static thresholds, requests as usage)."""
    names = [n for n in args.thresholds if n in _RESOURCE_NAMES]
    usage = {i.name: _usage(i) for i in snapshot.infos}
    low = [i for i in snapshot.infos if not i.node.spec.unschedulable
           and all(_percent(usage[i.name], i)[n] < args.thresholds[n] for n in names)]
    high = [i for i in snapshot.infos if any(_percent(usage[i.name], i)[n] > args.target_thresholds.get(n, 100)
                                             for n in names)]
    if not low or len(low) <= args.number_of_nodes or len(low) == len(snapshot.infos) or not high:
        return
    room = {n: sum(i.allocatable.get(n, 0) * args.target_thresholds.get(n, 100) // 100 - usage[i.name][n]
                   for i in low) for n in names}
    high.sort(key=lambda i: (-sum(_percent(usage[i.name], i)[n] for n in names), i.name))
    for info in high:
        pods = sorted(snapshot.pods_on(info), key=lambda p: (p.spec.priority or 0, pod_key(p)))
        for pod in pods:
            over = any(_percent(usage[info.name], info)[n] > args.target_thresholds.get(n, 100) for n in names)
            if not over or any(room[n] <= 0 for n in names):
                break
            outcome = evict(pod)
            if outcome == "limit":
                break
            if outcome == "ok":
                requested = pod_requests(pod)
                for n in names:
                    taken = 1 if n == "pods" else requested.get(n, 0)
                    usage[info.name][n] -= taken
                    room[n] -= taken
