"""Node-pressure eviction: which pod the kubelet's eviction manager may evict under memory pressure.

Upstream (`pkg/kubelet/eviction/helpers.go` rankMemoryPressure, `eviction_manager.go`
synchronize/evictPod): active pods are ranked by (1) whether memory usage exceeds the request
(exceeding first), (2) priority (lower first), (3) usage - request (larger first); the first pod
that may be evicted is; critical pods (priority ≥ 2000000000, `IsCriticalPod`) are skipped; one
pod per pressure episode; PodDisruptionBudgets are not consulted.

Usage is not modelled, so whether a pod's usage exceeds its request is the environment's choice,
within what the spec allows: a pod with no memory request always exceeds it (any usage > 0); a
pod whose every container has a memory limit equal to its request (Guaranteed for memory) never
does (the OOM killer acts first); others may or may not. A pod `v` can be the victim with
`over_request=True` iff it may exceed and no pod that must exceed has a lower priority (the
environment picks the exceeding set {v} plus the must-exceed pods, and usage - request breaks ties); with
`over_request=False` iff no pod must exceed and `v` has the lowest priority.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.kubelet.runtime import KubeletState
from kubeprop.model.state.informer import ObjectView

CRITICAL_PRIORITY = 2000000000
"""`pkg/apis/scheduling` SystemCriticalPriority."""


@attrs.frozen
class Candidate:
    """An active pod as the eviction ranking sees it."""

    key: str
    priority: int
    must_exceed: bool
    may_exceed: bool


def memory_bounds(pod: Pod) -> tuple[bool, bool]:
    """(must exceed its request, may exceed its request) from the containers' memory request/limit."""
    request = Quantity.zero()
    limit = Quantity.zero()
    bounded = True
    for c in pod.spec.containers:
        req = c.resources.requests.get("memory")
        lim = c.resources.limits.get("memory")
        request = request + (req if req is not None else (lim if lim is not None else Quantity.zero()))
        if lim is None:
            bounded = False
        else:
            limit = limit + lim
    must = request.is_zero()
    return must, must or not bounded or limit > request


def candidates(k: KubeletState, cache: ObjectView) -> list[Candidate]:
    """Active pods (running, not terminating, not evicted, not critical) with a cached spec."""
    out = []
    for key, runtime in k.pods.sorted_items():
        if runtime.terminating or runtime.evicted or not runtime.any_running:
            continue
        namespace, name = key.split("/", 1)
        pod = cache.get(ObjectKey("pods", namespace, name))
        if not isinstance(pod, Pod) or pod.metadata.uid != runtime.uid:
            continue
        priority = pod.spec.priority or 0
        if priority >= CRITICAL_PRIORITY:
            continue
        must, may = memory_bounds(pod)
        out.append(Candidate(key, priority, must, may))
    return out


def eviction_victims(k: KubeletState, cache: ObjectView) -> Iterator[tuple[str, bool]]:
    """Every (pod key, over_request) the eviction manager may evict first (module docstring)."""
    pods = candidates(k, cache)
    if not pods:
        return
    must = [p.priority for p in pods if p.must_exceed]
    floor = min(must) if must else None
    lowest = min(p.priority for p in pods)
    for p in pods:
        if p.may_exceed and (floor is None or p.priority <= floor):
            yield p.key, True
        if floor is None and p.priority == lowest:
            yield p.key, False
