"""What a pod costs in ResourceQuota terms: the pod evaluator of the quota system.

Upstream sources (repo `kubernetes/kubernetes`):

* `pkg/quota/v1/evaluator/core/pods.go`: `podResources` and the prefixed / extended names a pod
  quota tracks (`MatchingResources`); `PodUsageFunc` (`count/pods` always, the rest only while
  `QuotaV1Pod`); `podComputeUsageHelper` (`cpu` and `requests.cpu` both from the cpu request,
  `limits.cpu` from the limit, alike for memory and ephemeral-storage, `hugepages-*`, extended
  resources as `requests.<name>`); `Constraints` (every container and init container must set
  the cpu / memory requests or limits a quota tracks: "must specify requests.cpu for: main");
  `QuotaV1Pod` (a terminal pod, or one whose deletionTimestamp + deletionGracePeriodSeconds has
  passed, is no longer charged).
* `staging/src/k8s.io/component-helpers/resource/helpers.go` `PodRequests` / `PodLimits`: the
  pod's requests are max(Σ app containers + Σ sidecars, each init container + the sidecars
  started before it), plus `spec.overhead`; limits alike, overhead added only to a limit that
  is set and non-zero.
* `pkg/apis/core/v1/helper/helpers.go` `IsNativeResource`, `IsExtendedResourceName`.

Pod-level `spec.resources` (PodLevelResources) and in-place resize (status resources) are not
modelled: the model's PodSpec has neither.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from kubeprop.model.api.pod import Container, Pod, PodSpec
from kubeprop.model.api.quantity import Quantity

Resources = dict[str, Quantity]

COUNT_PODS = "count/pods"
POD_RESOURCES = frozenset({
    COUNT_PODS, "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory",
    "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods",
})
"""`podResources`: the quota names the pod evaluator computes."""

REQUIRED_IN_CONTAINERS = frozenset({"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"})
"""`validationSet`: a quota tracking one of these makes every container state it ("a mistake", upstream says)."""

_HUGEPAGES = "hugepages-"
_REQUESTS = "requests."


def _is_native(name: str) -> bool:
    """IsNativeResource: no domain, or a `kubernetes.io/` one."""
    return "/" not in name or "kubernetes.io/" in name


def is_pod_quota_resource(name: str) -> bool:
    """MatchingResources for one name: a pod resource, a hugepages name (`hugepages-2Mi`,
    `requests.hugepages-2Mi`), or an extended resource's `requests.<domain>/<name>`."""
    if name in POD_RESOURCES or name.startswith((_HUGEPAGES, _REQUESTS + _HUGEPAGES)):
        return True
    return name.startswith(_REQUESTS) and not _is_native(name)


def add_resources(total: Resources, more: Mapping[str, Quantity]) -> None:
    """Add `more` into `total`, resource by resource."""
    for name, q in more.items():
        total[name] = total[name] + q if name in total else q


def _max(total: Resources, other: Mapping[str, Quantity]) -> None:
    for name, q in other.items():
        if name not in total or q > total[name]:
            total[name] = q


def aggregate_containers(spec: PodSpec, pick: Callable[[Container], Mapping[str, Quantity]]) -> Resources:
    """The sidecar-aware aggregation of PodRequests / PodLimits, without overhead (what `pick` gives each
    container: its requests, its limits, or the scheduler's non-zero requests)."""
    total: Resources = {}
    for container in spec.containers:
        add_resources(total, pick(container))
    sidecars: Resources = {}
    init_max: Resources = {}
    for init in spec.init_containers:
        own = pick(init)
        if init.restart_policy == "Always":
            add_resources(total, own)
            add_resources(sidecars, own)
            current = dict(sidecars)
        else:
            current = dict(own)
            add_resources(current, sidecars)
        _max(init_max, current)
    _max(total, init_max)
    return total


