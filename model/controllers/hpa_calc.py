"""The HPA's arithmetic, as pure functions: the replica calculator and the normalisation rules.

Upstream (v1.33): `pkg/controller/podautoscaler/replica_calculator.go` (GetResourceReplicas,
GetRawResourceReplicas / calcPlainMetricReplicas, groupPods, calculatePodRequests — the per-pod
sums and errors are `kubeprop.model.controllers.hpa.pod_request`),
`pkg/controller/podautoscaler/metrics/utilization.go` (GetResourceUtilizationRatio,
GetMetricUsageRatio) and `horizontal.go` (stabilizeRecommendation, normalizeDesiredReplicas,
stabilizeRecommendationWithBehaviors, convertDesiredReplicasWithBehaviorRate,
calculateScaleUpLimitWithScalingRules, calculateScaleDownLimitWithBehaviors,
convertDesiredReplicasWithRules, getReplicasChangePerPeriod).

Times are whole seconds of the model clock. A metric's timestamp is the time of the read (the
model's metrics are instantaneous) and its window is the metrics resolution.

Recommendations and scale events are kept as tuples sorted by time with the samples no window
can reach any more dropped; upstream keeps a slice and overwrites one outdated sample. Every
result is the same (outdated samples are outside every cutoff from then on), and equal
histories are equal values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs

from kubeprop.model.api.autoscaling import HPAScalingRules
from kubeprop.model.api.meta import Condition

SCALE_UP_LIMIT_FACTOR = 2.0
SCALE_UP_LIMIT_MINIMUM = 4.0


class MetricsError(Exception):
    """A replica count could not be computed (the message is upstream's)."""


@attrs.frozen
class PodSample:
    """What the calculator knows of one pod: its lister state, request (milli, None when
    calculatePodRequests fails for it, `request_error` saying why) and its metric (milli, None
    when metrics-server has none)."""

    name: str
    phase: str
    ready: Condition | None
    start_time: int | None
    deleting: bool
    request: int | None
    metric: int | None
    request_error: str = ""


@attrs.frozen
class Grouping:
    """groupPods: ready pods counted, unready / missing-metric / ignored pods named."""

    ready_count: int
    unready: frozenset[str]
    missing: frozenset[str]
    ignored: frozenset[str]


def group_pods(pods: Sequence[PodSample], resource: str, now: int, window: int, cpu_initialization: int,
               readiness_delay: int) -> Grouping:
    """groupPods: terminating or Failed pods are ignored; Pending pods are unready; pods without
    a metric are missing; for CPU, a pod within its initialisation period is unready while not
    Ready or until a full metric window after it became Ready, and afterwards only if it never
    became Ready within `readiness_delay` of starting."""
    ready, unready, missing, ignored = 0, set(), set(), set()
    for pod in pods:
        if pod.deleting or pod.phase == "Failed":
            ignored.add(pod.name)
            continue
        if pod.phase == "Pending":
            unready.add(pod.name)
            continue
        if pod.metric is None:
            missing.add(pod.name)
            continue
        if resource == "cpu":
            cond = pod.ready
            if cond is None or pod.start_time is None:
                is_unready = True
            else:
                changed = cond.last_transition_time or 0
                if pod.start_time + cpu_initialization > now:
                    is_unready = cond.status == "False" or now < changed + window
                else:
                    is_unready = cond.status == "False" and pod.start_time + readiness_delay > changed
            if is_unready:
                unready.add(pod.name)
                continue
        ready += 1
    return Grouping(ready, frozenset(unready), frozenset(missing), frozenset(ignored))


def utilization_ratio(metrics: dict[str, int], requests: dict[str, int], target: int) -> tuple[float, int, int]:
    """GetResourceUtilizationRatio: (ratio, utilization in whole percent, raw average milli)."""
    total, requested, entries = 0, 0, 0
    for name, value in metrics.items():
        if name in requests:
            total += value
            requested += requests[name]
            entries += 1
    if requested == 0:
        raise MetricsError("no metrics returned matched known pods")
    utilization = total * 100 // requested  # int32 division; totals are never negative here
    return utilization / target, utilization, total // entries


def usage_ratio(metrics: dict[str, int], target: int) -> tuple[float, int]:
    """GetMetricUsageRatio: (ratio, average usage milli)."""
    average = sum(metrics.values()) // len(metrics)
    return average / target, average


def within(ratio: float, tolerance: float) -> bool:
    """Tolerances.isWithin with the same tolerance both ways."""
    return 1.0 - tolerance <= ratio <= 1.0 + tolerance


def _requests(pods: Sequence[PodSample]) -> dict[str, int]:
    """calculatePodRequests over the lister's pods: the first pod's error fails the metric."""
    out = {}
    for pod in pods:
        if pod.request is None:
            raise MetricsError(pod.request_error or f"missing request in Pod {pod.name}")
        out[pod.name] = pod.request
    return out


@attrs.frozen
class Proposal:
    """A metric's proposal: replicas, and the current value for the status (utilization in
    percent or None; the average raw value in milli)."""

    replicas: int
    utilization: int | None
    average: int


def _fill(metrics: dict[str, int], grouping: Grouping, ratio: float, missing_value: dict[str, int]) -> None:
    if grouping.missing:
        if ratio < 1.0:
            metrics.update({name: missing_value[name] for name in grouping.missing})
        elif ratio > 1.0:
            metrics.update(dict.fromkeys(grouping.missing, 0))
    if grouping.unready and ratio > 1.0:
        metrics.update(dict.fromkeys(grouping.unready, 0))


def _counted_metrics(pods: Sequence[PodSample], grouping: Grouping) -> dict[str, int]:
    """The metrics of the pods that count (neither ignored nor unready); MetricsError when there
    are no pods or none of them has a metric (both replica calculations start so)."""
    if not pods:
        raise MetricsError("no pods returned by selector while calculating replica count")
    metrics = {p.name: p.metric for p in pods if p.metric is not None
               and p.name not in grouping.ignored and p.name not in grouping.unready}
    if not metrics:
        raise MetricsError("did not receive metrics for targeted pods (pods might be unready)")
    return metrics


def resource_replicas(current: int, target_utilization: int, pods: Sequence[PodSample], grouping: Grouping,
                      tolerance: float) -> Proposal:
    """GetResourceReplicas: a Utilization target of a resource (MetricsError on failure)."""
    metrics = _counted_metrics(pods, grouping)
    requests = _requests(pods)
    ratio, utilization, raw = utilization_ratio(metrics, requests, target_utilization)
    scale_up_with_unready = bool(grouping.unready) and ratio > 1.0
    if not scale_up_with_unready and not grouping.missing:
        if within(ratio, tolerance):
            return Proposal(current, utilization, raw)
        return Proposal(math.ceil(ratio * grouping.ready_count), utilization, raw)
    fallback = max(100, target_utilization)
    _fill(metrics, grouping, ratio, {n: requests[n] * fallback // 100 for n in grouping.missing})
    new_ratio, _, _ = utilization_ratio(metrics, requests, target_utilization)
    return Proposal(_rebalanced(current, ratio, new_ratio, len(metrics), tolerance), utilization, raw)


def _rebalanced(current: int, ratio: float, new_ratio: float, counted: int, tolerance: float) -> int:
    if within(new_ratio, tolerance) or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
        return current
    replicas = math.ceil(new_ratio * counted)
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current
    return replicas


def plain_replicas(current: int, target_usage: int, pods: Sequence[PodSample], grouping: Grouping,
                   tolerance: float) -> Proposal:
    """calcPlainMetricReplicas: an AverageValue target of a resource (MetricsError on failure)."""
    metrics = _counted_metrics(pods, grouping)
    ratio, usage = usage_ratio(metrics, target_usage)
    scale_up_with_unready = bool(grouping.unready) and ratio > 1.0
    if not scale_up_with_unready and not grouping.missing:
        if within(ratio, tolerance):
            return Proposal(current, None, usage)
        return Proposal(math.ceil(ratio * grouping.ready_count), None, usage)
    _fill(metrics, grouping, ratio, dict.fromkeys(grouping.missing, target_usage))
    new_ratio, _ = usage_ratio(metrics, target_usage)
    if within(new_ratio, tolerance) or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
        return Proposal(current, None, usage)
    # calcPlainMetricReplicas has no direction re-check after the ceiling (unlike the resource path).
    return Proposal(math.ceil(new_ratio * len(metrics)), None, usage)


# --- normalisation ---------------------------------------------------------------------------------

Samples = tuple[tuple[int, int], ...]
"""(time, value) pairs sorted by time: recommendations, or scale events (replica changes)."""


def stabilize(recommendations: Samples, desired: int, now: int, window: int) -> tuple[int, Samples]:
    """stabilizeRecommendation (no `behavior`): the highest recommendation not older than the
    window (a sample exactly at the cutoff counts), and the history with `desired` recorded."""
    cutoff = now - window
    highest = desired
    for at, value in recommendations:
        if at >= cutoff:
            highest = max(highest, value)
    kept = tuple((at, v) for at, v in recommendations if at >= cutoff)
    return highest, (*kept, (now, desired))


_TOO_FEW = "the desired replica count is less than the minimum replica count"


def _upper_bound(scale_up_limit: int, max_replicas: int) -> tuple[int, str, str]:
    """The highest replica count allowed and the condition that sets it: the scale-up limit, or
    maxReplicas when that is not above it."""
    if max_replicas > scale_up_limit:
        return scale_up_limit, "ScaleUpLimit", (
            "the desired replica count is increasing faster than the maximum scale rate")
    return max_replicas, "TooManyReplicas", "the desired replica count is more than the maximum replica count"


def limit_without_behavior(current: int, desired: int, min_replicas: int, max_replicas: int) -> tuple[int, str, str]:
    """convertDesiredReplicasWithRules: clamp to [minReplicas, min(maxReplicas, max(2·current, 4))]."""
    scale_up_limit = int(max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM))
    maximum, reason, message = _upper_bound(scale_up_limit, max_replicas)
    if desired < min_replicas:
        return min_replicas, "TooFewReplicas", _TOO_FEW
    if desired > maximum:
        return maximum, reason, message
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"


def stabilize_with_behaviors(recommendations: Samples, current: int, desired: int, now: int, up_window: int,
                             down_window: int) -> tuple[int, str, str, Samples]:
    """stabilizeRecommendationWithBehaviors: `desired` bounded below by the lowest recommendation
    within the scale-up window and above by the highest within the scale-down window (samples
    strictly after the cutoffs); the history with `desired` recorded."""
    up_cutoff, down_cutoff = now - up_window, now - down_window
    up, down = desired, desired
    for at, value in recommendations:
        if at > up_cutoff:
            up = min(up, value)
        if at > down_cutoff:
            down = max(down, value)
    recommendation = max(current, up)
    recommendation = min(recommendation, down)
    kept = tuple((at, v) for at, v in recommendations if at >= min(up_cutoff, down_cutoff))
    if desired >= current:
        reason, message = "ScaleUpStabilized", ("recent recommendations were lower than current one, applying the "
                                                "lowest recent recommendation")
    else:
        reason, message = "ScaleDownStabilized", ("recent recommendations were higher than current one, applying the "
                                                  "highest recent recommendation")
    return recommendation, reason, message, (*kept, (now, desired))


def change_in_period(events: Samples, period: int, now: int) -> int:
    """getReplicasChangePerPeriod: the replicas changed by events strictly after now − period."""
    return sum(change for at, change in events if at > now - period)


def _rate_limit(current: int, up_events: Samples, down_events: Samples, rules: HPAScalingRules, now: int,
                scale_up: bool) -> int:
    """The replicas one direction's rate policies allow: each policy proposes from the replicas at
    the start of its period; `selectPolicy` Min takes the proposal that changes least (the smallest
    scale-up, the largest scale-down floor), Max the one that changes most, Disabled allows none."""
    if rules.select_policy == "Disabled":
        return current
    least_change = min if scale_up else max
    pick = least_change if rules.select_policy == "Min" else (max if scale_up else min)
    result: int | None = None
    for policy in rules.policies:
        start = current - change_in_period(up_events, policy.period_seconds, now) + change_in_period(
            down_events, policy.period_seconds, now)
        if scale_up:
            proposed = (start + policy.value if policy.type == "Pods"
                        else math.ceil(start * (1 + policy.value / 100)))
        else:
            proposed = start - policy.value if policy.type == "Pods" else int(start * (1 - policy.value / 100))
        result = proposed if result is None else pick(result, proposed)
    if result is None:  # no policy (validation forbids it): upstream's starting value
        return -(2 ** 31) if pick is max else 2 ** 31 - 1
    return result


def scale_up_limit(current: int, up_events: Samples, down_events: Samples, rules: HPAScalingRules, now: int) -> int:
    """calculateScaleUpLimitWithScalingRules."""
    return _rate_limit(current, up_events, down_events, rules, now, scale_up=True)


def scale_down_limit(current: int, up_events: Samples, down_events: Samples, rules: HPAScalingRules, now: int) -> int:
    """calculateScaleDownLimitWithBehaviors."""
    return _rate_limit(current, up_events, down_events, rules, now, scale_up=False)


def limit_with_behavior(current: int, desired: int, min_replicas: int, max_replicas: int, up_events: Samples,
                        down_events: Samples, up: HPAScalingRules, down: HPAScalingRules,
                        now: int) -> tuple[int, str, str]:
    """convertDesiredReplicasWithBehaviorRate: the rate policies and the min/max bounds."""
    if desired > current:
        limit = max(scale_up_limit(current, up_events, down_events, up, now), current)
        maximum, reason, message = _upper_bound(limit, max_replicas)
        if desired > maximum:
            return maximum, reason, message
    elif desired < current:
        limit = min(scale_down_limit(current, up_events, down_events, down, now), current)
        if min_replicas < limit:
            minimum, reason, message = limit, "ScaleDownLimit", (
                "the desired replica count is decreasing faster than the maximum scale rate")
        else:
            minimum, reason, message = min_replicas, "TooFewReplicas", _TOO_FEW
        if desired < minimum:
            return minimum, reason, message
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"


def longest_period(rules: HPAScalingRules | None) -> int:
    """getLongestPolicyPeriod."""
    return max((p.period_seconds for p in rules.policies), default=0) if rules is not None else 0


def record_event(events: Samples, change: int, now: int, keep_seconds: int) -> Samples:
    """storeScaleEvent: the event recorded; events older than the longest policy period dropped."""
    return (*((at, c) for at, c in events if at >= now - keep_seconds), (now, change))
