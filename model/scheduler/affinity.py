"""InterPodAffinity: the required (filter) and preferred (score) inter-pod (anti-)affinity rules.

Sources, under `pkg/scheduler/framework/plugins/interpodaffinity/` of `kubernetes/kubernetes`
(master, ~v1.35), plus `pkg/scheduler/framework/types.go` (AffinityTerm.Matches,
getNamespacesFromPodAffinityTerm):

* A term selects pods whose namespace is in `namespaces` (the owning pod's namespace when both
  `namespaces` and `namespaceSelector` are unset) or matched by `namespaceSelector`, and whose
  labels match `labelSelector` (nil matches nothing, empty matches everything).
* `filtering.go` PreFilter counts, per topology pair (key, value of the node holding the pod):
  existing pods whose required anti-affinity terms match the incoming pod; existing pods that
  match *all* the incoming pod's required affinity terms; existing pods matching each incoming
  anti-affinity term. Filter, in this order: affinity ("node(s) didn't match pod affinity
  rules", unresolvable; a node lacking a topology key fails; if no pod anywhere matches and the
  pod matches its own terms, it passes), anti-affinity ("node(s) didn't match pod anti-affinity
  rules"), existing pods' anti-affinity ("node(s) didn't satisfy existing pods anti-affinity
  rules").
* `scoring.go`: per topology pair, + weight for each existing pod matching an incoming
  preferred affinity term, - weight for anti-affinity; + HardPodAffinityWeight (1) for each
  existing pod whose *required* affinity term matches the incoming pod; +/- weight for existing
  pods' preferred terms matching the incoming pod; nodes without labels contribute nothing.
  A node's raw score is the sum over the pairs its labels carry; NormalizeScore maps
  [min, max] linearly onto [0, 100] in float64 and truncates (all 0 when max == min).

Model assumption: namespace labels are not in the scheduler view, so a namespaceSelector is
evaluated against the one label every namespace carries, `kubernetes.io/metadata.name`.
matchLabelKeys / mismatchLabelKeys are merged into the selector by the API server on pod
creation (v1.31+), so the scheduler ignores them, as upstream.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import attrs

from kubeprop.model.api.pod import Pod, PodAffinity, PodAffinityTerm
from kubeprop.model.api.selectors import LabelSelector, selector_matches
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scheduler.filters import FilterStatus
from kubeprop.model.scheduler.nodeinfo import NodeInfo

__all__ = [
    "HARD_POD_AFFINITY_WEIGHT",
    "REASON_AFFINITY",
    "REASON_ANTI_AFFINITY",
    "REASON_EXISTING_ANTI_AFFINITY",
    "AffinityTerm",
    "inter_pod_affinity_raw_scores",
    "inter_pod_affinity_status",
    "normalize_min_max",
    "required_terms",
]

REASON_AFFINITY = "node(s) didn't match pod affinity rules"
REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
HARD_POD_AFFINITY_WEIGHT = 1  # InterPodAffinityArgs default
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

Pair = tuple[str, str]


@attrs.frozen
class AffinityTerm:
    """A pod (anti-)affinity term resolved against its owning pod (framework.AffinityTerm)."""

    namespaces: frozenset[str]
    selector: LabelSelector | None
    topology_key: str
    namespace_selector: LabelSelector | None
    weight: int = 0

    @classmethod
    def of(cls, owner: Pod, term: PodAffinityTerm, weight: int = 0) -> AffinityTerm:
        """newAffinityTerm: default the namespaces to the owner's."""
        namespaces = frozenset(term.namespaces)
        if not term.namespaces and term.namespace_selector is None:
            namespaces = frozenset({owner.metadata.namespace})
        return cls(namespaces, term.label_selector, term.topology_key, term.namespace_selector, weight)

    def matches(self, pod: Pod) -> bool:
        """AffinityTerm.Matches: namespace listed or selected, and labels selected."""
        ns = pod.metadata.namespace
        ns_ok = ns in self.namespaces or selector_matches(self.namespace_selector, {NAMESPACE_NAME_LABEL: ns})
        return ns_ok and selector_matches(self.selector, pod.metadata.labels)


def _terms(pod: Pod, anti: bool, preferred: bool) -> tuple[AffinityTerm, ...]:
    affinity = pod.spec.affinity
    if affinity is None:
        return ()
    spec: PodAffinity | None = affinity.pod_anti_affinity if anti else affinity.pod_affinity
    if spec is None:
        return ()
    if preferred:
        weighted = spec.preferred_during_scheduling_ignored_during_execution
        return tuple(AffinityTerm.of(pod, w.pod_affinity_term, w.weight) for w in weighted)
    return tuple(AffinityTerm.of(pod, t) for t in spec.required_during_scheduling_ignored_during_execution)


def required_terms(pod: Pod, anti: bool) -> tuple[AffinityTerm, ...]:
    """The pod's required affinity (or, with `anti`, anti-affinity) terms
    (`framework.GetAffinityTerms(pod, GetPodAffinityTerms(...))`, as the queueing hints read them)."""
    return _terms(pod, anti, preferred=False)


def _pair(ni: NodeInfo, key: str) -> Pair | None:
    value = ni.labels.get(key)
    return None if value is None else (key, value)


