"""The clock waits for a controller with work it can do now (a tick guard, `Hooks.tick_guards`).

Upstream a controller's workers block in the work queue's `Get` and take a key the moment one is
added (`staging/src/k8s.io/client-go/util/workqueue/queue.go` Get/Add; each controller's
`processNextWorkItem`, e.g. `pkg/controller/replicaset/replica_set.go` worker, started by
`wait.UntilWithContext(ctx, rsc.worker, time.Second)` once `WaitForNamedCacheSync` returned): a
running controller drains its queue in milliseconds. The model's `Tick` moves the clock by the
scenario's tick (10 s by default), so a `Tick` taken while such a key waits stands for a controller
that sat on it for that long — which upstream takes an outage of kube-controller-manager (its
process crashed, or it lost its leader lease: `staging/src/k8s.io/component-base/config/v1alpha1/
defaults.go` RecommendedDefaultLeaderElectionConfiguration, LeaseDuration 15 s, RenewDeadline 10 s,
RetryPeriod 2 s), a fault the scenario's budget pays for and the trace shows (`CrashComponent`).
Without this guard a search let the ReplicaSet controller keep a new ReplicaSet queued for 70 s
with no fault in the trace, and the Deployment's 60 s progress deadline passed
(tests/model/data/waits/api-rollout.yaml, a false alarm of `bench_false_alarms.py`).

`holds_clock` is True — no `Tick` — while the controller manager is up and some controller whose
informers have synced has a queued key whose reconcile would change the state. Left out:

- a controller manager that is down (`CrashComponent`): time passes during the outage. (It is
  never cut off from the API server otherwise: the model partitions nodes' kubelets only.)
- a controller still waiting for an informer to sync (`ControllerState.unsynced`,
  `kubeprop.model.controllers.cache_sync`): upstream its workers have not started, and its
  reflector retries the LIST after a back-off of 800 ms to 30 s (`SyncInformer`, not urgent).
- a key whose reconcile would leave the state as it is: a retry of a request refused for good
  (a quota, a webhook, a lost etcd quorum, a stale cache that keeps conflicting until its next
  delivery). Upstream the failed key is re-added with `AddRateLimited`
  (`DefaultTypedControllerRateLimiter`: per item 5 ms doubling up to 1000 s, and an overall 10 qps
  token bucket; `staging/src/k8s.io/client-go/util/workqueue/default_rate_limiters.go`), so a retry
  that fails the same way again and again waits on its back-off timer while time passes — the model's
  stutter, the move `drive.follow` sets aside for the same reason. A retry that *would* change the
  state (its cache caught up, its memory moved on, an armed failure consumed) is taken within
  milliseconds upstream (the first back-off is 5 ms), so it holds the clock.
- a key that is polling (`polling`): its reconciles write nothing and requeue it, changing only the
  controller's memory, for as many requeues in a row as the rate limiter takes to back off a whole
  tick (`silent_requeues_per_tick`: 11 for the default 10 s tick, 5 ms·(2^11 − 1) ≈ 10.2 s), or
  until that memory comes back to one it had (then they never write anything). Upstream such a
  reconcile returns `Requeue: true` or an error, and the key is re-added with `AddRateLimited`
  (controller-runtime `pkg/internal/controller/controller.go` reconcileHandler; client-go's
  `processNextWorkItem`/handleErr), whose per-item delay doubles on every requeue (`When`: 5 ms·2^n,
  NumRequeues n reset only by `Forget`); a key requeued for ever waits up to 1000 s between tries.
  Holding the clock for it kept time from passing at all (tests/model/data/refused/polling.yaml: a
  pod in the scheduler's error back-off never retried, a false alarm of `bench_false_alarms.py`). A
  key whose memory-only requeues lead to a write or an end within that many reconciles still holds
  the clock: upstream they take less than a tick. A reconcile writes nothing when it sends nothing or
  only reads (a GET, a LIST: `READ_VERBS`) that leave the state as it is: upstream a reconcile that
  reads from the API server (controller-runtime's APIReader, a live GET) and requeues is rate-limited
  just the same. The chain is judged on what it would observe: each read is run on a copy and its
  answer folded into the memory (`observe`), so a GET whose answer leads to a write (an object it
  waited for is ready now) ends the poll, and so does one that would consume an armed request
  failure (a change of the state) (tests/model/data/refused/get-polling.yaml: a user's controller that
  GETs a Deployment until it is ready held the clock, and the readiness probe that would make it ready
  never ran — a false alarm of `bench_false_alarms.py`). A read-only decision with `after_failure`
  (which could add writes) is judged by running it, as a write is.

What the guard reads (`Tick`'s footprint, `kubeprop.model.cluster.footprint`, and the enabled-actions
cache's `_tick` key, `kubeprop.model.cluster.enabled_reads`, include it): whether the controller
manager is up, the controllers' queues and memories, its cache, and everything a reconcile's requests
read — the store, etcd's quorum, an armed request failure, an API server flood (`overload`), the clock.
The reconcile is run on a copy (the state is a value) and its responses reach no response observer.
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import is_
from typing import Any

from kubeprop.model.controllers import base as controllers
from kubeprop.model.controllers.processes import process_of
from kubeprop.model.evolve import evolve
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.model.state.component import Reconciliation

__all__ = ["forget_verdicts", "holds_clock", "polling", "silent_requeues_per_tick", "urgent_keys"]

RATE_LIMITER_BASE_MS = 5
"""The per-item back-off's first delay, in milliseconds (`DefaultTypedControllerRateLimiter`'s
`NewTypedItemExponentialFailureRateLimiter(5*time.Millisecond, 1000*time.Second)`), doubled on every
requeue of the key until it is forgotten."""


def urgent_keys(model: ClusterModel, state: ClusterState) -> list[tuple[str, str]]:
    """(controller, key) for every queued key of a synced controller whose reconcile would change
    the state now, in `enabled`'s order (empty while the controller manager is down)."""
    return list(_urgent(model, state))


