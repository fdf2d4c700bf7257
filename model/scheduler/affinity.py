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

Namespace selectors (`plugin.go` mergeAffinityTermNamespacesIfNotEmpty and
GetNamespaceLabelsSnapshot, read through the plugin's namespace lister): the incoming pod's terms
are *merged* first — a non-empty namespaceSelector is replaced by the names of the namespaces
in the lister whose labels it matches (an empty one, "every namespace", is kept) — and then
matched against existing pods with no namespace labels (nil); an existing pod's term is matched
against the incoming pod with the labels of the incoming pod's namespace (none if the lister
lacks it). The lister is the scheduler's namespace informer view, `NamespaceLabels` (namespace
name → labels); where a caller gives none (None), every namespace a pod of the snapshot is in
stands for itself with the one label the API server gives each namespace,
`kubernetes.io/metadata.name` (`implied_namespaces`).

matchLabelKeys / mismatchLabelKeys are merged into the selector by the API server on pod
creation (`pkg/registry/core/pod/strategy.go` mutatePodAffinity; the model's:
`kubeprop.model.api.pod_affinity`), so the scheduler ignores them, as upstream.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import TypeAlias

import attrs

from kubeprop.model.api.pod import Pod, PodAffinity, PodAffinityTerm
from kubeprop.model.api.selectors import LabelSelector, selector_matches
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.scheduler.filters import FilterStatus
from kubeprop.model.scheduler.nodeinfo import NodeInfo

__all__ = [
    "HARD_POD_AFFINITY_WEIGHT",
    "REASON_AFFINITY",
    "REASON_ANTI_AFFINITY",
    "REASON_EXISTING_ANTI_AFFINITY",
    "AffinityTerm",
    "NamespaceLabels",
    "implied_namespaces",
    "inter_pod_affinity_raw_scores",
    "inter_pod_affinity_status",
    "namespace_labels",
    "normalize_min_max",
    "required_terms",
]

REASON_AFFINITY = "node(s) didn't match pod affinity rules"
REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
HARD_POD_AFFINITY_WEIGHT = 1  # InterPodAffinityArgs default
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

Pair = tuple[str, str]
NamespaceLabels: TypeAlias = FrozenMap[str, FrozenMap[str, str]]
"""The namespaces InterPodAffinity's namespace lister holds: labels by namespace name."""


def namespace_labels(namespace: str, namespaces: NamespaceLabels) -> Mapping[str, str]:
    """GetNamespaceLabelsSnapshot: the labels of `namespace` in the lister; none if it lacks it."""
    return namespaces.get(namespace, EMPTY)


def implied_namespaces(pods: Iterable[Pod]) -> NamespaceLabels:
    """The namespace view assumed where none is given: each namespace of `pods`, labelled only
    `kubernetes.io/metadata.name` (the label the API server gives every namespace)."""
    names = sorted({p.metadata.namespace for p in pods})
    return FrozenMap({n: FrozenMap({NAMESPACE_NAME_LABEL: n}) for n in names})


def _own_labels(pod: Pod, namespaces: NamespaceLabels | None) -> Mapping[str, str]:
    """The labels of the incoming pod's namespace in `namespaces` (None: the implied view's)."""
    if namespaces is None:
        return FrozenMap({NAMESPACE_NAME_LABEL: pod.metadata.namespace})
    return namespace_labels(pod.metadata.namespace, namespaces)


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

    def matches(self, pod: Pod, ns_labels: Mapping[str, str] = EMPTY) -> bool:
        """AffinityTerm.Matches(pod, nsLabels): the pod's namespace listed, or its labels
        `ns_labels` selected by the namespaceSelector; and the pod's labels selected. Upstream
        passes nil (no labels) for the incoming pod's merged terms and the queueing hints."""
        ns_ok = pod.metadata.namespace in self.namespaces or selector_matches(self.namespace_selector, ns_labels)
        return ns_ok and selector_matches(self.selector, pod.metadata.labels)

    def merged(self, namespaces: NamespaceLabels) -> AffinityTerm:
        """mergeAffinityTermNamespacesIfNotEmpty (an incoming pod's term): a non-empty
        namespaceSelector becomes the lister's namespaces it selects, added to `namespaces`, and
        then selects nothing (labels.Nothing); nil or empty ("every namespace") stays as it is."""
        chosen = self.namespace_selector
        if chosen is None or chosen.is_empty():
            return self
        found = frozenset(n for n, labels in namespaces.items() if selector_matches(chosen, labels))
        return evolve(self, namespaces=self.namespaces | found, namespace_selector=None)


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


def _merged(terms: tuple[AffinityTerm, ...], pod: Pod, nodes: Sequence[NodeInfo],
            namespaces: NamespaceLabels | None) -> tuple[AffinityTerm, ...]:
    """The incoming pod's terms merged against `namespaces` (None: the namespaces implied by the pod
    and the snapshot's pods, built only when a term has a namespaceSelector to merge)."""
    if not any(t.namespace_selector is not None and not t.namespace_selector.is_empty() for t in terms):
        return terms
    view = namespaces if namespaces is not None else implied_namespaces([pod, *(p for ni in nodes for p in ni.pods)])
    return tuple(t.merged(view) for t in terms)


