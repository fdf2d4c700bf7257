"""PodTopologySpread: the DoNotSchedule constraints (filter) and ScheduleAnyway ones (score).

Sources, under `pkg/scheduler/framework/plugins/podtopologyspread/` of `kubernetes/kubernetes`
(master, ~v1.35; NodeInclusionPolicy GA):

* `common.go` (filterTopologySpreadConstraints, matchNodeInclusionPolicies,
  countPodsMatchSelector): the selector is the constraint's labelSelector plus `key In (pod's
  value)` for each matchLabelKeys key the pod carries; minDomains defaults to 1,
  nodeAffinityPolicy to Honor (count only nodes matching the pod's nodeSelector / required
  node affinity), nodeTaintsPolicy to Ignore (Honor: skip nodes with an untolerated
  NoSchedule/NoExecute taint). Counting skips terminating pods and other namespaces; an empty
  selector counts nothing.
* `filtering.go`: PreFilter counts matching pods per (key, value) over every node carrying
  *all* the constraints' keys and passing the inclusion policies; Filter, per constraint: a node
  without the key fails "node(s) didn't match pod topology spread constraints (missing
  required label)" (unresolvable); otherwise `count[domain] + selfMatch - globalMin > maxSkew`
  fails "node(s) didn't match pod topology spread constraints". globalMin is 0 when fewer
  than minDomains domains exist; a key with no domain at all is skipped.
* `scoring.go`: over the feasible nodes, domains are counted per constraint (hostname counts
  the node itself); score = round(Σ cnt·log(size+2) + maxSkew-1); NormalizeScore:
  100·(max+min-s)/max in int64, 100 for all when max == 0, 0 for ignored nodes (those lacking
  a key when the pod's own constraints are used).
* `plugin.go` systemDefaultConstraints: a pod without constraints is scored with hostname
  (maxSkew 3) and zone (maxSkew 5) ScheduleAnyway constraints whose selector is built from
  the Services / ReplicaSets / StatefulSets owning the pod (helper.DefaultSelector). The model
  does not look those up: the caller passes that selector (`default_selector`); None or an
  empty selector means no default spreading, as upstream.

float64 is used where upstream uses it (math.Log, math.Round), so results agree bit for bit
except where Go's and the C library's `log` differ in the last place (never observed).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import attrs

from kubeprop.model.api.core import LABEL_HOSTNAME as HOSTNAME_KEY
from kubeprop.model.api.core import LABEL_TOPOLOGY_ZONE as ZONE_KEY
from kubeprop.model.api.pod import Pod, TopologySpreadConstraint
from kubeprop.model.api.selectors import LabelSelector, LabelSelectorRequirement, selector_matches
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scheduler.filters import FilterStatus, find_untolerated_taint, required_node_affinity_matches
from kubeprop.model.scheduler.nodeinfo import NodeInfo

__all__ = [
    "HOSTNAME_KEY",
    "REASON_SPREAD",
    "REASON_SPREAD_LABEL",
    "ZONE_KEY",
    "SpreadConstraint",
    "pod_topology_spread_status",
    "spread_constraints",
    "spread_normalized_scores",
]

REASON_SPREAD = "node(s) didn't match pod topology spread constraints"
REASON_SPREAD_LABEL = REASON_SPREAD + " (missing required label)"
_MAX_INT32 = 2**31 - 1

Pair = tuple[str, str]


@attrs.frozen
class SpreadConstraint:
    """A topologySpreadConstraint as the plugin uses it (defaults applied, selector merged)."""

    max_skew: int
    topology_key: str
    selector: LabelSelector | None
    min_domains: int = 1
    honor_affinity: bool = True
    honor_taints: bool = False

    def counts(self, pod: Pod, existing: Sequence[Pod]) -> int:
        """countPodsMatchSelector."""
        if self.selector is None or self.selector.is_empty():
            return 0
        ns = pod.metadata.namespace
        return sum(
            1
            for p in existing
            if p.metadata.deletion_timestamp is None
            and p.metadata.namespace == ns
            and selector_matches(self.selector, p.metadata.labels)
        )

    def includes(self, pod: Pod, ni: NodeInfo) -> bool:
        """matchNodeInclusionPolicies."""
        if self.honor_affinity and not required_node_affinity_matches(pod, ni):
            return False
        return not (self.honor_taints and find_untolerated_taint(ni.node.spec.taints, pod.spec.tolerations))


def _merged_selector(c: TopologySpreadConstraint, pod: Pod) -> LabelSelector | None:
    if c.label_selector is None or not c.match_label_keys:
        return c.label_selector
    extra = tuple(
        LabelSelectorRequirement(key, "In", (pod.metadata.labels[key],))
        for key in c.match_label_keys
        if key in pod.metadata.labels
    )
    return evolve(c.label_selector, match_expressions=(*c.label_selector.match_expressions, *extra))


def spread_constraints(pod: Pod, action: str) -> tuple[SpreadConstraint, ...]:
    """filterTopologySpreadConstraints: the pod's constraints with whenUnsatisfiable == action."""
    return tuple(
        SpreadConstraint(
            max_skew=c.max_skew,
            topology_key=c.topology_key,
            selector=_merged_selector(c, pod),
            min_domains=c.min_domains if c.min_domains is not None else 1,
            honor_affinity=c.node_affinity_policy != "Ignore",
            honor_taints=c.node_taints_policy == "Honor",
        )
        for c in pod.spec.topology_spread_constraints
        if c.when_unsatisfiable == action
    )


