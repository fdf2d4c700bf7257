"""Gauges and counters of a run: queue depths, watch lag, API requests by verb and code.

- `workqueue-depth` — keys waiting in each controller's work queue, and pods in each scheduler
  instance's active queue (`client-go/util/workqueue/metrics.go` depth; `pkg/scheduler/metrics`
  pending_pods{queue="active"}); the table keeps each queue's highest value and the step of it;
- `watch-lag-events` / `watch-lag-seconds` — for each informer (component and resource), how many
  watch events of that resource it has not received yet, and how long ago the oldest of them was
  written (a stale cache, waiting to relist, counts every write since its revision; a component
  that is down has no watch and is not counted);
- `apiserver-requests` — every response `send` returned, by verb and HTTP code
  (`staging/src/k8s.io/apiserver/pkg/endpoints/metrics/metrics.go` apiserver_request_total{verb,
  code}); 429 (TooManyRequests), 409 (Conflict) and 5xx are the codes §8 and §9 care about.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import attrs

from kubeprop.model.scheduler.queue import SchedulerState, pending_queue
from kubeprop.model.state.cluster import ClusterModel, ClusterState, is_up, view
from kubeprop.properties.metrics_run import Run

__all__ = ["GaugePeak", "gauge_peaks", "request_counts"]


@attrs.frozen(order=True)
class GaugePeak:
    """The highest value a gauge reached over a run, for one subject, and the first step it did."""

    metric: str
    subject: str
    value: int
    step: int

    def __str__(self) -> str:
        return f"{self.metric} {self.subject}: {self.value} (step {self.step})"


def _depths(model: ClusterModel, state: ClusterState) -> Iterator[tuple[str, int]]:
    for name, ctl in state.controllers.sorted_items():
        queue = getattr(ctl, "queue", None)
        if isinstance(queue, tuple):
            yield name, len(queue)
    for name, sched in state.schedulers.sorted_items():
        if isinstance(sched, SchedulerState):
            yield f"{name} active", len(pending_queue(view(model, state, name), sched))
            yield f"{name} unschedulable", len(sched.unschedulable)


def _lags(state: ClusterState, written_at: dict[int, int]) -> Iterator[tuple[str, int, int]]:
    """(informer, events behind, seconds behind) for each cache of a component that is up."""
    for component, informer in state.informers.sorted_items():
        if not is_up(state, component):
            continue
        for resource, cache in informer.resources.sorted_items():
            if cache.stale:
                pending = list(range(cache.revision + 1, state.store.revision + 1))
            else:
                pending = [e.revision for e in state.store.events
                           if e.key.resource == resource and e.revision > cache.revision]
            oldest = min(pending) if pending else None
            behind = state.clock - written_at.get(oldest, state.clock) if oldest is not None else 0
            yield f"{component} {resource}", len(pending), behind


def gauge_peaks(run: Run) -> tuple[GaugePeak, ...]:
    """Each gauge's peak per subject over `run` (subjects that stayed at 0 included)."""
    written_at = run.written_at()
    peaks: dict[tuple[str, str], GaugePeak] = {}

    def note(metric: str, subject: str, value: int, step: int) -> None:
        best = peaks.get((metric, subject))
        if best is None or value > best.value:
            peaks[(metric, subject)] = GaugePeak(metric, subject, value, step)

    for i, state in enumerate(run.states):
        for name, depth in _depths(run.model, state):
            note("workqueue-depth", name, depth, i)
        for informer, events, seconds in _lags(state, written_at):
            note("watch-lag-events", informer, events, i)
            note("watch-lag-seconds", informer, seconds, i)
    return tuple(sorted(peaks.values()))


def request_counts(run: Run) -> Counter[tuple[str, int]]:
    """API responses of `run` by (verb, code)."""
    return Counter((call.verb, call.code) for calls in run.calls for call in calls)
