"""The node-local kube-scheduler scores: NodeResourcesFit (LeastAllocated),
NodeResourcesBalancedAllocation, TaintToleration and NodeAffinity, and DefaultNormalizeScore.

Each `*_scores(pod, feasible)` returns the plugin's *normalised* score (0..100) per feasible
node; the weights are applied in `scheduler.schedule_one`. Sources, under
`pkg/scheduler/framework/plugins/` of `kubernetes/kubernetes`, read at master (~v1.35); where v1.33 differs, a
named parameter (docs/release.md gives each default and why):

* `noderesources/resource_allocation.go` (calculateResourceAllocatableRequest,
  calculatePodResourceRequest): default resources cpu and memory, weight 1 each; LeastAllocated
  uses the *non-zero* requests (100m / 200Mi for containers without a request) of the node's
  pods plus the incoming pod, BalancedAllocation the actual requests (`useRequested`).
  A resource with allocatable 0 is skipped.
* `noderesources/least_allocated.go`: per resource (alloc - req)·100 / alloc (0 if req >
  alloc), weighted mean, int64 division.
* `noderesources/balanced_allocation.go`: fractions min(req/alloc, 1) in float64; with two
  resources std = |f1 - f2| / 2; score = int64((1 - std)·100). Since v1.33 (kubernetes#129138)
  PreScore skips best-effort pods (no cpu/memory request): the plugin scores 0 everywhere.
* `tainttoleration/taint_toleration.go`: raw = untolerated PreferNoSchedule taints, counting
  only tolerations with effect PreferNoSchedule or empty; reversed DefaultNormalizeScore.
* `nodeaffinity/node_affinity.go`: raw = Σ weights of matching preferred terms;
  DefaultNormalizeScore.
* `helper/normalize_score.go` DefaultNormalizeScore: 100·s / max (int64), reversed 100 - that;
  when max == 0 all become 0 (100 when reversed).

ImageLocality (weight 1) is not modelled: the model's nodes report no images, so upstream would
score 0 on every node too.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubeprop.model.api.pod import Pod
from kubeprop.model.scheduler.filters import tolerates
from kubeprop.model.scheduler.nodeinfo import CPU, MEMORY, NodeInfo, pod_requests

__all__ = [
    "MAX_NODE_SCORE",
    "balanced_allocation_scores",
    "default_normalize",
    "least_allocated_scores",
    "node_affinity_scores",
    "taint_toleration_scores",
]

MAX_NODE_SCORE = 100
_RESOURCES = ((CPU, 1), (MEMORY, 1))  # NodeResourcesFitArgs / BalancedAllocationArgs defaults


def default_normalize(raw: dict[str, int], reverse: bool = False) -> dict[str, int]:
    """helper.DefaultNormalizeScore."""
    top = max(raw.values(), default=0)
    if top == 0:
        return {n: MAX_NODE_SCORE if reverse else 0 for n in raw}
    out = {}
    for name, s in raw.items():
        scaled = MAX_NODE_SCORE * s // top if s >= 0 else -((MAX_NODE_SCORE * -s) // top)
        out[name] = MAX_NODE_SCORE - scaled if reverse else scaled
    return out


def _alloc_req(ni: NodeInfo, request: dict[str, int], non_zero: bool) -> list[tuple[int, int, int]]:
    """(allocatable, node requested + pod request, weight) per scored resource, alloc 0 skipped."""
    used = ni.non_zero_requested if non_zero else ni.requested
    out = []
    for name, weight in _RESOURCES:
        alloc = ni.allocatable.get(name, 0)
        if alloc != 0:
            out.append((alloc, used.get(name, 0) + request.get(name, 0), weight))
    return out


def _least_requested(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def least_allocated_scores(pod: Pod, feasible: Sequence[NodeInfo]) -> dict[str, int]:
    """NodeResourcesFit score with the default LeastAllocated strategy."""
    request = dict(pod_requests(pod, non_zero=True))
    out = {}
    for ni in feasible:
        parts = _alloc_req(ni, request, non_zero=True)
        weight_sum = sum(w for _, _, w in parts)
        total = sum(_least_requested(req, alloc) * w for alloc, req, w in parts)
        out[ni.name] = total // weight_sum if weight_sum else 0
    return out


def _balanced(parts: list[tuple[int, int, int]]) -> int:
    fractions = [min(float(req) / float(alloc), 1.0) for alloc, req, _ in parts]
    std = 0.0
    if len(fractions) == 2:
        std = abs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:
        mean = sum(fractions) / len(fractions)
        std = (sum((f - mean) * (f - mean) for f in fractions) / len(fractions)) ** 0.5
    return int((1 - std) * float(MAX_NODE_SCORE))


def balanced_allocation_scores(pod: Pod, feasible: Sequence[NodeInfo], skip_best_effort: bool = True
                               ) -> dict[str, int]:
    """NodeResourcesBalancedAllocation score (0 everywhere for best-effort pods since v1.33;
    `skip_best_effort=False` scores them as v1.32 and before did)."""
    request = dict(pod_requests(pod))
    if skip_best_effort and all(request.get(name, 0) == 0 for name, _ in _RESOURCES):
        return {ni.name: 0 for ni in feasible}
    return {ni.name: _balanced(_alloc_req(ni, request, non_zero=False)) for ni in feasible}


def taint_toleration_scores(pod: Pod, feasible: Sequence[NodeInfo]) -> dict[str, int]:
    """TaintToleration score: fewer untolerated PreferNoSchedule taints score higher."""
    prefer = [t for t in pod.spec.tolerations if t.effect in ("", "PreferNoSchedule")]
    raw = {
        ni.name: sum(
            1
            for taint in ni.node.spec.taints
            if taint.effect == "PreferNoSchedule" and not any(tolerates(t, taint) for t in prefer)
        )
        for ni in feasible
    }
    return default_normalize(raw, reverse=True)


def node_affinity_scores(pod: Pod, feasible: Sequence[NodeInfo]) -> dict[str, int]:
    """NodeAffinity score: Σ weights of the preferred terms the node matches, normalised."""
    affinity = pod.spec.affinity
    node_affinity = affinity.node_affinity if affinity else None
    preferred = node_affinity.preferred_during_scheduling_ignored_during_execution if node_affinity else ()
    raw = {
        ni.name: sum(p.weight for p in preferred if p.weight != 0 and p.preference.matches(ni.name, ni.labels))
        for ni in feasible
    }
    return default_normalize(raw)
