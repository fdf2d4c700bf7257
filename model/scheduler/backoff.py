"""The scheduling queue's back-off: how long a pod that failed waits before it is tried again.

Upstream (`kubernetes/kubernetes` v1.33, `pkg/scheduler/backend/queue/backoff_queue.go`,
`scheduling_queue.go`, `active_queue.go`):

- every pod in the queue counts its scheduling attempts (`QueuedPodInfo.Attempts`, one more at
  each `Pop`) and carries the time it was last put back after a failure (`Timestamp`, refreshed by
  `AddUnschedulableIfNotPresent`). Its back-off lasts `podInitialBackoffDuration` (1 s) doubled per
  attempt after the first, capped at `podMaxBackoffDuration` (10 s) (`calculateBackoffDuration`;
  `pkg/scheduler/apis/config/v1/defaults.go` PodInitialBackoffSeconds 1, PodMaxBackoffSeconds 10:
  the same in every release since v1.19), and ends at `Timestamp` + that (`getBackoffTime`; with
  SchedulerPopFromBackoffQ, truncated to the second: the model's clock counts whole seconds);
- a pod rejected by plugins (Unschedulable) goes to `unschedulablePods`; an event that may help
  (`MoveAllToActiveOrBackoffQueue`, `requeuePodWithQueueingStrategy`) moves it to the backoffQ while
  `isPodBackingoff`, to the activeQ after;
- a pod that failed with an error (no rejector plugin: a failed binding, handleBindingCycleError)
  goes straight back (`determineSchedulingHintForInFlightPod` answers queueAfterBackoff) to the
  *error* backoff queue (`podErrorBackoffQ`);
- `flushBackoffQCompleted` (every second) moves the pods whose back-off ended to the activeQ;
- SchedulerPopFromBackoffQ (KEP-5142, beta and on by default from v1.33; absent before: parameter
  `schedulerPopFromBackoffQ`): when the activeQ is empty, `Pop` takes the head of `podBackoffQ`
  (back-off end, then the activeQ's order: `lessBackoffCompletedWithPriority`) without waiting —
  never a pod of `podErrorBackoffQ` (`popBackoff`).

Model: the attempts are counted per pod at each failure (a cycle that parks it, a binding that
fails: every attempt but a pod's last, successful one ends so, so the count is `Attempts` wherever
a back-off is computed), dropped when the scheduler's cache shows the pod bound or deleted, and
capped where the back-off reaches its cap (more attempts no longer change anything); a pod in
back-off is a `Backoff` (when it ends, and whether it is an error back-off). The model's clock
moves in ticks (10 s by default), and a step taken at clock t stands for a moment within that
tick: a back-off that began at t ends at the first clock at or past its end (`t + duration`), so a
pod put back in the same clock value waits, and one tick ends it. The end is the scheduler's timer
(`queue.next_timer`): a pod that only waits for its back-off does not hold the clock
(`kubeprop.model.cluster.prompt_work`).
"""

from __future__ import annotations

import attrs

from kubeprop.model.frozen import FrozenMap

__all__ = [
    "ATTEMPTS_CAP",
    "POD_INITIAL_BACKOFF_SECONDS",
    "POD_MAX_BACKOFF_SECONDS",
    "Backoff",
    "attempted",
    "backoff_seconds",
    "expired",
]

POD_INITIAL_BACKOFF_SECONDS = 1
"""`pkg/scheduler/apis/config/v1/defaults.go`: PodInitialBackoffSeconds defaults to 1."""
POD_MAX_BACKOFF_SECONDS = 10
"""`pkg/scheduler/apis/config/v1/defaults.go`: PodMaxBackoffSeconds defaults to 10."""


@attrs.frozen(cache_hash=True)
class Backoff:
    """A pod in the backoff queue: the clock at which its back-off ends (`until`), and whether it
    waits in `podErrorBackoffQ` (`error`: it failed with an error, and is never popped early)."""

    until: int
    error: bool = False


def backoff_seconds(attempts: int) -> int:
    """`calculateBackoffDuration`: 0 for a pod never tried, else the initial back-off doubled per
    attempt after the first, capped."""
    if attempts <= 0:
        return 0
    duration = POD_INITIAL_BACKOFF_SECONDS
    for _ in range(1, attempts):
        if duration > POD_MAX_BACKOFF_SECONDS - duration:
            return POD_MAX_BACKOFF_SECONDS
        duration += duration
    return duration


def _cap() -> int:
    """The attempts from which the back-off stays at its cap."""
    attempts = 1
    while backoff_seconds(attempts) < POD_MAX_BACKOFF_SECONDS:
        attempts += 1
    return attempts


ATTEMPTS_CAP = _cap()
"""Attempts beyond this one no longer change the back-off: the count stops there (5 by default)."""


def attempted(attempts: FrozenMap[str, int], key: str) -> FrozenMap[str, int]:
    """One (failed) attempt more for `key` (up to `ATTEMPTS_CAP`)."""
    count = attempts.get(key, 0)
    return attempts if count >= ATTEMPTS_CAP else attempts.set(key, count + 1)


def expired(backoff: FrozenMap[str, Backoff], clock: int) -> FrozenMap[str, Backoff]:
    """`flushBackoffQCompleted`: the backoff queue without the pods whose back-off ended by `clock`."""
    if all(b.until > clock for b in backoff.values()):
        return backoff
    return FrozenMap({k: b for k, b in backoff.items() if b.until > clock})
