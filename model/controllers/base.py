"""The `Controller` protocol, the `Reconcile` action and controllers' wake-ups.

Upstream controllers (`pkg/controller/*`) share the controller manager's informers; workers take
one key at a time, read only the informer cache, and write through the API server. A failed write
requeues the key (with rate limiting upstream; in the model the retry is just another enabled
action). The work queues — what each controller has queued and remembers, the events that enqueue
keys, the actions queued keys enable — are `kubeprop.model.controllers.work_queue`, whose names this
module re-exports (users import them from here: docs/controllers.md); here is what a `Reconcile`
does (`decide`, `reconcile`, `send_decision`) and when a controller asks to be woken
(`next_timer`, `on_tick`). The calls of a controller's own code go through
`kubeprop.model.controllers.user_calls`.

A controller here is a value with pure functions, so users can write their own (docs/controllers.md):

- `name`: unique; a scenario can replace a built-in controller by registering one with its name;
- `watches`: the qualified resources it reads (`pods`, `replicasets.apps`, …);
- `identity`: the API user it writes as;
- optionally `namespaces`: the namespaces its informers watch (default: every namespace), as an
  operator's namespaced informer factory (`kubeprop.model.controllers.cache_sync`): it reads only
  those namespaces' objects (and cluster-scoped ones), and other namespaces' events enqueue nothing;
- `initial_memory()`: its in-memory state at start (e.g. ReplicaSet expectations); lost on crash;
- `keys_for(obj, view)`: the work-queue keys a watch event about `obj` enqueues; or, optionally,
  `keys_for_change(change, view)`: those an add, an update (with the old object) or a delete enqueues,
  as upstream's AddFunc, UpdateFunc and DeleteFunc (`kubeprop.model.state.component.Change`; every
  built-in controller has one, and a handler upstream does not register enqueues nothing);
- `reconcile(view, key, memory, now) -> Reconciliation`: the requests to send (in order; the
  first failure stops the rest and requeues the key; the Reconciliation's `after_failure` may
  name requests still sent after it, and its `tolerate` failures that are no error or end the
  sync without a requeue) and the new memory;
- `observe(memory, request, response)`: the memory after one response (e.g. lowering expectations
  when a create failed).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import Any, NamedTuple

from kubeprop.model.api.objects import ApiObject
from kubeprop.model.api.server import Request, Response
from kubeprop.model.controllers import resync
from kubeprop.model.controllers.decisions import DecisionMemo, WakeupMemo, Wakeups
from kubeprop.model.controllers.processes import own_processes, process_of
from kubeprop.model.controllers.user_calls import (
    built_in,
    failure_followers,
    memory_wakeups,
    observe_answer,
    tolerated,
    woken_at,
)
from kubeprop.model.controllers.work_queue import (
    ControllerState,
    Reconcile,
    SyncInformer,
    _controller,
    enabled,
    initial_controllers,
    notify,
    queued,
    runnable,
    scoped,
    sync_informer,
    sync_key,
    waiting,
)
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.memo import LastValues
from kubeprop.model.state.cluster import (
    CONTROLLER_MANAGER,
    ClusterModel,
    ClusterState,
    is_up,
    send,
    send_unobserved,
    view,
)
from kubeprop.model.state.component import Change, Controller, Reconciliation
from kubeprop.model.state.informer import ObjectView

__all__ = [
    "Change",
    "ChangeHandlers",
    "Controller",
    "ControllerState",
    "Memoryless",
    "Reconcile",
    "Reconciliation",
    "SyncInformer",
    "decide",
    "decide_with",
    "enabled",
    "forget_decisions",
    "initial_controllers",
    "next_timer",
    "notify",
    "on_tick",
    "queued",
    "reconcile",
    "reconcile_changes",
    "runnable",
    "scoped",
    "send_decision",
    "sync_informer",
    "sync_key",
    "timer_inputs",
    "waiting",
]


class Memoryless:
    """A base for controllers that keep no memory: every decision is taken from the view alone, so
    the initial memory is None and no response is remembered (the `Controller` protocol's
    `initial_memory` and `observe`)."""

    __slots__ = ()

    def initial_memory(self) -> Any:
        """No memory."""
        return None

    def observe(self, memory: Any, request: Request, response: Response) -> Any:
        """Nothing to remember about responses."""
        return memory


class ChangeHandlers:
    """A base for controllers whose event handlers tell an add, an update and a delete apart, as
    upstream's AddFunc, UpdateFunc and DeleteFunc do: they define `keys_for_change(change, view)`, and
    `keys_for(obj, view)` — asked of an object an informer lists — is the add's answer."""

    __slots__ = ()

    def keys_for_change(self, change: Change, view: ObjectView) -> Iterable[str]:
        """The keys the handler of `change` enqueues."""
        raise NotImplementedError

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        """What the add handler enqueues for `obj` (an informer's LIST hands each object to OnAdd)."""
        return self.keys_for_change(Change("add", obj), view)


