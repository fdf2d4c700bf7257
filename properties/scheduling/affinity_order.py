"""Required pod affinity in binding order: when the final placement is not enough.

Upstream judges a pod's required affinity terms once, when it is scheduled, over the pods bound
*then* (`pkg/scheduler/framework/plugins/interpodaffinity/filtering.go`, master ~v1.35):
PreFilter counts, per topology pair (term key, value of the node holding the pod), the existing
pods that match *all* the incoming pod's required affinity terms (`affinityCounts`, only pods on
nodes carrying the key: `topologyToMatchedTermCount.update`), and `satisfyPodAffinity` passes a
node that carries every term's key and either has a count above zero for every term's pair, or
"This pod may be the first pod in a series that have affinity to themselves. [...] if no other pod
in the cluster matches the namespace and selector of this pod, the pod matches its own terms, and
the node has all the requested topologies, then we allow the pod to pass the affinity check":
`len(state.affinityCounts) == 0 && podMatchesAllAffinityTerms(...)`.

Read over the final placement (every pod judged with all the others in place, `encode._affinity`),
that is exact when no *pending* pod matches the pod's terms (only bound pods count then, and they
are there in every order); otherwise it is wrong both ways:

* too strict: `a` (app=web, affinity to app=web over hostname) and `b` (app=web, no affinity) on two
  nodes with room for one pod each. The scheduler binds `a` first (no web pod anywhere: the first
  of its series) and `b` on the other node; over the final placement `a` has `b` in the cluster but
  not beside it (tests/properties/scheduling/test_scheduling.py);
* too loose: four replicas with affinity to themselves over hostname, two on each of two nodes:
  each has one beside it, but the first bound goes anywhere and every later one must join a node
  already holding one, so all four end on one node (or stay Pending); and two pods each needing the
  other (app=a wanting app=b and app=b wanting app=a) sit together over the final placement, while
  neither can be bound first.

Then the pod, and the pending pods matching all its terms, get positions in the binding order
(`spread_order.declare_order`, shared with topology spread), and the filter is asserted over the
pods bound before it: for each term and each domain d of its key the pod may go to,
`placed in d => (a bound matching pod in d) or (a matching pending pod in d bound before it) or
first`, with `first` (declared `first<i>`) true only if the pod matches its own terms, no bound
matching pod sits on a node carrying one of the terms' keys, and no matching pending pod is bound
before it on such a node.

Required anti-affinity needs no order: for a pod p whose term t (key k) matches a pod q, p's own
check (`satisfyPodAntiAffinity`, over the pods bound before p) rejects p in q's k-domain when q
came first, and q's check of existing pods' anti-affinity (`satisfyExistingPodsAntiAffinity`,
`existingAntiAffinityCounts` from p's terms matching q) rejects q in p's k-domain when p came
first; both only when both nodes carry k. Either way the pair is forbidden exactly when both share
a k-domain, so the final placement decides it (`encode._anti_term`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kubeprop.model.api.pod import Pod
from kubeprop.model.scheduler.affinity import AffinityTerm
from kubeprop.properties.scheduling.spread_order import binds_before, topology_domains

if TYPE_CHECKING:
    from kubeprop.properties.scheduling.encode import Encoding

__all__ = ["matching", "ordered_affinity", "ordered_pods"]


def matching(pending: Sequence[Pod], i: int, terms: Sequence[AffinityTerm]) -> list[int]:
    """The pending pods other than i matching all of i's required affinity terms."""
    return [q for q, other in enumerate(pending) if q != i and all(t.matches(other) for t in terms)]


def ordered_pods(enc: Encoding, required: Sequence[tuple[AffinityTerm, ...]]) -> set[int]:
    """The pending pods whose affinity filters depend on the binding order: each pod with required
    affinity terms (`required[i]`) that another pending pod matches, and those pods. Empty: the
    final placement is exact for every affinity term."""
    pending = enc.problem.pending
    out: set[int] = set()
    for i, terms in enumerate(required):
        if terms:
            enc.spend(len(pending))
            others = matching(pending, i, terms)
            if others:
                out.update((i, *others))
    return out


def _any(items: Sequence[str]) -> str:
    kept = [x for x in items if x != "false"]
    if not kept:
        return "false"
    return kept[0] if len(kept) == 1 else f"(or {' '.join(kept)})"


def _within(enc: Encoding, q: int, nodes: Sequence[int]) -> str:
    return _any([enc.var(q, j) for j in nodes if j in enc.cand_sets[q]])


def _and(a: str, b: str) -> str:
    if "false" in (a, b):
        return "false"
    return b if a == "true" else a if b == "true" else f"(and {a} {b})"


def ordered_affinity(enc: Encoding, i: int, terms: tuple[AffinityTerm, ...], others: Sequence[int],
                     lit: str, shape: Sequence[object]) -> None:
    """Emit pod i's required affinity terms in binding order (module docstring), under the tracking
    literal `lit`; `others` are the pending pods matching all the terms (non-empty)."""
    pod = enc.problem.pending[i]
    keys = {t.topology_key for t in terms}
    keyed = [j for j, ni in enumerate(enc.problem.nodes) if keys & set(ni.labels)]
    first_before = {q: binds_before(q, i, shape) for q in others}
    before = {q: b for q, b in first_before.items() if b is not None}
    bound_keyed = any(all(t.matches(p) for t in terms) for j in keyed for p in enc.problem.nodes[j].pods)
    first = "false"
    if not bound_keyed and all(t.matches(pod) for t in terms):
        earlier = _any([_and(_within(enc, q, keyed), b) for q, b in sorted(before.items())])
        first = f"first{i}"
        enc.lines.append(f"(declare-const {first} Bool)")
        enc.lines.append(f"(assert (= {first} (not {earlier})))")
    for term in terms:
        for nodes in topology_domains(enc, term.topology_key).values():
            enc.spend(len(before) + 1)
            mine = _within(enc, i, nodes)
            bound_here = any(all(t.matches(p) for t in terms) for j in nodes for p in enc.problem.nodes[j].pods)
            if mine == "false" or bound_here:
                continue
            theirs = _any([_and(_within(enc, q, nodes), b) for q, b in sorted(before.items())] + [first])
            enc.lines.append(f"(assert (=> (and {lit} {mine}) {theirs}))")