@attrs.frozen
class _FilterState:
    """interpodaffinity preFilterState (the incoming pod's terms merged)."""

    affinity_terms: tuple[AffinityTerm, ...]
    anti_terms: tuple[AffinityTerm, ...]
    existing_anti: FrozenMap[Pair, int]
    affinity_counts: FrozenMap[Pair, int]
    anti_counts: FrozenMap[Pair, int]


def _count_pod(state: dict[str, Counter[Pair]], s: _FilterState, pod_ns: Mapping[str, str], pod: Pod,
               ni: NodeInfo, existing: Pod) -> None:
    """getExistingAntiAffinityCounts (the incoming pod's namespace labels `pod_ns`) and
    getIncomingAffinityAntiAffinityCounts (merged terms, no namespace labels) for one existing pod."""
    for term in _terms(existing, anti=True, preferred=False):
        pair = _pair(ni, term.topology_key)
        if pair and term.matches(pod, pod_ns):
            state["existing"][pair] += 1
    aff = s.affinity_terms
    if aff and all(t.matches(existing) for t in aff):
        for term in aff:
            pair = _pair(ni, term.topology_key)
            if pair:
                state["affinity"][pair] += 1
    for term in s.anti_terms:
        pair = _pair(ni, term.topology_key)
        if pair and term.matches(existing):
            state["anti"][pair] += 1


@lru_cache(maxsize=256)
def _filter_state(pod: Pod, nodes: tuple[NodeInfo, ...], namespaces: NamespaceLabels | None) -> _FilterState:
    """PreFilter over the whole snapshot."""
    terms = _FilterState(_merged(_terms(pod, anti=False, preferred=False), pod, nodes, namespaces),
                         _merged(_terms(pod, anti=True, preferred=False), pod, nodes, namespaces), EMPTY, EMPTY, EMPTY)
    pod_ns = _own_labels(pod, namespaces)
    counts: dict[str, Counter[Pair]] = {"existing": Counter(), "affinity": Counter(), "anti": Counter()}
    for ni in nodes:
        for existing in ni.pods:
            _count_pod(counts, terms, pod_ns, pod, ni, existing)
    return _FilterState(terms.affinity_terms, terms.anti_terms, FrozenMap(counts["existing"]),
                        FrozenMap(counts["affinity"]), FrozenMap(counts["anti"]))


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


def inter_pod_affinity_status(pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo],
                              namespaces: NamespaceLabels | None = None) -> FilterStatus | None:
    """InterPodAffinity.Filter for node `ni`, with PreFilter state computed over `nodes` and the
    scheduler's namespace view `namespaces` (None: `implied_namespaces`)."""
    s = _filter_state(pod, tuple(nodes), namespaces)
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


def _add_terms(score: Counter[Pair], terms: Sequence[AffinityTerm], target: Pod, ns_labels: Mapping[str, str],
               ni: NodeInfo, sign: int) -> None:
    for term in terms:
        pair = _pair(ni, term.topology_key)
        if pair and term.matches(target, ns_labels):
            score[pair] += sign * term.weight


@attrs.frozen
class _ScoreState:
    """interpodaffinity preScoreState: the incoming pod's preferred terms merged, and the labels
    of its namespace."""

    affinity: tuple[AffinityTerm, ...]
    anti: tuple[AffinityTerm, ...]
    pod_ns: Mapping[str, str]


def _existing_pod_score(score: Counter[Pair], s: _ScoreState, pod: Pod, ni: NodeInfo, existing: Pod) -> None:
    """processExistingPod."""
    if not ni.labels:
        return
    _add_terms(score, s.affinity, existing, EMPTY, ni, 1)
    _add_terms(score, s.anti, existing, EMPTY, ni, -1)
    hard = [evolve(t, weight=HARD_POD_AFFINITY_WEIGHT) for t in _terms(existing, anti=False, preferred=False)]
    _add_terms(score, hard, pod, s.pod_ns, ni, 1)
    _add_terms(score, _terms(existing, anti=False, preferred=True), pod, s.pod_ns, ni, 1)
    _add_terms(score, _terms(existing, anti=True, preferred=True), pod, s.pod_ns, ni, -1)


def inter_pod_affinity_raw_scores(
    pod: Pod, feasible: Sequence[NodeInfo], nodes: Sequence[NodeInfo], namespaces: NamespaceLabels | None = None
) -> dict[str, int]:
    """PreScore over the whole snapshot + Score for each feasible node (before normalisation);
    `namespaces` as for `inter_pod_affinity_status`."""
    s = _ScoreState(_merged(_terms(pod, anti=False, preferred=True), pod, nodes, namespaces),
                    _merged(_terms(pod, anti=True, preferred=True), pod, nodes, namespaces),
                    _own_labels(pod, namespaces))
    topology: Counter[Pair] = Counter()
    for ni in nodes:
        for existing in ni.pods:
            _existing_pod_score(topology, s, pod, ni, existing)
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
