"""Unsat cores and placements rendered in Kubernetes terms.

A minimal core (`scheduling_solver`) is a set of tracking literals; each stands for something a
user can act on: a pod that must be placed, a node's free cpu / memory / pod slots, a
topologySpreadConstraint, a pod (anti-)affinity rule, a node taken down by a what-if. The lines
name them together with the numbers that conflict (the pods' requests against the nodes' free
capacity) and, for the pods involved, the nodes the static filters exclude and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kubeprop.model.api.pod import Pod
from kubeprop.model.scheduler.decide import pod_key
from kubeprop.model.scheduler.nodeinfo import CPU, PODS, pod_requests
from kubeprop.properties.scheduling.encode import Domain, Encoding, FewDomains, Track

__all__ = ["comparison_table", "explain_core", "format_amount", "placement_table"]

_MI, _GI = 1024**2, 1024**3


def format_amount(resource: str, amount: int) -> str:
    """A scheduler-unit amount as a Kubernetes quantity: 1500 cpu -> "1500m", memory in Mi/Gi."""
    if resource == CPU:
        return f"{amount // 1000}" if amount % 1000 == 0 and amount else f"{amount}m"
    if resource == PODS:
        return str(amount)
    if amount and amount % _GI == 0:
        return f"{amount // _GI}Gi"
    if amount and amount % _MI == 0:
        return f"{amount // _MI}Mi"
    return str(amount)


def _requests(pod: Pod) -> str:
    req = pod_requests(pod)
    parts = [f"{format_amount(r, v)} {r}" for r, v in sorted(req.items(), key=lambda kv: (kv[0] != CPU, kv[0])) if v]
    return ", ".join(parts) or "no requests"


def _pods_line(enc: Encoding, pods: list[int]) -> str:
    by_request: dict[str, list[str]] = {}
    for i in pods:
        pod = enc.problem.pending[i]
        by_request.setdefault(_requests(pod), []).append(pod.metadata.name)
    parts = [f"{', '.join(names)} ({req}{' each' if len(names) > 1 else ''})" for req, names in by_request.items()]
    return f"{len(pods)} pod(s) must all be placed: " + "; ".join(parts)


def _resource_line(enc: Encoding, track: Track, pods: list[int]) -> str:
    j, r = track.nodes[0], track.detail
    ni = enc.problem.nodes[j]
    used = len(ni.pods) if r == PODS else ni.requested.get(r, 0)
    alloc = ni.allocatable.get(r, 0)
    free = alloc - used
    what = "pod slots" if r == PODS else r
    line = f"{ni.name} has {format_amount(r, max(free, 0))} {what} free (allocatable {format_amount(r, alloc)}"
    line += f", {format_amount(r, used)} used by bound pods)" if used else ")"
    return line


def _demand_line(enc: Encoding, resources: set[str], pods: list[int]) -> str | None:
    parts = []
    for r in sorted(resources):
        total = sum(1 if r == PODS else pod_requests(enc.problem.pending[i]).get(r, 0) for i in pods)
        parts.append(f"{format_amount(r, total)} {'pod slots' if r == PODS else r}")
    return f"together they need {', '.join(parts)}" if parts else None


def _excluded_lines(enc: Encoding, pods: list[int], down: frozenset[int]) -> list[str]:
    """Per reason, the nodes the static filters exclude for the pods in the core, but those the
    explanation names as down (`down`: a what-if's lost node a static filter excludes anyway is not
    in the core, so its exclusion is said here)."""
    by_reason: dict[str, set[str]] = {}
    for i in pods:
        for j, ni in enumerate(enc.problem.nodes):
            reason = enc.excluded.get((i, j))
            if reason is not None and j not in down:
                by_reason.setdefault(reason, set()).add(ni.name)
    return [f"{', '.join(sorted(names))} excluded: {reason}" for reason, names in sorted(by_reason.items())]


def _closed_line(enc: Encoding, domain: Domain) -> str:
    """Why a domain no pod can enter still bounds the skew (`podtopologyspread/filtering.go`
    calPreFilterState counts every node with the key that passes the inclusion policies)."""
    names = ", ".join(enc.problem.nodes[j].name for j in domain.nodes)
    return (f"{domain.key}={domain.value} ({names}) still counts as a spread domain with {domain.count} matching "
            f"pod(s), though none of these pods can go there ({domain.policies}: a cordoned or tainted node counts "
            "unless a policy excludes it)")


def _few_domains_line(few: FewDomains, down: frozenset[int]) -> list[str]:
    """Why a spread constraint with minDomains allows so few pods per domain: with fewer eligible
    domains (live ones, in a what-if) than minDomains, the global minimum counts as 0
    (`podtopologyspread/filtering.go` minMatchNum), so each domain holds at most maxSkew."""
    live = [value for value, nodes in few.domains if not set(nodes) <= down]
    if len(live) >= few.min_domains:
        return []
    return [f"{few.key} has {len(live)} eligible domain(s) ({', '.join(live) or 'none'}), fewer than "
            f"minDomains={few.min_domains}, so the global minimum counts as 0: no domain may hold more than "
            f"maxSkew={few.max_skew} matching pod(s)"]


def explain_core(enc: Encoding, core: Iterable[str], down: frozenset[int] = frozenset()) -> list[str]:
    """The lines explaining why the core's constraints cannot hold together, each line once (the
    same term of several pods of one workload is one line, not one per pod)."""
    tracks = [enc.tracks[name] for name in core]
    pods = sorted({i for t in tracks if t.kind == "place" for i in t.pods})
    lines = [_pods_line(enc, pods)] if pods else []
    resources = {t.detail for t in tracks if t.kind == "resource"}
    demand = _demand_line(enc, resources, pods)
    if demand:
        lines.append(demand)
    for t in tracks:
        if t.kind == "resource":
            lines.append(_resource_line(enc, t, pods))
        elif t.kind == "down" and t.nodes[0] in down:
            lines.append(f"{enc.problem.nodes[t.nodes[0]].name} is down (what-if)")
        elif t.kind in ("spread", "anti", "affinity", "existing-anti", "ports", "volume"):
            lines.append(f"{t.detail} rules out the rest")
            lines.extend(_few_domains_line(t.few, down) if t.few is not None else [])
            lines.extend(_closed_line(enc, d) for d in t.closed if not set(d.nodes) <= down)
    named_down = frozenset(t.nodes[0] for t in tracks if t.kind == "down" and t.nodes[0] in down)
    lines.extend(_excluded_lines(enc, pods, named_down))
    return list(dict.fromkeys(lines))  # the terms of a workload's pods alike read alike: said once


def placement_table(placement: Mapping[str, str], pods: Iterable[Pod], title: str = "NODE") -> list[str]:
    """Rows "POD  NODE" (pending pods last as "<pending>"), aligned."""
    keys = [pod_key(p) for p in pods]
    width = max([len(k) for k in keys] + [3])
    rows = [f"{'POD':<{width}}  {title}"]
    rows.extend(f"{k:<{width}}  {placement.get(k, '<pending>')}" for k in keys)
    return rows


def comparison_table(left: Mapping[str, str], right: Mapping[str, str], pods: Iterable[Pod],
                     titles: tuple[str, str]) -> list[str]:
    """Rows "POD  LEFT  RIGHT" comparing two placements ("<pending>" where a pod has no node)."""
    keys = [pod_key(p) for p in pods]
    cells = [(k, left.get(k, "<pending>"), right.get(k, "<pending>")) for k in keys]
    w0 = max([len(k) for k in keys] + [3])
    w1 = max([len(c[1]) for c in cells] + [len(titles[0])])
    rows = [f"{'POD':<{w0}}  {titles[0]:<{w1}}  {titles[1]}"]
    rows.extend(f"{k:<{w0}}  {a:<{w1}}  {b}" for k, a, b in cells)
    return rows
