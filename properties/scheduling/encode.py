"""The hard scheduling constraints of a set of pods on a set of nodes, as one Z3 problem.

A `Problem` is a scheduler snapshot (`NodeInfo`s holding the bound pods, which stay where they
are) plus the pending pods to place. `encode(problem)` builds one Boolean `x<i>_<j>` for each
(pending pod i, node j) that passes the *static* per-node filters — computed with the model's
own filter functions (`kubeprop.model.scheduler.framework.filter_fns`, default profile:
NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts against the bound pods;
VolumeBinding's verdicts as the problem carries them, `Problem.volumes`), so the encoding and the
scheduler cannot disagree on them. Only the pod-to-pod interactions become solver constraints:

* NodeResourcesFit (`pkg/scheduler/framework/plugins/noderesources/fit.go`): per node and
  resource (pods count included) a pseudo-boolean `Σ request·x ≤ free`, scaled by the gcd.
* PodTopologySpread DoNotSchedule (`podtopologyspread/filtering.go`): each constrained pod passes
  its filter over the pods bound before it, in some binding order. Over the final counts where
  that is exact (`spread_order.final_counts_exact`: the replicas of one workload with one
  constraint): for every domain d holding a constrained pod and every live domain e,
  `count(d) − count(e) ≤ maxSkew`; with fewer live domains than minDomains, `count(d) ≤
  maxSkew`. Otherwise with positions (`spread_order`).
* InterPodAffinity required terms, both directions (`interpodaffinity/filtering.go`): a pod's
  anti-affinity term excludes the domains of matching pods (order-free); an affinity term needs,
  in the pod's domain, some other pod matching all its terms bound before it (or none bound yet
  and the pod matching its own terms): over the final placement where no pending pod matches
  the terms, otherwise with positions (`affinity_order`).
* NodePorts between two pending pods: not both on one node.
* VolumeBinding between pending pods sharing an unbound WaitForFirstConsumer claim
  (`Problem.shared_claims`): the claim gets one volume, for the node of the first of them assumed
  (`binder.go` AssumePodVolumes, the assume cache), and every one of them goes where it reaches.

Every group of constraints hangs off a named *tracking literal* (`Track`), so an unsat core
names Kubernetes things: a pod that must be placed, a node's cpu, a spread constraint, a node
that is down (what-ifs). Terms are emitted as SMT-LIB text and parsed once
(`z3.Solver.from_string`): per-term Python calls dominate build time at scale
(docs/scheduling.md has the measurements).

The records (`Problem`, `Encoding`, `Track`, `Domain`, `EncodingTooLarge`) are defined in
`kubeprop.properties.scheduling.encode_records` and re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from kubeprop.model.api.pod import Pod
from kubeprop.model.controllers.daemonset_util import target_node_name
from kubeprop.model.scheduler.affinity import AffinityTerm, NamespaceLabels, namespace_labels
from kubeprop.model.scheduler.decide import NodeInfo, pod_key
from kubeprop.model.scheduler.filters import find_untolerated_taint, host_ports
from kubeprop.model.scheduler.framework import DEFAULT_PROFILE, filter_fns
from kubeprop.model.scheduler.nodeinfo import PODS, pod_requests
from kubeprop.model.scheduler.spread import REASON_SPREAD_LABEL, SpreadConstraint, spread_constraints
from kubeprop.properties.scheduling.affinity_order import matching, ordered_affinity, ordered_pods
from kubeprop.properties.scheduling.deadline import Deadline
from kubeprop.properties.scheduling.encode_records import (
    Domain,
    Encoding,
    EncodingTooLarge,
    FewDomains,
    Problem,
    SharedClaim,
    Track,
)
from kubeprop.properties.scheduling.spread_order import (
    declare_order,
    final_counts_exact,
    involved,
    ordered_spread,
    topology_domains,
)

__all__ = [
    "STATIC_FILTERS", "Domain", "Encoding", "EncodingTooLarge", "FewDomains", "Problem", "SharedClaim", "Track",
    "encode", "static_reason",
]

STATIC_FILTERS = ("NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts")
REASON_AFFINITY_KEY = "node(s) didn't match pod affinity rules (missing topology key)"


def _plain_pod(pod: Pod) -> bool:
    """No field any static filter (or a topology-key check) looks at is set."""
    spec = pod.spec
    return not (spec.node_name or spec.node_selector or spec.affinity or spec.topology_spread_constraints
                or _host_ports(pod))


def _plain_node(ni: NodeInfo) -> bool:
    return not (ni.node.spec.unschedulable or ni.node.spec.taints)


def static_reason(pod: Pod, ni: NodeInfo) -> str | None:
    """Why `pod` can never go to `ni` regardless of the other pending pods (None: it may)."""
    for name, fn in filter_fns(DEFAULT_PROFILE):
        if name in STATIC_FILTERS:
            status = fn(pod, ni, ())
            if status is not None:
                return _detail(name, status.message, pod, ni)
    keys = {c.topology_key for c in spread_constraints(pod, "DoNotSchedule")}
    if any(k not in ni.labels for k in keys):
        return REASON_SPREAD_LABEL
    affinity = pod.spec.affinity.pod_affinity if pod.spec.affinity else None
    terms = affinity.required_during_scheduling_ignored_during_execution if affinity else ()
    if any(t.topology_key not in ni.labels for t in terms):
        return REASON_AFFINITY_KEY
    return None


def _detail(plugin: str, message: str, pod: Pod, ni: NodeInfo) -> str:
    if plugin == "TaintToleration":
        taint = find_untolerated_taint(ni.node.spec.taints, pod.spec.tolerations)
        if taint is not None:
            value = f"={taint.value}" if taint.value else ""
            return f"{message} ({taint.key}{value}:{taint.effect})"
    return message


def _or(names: Iterable[str]) -> str:
    items = list(names)
    if not items:
        return "false"
    return items[0] if len(items) == 1 else f"(or {' '.join(items)})"


def _pble(bound: int, terms: Sequence[tuple[int, str]]) -> str:
    """Σ coef·lit ≤ bound as a Z3 pseudo-boolean term (coefficients > 0; all ones: a cardinality
    `at-most`, which needs no coefficient list)."""
    if bound < 0:
        return "false"
    if sum(c for c, _ in terms) <= bound:
        return "true"
    if all(c == 1 for c, _ in terms):
        return f"((_ at-most {bound}) {' '.join(lit for _, lit in terms)})"
    coefs = " ".join(str(c) for c, _ in terms)
    return f"((_ pble {bound} {coefs}) {' '.join(lit for _, lit in terms)})"


def encode(problem: Problem, max_work: int | None = None, allowed: Sequence[frozenset[int]] | None = None,
           deadline: Deadline | None = None) -> Encoding:
    """Build the SMT-LIB encoding of `problem` (see the module docstring). With `max_work`, the
    build stops with EncodingTooLarge once it has considered or emitted that many (pod, node)
    pairs and terms — a deterministic bound on the build, like Z3's rlimit on the solving. With
    `allowed`, pod i may only go to the nodes in `allowed[i]` (a restriction of the problem: its
    placements are placements of the whole problem). With `deadline`, the build checks the
    wall-clock budget as it counts its work (BudgetSpent)."""
    enc = Encoding(problem, [], {}, {}, max_work=max_work, deadline=deadline)
    enc.spend(len(problem.pending) * len(problem.nodes))
    plain_nodes = [_plain_node(ni) for ni in problem.nodes]
    reasons: dict[tuple[object, ...], dict[int, str]] = {}
    for i, pod in enumerate(problem.pending):
        if deadline is not None:
            deadline.check()
        if _plain_pod(pod):
            excluded = {j: r for j, ni in enumerate(problem.nodes) if not plain_nodes[j]
                        and (r := static_reason(pod, ni)) is not None}
        else:
            shape = _shape(pod)
            if shape not in reasons:
                reasons[shape] = {j: r for j, ni in enumerate(problem.nodes)
                                  if (r := static_reason(pod, ni)) is not None}
            excluded = reasons[shape]
        refused = problem.volumes.get(pod_key(pod))
        if refused:
            excluded = {**{j: r for j, ni in enumerate(problem.nodes) if (r := refused.get(ni.name)) is not None},
                        **excluded}
        row = [j for j in range(len(problem.nodes)) if j not in excluded and (allowed is None or j in allowed[i])]
        enc.excluded.update(((i, j), r) for j, r in excluded.items())
        enc.candidates.append(row)
        enc.cand_sets.append(frozenset(row))
    _declare(enc)
    _placement(enc)
    _resources(enc)
    view = problem.namespace_view()
    required = [_required(p, anti=False, merge=view) for p in problem.pending]
    in_series = ordered_pods(enc, required)
    shapes = _spread(enc, in_series)
    _inter_pod(enc, required, in_series, shapes, view)
    _ports(enc)
    _shared_claims(enc)
    return enc


def _shape(pod: Pod) -> tuple[object, ...]:
    """What the static filters read of a pod: pods of one shape (replicas of one template) get the
    same verdicts, computed once."""
    return (pod.metadata.namespace, pod.metadata.labels, pod.spec)


def _track(enc: Encoding, name: str, track: Track) -> str:
    enc.tracks[name] = track
    enc.lines.append(f"(declare-const {name} Bool)")
    return name


def _declare(enc: Encoding) -> None:
    names = [f"(declare-const {enc.var(i, j)} Bool)" for i, row in enumerate(enc.candidates) for j in row]
    enc.lines.extend(names)


def _on_node(enc: Encoding) -> list[list[int]]:
    on: list[list[int]] = [[] for _ in enc.problem.nodes]
    for i, row in enumerate(enc.candidates):
        for j in row:
            on[j].append(i)
    return on


def _placement(enc: Encoding) -> None:
    """Each pending pod on exactly one node while its tracking literal holds, on none otherwise:
    one pseudo-boolean `x_1 + … + x_n + ¬place = 1` per pod; a down node holds none. A DaemonSet's
    pod made for node j (`_daemon_node`) is required only while j is up: `¬down_j => (…)`, so
    losing j (a what-if) takes its daemon pod with it, as deleting the Node does (`drain.remove`)."""
    names = {ni.name: j for j, ni in enumerate(enc.problem.nodes)}
    guarded: list[tuple[int, str, list[str]]] = []
    for i, row in enumerate(enc.candidates):
        target = _daemon_node(enc.problem.pending[i], names)
        lit = _track(enc, f"place{i}", Track("place", (i,), () if target is None else (target,)))
        xs = [enc.var(i, j) for j in row]
        enc.spend(len(xs) + 1)
        term = f"((_ pbeq 1{' 1' * (len(xs) + 1)}) {' '.join(xs)} (not {lit}))"
        if target is None:
            enc.lines.append(f"(assert {term})")
        else:
            guarded.append((target, term, [enc.var(i, j) for j in row if j != target]))
    for j, pods in enumerate(_on_node(enc)):
        lit = _track(enc, f"down{j}", Track("down", nodes=(j,)))
        if pods:
            enc.spend(len(pods))
            enc.lines.append(f"(assert (=> {lit} (not {_or(enc.var(i, j) for i in pods)})))")
    for j, term, elsewhere in guarded:
        enc.lines.append(f"(assert (=> (not down{j}) {term}))")
        if elsewhere:  # a daemon pod fits its own node only (matchFields); should it fit others, not there either
            enc.lines.append(f"(assert (=> down{j} (not {_or(elsewhere)})))")


def _daemon_node(pod: Pod, nodes: dict[str, int]) -> int | None:
    """The index of the node a DaemonSet made `pod` for (GetTargetNodeName, `daemonset_util.
    target_node_name`), None for any other pod. Upstream the DaemonSet controller makes daemon pods
    only for the nodes in its lister (`pkg/controller/daemon/daemon_controller.go` syncNodes) and the
    pod garbage collector deletes the pods of a Node that is gone (`pkg/controller/podgc/
    gc_controller.go` gcOrphaned): a lost node's daemon pod is not one to place."""
    ref = pod.metadata.controller_ref()
    if ref is None or ref.kind != "DaemonSet":
        return None
    target = target_node_name(pod)
    return None if target is None else nodes.get(target)