def holds_clock(model: ClusterModel, state: ClusterState) -> bool:
    """True while a controller that is up has a queued key it can reconcile now (see the module
    docstring): `Tick` is not enabled then. Asks only until the first such key."""
    return next(_urgent(model, state), None) is not None


def _urgent(model: ClusterModel, state: ClusterState) -> Iterator[tuple[str, str]]:
    # (`controllers.runnable`: the keys of controllers whose process is up)
    yield from ((name, key) for name, key in controllers.runnable(model, state) if _changes(model, state, name, key))


def _changes(model: ClusterModel, state: ClusterState, controller: str, key: str) -> bool:
    """Whether reconciling `key` now leaves a state other than `state`, a poll aside (`polling`:
    its memory moves on, but nothing of it shows for a tick). A reconcile that does not
    requeue the key takes it out of the queue, a change; only a requeued one (a failed request, or a
    decision that asks for it) can be a stutter. (`step` adds to the handler's state only what a
    write brings — an instant delivery — and the compaction and pod pruning every reached state has
    had already, so the handler's answer decides.) A decision that sends nothing is settled without
    running it: it counts unless it requeues the key and the key is polling (a stutter, the same
    memory again, is the shortest poll); one that sends requests is run on a copy, its verdict
    remembered (`_Verdicts`)."""
    decision = controllers.decide(model, state, controller, key)
    if not decision.requests:
        return not decision.requeue or not polling(model, state, controller, key)
    changes = _VERDICTS.changes(model, state, controller, key, state.controllers[controller], decision)
    return changes and not (_reads(decision) and polling(model, state, controller, key))


def _reads(decision: Reconciliation) -> bool:
    """Whether the decision sends reads only (`READ_VERBS`), the first step of a poll that reads."""
    return decision.after_failure is None and all(r.verb in READ_VERBS for r in decision.requests)


def silent_requeues_per_tick(tick_seconds: int) -> int:
    """How many requeues in a row of one key the rate limiter takes to back off `tick_seconds`:
    the least n with 5 ms·(2^n − 1) ≥ the tick (`RATE_LIMITER_BASE_MS`; 11 for 10 s)."""
    n = 0
    while RATE_LIMITER_BASE_MS * (2 ** n - 1) < tick_seconds * 1000:
        n += 1
    return n


def polling(model: ClusterModel, state: ClusterState, controller: str, key: str) -> bool:
    """True when the queued `key`'s reconciles from `state` on write nothing and requeue it (each
    changing at most the controller's memory) for `silent_requeues_per_tick` reconciles in a row, or
    until the memory comes back to one it had (a cycle: they never write anything). A reconcile
    writes nothing when it sends nothing, or only reads (`READ_VERBS`: a GET, a LIST) that leave the
    state as it is (no armed failure consumed): those are run, each answer folded into the memory by
    the controller's `observe`, so the next decision of the chain is taken on what the key would
    observe — a GET whose answer leads to a write or an end within that many reconciles is no poll.
    The cache and the clock are as in `state`: nothing else moves while the key is retried. Upstream
    it backs off a tick or more before anything of it shows (see the module docstring)."""
    ctl_state = state.controllers.get(controller)
    if ctl_state is None or key not in ctl_state.queue:
        return False
    memory = ctl_state.memory
    seen = [memory]
    for _ in range(silent_requeues_per_tick(model.tick_seconds)):
        memory = _requeued_memory(model, state, controller, key, memory)
        if memory is _ENDS:
            return False
        if memory in seen:
            return True
        seen.append(memory)
    return True


READ_VERBS = frozenset({"get", "list"})
"""The verbs a poll may send: reads, which write nothing whatever their answer."""