_DECISIONS = DecisionMemo()
"""Decisions by the controller, memory, key and clock, with the caches they read
(`kubeprop.model.controllers.decisions`): the crash points of a reconcile (`CrashDuringReconcile`)
ask for the decision that the reconcile itself takes when it runs, in state after state."""


_WAKEUPS = WakeupMemo()
"""Each controller's wake-ups by the clock and the caches they read (`decisions.WakeupMemo`)."""


def forget_decisions() -> None:
    """Forget every remembered decision and wake-up (at the end of a search: the memos keep their
    states alive)."""
    _DECISIONS.clear()
    _WAKEUPS.clear()
    _RECENT.clear()
    _NEXT_TIMERS.clear()


def _decision(controller: Controller, view_: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
    return _DECISIONS.decide(controller, view_, key, memory, now)


def decide(model: ClusterModel, state: ClusterState, controller: str, key: str) -> Reconciliation:
    """What a reconcile of `key` by `controller` would decide now, from its process's cache (the
    controller manager's, or an operator's own: `processes.process_of`; the process up, the key
    queued)."""
    return decide_with(model, state, controller, key, state.controllers[controller].memory)


def decide_with(model: ClusterModel, state: ClusterState, controller: str, key: str, memory: Any) -> Reconciliation:
    """`decide` with `memory` in place of the controller's own: what a later reconcile of `key` would
    decide from the same cache and clock (`queued_work.polling` follows a key's silent requeues)."""
    found = _controller(model, controller)
    return _decision(found, scoped(found, view(model, state, process_of(model, controller))), key, memory,
                     state.clock)


RECENT_RECONCILES = 8
"""Whole reconciles `reconcile` remembers (by the state's identity and the action): a poll's first
reconcile (`queued_work.polling`) is run on a copy, and a search may then take that very reconcile
from that very state. (The clock's guard asks `reconcile_changes`, which stops at the first write.)"""
_RECENT: dict[tuple[int, Reconcile], tuple[ClusterModel, ClusterState, ClusterState]] = {}


def reconcile(model: ClusterModel, state: ClusterState, act: Reconcile, sent: int | None = None,
              observed: bool = True) -> ClusterState:
    """`_reconcile_now`, remembered for the last few (state, action) pairs of a whole reconcile
    (`RECENT_RECONCILES`) when no response observer is to see it (the model has none, or `observed`
    is False): the state is a value, so the same reconcile from the same state gives the same state."""
    if sent is not None or (observed and model.hooks.on_response):
        return _reconcile_now(model, state, act, sent, observed)
    slot = (id(state), act)
    found = _RECENT.get(slot)
    if found is not None and found[0] is model and found[1] is state:
        return found[2]
    after = _reconcile_now(model, state, act, None, observed)
    if len(_RECENT) >= RECENT_RECONCILES:
        _RECENT.clear()
    _RECENT[slot] = (model, state, after)  # (keeps `state` alive, so its id is not reused meanwhile)
    return after


def _reconcile_now(model: ClusterModel, state: ClusterState, act: Reconcile, sent: int | None = None,
                   observed: bool = True, first_write: bool = False) -> ClusterState:
    """Run one reconcile: dequeue, decide from the cache, send the requests in order (only the
    first `sent` of them when the process dies after those: `CrashDuringReconcile`). The first
    failure ends the list; the decision's `after_failure` requests, if any, follow it (and
    count towards `sent`). A failure the decision tolerates (`Reconciliation.tolerate`) is no
    failure (`ignore`) or ends the list without requeueing the key (`forget`, even
    a decision that asked for a requeue: upstream's handleErr forgets it). With `observed`
    False the responses reach no response observer (a guard asking what the reconcile would do); with
    `first_write` the requests stop after the first that writes (`reconcile_changes`)."""
    controller = act.acting(_controller(model, act.controller))
    ctl_state: ControllerState = state.controllers[act.controller].dequeue(act.key)
    process = process_of(model, act.controller)
    decision = _decision(controller, scoped(controller, view(model, state, process)), act.key, ctl_state.memory,
                         state.clock)
    written = state.store.revision if first_write else None
    state, memory, requeue, _ = send_decision(model, state, controller, decision, act.key, sent, observed, written,
                                              process)
    ctl_state = evolve(ctl_state, memory=memory)
    if requeue:
        ctl_state = ctl_state.enqueue((act.key,))
    return evolve(state, controllers=state.controllers.set(act.controller, ctl_state))


def send_decision(model: ClusterModel, state: ClusterState, controller: Controller, decision: Reconciliation,
                  key: str, sent: int | None = None, observed: bool = True, written: int | None = None,
                  process: str = CONTROLLER_MANAGER) -> tuple[ClusterState, Any, bool, tuple[Request, Response] | None]:
    """Send a decision's requests as `_reconcile_now` describes: the state after them, the memory
    the controller observed, whether the key is requeued, and the first failure that requeues it
    (none tolerated; `kubeprop.model.controllers.failing` asks whether it comes again). The requests
    go out as `process` (the controller's: its armed failure is the one consumed). With
    `written` (the store's revision before the reconcile), stop after the first request that wrote
    (the revision moved past it) or consumed the process's armed failure (`reconcile_changes`)."""
    memory, requeue, failure = decision.memory, decision.requeue, None
    requests, index, failed = decision.requests, 0, False
    armed = process in state.armed_failures
    while index < len(requests) and (sent is None or index < sent):
        request = requests[index]
        state, response = (send if observed else send_unobserved)(model, state, controller.identity, request,
                                                                   process)
        if written is not None and (state.store.revision != written or (
                armed and process not in state.armed_failures)):
            break
        memory = observe_answer(controller, memory, request, response, key, state.clock)
        index += 1
        if response.ok:
            continue
        tolerance = (None if decision.tolerate is None
                     else tolerated(controller, decision, request, response, key, state.clock))
        if tolerance == "ignore":
            continue  # no error of the sync: the requests go on
        if tolerance is None and failure is None:
            failure = (request, response)
        requeue = False if tolerance == "forget" else requeue or tolerance is None
        if failed or decision.after_failure is None:
            break
        failed = True
        requests = (*requests[:index], *failure_followers(controller, decision, request, response, key, state.clock))
    return state, memory, requeue, failure


def reconcile_changes(model: ClusterModel, state: ClusterState, act: Reconcile) -> bool:
    """Whether the whole reconcile `act` from `state` leaves a state other than `state` (its responses
    shown to no response observer): `_reconcile_now(model, state, act, observed=False) != state`,
    stopping at the first request that writes or consumes the controller manager's armed failure —
    the store's revision only grows within a reconcile and nothing arms a failure again, so the
    state differs from there whatever follows (`queued_work.holds_clock` asks it of a queued key)."""
    written, armed = state.store.revision, len(state.armed_failures)
    after = _reconcile_now(model, state, act, None, observed=False, first_write=True)
    return after.store.revision != written or len(after.armed_failures) != armed or after != state


HANDLERS: dict[type[Any], Any] = {Reconcile: reconcile, SyncInformer: sync_informer}


def _key(obj: ApiObject) -> str:
    return f"{obj.metadata.namespace}/{obj.metadata.name}" if obj.metadata.namespace else obj.metadata.name


class _Timed(NamedTuple):
    """What `_wakeups` asks of one controller that watches something, worked out once
    (`_timed`): whether it keeps wake-ups in its memory (`memory_wakeups`), resyncs
    (`resync.period`), and its optional `wakeup_at` with the resource it lists for it."""

    controller: Controller
    name: str
    memory_wakeups: bool
    resyncs: bool
    wakeup_at: Any
    resource: str


_TIMED: LastValues[tuple[_Timed, ...]] = LastValues(keep=4)
"""`_timed`'s answers for the last few tuples of controllers, by identity."""


def _timed(controllers: tuple[Controller, ...]) -> tuple[_Timed, ...]:
    """The controllers that watch something, in order, each with what `_wakeups` asks of it (a
    model's controllers are fixed values: their methods do not come and go)."""
    return _TIMED.get1(controllers, lambda: tuple(
        _Timed(c, c.name, hasattr(c, "memory_wakeups"), resync.period(c) is not None, getattr(c, "wakeup_at", None),
               c.watches[0]) for c in controllers if c.watches))


def _wakeups(model: ClusterModel, state: ClusterState, now: int) -> Iterator[tuple[str, str, int]]:
    """(controller, key, time) for every controller that asks to be woken at a model time
    (the optional `wakeup_at(view, key, now)`: upstream's `queue.AddAfter`, e.g. the Deployment
    progress deadline or minReadySeconds; or `memory_wakeups`, `_memory_wakeups`; or a periodic
    resync, `_resyncs`)."""
    views: dict[str, ObjectView | None] = {}
    for controller, name, in_memory, resyncs, wakeup_at, resource in _timed(model.controllers):
        process = process_of(model, name)
        if process not in views:
            views[process] = view(model, state, process) if is_up(state, process) else None
        view_ = views[process]
        ctl_state = state.controllers.get(name)
        if view_ is None or bool(getattr(ctl_state, "unsynced", None)):
            continue  # (its process is down; a controller waiting for its caches to sync has queued no AddAfter)
        if in_memory:
            yield from _memory_wakeups(controller, ctl_state)
        seen_view = scoped(controller, view_)
        if resyncs:
            yield from _resyncs(controller, ctl_state, seen_view, now)
        if wakeup_at is None:
            continue

        def compute(seen: ObjectView, wakeup_at: Any = wakeup_at, resource: str = resource,
                    controller: Controller = controller) -> Wakeups:
            found = ((key, woken_at(controller, wakeup_at, seen, key, now)) for key in map(_key, seen.list(resource)))
            return tuple((key, at) for key, at in found if at is not None)

        parked = _parked(controller, ctl_state)
        for key, at in _WAKEUPS.wakeups(controller, seen_view, now, compute):
            if key not in parked:
                yield name, key, at


def _parked(controller: Controller, ctl_state: Any) -> Collection[str]:
    """The keys whose `wakeup_at` the controller's memory holds back (the optional
    `parked(memory)`: a sync that ended without the `AddAfter` it usually ends with, e.g. the
    CronJob controller's after a Job of another owner took its name), until an event queues them.
    Asked of kubeprop's own controllers only (a scenario's controller has no such hook)."""
    parked = getattr(controller, "parked", None)
    if parked is None or not built_in(controller) or not isinstance(ctl_state, ControllerState):
        return ()
    return frozenset(parked(ctl_state.memory))


def _memory_wakeups(controller: Controller, ctl_state: Any) -> Iterator[tuple[str, str, int]]:
    """(controller, key, time) for the wake-ups a controller keeps in its memory (the optional
    `memory_wakeups(memory, queue)`: an `AddAfter` whose time only the controller remembers, e.g.
    the pod GC's node quarantine), asked only while it has keys queued: its queue and memory are then
    part of what `Tick` is known to read (`queued_work.holds_clock`'s inputs)."""
    wakeups = getattr(controller, "memory_wakeups", None)
    if wakeups is None or not isinstance(ctl_state, ControllerState) or not ctl_state.queue:
        return
    for key, at in memory_wakeups(controller, wakeups, ctl_state.memory, ctl_state.queue):
        yield controller.name, key, at


def _resyncs(controller: Controller, ctl_state: Any, view_: ObjectView, now: int) -> Iterator[tuple[str, str, int]]:
    """(controller, key, time) for the keys the controller's next periodic resync wakes to some
    purpose (`kubeprop.model.controllers.resync.due`, deciding with `_decision`)."""
    for key, at in resync.due(controller, ctl_state, view_, now, _decision):
        yield controller.name, key, at


def _memory_timer_inputs(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    """The states of the controllers that keep wake-ups in their memory (`_memory_wakeups`) or
    resync (`_resyncs`: which keys are queued, the memory their reconciles decide with)."""
    return tuple(state.controllers.get(name) for name in _timer_keepers(model.controllers))


_KEEPERS: LastValues[tuple[str, ...]] = LastValues(keep=4)
"""`_timer_keepers`' answers for the last few tuples of controllers, by identity."""


def _timer_keepers(controllers: tuple[Controller, ...]) -> tuple[str, ...]:
    """The names of the controllers with `memory_wakeups`, `parked` or a resync, in order, worked out once."""
    return _KEEPERS.get1(controllers, lambda: tuple(
        c.name for c in controllers
        if hasattr(c, "memory_wakeups") or (hasattr(c, "parked") and built_in(c)) or resync.period(c) is not None))


def timer_inputs(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    """What `next_timer` reads of the controllers' own states (`_memory_timer_inputs`), for the
    enabled-actions cache's key of `Tick` (`kubeprop.model.cluster.enabled_reads`)."""
    return _memory_timer_inputs(model, state)


RECENT_TIMERS = 4
"""Answers of `next_timer` kept (`_NEXT_TIMERS`)."""
_NEXT_TIMERS: list[tuple[tuple[Any, ...], int | None]] = []
"""`next_timer`'s last answers, the latest first: ((model, view, clock, up, waiting, the states of the
controllers with memory wake-ups, the operators' own views), answer)."""


def next_timer(model: ClusterModel, state: ClusterState) -> int | None:
    """The earliest future wake-up any controller asked for. Asked in most states (whether time
    may pass, `faults.tick_enabled`), it is remembered for the last few (`RECENT_TIMERS`) by what
    `_wakeups` reads: whether the controller manager is up, its view (by identity), the clock and
    the controllers waiting for their caches to sync (`waiting`) — seven in ten asks repeat one of
    the last four (a step of a kubelet, the scheduler or a controller's queue changes none of them)."""
    up, clock = is_up(state, CONTROLLER_MANAGER), state.clock
    seen_view = view(model, state, CONTROLLER_MANAGER) if up else None
    unsynced, kept, own = waiting(state), _memory_timer_inputs(model, state), _own_views(model, state)
    for (was_model, was_view, was_clock, was_up, was_waiting, was_kept, was_own), at in _NEXT_TIMERS:
        if was_model is model and was_view is seen_view and was_clock == clock and was_up is up and (
                was_waiting == unsynced) and was_kept == kept and _same(was_own, own):
            return at
    times = [at for _, _, at in _wakeups(model, state, clock) if at > clock]
    found = min(times) if times else None
    _NEXT_TIMERS.insert(0, ((model, seen_view, clock, up, unsynced, kept, own), found))
    del _NEXT_TIMERS[RECENT_TIMERS:]
    return found


def _own_views(model: ClusterModel, state: ClusterState) -> tuple[ObjectView | None, ...]:
    """The views of the operators that run with caches of their own (None for one that is down):
    what `_wakeups` reads of them (`processes.own_processes`; none by default)."""
    return tuple(view(model, state, p) if is_up(state, p) else None for p in own_processes(model))


def _same(one: tuple[Any, ...], other: tuple[Any, ...]) -> bool:
    """Whether two tuples hold the very same objects, in order."""
    return len(one) == len(other) and all(a is b for a, b in zip(one, other, strict=True))


def on_tick(model: ClusterModel, before: ClusterState, after: ClusterState) -> ClusterState:
    """Enqueue the keys whose wake-up time fell within the tick."""
    due = [(name, key) for name, key, at in _wakeups(model, before, before.clock) if before.clock < at <= after.clock]
    controllers = dict(after.controllers)
    for name, key in due:
        if name in controllers:
            controllers[name] = controllers[name].enqueue((key,))
    return evolve(after, controllers=FrozenMap(controllers)) if due else after
