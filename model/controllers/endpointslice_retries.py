"""The EndpointSlice controller's retry budget: a Service whose syncs keep failing is dropped out of
the queue after `maxRetries` retries and waits for its next event.

Upstream (`pkg/controller/endpointslice/endpointslice_controller.go`, v1.33): handleErr forgets the
key of a sync that succeeded (`serviceQueue.Forget`); re-adds a failed one with `AddRateLimited`
while `NumRequeues(key) < maxRetries` (15); past that it logs "Retry budget exceeded, dropping
service out of the queue" and forgets the key, which then waits for the next event of its
Service or its pods or slices. The queue's rate limiter is the larger of a per-item exponential
back-off, 1 s doubling up to 1000 s (`defaultSyncBackOff`, `maxSyncBackOff`,
`NewTypedItemExponentialFailureRateLimiter`), and a 10 qps bucket that holds back no single key;
`NumRequeues` counts the failures since the key was last forgotten. So the n-th retry comes
Σ_{k<n} min(2^k, 1000) s after the first failure, and the sync that fails at the 15th retry,
6,023 s (1 h 40 min 23 s) after it, drops the key (`retry_budget_seconds`). A sync fails when a
request fails or when a selected pod's Node is missing from the cache (reconcileByAddressType's
aggregated error, `staging/src/k8s.io/endpointslice/reconciler.go`).

This can hide a real bug if the model retries for ever: after the drop, a cause that clears without
an event that enqueues the Service (a Node that reaches the cache: a Node event enqueues no Service
without topology hints; an admission plug-in that stops refusing) leaves the slices stale until the
Service's next event, where endless retries would write them.

The model retries promptly when the state changes and not at all while it does not (a stutter: the
clock passes, `kubeprop.model.controllers.queued_work`), so it counts time, not retries: the
controller remembers, per failing Service, the model time of its streak's first failure
(`RetryMemory.failing`), and a sync that fails once the budget has passed since then drops the key
(not requeued: `tolerate` "forget", or no requeue for a missing Node) and forgets the streak, as a
sync that succeeds does. Whether a sync that sends requests succeeded is known from its responses
only: the decision records the streak with the sync's last request (`RetryMemory.sending`) and
`observe` settles it. A sync whose requests all succeed leaves the memory as it found it (None
while no Service is failing), so a run without failures goes through the same states as before.

Reachability: the default budget, 6,023 s, is some 600 ticks of 10 s of a failure that lasts —
beyond the fair run's `max_ticks` (60) and the default searches' depths. The scenario parameter
`endpointSliceMaxRetries` (0..15) lowers it: 3 retries take 7 s, 5 take 31 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import attrs

from kubeprop.model.api.server import Request, Response
from kubeprop.model.frozen import EMPTY, FrozenMap, frozen_map

MAX_RETRIES = 15
"""Upstream's `maxRetries`."""

DEFAULT_SYNC_BACKOFF_SECONDS = 1
MAX_SYNC_BACKOFF_SECONDS = 1000
"""`defaultSyncBackOff` and `maxSyncBackOff`: the per-item back-off's first and longest delay."""


def retry_budget_seconds(max_retries: int) -> int:
    """How long after a Service's first failed sync the sync that drops it comes: the sum of the
    back-off's first `max_retries` delays (6,023 s for 15)."""
    return sum(min(DEFAULT_SYNC_BACKOFF_SECONDS * 2 ** n, MAX_SYNC_BACKOFF_SECONDS) for n in range(max_retries))


@attrs.frozen(cache_hash=True)
class RetryMemory:
    """The Services whose syncs are failing (`failing`: key → model time of the streak's first
    failure) and, between a decision and its last response, the sync being sent (`sending`: its
    key, its last request, and whether a failure drops the key)."""

    failing: FrozenMap[str, int] = attrs.field(default=EMPTY, converter=frozen_map)
    sending: tuple[str, Request, bool] | None = None


def _memory(failing: FrozenMap[str, int], sending: tuple[str, Request, bool] | None = None) -> RetryMemory | None:
    """The memory, or None when no Service is failing and nothing is being sent."""
    return RetryMemory(failing, sending) if failing or sending is not None else None


def _forget(request: Request, response: Response) -> Literal["forget"]:
    """A failure that drops the key (its retry budget is spent)."""
    return "forget"


@attrs.frozen
class SyncOutcome:
    """The retry budget's part of a sync's decision: the memory, whether to requeue, and `tolerate`."""

    memory: RetryMemory | None
    requeue: bool = False
    tolerate: Any = None


def forgotten(memory: Any, key: str) -> RetryMemory | None:
    """The memory after a sync of `key` that succeeded with nothing to send (upstream: Forget)."""
    return _memory(memory.failing.delete(key)) if isinstance(memory, RetryMemory) else None


def outcome(memory: Any, key: str, now: int, budget: int, requests: Sequence[Request], missing_node: bool
            ) -> SyncOutcome:
    """What the sync of `key` at `now` leaves for the retry budget (see the module docstring): a sync
    with a missing Node fails whatever its requests do; one that only sends requests fails if one does."""
    failing = memory.failing if isinstance(memory, RetryMemory) else EMPTY
    start = failing.get(key, now)
    spent = now - start >= budget
    if not requests and not missing_node:
        return SyncOutcome(forgotten(memory, key))
    if missing_node:
        if spent:  # dropped, whatever its writes do
            return SyncOutcome(forgotten(memory, key), tolerate=_forget if requests else None)
        return SyncOutcome(_memory(failing.set(key, start)), requeue=True)
    return SyncOutcome(_memory(failing.set(key, start), (key, requests[-1], spent)),
                       tolerate=_forget if spent else None)


def observe(memory: Any, request: Request, response: Response) -> Any:
    """Settle the sync being sent: at its last request's success, or its first failure."""
    if not isinstance(memory, RetryMemory) or memory.sending is None:
        return memory
    key, last, dropping = memory.sending
    if response.ok and request is not last:
        return memory  # (more to come)
    failing = memory.failing
    if response.ok or dropping:
        failing = failing.delete(key)
    return _memory(failing)