_ENDS = object()
"""`_requeued_memory`'s answer for a reconcile that writes, or does not requeue its key."""


def _requeued_memory(model: ClusterModel, state: ClusterState, controller: str, key: str, memory: Any) -> Any:
    """The controller's memory after a reconcile of `key` from `state` with `memory` in place of its
    own, if that reconcile writes nothing and requeues the key (see `polling`); `_ENDS` if it does not.
    One that sends requests must send reads only (no `after_failure`, which could add writes): it is
    run on a copy, and must leave the state as it was but for the memory."""
    decision = controllers.decide_with(model, state, controller, key, memory)
    if not decision.requests:
        return decision.memory if decision.requeue else _ENDS
    if not _reads(decision):
        return _ENDS
    act, ctl_state = controllers.Reconcile(controller, key), state.controllers[controller]
    if memory is ctl_state.memory:  # (the reconcile a search takes next: remembered, `base.reconcile`)
        retried, after = state, controllers.reconcile(model, state, act, observed=False)
    else:  # (a later one of the chain, not remembered: it would push that one out)
        retried = evolve(state, controllers=state.controllers.set(controller, evolve(ctl_state, memory=memory)))
        after = controllers._reconcile_now(model, retried, act, observed=False)
    requeued = after.controllers[controller]
    if requeued.queue != ctl_state.queue or evolve(after, controllers=retried.controllers) != retried:
        return _ENDS
    return requeued.memory


def _reconcile_changes(model: ClusterModel, state: ClusterState, controller: str, key: str) -> bool:
    """Run the reconcile of `key` on a copy of `state` (no response observer sees it): whether
    the state it leaves differs from `state` (`base.reconcile_changes`: only as far as the first
    request that writes)."""
    return controllers.reconcile_changes(model, state, controllers.Reconcile(controller, key))


LIMIT = 4_096
"""Verdicts `_Verdicts` keeps before it forgets them all (bounded memory: each keeps its inputs alive)."""


class _Verdicts:
    """Whether a reconcile that sends requests changes the state, by exactly what it reads.

    The reconcile of `key` by `controller` (`base._reconcile_now`) takes the key out of the
    controller's `ControllerState` (`ctl_state`: its queue and memory), decides — a decision
    (`decision`, `base.decide`: the very object the decision memo gives for the same controller,
    key, memory, clock and caches read) — and sends its requests: each goes through etcd's quorum
    (what is down), the request gates (`overload.refusal`: nothing while no flood is in progress;
    during one, the store and the informers, for the seats), the controller manager's armed failure
    and `api.server.handle` (the store, the model's API and the clock); `observe` folds each
    response into the memory. The state it leaves differs from `state` only in the controller's
    entry, the store and the armed failures. So the verdict is a function of the model, the
    controller and key, `ctl_state`, `decision`, the store, the clock, what is down, the controller
    manager's armed failure and the flood (with the informers while a flood is in progress), all
    compared by identity but the names, the clock and the armed status code; a model with request
    gates other than `Hooks.memo_safe_gates` (the composition's: `overload.refusal`) is never
    remembered. In the default check on FeastFlow seven in ten of these verdicts repeat one asked
    for before: a step that wrote nothing the reconcile reads (a delivery to another component, a
    kubelet's or the scheduler's own step) leaves them all the very same objects. In-process only
    (identities; each entry keeps its objects alive, so no identity is reused while it is kept);
    cleared with the controllers' decisions (`incremental.memoised`)."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: dict[tuple[Any, ...], tuple[tuple[Any, ...], bool]] = {}

    def clear(self) -> None:
        """Forget every verdict."""
        self.entries.clear()

    def changes(self, model: ClusterModel, state: ClusterState, controller: str, key: str,
                ctl_state: controllers.ControllerState, decision: Reconciliation) -> bool:
        """`_reconcile_changes(model, state, controller, key)`, remembered by what it reads."""
        gates = model.hooks.request_gates
        if gates and gates != model.hooks.memo_safe_gates:
            return _reconcile_changes(model, state, controller, key)
        store, down, flood = state.store, state.down, state.overload
        informers = state.informers if flood is not None else None
        held = (model, ctl_state, decision, store, down, flood, informers)
        armed = state.armed_failures.get(process_of(model, controller))
        memo_key = (controller, key, state.clock, armed, *map(id, held))
        found = self.entries.get(memo_key)
        if found is not None and all(map(is_, found[0], held)):
            return found[1]
        verdict = _reconcile_changes(model, state, controller, key)
        if len(self.entries) >= LIMIT:
            self.entries.clear()
        self.entries[memo_key] = (held, verdict)
        return verdict


_VERDICTS = _Verdicts()


def forget_verdicts() -> None:
    """Forget every remembered verdict (at the end of a search, with the decisions)."""
    _VERDICTS.clear()
