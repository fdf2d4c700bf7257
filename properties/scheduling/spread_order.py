"""Topology spread in binding order: when the final counts are not enough.

Upstream judges a DoNotSchedule constraint once, when its pod is scheduled, over the pods bound
*then* (`pkg/scheduler/framework/plugins/podtopologyspread/filtering.go` Filter: `matchNum +
selfMatchNum - minMatchNum > maxSkew`, the counts from PreFilter over the current snapshot). "Can
every pending pod be placed" therefore means "in some binding order, each pod passes its filter
over the pods placed before it". Reading the constraint over the *final* counts (every pod judged
with all the others in place, `encode._spread`) is that question exactly when `final_counts_exact`
holds; otherwise it is wrong both ways:

* too strict: p0 (hostname spread, any node) binds to n0 first, then p2 (the same constraint, but a
  nodeSelector that only n0 passes, so its only domain is n0: nodeAffinityPolicy Honor) beside it.
  Every filter passed, yet over the final counts p0's n0 holds 2 against n1's 0 (the Hypothesis
  example in tests/properties/scheduling/test_scheduling.py);
* too loose: replicas spread over zone *and* hostname (maxSkew 1), zone a = {n1, n2, n3}, zone b =
  {n4}: n1, n2, n3 one each and n4 two passes both skews over the final counts, but the second pod
  on n4 needs every node holding one already (hostname), so zone a holds 3 then, and the third pod
  of zone a needed zone b to hold 2 first (zone): no order reaches it.

Then every pod a spread constraint involves gets an integer position `o<i>` (pods bind by
position, ties by index: a binding order), and each constrained pod's filter is asserted over the
pods bound before it: for its domain d and every live domain e,
`existing(d) + before(d) + selfMatch - existing(e) - before(e) <= maxSkew`; with fewer live
domains than minDomains, `existing(d) + before(d) + selfMatch <= maxSkew`. That is upstream's
filter at each step, so a placement Z3 finds is one some order binds, and a placement some order
binds is one Z3 accepts. The cost: per constrained pod and domain, a sum over the counted pods
(O(pods^2 x domains) terms against the final counts' O(domains^2) pseudo-booleans), which is why
the final counts stay where they are exact (the replicas of one workload with one constraint).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from kubeprop.model.api.pod import Pod
from kubeprop.model.scheduler.spread import SpreadConstraint

if TYPE_CHECKING:
    from kubeprop.properties.scheduling.encode import Encoding

__all__ = ["Group", "declare_order", "final_counts_exact", "ordered_spread", "position", "spread_step"]

Group = tuple[SpreadConstraint, Pod, list[int], list[int]]
"""A spread group as this module reads it: the constraint, a member pod (its namespace and selector
are the group's), the members (pending pods carrying it over the same eligible nodes) and the
pending pods it counts."""


def final_counts_exact(groups: Sequence[Group]) -> bool:
    """Whether the final counts decide spreading exactly: at most one pending pod involved in any
    spread constraint, or every group counting exactly its own members and no pod in two groups.

    Proof sketch of the second case: give each pod of a group the level it reaches in its domain
    (its rank there above the bound pods) and bind the pods by level. A pod at level L in d sees d
    at L−1 and every domain e at min(final(e), L−1) or more; if final(e) < L−1, e is complete and
    L ≤ final(d) ≤ final(e) + maxSkew by the final-count constraint. Groups share no pod, and count
    only their own, so their orders interleave freely."""
    involved = {i for _, _, members, counted in groups for i in (*members, *counted)}
    if len(involved) <= 1:
        return True
    seen: set[int] = set()
    for _, _, members, counted in groups:
        if set(members) != set(counted) or seen & set(members):
            return False
        seen.update(members)
    return True


def declare_order(enc: Encoding, groups: Iterable[Group], shape: Sequence[object]) -> None:
    """Declare the positions of every member and counted pod, and bind pods of one `shape` (pods no
    constraint tells apart: `encode._shape`) in index order. That only breaks symmetry: two such
    pods swapped are the same placement, so some valid order keeps them by index."""
    pods = sorted({i for _, _, members, counted in groups for i in (*members, *counted)})
    enc.lines.extend(f"(declare-const {position(i)} Int)" for i in pods)
    last: dict[object, int] = {}
    for i in pods:
        if shape[i] in last:
            enc.lines.append(f"(assert (<= {position(last[shape[i]])} {position(i)}))")
        last[shape[i]] = i


def position(i: int) -> str:
    """The SMT name of pending pod i's place in the binding order: pods bind by position, equal
    positions by index (a strict total order without a `distinct` over all positions)."""
    return f"o{i}"


def _before(q: int, i: int, shape: Sequence[object]) -> str | None:
    """Pod q binds before pod i (None: it never does)."""
    if shape[q] == shape[i]:
        return "true" if q < i else None
    return f"({'<=' if q < i else '<'} {position(q)} {position(i)})"


def spread_step(c: SpreadConstraint, self_match: int, d: str, existing: Mapping[str, int],
                before: Mapping[str, list[str]], guard: str, alive: Mapping[str, str]) -> list[str]:
    """The assertions that a pod, placed in domain d (`guard` says it is, under the group's tracking
    literal), passes `c` over the pods bound before it: `existing[e]` counts the bound pods in
    domain e, `before[e]` lists the literals "a counted pending pod is bound there before it"."""
    out = []
    base = c.max_skew - self_match - existing[d]
    for e in sorted(before):
        if e != d:
            terms = [*before[d], *(f"(not {x})" for x in before[e])]
            out.append(f"(assert (=> (and {guard} {alive[e]}) {_at_most(base + existing[e] + len(before[e]), terms)}))")
    if c.min_domains > 1:
        few = f"((_ at-most {c.min_domains - 1}) {' '.join(alive.values())})"
        out.append(f"(assert (=> (and {guard} {few}) {_at_most(base, before[d])}))")
    return out


def _at_most(bound: int, terms: list[str]) -> str:
    if bound < 0:
        return "false"
    return "true" if len(terms) <= bound else f"((_ at-most {bound}) {' '.join(terms)})"


def ordered_spread(enc: Encoding, c: SpreadConstraint, mine: Mapping[int, Mapping[str, str]],
                   within: Mapping[str, Mapping[int, str]], existing: Mapping[str, int], lit: str,
                   alive: Mapping[str, str], shape: Sequence[object]) -> None:
    """Emit a group's constraint in binding order: for each member i (`mine[i][d]` says it is placed
    in domain d) and each counted pod q that may bind before it in domain e (`within[e][q]` says q
    is placed in e), the literal `b<i>_<q>_<lit>_<k>` (q is in e and binds before i), then
    `spread_step` for each domain i can go to."""
    for i, where in mine.items():
        pod = enc.problem.pending[i]
        self_match = 1 if c.counts(pod, (pod,)) else 0
        enc.spend(sum(len(w) for w in within.values()) + len(within) ** 2)
        before: dict[str, list[str]] = {}
        for k, d in enumerate(sorted(within)):
            before[d] = []
            for q, x in within[d].items():
                first = None if q == i else _before(q, i, shape)
                if first == "true":
                    before[d].append(x)
                elif first is not None:
                    name = f"b{i}_{q}_{lit}_{k}"
                    enc.lines.append(f"(declare-const {name} Bool)")
                    enc.lines.append(f"(assert (= {name} (and {x} {first})))")
                    before[d].append(name)
        for d, placed in sorted(where.items()):
            if placed != "false":
                enc.lines.extend(spread_step(c, self_match, d, existing, before, f"{lit} {placed}", alive))