def pod_requests(spec: PodSpec) -> Resources:
    """PodRequests: the aggregated container requests plus the whole overhead."""
    total = aggregate_containers(spec, lambda c: c.resources.requests)
    add_resources(total, spec.overhead)
    return total


def pod_limits(spec: PodSpec) -> Resources:
    """PodLimits: the aggregated container limits; overhead only onto a set, non-zero limit."""
    total = aggregate_containers(spec, lambda c: c.resources.limits)
    for name, q in spec.overhead.items():
        if name in total and not total[name].is_zero():
            total[name] = total[name] + q
    return total


def compute_usage(requests: Mapping[str, Quantity], limits: Mapping[str, Quantity]) -> Resources:
    """podComputeUsageHelper: quota names from requests and limits (`pods` is always 1)."""
    out: Resources = {"pods": Quantity.from_int(1)}
    for resource in ("cpu", "memory", "ephemeral-storage"):
        if resource in requests:
            out[resource] = out[_REQUESTS + resource] = requests[resource]
        if resource in limits:
            out["limits." + resource] = limits[resource]
    for resource, q in requests.items():
        if resource.startswith(_HUGEPAGES):
            out[resource] = out[_REQUESTS + resource] = q
        elif not _is_native(resource) and not resource.startswith(_REQUESTS):
            out[_REQUESTS + resource] = q
    return out


def charged(pod: Pod, now: int) -> bool:
    """QuotaV1Pod: not terminal, and not past deletionTimestamp + deletionGracePeriodSeconds (a pod
    stuck terminating, on a lost node say, stops counting, so it cannot block its replacement).
    Upstream's deletionTimestamp is already the end of the grace period, so the pod stops counting
    one grace period after that; `now` is the model clock (whole seconds), compared strictly as
    `clock.Now().After(...)`."""
    if pod.status.phase in ("Succeeded", "Failed"):
        return False
    meta = pod.metadata
    if meta.deletion_timestamp is not None and meta.deletion_grace_period_seconds is not None:
        return not now > meta.deletion_timestamp + meta.deletion_grace_period_seconds
    return True


def pod_usage(pod: Pod, now: int) -> Resources:
    """PodUsageFunc: `count/pods` for every stored pod; the compute resources while `charged`."""
    usage: Resources = {COUNT_PODS: Quantity.from_int(1)}
    if charged(pod, now):
        add_resources(usage, compute_usage(pod_requests(pod.spec), pod_limits(pod.spec)))
    return usage


def total_usage(pods: Iterable[Pod], now: int) -> Resources:
    """The namespace's usage: what the quota controller would write into `status.used`."""
    total: Resources = {}
    for pod in pods:
        add_resources(total, pod_usage(pod, now))
    return total


def missing_requests(tracked: Iterable[str], pod: Pod) -> str | None:
    """Constraints: None, or `must specify requests.cpu for: a,b; requests.memory for: b` for the
    tracked names of REQUIRED_IN_CONTAINERS a container or init container does not set."""
    required = REQUIRED_IN_CONTAINERS.intersection(tracked)
    missing: dict[str, set[str]] = {}
    for container in (*pod.spec.containers, *pod.spec.init_containers):
        has = compute_usage(container.resources.requests, container.resources.limits)
        for resource in required.difference(has):
            missing.setdefault(resource, set()).add(container.name)
    if not missing:
        return None
    parts = [f"{resource} for: {','.join(sorted(missing[resource]))}" for resource in sorted(missing)]
    return f"must specify {'; '.join(parts)}"


def pretty(resources: Mapping[str, Quantity]) -> str:
    """prettyPrint: `name=value` in name order, joined by commas."""
    return ",".join(f"{name}={resources[name]}" for name in sorted(resources))


__all__ = [
    "COUNT_PODS", "POD_RESOURCES", "REQUIRED_IN_CONTAINERS", "add_resources", "aggregate_containers", "charged",
    "compute_usage", "is_pod_quota_resource",
    "missing_requests", "pod_limits", "pod_requests", "pod_usage", "pretty", "total_usage",
]