def _resources(enc: Encoding) -> None:
    requests = [pod_requests(p) for p in enc.problem.pending]
    for j, pods in enumerate(_on_node(enc)):
        ni = enc.problem.nodes[j]
        names = sorted({r for i in pods for r, v in requests[i].items() if v > 0})
        for r in [PODS, *names]:
            want = [(1 if r == PODS else requests[i].get(r, 0), enc.var(i, j)) for i in pods]
            want = [(c, x) for c, x in want if c > 0]
            used = len(ni.pods) if r == PODS else ni.requested.get(r, 0)
            free = ni.allocatable.get(r, 0) - used
            if not want or sum(c for c, _ in want) <= free:
                continue
            g = math.gcd(*(c for c, _ in want))
            scaled = [(c // g, x) for c, x in want]
            enc.spend(len(scaled))
            lit = _track(enc, f"res{j}_{len(enc.tracks)}", Track("resource", nodes=(j,), detail=r))
            enc.lines.append(f"(assert (=> {lit} {_pble(max(free, 0) // g, scaled)}))")


# -- topology spread --------------------------------------------------------------------------


def _spread_groups(enc: Encoding) -> dict[tuple[str, SpreadConstraint, frozenset[int]], list[int]]:
    """Pending pods sharing one constraint over the same eligible nodes."""
    problem = enc.problem
    groups: dict[tuple[str, SpreadConstraint, frozenset[int]], list[int]] = {}
    for i, pod in enumerate(problem.pending):
        cs = spread_constraints(pod, "DoNotSchedule")
        keys = {c.topology_key for c in cs}
        for c in cs:
            enc.spend(len(problem.nodes))
            eligible = frozenset(
                j for j, ni in enumerate(problem.nodes) if keys <= set(ni.labels) and c.includes(pod, ni))
            groups.setdefault((pod.metadata.namespace, c, eligible), []).append(i)
    return groups


def _counted(enc: Encoding, c: SpreadConstraint, pod: Pod) -> list[int]:
    """The pending pods `pod`'s constraint `c` counts (countPodsMatchSelector)."""
    return [q for q, other in enumerate(enc.problem.pending) if c.counts(pod, (other,))]


def _domain_terms(enc: Encoding, c: SpreadConstraint, pod: Pod, counted: list[int], nodes: list[int]
                  ) -> tuple[int, list[str]]:
    """(bound pods counted, pending-pod literals that would add to the count) over `nodes`, as
    `pod`'s constraint `c` counts them."""
    enc.spend(len(enc.problem.pending))
    existing = sum(c.counts(pod, enc.problem.nodes[j].pods) for j in nodes)
    lits = [enc.var(q, j) for j in nodes for q in counted if j in enc.cand_sets[q]]
    return existing, lits


def _spread(enc: Encoding, in_series: set[int]) -> list[tuple[object, ...]]:
    """One tracking literal per group; the final counts, or the binding order where they are not
    exact (`spread_order`) or where a pod they involve is in an affinity series (`in_series`, whose
    order `affinity_order` constrains). Declares the positions; returns the shapes they use."""
    groups = sorted(_spread_groups(enc).items(), key=lambda kv: kv[1])
    read = [(c, enc.problem.pending[members[0]], members, _counted(enc, c, enc.problem.pending[members[0]]))
            for (_ns, c, _eligible), members in groups]
    ordered = not final_counts_exact(read) or bool(involved(read) & in_series)
    shapes = [_shape(p) for p in enc.problem.pending] if ordered or in_series else []
    if shapes:
        declare_order(enc, (involved(read) if ordered else set()) | in_series, shapes)
    for ((_ns, c, eligible), members), (_, pod, _, counted) in zip(groups, read, strict=True):
        domains: dict[str, list[int]] = {}
        for j in sorted(eligible):
            domains.setdefault(enc.problem.nodes[j].labels[c.topology_key], []).append(j)
        if not domains:
            continue
        terms = {d: _domain_terms(enc, c, pod, counted, nodes) for d, nodes in domains.items()}
        closed = tuple(Domain(c.topology_key, d, tuple(nodes), terms[d][0], _policies(c))
                       for d, nodes in sorted(domains.items()) if not terms[d][1]
                       and not any(j in enc.cand_sets[i] for i in members for j in nodes))
        few = FewDomains(c.topology_key, c.max_skew, c.min_domains, tuple(
            (d, tuple(nodes)) for d, nodes in sorted(domains.items()))) if c.min_domains > 1 else None
        lit = _track(enc, f"spread{len(enc.tracks)}", Track(
            "spread", tuple(members), detail=_render_spread(c, _owner(enc, pod)), closed=closed, few=few))
        alive = {d: f"(not (and {' '.join(f'down{j}' for j in nodes)}))" if len(nodes) > 1 else f"(not down{nodes[0]})"
                 for d, nodes in domains.items()}
        if ordered:
            within = {d: {q: x for q in counted if (x := _in(enc, q, ns)) != "false"} for d, ns in domains.items()}
            mine = {i: {d: _in(enc, i, ns) for d, ns in domains.items()} for i in members}
            ordered_spread(enc, c, mine, within, {d: t[0] for d, t in terms.items()}, lit, alive, shapes)
        else:
            _spread_final(enc, c, members, domains, terms, lit, alive)
    return shapes


def _spread_final(enc: Encoding, c: SpreadConstraint, members: list[int], domains: dict[str, list[int]],
                  terms: dict[str, tuple[int, list[str]]], lit: str, alive: dict[str, str]) -> None:
    """Over the final counts: per domain d holding a member and live domain e, count(d) - count(e)
    <= maxSkew (with fewer live domains than minDomains, count(d) <= maxSkew)."""
    for d, nodes in sorted(domains.items()):
        holds = _or(enc.var(i, j) for i in members for j in nodes if j in enc.cand_sets[i])
        if holds == "false":
            continue
        ex_d, lits_d = terms[d]
        for e in sorted(domains):
            if e == d:
                continue
            ex_e, lits_e = terms[e]
            enc.spend(len(lits_d) + len(lits_e))
            bound = c.max_skew - ex_d + ex_e + len(lits_e)
            pb = _pble(bound, [(1, x) for x in lits_d] + [(1, f"(not {x})") for x in lits_e])
            enc.lines.append(f"(assert (=> (and {lit} {holds} {alive[e]}) {pb}))")
        if c.min_domains > 1:
            few = f"((_ at-most {c.min_domains - 1}) {' '.join(alive.values())})"
            pb = _pble(c.max_skew - ex_d, [(1, x) for x in lits_d])
            enc.lines.append(f"(assert (=> (and {lit} {holds} {few}) {pb}))")


def _policies(c: SpreadConstraint) -> str:
    return (f"nodeAffinityPolicy={'Honor' if c.honor_affinity else 'Ignore'}, "
            f"nodeTaintsPolicy={'Honor' if c.honor_taints else 'Ignore'}")


def _render_spread(c: SpreadConstraint, owner: str) -> str:
    extra = f" minDomains={c.min_domains}" if c.min_domains > 1 else ""
    return f"topologySpreadConstraints {c.topology_key} maxSkew={c.max_skew}{extra} (DoNotSchedule) of {owner}"


def _owner(enc: Encoding, pod: Pod) -> str:
    """The pod's workload as explanations name it: the one the problem names for its controller
    (`Problem.workloads`), else its controller, else the pod itself."""
    ref = pod.metadata.controller_ref()
    if ref is None:
        return f"pod {pod_key(pod)}"
    return enc.problem.workloads.get(ref.uid) or f"{ref.kind} {pod.metadata.namespace}/{ref.name}"


# -- inter-pod (anti-)affinity ----------------------------------------------------------------


def _required(pod: Pod, anti: bool, merge: NamespaceLabels | None = None) -> tuple[AffinityTerm, ...]:
    """The pod's required (anti-)affinity terms; with `merge`, as an incoming pod's, their
    namespaceSelectors merged against that namespace view (`AffinityTerm.merged`)."""
    affinity = pod.spec.affinity
    spec = None if affinity is None else (affinity.pod_anti_affinity if anti else affinity.pod_affinity)
    terms = tuple(AffinityTerm.of(pod, t) for t in spec.required_during_scheduling_ignored_during_execution) \
        if spec else ()
    return terms if merge is None else tuple(t.merged(merge) for t in terms)


def _in(enc: Encoding, i: int, nodes: list[int]) -> str:
    return _or(enc.var(i, j) for j in nodes if j in enc.cand_sets[i])


def _inter_pod(enc: Encoding, required: list[tuple[AffinityTerm, ...]], in_series: set[int],
               shapes: list[tuple[object, ...]], view: NamespaceLabels) -> None:
    """Anti-affinity over the final placement (exact: `affinity_order`'s docstring); affinity too,
    or in binding order for a pod in an affinity series. A pending pod's terms are merged against
    the namespace view `view` and match other pods with no namespace labels; a bound pod's terms
    match a pending pod with its namespace's labels (`kubeprop.model.scheduler.affinity`)."""
    for i, pod in enumerate(enc.problem.pending):
        for t_index, term in enumerate(_required(pod, anti=True, merge=view)):
            _anti_term(enc, i, t_index, term)
        _existing_anti(enc, i, pod, namespace_labels(pod.metadata.namespace, view))
        if required[i]:
            _affinity(enc, i, pod, required[i], shapes if i in in_series else None)


def _anti_term(enc: Encoding, i: int, t_index: int, term: AffinityTerm) -> None:
    enc.spend(len(enc.problem.pending))
    others = [q for q, other in enumerate(enc.problem.pending) if q != i and term.matches(other)]
    detail = f"podAntiAffinity {term.topology_key} of {_owner(enc, enc.problem.pending[i])}"
    lit = _track(enc, f"anti{i}_{t_index}", Track("anti", (i, *others), detail=detail))
    for nodes in topology_domains(enc, term.topology_key).values():
        mine = _in(enc, i, nodes)
        if mine == "false":
            continue
        if any(term.matches(p) for j in nodes for p in enc.problem.nodes[j].pods):
            enc.lines.append(f"(assert (=> {lit} (not {mine})))")
            continue
        theirs = _or(_in(enc, q, nodes) for q in others if _in(enc, q, nodes) != "false")
        if theirs != "false":
            enc.lines.append(f"(assert (=> {lit} (not (and {mine} {theirs}))))")


def _existing_anti(enc: Encoding, i: int, pod: Pod, pod_ns: Mapping[str, str]) -> None:
    """Bound pods whose required anti-affinity terms match `pod` (its namespace's labels `pod_ns`)
    keep it out of their domains (the explanation names them, their node and the term's topology
    key)."""
    blocked: set[int] = set()
    repelling: dict[str, None] = {}
    for ni in enc.problem.nodes:
        for other in ni.pods:
            for term in _required(other, anti=True):
                value = ni.labels.get(term.topology_key)
                if value is not None and term.matches(pod, pod_ns):
                    nodes = topology_domains(enc, term.topology_key).get(value, [])
                    if any(j in enc.cand_sets[i] for j in nodes):
                        repelling[f"{pod_key(other)} on {ni.name} (topologyKey {term.topology_key})"] = None
                    blocked.update(nodes)
    xs = [enc.var(i, j) for j in sorted(blocked) if j in enc.cand_sets[i]]
    if xs:
        detail = f"podAntiAffinity of bound pod(s): {', '.join(repelling)},"
        lit = _track(enc, f"exanti{i}", Track("existing-anti", (i,), tuple(sorted(blocked)), detail))
        enc.lines.append(f"(assert (=> {lit} (not {_or(xs)})))")


def _affinity(enc: Encoding, i: int, pod: Pod, terms: tuple[AffinityTerm, ...],
              shapes: list[tuple[object, ...]] | None) -> None:
    """Over the final placement when no pending pod matches the terms (or `shapes` is None), else in
    binding order (`affinity_order`). Only matching pods on nodes carrying a term's key count
    towards "no such pod anywhere" (upstream's affinityCounts)."""
    enc.spend(len(enc.problem.pending))
    others = matching(enc.problem.pending, i, terms)
    keys = {t.topology_key for t in terms}
    bound = any(all(t.matches(p) for t in terms) for ni in enc.problem.nodes if keys & set(ni.labels) for p in ni.pods)
    lit = _track(enc, f"aff{i}", Track("affinity", (i, *others), detail=f"podAffinity of {_owner(enc, pod)}"))
    if shapes is not None and others:
        ordered_affinity(enc, i, terms, others, lit, shapes)
        return
    if not others and not bound:
        if not all(t.matches(pod) for t in terms):
            enc.lines.append(f"(assert (=> {lit} (not {_in(enc, i, enc.candidates[i])})))")
        return
    for term in terms:
        for nodes in topology_domains(enc, term.topology_key).values():
            mine = _in(enc, i, nodes)
            if mine == "false":
                continue
            if any(all(t.matches(p) for t in terms) for j in nodes for p in enc.problem.nodes[j].pods):
                continue
            theirs = _or(_in(enc, q, nodes) for q in others if _in(enc, q, nodes) != "false")
            enc.lines.append(f"(assert (=> (and {lit} {mine}) {theirs}))")


def _host_ports(pod: Pod) -> set[tuple[str, int]]:
    """(protocol, hostPort) of the ports NodePorts looks at (`filters.host_ports`: no regular init container)."""
    return {(protocol, port) for _, protocol, port in host_ports(pod)}


def _ports(enc: Encoding) -> None:
    """Two pending pods wanting the same host port never share a node (host IPs not distinguished)."""
    by_port: dict[tuple[str, int], list[int]] = {}
    for i, pod in enumerate(enc.problem.pending):
        for port in _host_ports(pod):
            by_port.setdefault(port, []).append(i)
    enc.spend(sum(len(users) * (len(users) - 1) // 2 for users in by_port.values()))
    pairs = sorted({(a, b) for users in by_port.values() for k, a in enumerate(users) for b in users[k + 1:]})
    for i, q in pairs:
        shared = [j for j in enc.candidates[i] if j in enc.cand_sets[q]]
        if shared:
            enc.spend(len(shared))
            lit = _track(enc, f"ports{i}_{q}", Track("ports", (i, q), detail="hostPort"))
            for j in shared:
                enc.lines.append(f"(assert (=> {lit} (not (and {enc.var(i, j)} {enc.var(q, j)}))))")


def _shared_claims(enc: Encoding) -> None:
    """Each shared claim (`SharedClaim`): one volume domain `v<g>_<d>` at most is chosen; a pod of
    the claim on node k needs a chosen domain whose volume reaches k, and a chosen domain a pod of
    the claim on one of its anchors (the node the volume was made for). No pod placed: none chosen."""
    index = {pod_key(p): i for i, p in enumerate(enc.problem.pending)}
    names = {ni.name: j for j, ni in enumerate(enc.problem.nodes)}
    for g, shared in enumerate(enc.problem.shared_claims):
        pods = [index[k] for k in shared.pods if k in index]
        if len(pods) < 2:
            continue
        lit = _track(enc, f"volume{g}", Track("volume", tuple(pods), detail=shared.detail))
        domains = [f"v{g}_{d}" for d in range(len(shared.domains))]
        enc.lines.extend(f"(declare-const {v} Bool)" for v in domains)
        reach = [{names[n] for n in r if n in names} for _, r in shared.domains]
        enc.spend(len(domains) + sum(len(enc.candidates[i]) for i in pods))
        if len(domains) > 1:
            enc.lines.append(f"(assert (=> {lit} ((_ at-most 1) {' '.join(domains)})))")
        for d, (anchors, _) in enumerate(shared.domains):
            on = [enc.var(i, names[n]) for i in pods for n in sorted(anchors) if n in names
                  and names[n] in enc.cand_sets[i]]
            enc.lines.append(f"(assert (=> (and {lit} {domains[d]}) {_or(on)}))")
        for i in pods:
            for j in enc.candidates[i]:
                chosen = _or(domains[d] for d in range(len(domains)) if j in reach[d])
                enc.lines.append(f"(assert (=> (and {lit} {enc.var(i, j)}) {chosen}))")