@attrs.frozen
class _FilterState:
    """interpodaffinity preFilterState."""

    affinity_terms: tuple[AffinityTerm, ...]
    anti_terms: tuple[AffinityTerm, ...]
    existing_anti: FrozenMap[Pair, int]
    affinity_counts: FrozenMap[Pair, int]
    anti_counts: FrozenMap[Pair, int]


def _count_pod(state: dict[str, Counter[Pair]], pod: Pod, ni: NodeInfo, existing: Pod) -> None:
    for term in _terms(existing, anti=True, preferred=False):
        pair = _pair(ni, term.topology_key)
        if pair and term.matches(pod):
            state["existing"][pair] += 1
    aff = _terms(pod, anti=False, preferred=False)
    if aff and all(t.matches(existing) for t in aff):
        for term in aff:
            pair = _pair(ni, term.topology_key)
            if pair:
                state["affinity"][pair] += 1
    for term in _terms(pod, anti=True, preferred=False):
        pair = _pair(ni, term.topology_key)
        if pair and term.matches(existing):
            state["anti"][pair] += 1


@lru_cache(maxsize=256)
def _filter_state(pod: Pod, nodes: tuple[NodeInfo, ...]) -> _FilterState:
    """PreFilter over the whole snapshot."""
    counts: dict[str, Counter[Pair]] = {"existing": Counter(), "affinity": Counter(), "anti": Counter()}
    for ni in nodes:
        for existing in ni.pods:
            _count_pod(counts, pod, ni, existing)
    return _FilterState(
        _terms(pod, anti=False, preferred=False),
        _terms(pod, anti=True, preferred=False),
        FrozenMap(counts["existing"]),
        FrozenMap(counts["affinity"]),
        FrozenMap(counts["anti"]),
    )


def _satisfies_affinity(pod: Pod, s: _FilterState, ni: NodeInfo) -> bool:
    pods_exist = True
    for term in s.affinity_terms:
        pair = _pair(ni, term.topology_key)
        if pair is None:
            return False
        if s.affinity_counts.get(pair, 0) <= 0:
            pods_exist = False
    if pods_exist:
        return True
    return not s.affinity_counts and all(t.matches(pod) for t in s.affinity_terms)


def inter_pod_affinity_status(pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo]) -> FilterStatus | None:
    """InterPodAffinity.Filter for node `ni`, with PreFilter state computed over `nodes`."""
    s = _filter_state(pod, tuple(nodes))
    if not _satisfies_affinity(pod, s, ni):
        return FilterStatus("InterPodAffinity", (REASON_AFFINITY,), True)
    for term in s.anti_terms:
        pair = _pair(ni, term.topology_key)
        if pair and s.anti_counts.get(pair, 0) > 0:
            return FilterStatus("InterPodAffinity", (REASON_ANTI_AFFINITY,), False)
    if any(s.existing_anti.get(pair, 0) > 0 for pair in ni.labels.sorted_items()):
        return FilterStatus("InterPodAffinity", (REASON_EXISTING_ANTI_AFFINITY,), False)
    return None


# -- scoring --------------------------------------------------------------------------------


def _add_terms(score: Counter[Pair], terms: Sequence[AffinityTerm], target: Pod, ni: NodeInfo, sign: int) -> None:
    for term in terms:
        pair = _pair(ni, term.topology_key)
        if pair and term.matches(target):
            score[pair] += sign * term.weight


def _existing_pod_score(score: Counter[Pair], pod: Pod, ni: NodeInfo, existing: Pod) -> None:
    """processExistingPod."""
    if not ni.labels:
        return
    _add_terms(score, _terms(pod, anti=False, preferred=True), existing, ni, 1)
    _add_terms(score, _terms(pod, anti=True, preferred=True), existing, ni, -1)
    hard = [evolve(t, weight=HARD_POD_AFFINITY_WEIGHT) for t in _terms(existing, anti=False, preferred=False)]
    _add_terms(score, hard, pod, ni, 1)
    _add_terms(score, _terms(existing, anti=False, preferred=True), pod, ni, 1)
    _add_terms(score, _terms(existing, anti=True, preferred=True), pod, ni, -1)


def inter_pod_affinity_raw_scores(
    pod: Pod, feasible: Sequence[NodeInfo], nodes: Sequence[NodeInfo]
) -> dict[str, int]:
    """PreScore over the whole snapshot + Score for each feasible node (before normalisation)."""
    topology: Counter[Pair] = Counter()
    for ni in nodes:
        for existing in ni.pods:
            _existing_pod_score(topology, pod, ni, existing)
    return {
        ni.name: sum(v for (key, value), v in sorted(topology.items()) if ni.labels.get(key) == value)
        for ni in feasible
    }


def normalize_min_max(raw: dict[str, int]) -> dict[str, int]:
    """InterPodAffinity.NormalizeScore: int64(100 * (s - min) / (max - min)) in float64."""
    if not raw:
        return {}
    lo, hi = min(raw.values()), max(raw.values())
    diff = hi - lo
    return {name: int(100.0 * (float(s - lo) / float(diff))) if diff > 0 else 0 for name, s in raw.items()}
