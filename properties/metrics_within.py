"""Time bounds users state on metrics: `within("pod-replacement-time", seconds=360)`.

A bound is a safety property every engine can check on every state: no interval of the metric
has been open for more than `seconds` of model time. Checked on each state of every explored
run, that is the same as "every interval closes within `seconds`", because model time only moves
by `Tick` and each state after a tick is checked. The state alone says when each interval began:

- `pod-scheduling-latency`: an unbound, non-terminating pod, since its creationTimestamp;
- `pod-replacement-time`: a node whose heartbeats stopped (`ClusterState.heartbeat_lost`, the
  time its kubelet last reached the API server) still carrying a pod of a controller that does
  not have its desired Ready pods on nodes that reach the API server;
- `eviction-latency`: a non-terminating pod on a node whose Ready condition is not True, since
  that condition's lastTransitionTime.

The other interval metrics (startup, rollout, queue duration) need the run's history; check
their bounds on traces with `violations(table, metric, seconds)`. A violation's trace is a
counterexample like any other (`kubeprop.counterexamples.record(model, trace, prop=bound)`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kubeprop.model.api.meta import find_condition
from kubeprop.model.api.objects import Node, Pod
from kubeprop.model.errors import UsageError
from kubeprop.model.state.cluster import ClusterModel, ClusterState, pod_key
from kubeprop.properties.metrics import MetricsTable
from kubeprop.properties.metrics_intervals import INTERVAL_METRICS, Sample, owner_of, restored
from kubeprop.properties.registry import CheckResult, Property, as_property

__all__ = ["STATE_METRICS", "open_intervals", "violations", "within"]

Elapsed = Iterator[tuple[str, int]]
"""(subject, seconds its interval has been open)."""


def _scheduling(state: ClusterState) -> Elapsed:
    for pod in state.store.list("pods"):
        if isinstance(pod, Pod) and not pod.spec.node_name and pod.metadata.deletion_timestamp is None:
            created = pod.metadata.creation_timestamp or 0
            yield f"Pod {pod_key(pod)} (created at {created} s, not bound)", state.clock - created


def _replacement(state: ClusterState) -> Elapsed:
    for node, lost_at in state.heartbeat_lost.sorted_items():
        owners = {owner for pod in state.store.list("pods")
                  if isinstance(pod, Pod) and pod.spec.node_name == node and (owner := owner_of(pod)) is not None}
        for owner in sorted(owners):
            if restored(state, owner) is False:
                yield (f"{owner[0]} {owner[1]} (a pod on {node}, lost at {lost_at} s, not replaced)",
                       state.clock - lost_at)


def _eviction(state: ClusterState) -> Elapsed:
    since: dict[str, int] = {}
    for n in state.store.list("nodes"):
        cond = find_condition(n.status.conditions, "Ready") if isinstance(n, Node) else None
        if cond is not None and cond.status != "True":
            since[n.metadata.name] = cond.last_transition_time or 0
    for pod in state.store.list("pods"):
        if isinstance(pod, Pod) and pod.spec.node_name in since and pod.metadata.deletion_timestamp is None:
            at = since[pod.spec.node_name]
            yield f"Pod {pod_key(pod)} (on {pod.spec.node_name}, not Ready since {at} s, not evicted)", state.clock - at


STATE_METRICS: dict[str, Callable[[ClusterState], Elapsed]] = {
    "pod-scheduling-latency": _scheduling,
    "pod-replacement-time": _replacement,
    "eviction-latency": _eviction,
}
"""Interval metrics whose open intervals a single state shows, with how long each has been open."""


def open_intervals(metric: str, state: ClusterState) -> list[tuple[str, int]]:
    """(subject, seconds open) of every interval of `metric` open in `state`."""
    return list(_state_metric(metric)(state))


def _state_metric(metric: str) -> Callable[[ClusterState], Elapsed]:
    found = STATE_METRICS.get(metric)
    if found is None:
        if metric in INTERVAL_METRICS:
            raise UsageError(f"{metric} needs a run's history; check its bound on traces with "
                             f"metrics_within.violations (state bounds: {', '.join(STATE_METRICS)})")
        raise UsageError(f"unknown metric {metric!r}; valid: {', '.join(INTERVAL_METRICS)}")
    return found


def within(metric: str, seconds: int, name: str | None = None) -> Property:
    """The safety property "every `metric` interval closes within `seconds` of model time", under
    `name` (default `<metric>-within-<seconds>s`). It is not registered: pass it to an engine or
    `check` as a Property value."""
    if seconds < 0:
        raise UsageError(f"within: seconds must be >= 0, got {seconds}")
    elapsed = _state_metric(metric)
    title = name or f"{metric}-within-{seconds}s"

    def check(model: ClusterModel, state: ClusterState) -> CheckResult:
        late = [(subject, t) for subject, t in elapsed(state) if t > seconds]
        if not late:
            return None
        subject, t = max(late, key=lambda item: item[1])
        return f"{metric} over {seconds} s: {subject} for {t} s", (subject.split(" (")[0],)

    return as_property(title, f"Every {metric} interval closes within {seconds} s of model time.",
                       "docs/metrics.md (the seed's §4.5 and §8)", "safety", check)


def violations(table: MetricsTable, metric: str, seconds: int) -> tuple[Sample, ...]:
    """The samples of a run's table that break the bound: closed ones longer than `seconds`, and
    open ones already open longer."""
    if metric not in INTERVAL_METRICS:
        raise UsageError(f"unknown metric {metric!r}; valid: {', '.join(INTERVAL_METRICS)}")
    return tuple(s for s in table.of(metric) if s.seconds > seconds)
