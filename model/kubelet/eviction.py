"""Node-pressure eviction: which pod the kubelet's eviction manager may evict under memory, disk or PID
pressure.

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

Disk pressure (`helpers.go` rankDiskPressureFunc: exceedDiskRequests, priority, disk): the same
shape for the signal's resource (`signalToResource`): `ephemeral-storage` for `nodefs.available`,
`imagefs.available` (`disk_bounds`: the request is `GetResourceRequestQuantity` of
ephemeral-storage; usage above the pod's ephemeral-storage limit, `PodLimits`, is evicted by
`localStorageEviction` before any ranking, so a pod with a limit at most its request never exceeds
it; a pod with no request always does: its log directory alone uses some), and `inodes` for the
`*.inodesFree` signals (no pod can request inodes, so every pod with stats exceeds: by priority
alone). Before it ranks, the kubelet reclaims node-level resources (`reclaimNodeLevelResources`:
`DeleteAllUnusedContainers`, `DeleteUnusedImages`, for the imagefs signals or a node without a
dedicated imagefs: `buildSignalToNodeReclaimFuncs`) and evicts nothing if that met the threshold
again: whether it did is the environment's choice (`DiskPressureReclaimed`).

PID pressure (`helpers.go` rankPIDPressure: priority, then process count, a pod without stats
first among equals): the lowest priority first, whatever the usage; no node-level reclaim.

The node conditions these episodes report, their transition period, the taints and the admission
refusals: `kubeprop.model.kubelet.pressure`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import attrs

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod, PodSpec
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.quota import aggregate_containers, pod_limits
from kubeprop.model.kubelet.pressure import CRITICAL_PRIORITY
from kubeprop.model.kubelet.runtime import KubeletState, PodRuntime
from kubeprop.model.kubelet.status import get_phase
from kubeprop.model.state.informer import ObjectView

_MEMORY = "memory"
EPHEMERAL_STORAGE = "ephemeral-storage"
INODES = "inodes"
DISK_RESOURCES = (EPHEMERAL_STORAGE, INODES)
"""The resources a disk signal reclaims (`helpers.go` signalToResource), in the order enumerated."""

Bounds = Callable[[Pod], tuple[bool, bool]]
"""(must exceed its request, may exceed its request) of a pod for one resource."""


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


def resource_request(pod: Pod, resource: str) -> Quantity:
    """`pkg/api/v1/resource/helpers.go` GetResourceRequestQuantity (see `memory_request`)."""
    total = aggregate_containers(pod.spec, lambda c: c.resources.requests).get(resource, Quantity.zero())
    overhead = pod.spec.overhead.get(resource)
    return total + overhead if overhead is not None and not total.is_zero() else total


def memory_request(pod: Pod) -> Quantity:
    """`pkg/api/v1/resource/helpers.go` GetResourceRequestQuantity for memory, what
    `exceedMemoryRequests` and `memory` compare usage with: `PodRequests` without overhead
    (`kubeprop.model.api.quota.aggregate_containers`, the sidecar-aware max(Σ containers + Σ
    sidecars, each init container + the sidecars before it) the scheduler's `pod_requests` is built
    on), plus `spec.overhead` only onto a non-zero total (so not the scheduler's figure, which always
    adds it)."""
    return resource_request(pod, _MEMORY)


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


def disk_bounds(pod: Pod) -> tuple[bool, bool]:
    """`memory_bounds` for ephemeral-storage (`exceedDiskRequests`): the usage measured (logs and
    local volumes, plus the writable layers without a dedicated imagefs) is part of the pod's
    ephemeral-storage usage, which `localStorageEviction` keeps at most the pod's limit (`PodLimits`,
    found once a container declares one) before the ranking; no request: the log directory alone
    exceeds it."""
    request = resource_request(pod, EPHEMERAL_STORAGE)
    if request.is_zero():
        return True, True
    limit = pod_limits(pod.spec).get(EPHEMERAL_STORAGE)
    return False, limit is None or limit > request


def inode_bounds(pod: Pod) -> tuple[bool, bool]:
    """`exceedDiskRequests` for inodes: no pod requests any (not a resource a container can name),
    and a pod with stats uses some (its log directory)."""
    return True, True


def candidates(k: KubeletState, cache: ObjectView, bounds: Bounds = memory_bounds) -> list[Candidate]:
    """Active pods (`holds_resources`: terminating ones included while a container runs) with a
    cached spec (upstream's pod manager), critical ones left out (`evictPod` refuses them), with
    their `bounds` for the resource reclaimed."""
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
        must, may = bounds(pod)
        out.append(Candidate(key, priority, must, may, runtime.any_running))
    return out


def eviction_victims(k: KubeletState, cache: ObjectView) -> Iterator[tuple[str, bool]]:
    """Every (pod key, over_request) the eviction manager may evict first under memory pressure
    (module docstring)."""
    return exceed_ranked(candidates(k, cache))


def disk_victims(k: KubeletState, cache: ObjectView) -> Iterator[tuple[str, str, bool]]:
    """Every (resource, pod key, over_request) the eviction manager may evict first under disk
    pressure, for each resource a disk signal reclaims (module docstring)."""
    for resource, bounds in ((EPHEMERAL_STORAGE, disk_bounds), (INODES, inode_bounds)):
        yield from ((resource, key, over) for key, over in exceed_ranked(candidates(k, cache, bounds)))


def pid_victims(k: KubeletState, cache: ObjectView) -> list[str]:
    """Every pod the eviction manager may evict first under PID pressure (`pid_ranked`)."""
    return pid_ranked(candidates(k, cache, lambda pod: (True, True)))  # no request to exceed


def pid_ranked(pods: list[Candidate]) -> list[str]:
    """The first of `rankPIDPressure` (`orderedBy(priority, process)`) over `pods`: the lowest
    priority; among those, one without stats if any (`process` puts it first), else any, the
    process counts being the environment's."""
    if not pods:
        return []
    lowest = min(p.priority for p in pods)
    group = [p for p in pods if p.priority == lowest]
    blind = [p for p in group if not p.has_stats]
    return [p.key for p in blind or group]


def exceed_ranked(pods: list[Candidate]) -> Iterator[tuple[str, bool]]:
    """The first of `orderedBy(exceed…Requests, priority, usage - request)` over `pods`: a pod
    without stats first (the lowest priority among them), else as the module docstring says."""
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