def _has_all_keys(ni: NodeInfo, constraints: Sequence[SpreadConstraint]) -> bool:
    return all(c.topology_key in ni.labels for c in constraints)


@attrs.frozen
class _FilterState:
    constraints: tuple[SpreadConstraint, ...]
    match_num: FrozenMap[Pair, int]


@lru_cache(maxsize=256)
def _filter_state(pod: Pod, nodes: tuple[NodeInfo, ...]) -> _FilterState:
    """PreFilter (calPreFilterState) over the whole snapshot."""
    constraints = spread_constraints(pod, "DoNotSchedule")
    counts: Counter[Pair] = Counter()
    for ni in nodes:
        if not constraints or not _has_all_keys(ni, constraints):
            continue
        for c in constraints:
            if c.includes(pod, ni):
                counts[(c.topology_key, ni.labels[c.topology_key])] += c.counts(pod, ni.pods)
    return _FilterState(constraints, FrozenMap(counts))


def _global_min(state: _FilterState, c: SpreadConstraint) -> int | None:
    """preFilterState.minMatchNum; None where upstream reports an internal error and skips."""
    nums = [n for (key, _), n in state.match_num.sorted_items() if key == c.topology_key]
    if not nums:
        return None
    return 0 if len(nums) < c.min_domains else min(nums)


def pod_topology_spread_status(pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo]) -> FilterStatus | None:
    """PodTopologySpread.Filter for node `ni`, with PreFilter state computed over `nodes`."""
    state = _filter_state(pod, tuple(nodes))
    for c in state.constraints:
        value = ni.labels.get(c.topology_key)
        if value is None:
            return FilterStatus("PodTopologySpread", (REASON_SPREAD_LABEL,), True)
        global_min = _global_min(state, c)
        if global_min is None:
            continue
        self_match = 1 if selector_matches(c.selector, pod.metadata.labels) else 0
        if state.match_num.get((c.topology_key, value), 0) + self_match - global_min > c.max_skew:
            return FilterStatus("PodTopologySpread", (REASON_SPREAD,), False)
    return None


# -- scoring --------------------------------------------------------------------------------


def _default_constraints(selector: LabelSelector | None) -> tuple[SpreadConstraint, ...]:
    if selector is None or selector.is_empty():
        return ()
    return (SpreadConstraint(3, HOSTNAME_KEY, selector), SpreadConstraint(5, ZONE_KEY, selector))


def _go_round(x: float) -> int:
    """Go math.Round: half away from zero."""
    t = math.trunc(x)
    return int(t + math.copysign(1, x)) if abs(x - t) >= 0.5 else int(t)


def _raw_scores(
    pod: Pod, cs: tuple[SpreadConstraint, ...], feasible: Sequence[NodeInfo], nodes: Sequence[NodeInfo], strict: bool
) -> tuple[dict[str, int], frozenset[str]]:
    ignored = frozenset(ni.name for ni in feasible if strict and not _has_all_keys(ni, cs))
    domains: list[dict[str, int]] = [{} for _ in cs]
    for ni in feasible:
        for i, c in enumerate(cs):
            if ni.name not in ignored and c.topology_key != HOSTNAME_KEY:
                domains[i].setdefault(ni.labels.get(c.topology_key, ""), 0)
    sizes = [
        len(feasible) - len(ignored) if c.topology_key == HOSTNAME_KEY else len(domains[i]) for i, c in enumerate(cs)
    ]
    weights = [math.log(float(size + 2)) for size in sizes]
    for ni in nodes:
        if strict and not _has_all_keys(ni, cs):
            continue
        for i, c in enumerate(cs):
            value = ni.labels.get(c.topology_key, "")
            if c.includes(pod, ni) and value in domains[i]:
                domains[i][value] += c.counts(pod, ni.pods)
    raw: dict[str, int] = {}
    for ni in feasible:
        if ni.name in ignored:
            raw[ni.name] = 0
            continue
        score = 0.0
        for i, c in enumerate(cs):
            if c.topology_key in ni.labels:
                key = c.topology_key
                cnt = c.counts(pod, ni.pods) if key == HOSTNAME_KEY else domains[i][ni.labels[key]]
                score += float(cnt) * weights[i] + float(c.max_skew - 1)
        raw[ni.name] = _go_round(score)
    return raw, ignored


def spread_normalized_scores(
    pod: Pod, feasible: Sequence[NodeInfo], nodes: Sequence[NodeInfo], default_selector: LabelSelector | None = None
) -> dict[str, int]:
    """PreScore + Score + NormalizeScore of PodTopologySpread for the feasible nodes (0..100)."""
    own = pod.spec.topology_spread_constraints
    cs = spread_constraints(pod, "ScheduleAnyway") if own else _default_constraints(default_selector)
    if not cs or not feasible:
        return {ni.name: 0 for ni in feasible}
    raw, ignored = _raw_scores(pod, cs, feasible, nodes, strict=bool(own))
    kept = [s for name, s in raw.items() if name not in ignored]
    lo, hi = (min(kept), max(kept)) if kept else (0, 0)
    out: dict[str, int] = {}
    for name, s in raw.items():
        if name in ignored:
            out[name] = 0
        elif hi == 0:
            out[name] = 100
        else:
            out[name] = 100 * (hi + lo - s) // hi
    return out
