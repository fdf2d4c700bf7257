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

The node condition (`eviction_manager.go` synchronize): the synchronize that sees the memory
threshold met records the time (`nodeConditionsLastObservedAt`) before it evicts, and the
eviction manager reports MemoryPressure while less than `--eviction-pressure-transition-period`
(parameter `evictionPressureTransitionPeriodSeconds`, 5 min: `pkg/kubelet/apis/config/v1beta1/
defaults.go`) has passed since (`helpers.go` nodeConditionsObservedSince: `now - at < period`).
Each `MemoryPressure` is one episode: the eviction reclaims what the threshold needed, so the
next synchronize (10 s later) no longer sees it met and the time of the eviction is the last
observation; the condition then ends by the clock (a timer, `pressure_ends`: `Tick` runs up to
it), not by a choice of the environment. Pressure that outlasts an eviction is another episode
(`memoryPressureEvents` > 1), which moves the observation forward. The kubelet posts the
condition (`nodestatus/setters.go` MemoryPressureCondition: `kubeprop.model.kubelet.status`),
the node lifecycle controller taints the node `node.kubernetes.io/memory-pressure:NoSchedule`
(TaintNodesByCondition), and while it holds the eviction manager's `Admit` refuses BestEffort
pods (`pressure_rejection`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from kubeprop.model.api.core import TAINT_NODE_MEMORY_PRESSURE, Taint
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet.runtime import KubeletState
from kubeprop.model.state.cluster import ClusterModel, ClusterState
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


PRESSURE_REJECTION = ("Evicted", "The node had condition: [MemoryPressure]. ")
"""`eviction_manager.go` Admit: `Reason` and `nodeConditionMessageFmt` (`helpers.go`) of the
conditions held, here MemoryPressure alone (the model has no disk or PID pressure)."""

_PRESSURE_TAINT = Taint(key=TAINT_NODE_MEMORY_PRESSURE, effect="NoSchedule")

_QOS_RESOURCES = ("cpu", "memory")
"""`pkg/apis/core/v1/helper/qos/qos.go` supportedQoSComputeResources."""


def best_effort(pod: Pod) -> bool:
    """`qos.go` GetPodQOS is BestEffort: no container or init container requests or limits a
    positive amount of cpu or memory."""
    zero = Quantity.zero()
    for c in (*pod.spec.containers, *pod.spec.init_containers):
        for amounts in (c.resources.requests, c.resources.limits):
            if any((q := amounts.get(name)) is not None and q > zero for name in _QOS_RESOURCES):
                return False
    return True


def under_memory_pressure(k: KubeletState, now: int, period: int) -> bool:
    """`IsUnderMemoryPressure`: the threshold was last seen met less than `period` seconds ago
    (`nodeConditionsObservedSince`)."""
    return k.memory_pressure_at is not None and now - k.memory_pressure_at < period


def transition_period(model: ClusterModel) -> int:
    """`--eviction-pressure-transition-period` in seconds (`evictionPressureTransitionPeriodSeconds`)."""
    return int(model.parameter("evictionPressureTransitionPeriodSeconds"))


def pressured(model: ClusterModel, state: ClusterState, node: str) -> bool:
    """Whether the node's eviction manager reports memory pressure now (`under_memory_pressure`)."""
    k = state.kubelets.get(node)
    return isinstance(k, KubeletState) and under_memory_pressure(k, state.clock, transition_period(model))


def pressure_ends(model: ClusterModel, k: KubeletState) -> int | None:
    """When the MemoryPressure condition of the last episode ends (the kubelet's timer)."""
    return None if k.memory_pressure_at is None else k.memory_pressure_at + transition_period(model)


def pressure_spent_in(kubelets: FrozenMap[str, Any]) -> int:
    """The memory-pressure episodes taken so far on a cluster's kubelets (the scenario's budget,
    `memoryPressureEvents`)."""
    return sum(k.pressure_events for k in kubelets.values() if isinstance(k, KubeletState))


def pressure_rejection(pod: Pod, pressured: bool) -> tuple[str, str] | None:
    """The eviction manager's `Admit` (`eviction_manager.go`), the kubelet's first admit handler
    (`kubelet.go` NewMainKubelet adds it before the predicate handler, and canAdmitPod stops at
    the first refusal): under memory pressure alone, a critical pod (`IsCriticalPod`: priority
    from 2000000000; the model has no static or mirror pods) and a pod that is not BestEffort are
    admitted, and so is a BestEffort pod tolerating `node.kubernetes.io/memory-pressure:NoSchedule`;
    any other is refused (reason Evicted)."""
    if not pressured or (pod.spec.priority or 0) >= CRITICAL_PRIORITY or not best_effort(pod):
        return None
    if any(t.tolerates(_PRESSURE_TAINT) for t in pod.spec.tolerations):
        return None
    return PRESSURE_REJECTION
