"""Node-pressure eviction: which pod the kubelet's eviction manager may evict under memory pressure.

Upstream (`pkg/kubelet/eviction/helpers.go` rankMemoryPressure, `eviction_manager.go`
synchronize/evictPod): the active pods (`holds_resources`) are ranked by (1) whether memory usage
exceeds the request (exceeding first), (2) priority (lower first), (3) usage - request (larger
first); the first pod that may be evicted is; critical pods (priority ≥ 2000000000,
`IsCriticalPod`) are skipped; one pod per pressure episode; PodDisruptionBudgets are not consulted.

The active pods are `GetActivePods` (`kubelet_pods.go` filterOutInactivePods): a pod whose
termination was requested (SIGTERM sent, a deletion say) stays active until the pod worker knows
it terminated, so a terminating pod whose containers still run is ranked like any other, and
evicting it kills it with the eviction's grace period override (`immediateEvictionGracePeriodSeconds`
= 1 s for the hard `memory.available` threshold; the model kills at once, as for every victim):
`pod_workers.go` UpdatePod shortens a terminating pod's grace period (`calculateEffectiveGracePeriod`)
and keeps the eviction's status function (Failed, Evicted) for after the termination.

Stats: the ranking reads each pod's stats from the summary (`cachedStatsFunc`), and a pod for
which none were found is ranked first by both `exceedMemoryRequests` and `memory` ("prioritize
evicting the pod for which no stats were found"; by design, kubernetes/kubernetes#123591). The
CRI stats provider (`pkg/kubelet/stats/cri_stats_provider.go` listPodStatsPartiallyFromCRI, every
runtime but CRI-O's legacy cAdvisor path) builds a pod's stats from its running containers only
(`getPodAndContainerMaps` → `removeTerminatedContainers`), so an active pod with no container
running — not yet started, volumes not mounted, a CreateContainerConfigError, every container
waiting out its restart back-off — has none: such pods are evicted first, the lowest priority
among them (the sort is not stable: any of equal priority), whatever the others' usage.

Usage is not modelled, so whether a pod's usage exceeds its request is the environment's choice,
within what the spec allows (`memory_bounds`): a pod with no memory request always exceeds it (any
usage > 0); a pod whose pod-level cgroup limit is at most its request never does (the OOM killer
acts first); others may or may not. A pod `v` with stats can be the victim with
`over_request=True` iff it may exceed and no pod that must exceed has a lower priority (the
environment picks the exceeding set {v} plus the must-exceed pods, and usage - request breaks ties); with
`over_request=False` iff no pod must exceed and `v` has the lowest priority. A victim without stats
is named with `over_request=False` (it has no usage).

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
from kubeprop.model.api.pod import Pod, PodSpec
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.quota import aggregate_containers, pod_limits
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet.runtime import KubeletState, PodRuntime
from kubeprop.model.kubelet.status import get_phase
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.model.state.informer import ObjectView

CRITICAL_PRIORITY = 2000000000
"""`pkg/apis/scheduling` SystemCriticalPriority."""

_MEMORY = "memory"


@attrs.frozen
class Candidate:
    """An active pod as the eviction ranking sees it; `has_stats`: a container of it runs."""

    key: str
    priority: int
    must_exceed: bool
    may_exceed: bool
    has_stats: bool = True


def holds_resources(runtime: PodRuntime) -> bool:
    """Whether an admitted pod is active (`kubelet_pods.go` GetActivePods → filterOutInactivePods):
    the pods the eviction manager ranks and admission counts. Not once the pod worker knows it
    terminated (its kill requested and no container left running), nor while terminal with no kill
    requested (finished, evicted, rejected); a pod whose termination was requested (deleted, or
    Failed for its active deadline) still counts while a container of it runs."""
    if runtime.terminating:
        return runtime.any_running
    return get_phase(runtime) not in ("Succeeded", "Failed")


def memory_request(pod: Pod) -> Quantity:
    """`pkg/api/v1/resource/helpers.go` GetResourceRequestQuantity for memory, what
    `exceedMemoryRequests` and `memory` compare usage with: `PodRequests` without overhead
    (`kubeprop.model.api.quota.aggregate_containers`, the sidecar-aware max(Σ containers + Σ
    sidecars, each init container + the sidecars before it) the scheduler's `pod_requests` is built
    on), plus `spec.overhead` only onto a non-zero total (so not the scheduler's figure, which always
    adds it)."""
    total = aggregate_containers(pod.spec, lambda c: c.resources.requests).get(_MEMORY, Quantity.zero())
    overhead = pod.spec.overhead.get(_MEMORY)
    return total + overhead if overhead is not None and not total.is_zero() else total


def _limits_declared(spec: PodSpec) -> bool:
    """`pkg/kubelet/cm/helpers_linux.go` ResourceConfigForPod `memoryLimitsDeclared`: the `ContainerFn`
    of `PodLimits` (`component-helpers/resource/helpers.go`) saw no zero memory limit — each app
    container's own, each init container's own plus the sidecars' started before it (or up to it,
    for a sidecar)."""
    zero = Quantity.zero()
    if any(c.resources.limits.get(_MEMORY, zero).is_zero() for c in spec.containers):
        return False
    sidecars = zero
    for init in spec.init_containers:
        own = init.resources.limits.get(_MEMORY, zero)
        if init.restart_policy == "Always":
            sidecars = sidecars + own
            seen = sidecars
        else:
            seen = own + sidecars
        if seen.is_zero():
            return False
    return True


def memory_bounds(pod: Pod) -> tuple[bool, bool]:
    """(must exceed its request, may exceed its request). The usage compared is the pod cgroup's
    working set (`cri_stats_provider.go` addPodCPUMemoryStats); it is capped by the pod cgroup's
    memory limit, `PodLimits` (overhead onto a non-zero limit), which the kubelet sets when every
    container declares one (`_limits_declared`). No request: any usage exceeds it."""
    request = memory_request(pod)
    must = request.is_zero()
    if must or not _limits_declared(pod.spec):
        return must, True
    return False, pod_limits(pod.spec)[_MEMORY] > request


def candidates(k: KubeletState, cache: ObjectView) -> list[Candidate]:
    """Active pods (`holds_resources`: terminating ones included while a container runs) with a
    cached spec (upstream's pod manager), critical ones left out (`evictPod` refuses them)."""
    out = []
    for key, runtime in k.pods.sorted_items():
        if not holds_resources(runtime):
            continue
        namespace, name = key.split("/", 1)
        pod = cache.get(ObjectKey("pods", namespace, name))
        if not isinstance(pod, Pod) or pod.metadata.uid != runtime.uid:
            continue
        priority = pod.spec.priority or 0
        if priority >= CRITICAL_PRIORITY:
            continue
        must, may = memory_bounds(pod)
        out.append(Candidate(key, priority, must, may, runtime.any_running))
    return out


def eviction_victims(k: KubeletState, cache: ObjectView) -> Iterator[tuple[str, bool]]:
    """Every (pod key, over_request) the eviction manager may evict first (module docstring)."""
    pods = candidates(k, cache)
    blind = [p for p in pods if not p.has_stats]
    if blind:  # no stats found: ranked first, by priority alone
        lowest = min(p.priority for p in blind)
        yield from ((p.key, False) for p in blind if p.priority == lowest)
        return
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
