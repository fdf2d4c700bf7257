"""The scheduler's failure patch and its retries (`util.PatchPodStatus`).

Upstream (`kubernetes/kubernetes` v1.33, `pkg/scheduler/util/utils.go` PatchPodStatus;
`staging/src/k8s.io/client-go/util/retry/util.go` OnError, DefaultBackoff): the strategic merge
patch of the pod's status is computed once, then sent under `retry.OnError(retry.DefaultBackoff,
Retriable, patchFn)`: up to `DefaultBackoff.Steps` = 4 attempts, 10 ms, 50 ms and 250 ms apart
(Factor 5, Jitter 0.1), as long as each failure is retriable — `Retriable` is
`apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || net.IsConnectionRefused(err)`
(kubernetes PR #111809, v1.26; master also retries a Conflict since its patches carry a
resourceVersion, kubernetes PR #139602). Any other error, or the fourth retriable one, is
returned, and handleSchedulingFailure only logs it. The retries run where the patch was sent: for
a failed scheduling cycle inside `ScheduleOne` (the next cycle waits for them), for a failed
binding in the binding cycle's goroutine (the scheduling cycles go on).

Model: `send_failure_patch` sends the first attempt within the step that failed; a retriable
failure (500 InternalError — an injected failure, etcd without quorum — or 503
ServiceUnavailable) leaves a `PatchRetry` in the instance's memory, and each later attempt is an
action of its own, `RetryStatusPatch(scheduler, pod)`, so that every attempt is a request a fault
(`FailNextRequest`) can hit and other components' steps interleave between attempts, as the
backoff's sleeps let them. While a retry of a scheduling cycle's patch is pending the instance
starts no cycle. A pod whose binding failed waits in the error backoff queue
(`kubeprop.model.scheduler.backoff`: at least `podInitialBackoffDuration`, 1 s, against the
retries' 0.31 s of sleeps); while its own patch is being retried it is also left out of the queue
(the retries hold the clock, so its back-off cannot end first), so a pod has at most one patch in
flight. A crashed scheduler drops its retries with its
memory (the goroutine dies with the process).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs

from kubeprop.model.api.codec import encode
from kubeprop.model.api.server import Request, Response
from kubeprop.model.evolve import evolve
from kubeprop.model.scheduler.queue import PatchRetry, SchedulerState
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState, send

__all__ = ["HANDLERS", "RETRY_STEPS", "RetryStatusPatch", "enabled", "retriable", "send_failure_patch"]

SCHEDULER_USER = "system:kube-scheduler"
RETRY_STEPS = 4
"""`retry.DefaultBackoff.Steps`: the attempts `retry.OnError` makes at most."""
RETRIABLE_REASONS = frozenset({"InternalError", "ServiceUnavailable"})
"""`util.Retriable` (v1.33): `apierrors.IsInternalError`, `apierrors.IsServiceUnavailable`."""


@attrs.frozen(order=True)
class RetryStatusPatch(Action):
    """The next attempt of a failure patch whose last attempt failed retriably (`retry.OnError`)."""

    scheduler: str
    pod: str


def retriable(response: Response) -> bool:
    """`util.Retriable`: an InternalError (500) or ServiceUnavailable (503); IsInternalError also
    takes a 500 of no known reason, and IsServiceUnavailable a 503 whatever its reason."""
    return response.reason in RETRIABLE_REASONS or response.code == 503 or (
        response.code == 500 and response.reason in ("", "Unknown"))


def _request(key: str, retry: PatchRetry) -> Request:
    namespace, _, name = key.partition("/")
    status: dict[str, object] = {}
    if retry.condition is not None:
        status["conditions"] = [encode(retry.condition)]
    if retry.nominated is not None:
        status["nominatedNodeName"] = retry.nominated or None
    return Request(verb="patch-status", user=SCHEDULER_USER, resource="pods", namespace=namespace, name=name,
                   patch={"status": status}, patch_type="strategic")


def _attempt(model: ClusterModel, state: ClusterState, instance: str, key: str, retry: PatchRetry
             ) -> ClusterState:
    """One attempt: a retriable failure short of the last attempt leaves the retry pending."""
    state, response = send(model, state, SCHEDULER_USER, _request(key, retry), instance)
    memory: SchedulerState = state.schedulers[instance]
    again = retry.attempts + 1 < RETRY_STEPS and not response.ok and retriable(response)
    if again:
        retrying = memory.retrying.set(key, evolve(retry, attempts=retry.attempts + 1))
    elif key in memory.retrying:
        retrying = memory.retrying.delete(key)
    else:
        return state
    return evolve(state, schedulers=state.schedulers.set(instance, evolve(memory, retrying=retrying)))


def send_failure_patch(model: ClusterModel, state: ClusterState, instance: str, key: str, retry: PatchRetry
                       ) -> ClusterState:
    """PatchPodStatus's first attempt (`retry.attempts` 0) of the patch `retry` describes."""
    return _attempt(model, state, instance, key, retry)


def enabled(memory: SchedulerState, instance: str) -> Iterator[Action]:
    """The next attempt of each pending retry."""
    for key in sorted(memory.retrying):
        yield RetryStatusPatch(instance, key)


def _retry(model: ClusterModel, state: ClusterState, act: RetryStatusPatch) -> ClusterState:
    memory: SchedulerState = state.schedulers[act.scheduler]
    return _attempt(model, state, act.scheduler, act.pod, memory.retrying[act.pod])


HANDLERS: dict[type[Any], Callable[[ClusterModel, ClusterState, Any], ClusterState]] = {RetryStatusPatch: _retry}
