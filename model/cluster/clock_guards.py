"""Whether some component holds the clock (`Hooks.tick_guards`), asked at less cost.

`faults.tick_enabled` is asked in almost every state a search reaches (the enabled-actions cache
recomputes `Tick`'s part whenever anything it reads changed, which is nearly every step): `Tick` is
enabled while some timer is pending and no tick guard holds. Both are plain booleans of the state,
so the order they are asked in changes nothing but the cost. In the default check on FeastFlow a
guard holds in about nine states in ten that ask (the controllers' guard, `queued_work.holds_clock`,
in three in four: a busy run has keys to reconcile), so the guards are asked first and the timers
(`faults.timer_pending`, which asks every component's timer) only where none holds; among the guards,
the scheduler's first (`asking_order`: answered from the enabled actions, it costs a look at a list).

The controllers' guard is remembered for its last few asks (`HOLDS_CLOCK_RECENT`) by exactly what
it reads (`holds_clock_reads`), compared by identity: a step that writes nothing a controller's
reconcile reads — a watch delivery to a kubelet or the scheduler, a kubelet's step that writes no
object — leaves them all the very same objects (about four asks in ten repeat one of the last four).
`tests/model/cluster/test_clock_guard_memo.py` compares it with the plain guard over every state of
breadth-first searches.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from itertools import chain
from typing import Any

from kubeprop.model.cluster import informers, prompt_work
from kubeprop.model.controllers import queued_work
from kubeprop.model.controllers.processes import own_processes
from kubeprop.model.kubelet import component as kubelet
from kubeprop.model.memo import LastValues
from kubeprop.model.scheduler import component as scheduler
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState
from kubeprop.model.state.component import TickGuard

HOLDS_CLOCK_RECENT = 4
"""The controllers' guard's verdicts remembered (the last few asks)."""

_HOLDS_CLOCK: LastValues[bool] = LastValues(HOLDS_CLOCK_RECENT)


def holds_clock_reads(model: ClusterModel, state: ClusterState) -> tuple[Any, ...] | None:
    """What `queued_work.holds_clock` reads, as objects to compare by identity; None when it is not
    to be remembered (request gates other than the ones its verdict memo accounts for).

    Whether the processes are up (what is down); the queued keys (`base.queued`: the
    controllers' states, their queues and whether they wait for a cache to sync); each key's
    decision (the controller's memory, its process's view — the controller manager's informer, or an
    operator's own (`processes.own_processes`), or with instant caches the store —, the clock); and
    whether a reconcile that sends requests changes the state (`queued_work._Verdicts`: the store,
    what is down, the armed failures, the flood, and during one the informers). The model brings its
    controllers, API and parameters."""
    hooks = model.hooks
    if hooks.request_gates and hooks.request_gates != hooks.memo_safe_gates:
        return None
    flood = state.overload
    return (model, state.down, state.controllers, state.informers.get(CONTROLLER_MANAGER), state.store,
            state.clock, state.armed_failures, flood, state.informers if flood is not None else None,
            *(state.informers.get(p) for p in own_processes(model)))


ASKED_FIRST = (prompt_work.scheduler_holds_clock,)
"""The guards `asking_order` puts first: answered from the enabled actions of a part computed
before `Tick`'s (`held`), they cost a look at a list, where the controllers' guard may run a
reconcile. In the default check on FeastFlow the scheduler's guard held in about a fifth of the
asks where the controllers' guard held (3,660 of 16,018 in the first 20,000 steps)."""


@lru_cache(maxsize=64)
def asking_order(guards: tuple[TickGuard, ...]) -> tuple[TickGuard, ...]:
    """`guards` in the order `faults.tick_enabled` asks them: `ASKED_FIRST` first, the rest in
    their order. Each guard is a boolean of the state and `Tick` waits for any of them, so the
    order changes only what is computed, never the answer (in-process only: by the functions)."""
    return (*(g for g in guards if g in ASKED_FIRST), *(g for g in guards if g not in ASKED_FIRST))


def holding(model: ClusterModel, state: ClusterState) -> TickGuard | None:
    """The first guard (in `asking_order`) that holds the clock in `state`, or None if none does:
    `Tick` is enabled exactly when this is None and a timer is pending (`faults.tick_enabled`)."""
    for guard in asking_order(model.hooks.tick_guards):
        if held(model, state, guard):
            return guard
    return None


def held(model: ClusterModel, state: ClusterState, guard: TickGuard) -> bool:
    """`guard(model, state)`; the controllers' guard remembered by what it reads, the scheduler's and
    the one on work in flight from the enabled actions the active cache has for `state`."""
    if guard is prompt_work.scheduler_holds_clock:
        answers = _answered(model, state, scheduler.enabled)
        return guard(model, state) if answers is None else any(answers)
    if guard is prompt_work.in_flight_holds_clock:
        return prompt_work.holds(state.tick_race, in_flight(model, state),
                                 lambda: prompt_work.tick_reaches_race_timer(model, state))
    if guard is not queued_work.holds_clock:
        return guard(model, state)
    reads = holds_clock_reads(model, state)
    if reads is None:
        return guard(model, state)
    return _HOLDS_CLOCK.get(reads, guard, model, state)


def in_flight(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """The work in flight in `state` (`prompt_work.in_flight_work`), from the enabled actions the
    active cache has for `state` where it has them (the guard on work in flight, and `Tick`, which
    remembers it: `prompt_work.after_tick`)."""
    deliveries = _answered(model, state, informers.component_enabled)
    kubelets = _answered(model, state, kubelet.node_enabled)
    if deliveries is None or kubelets is None:
        return prompt_work.in_flight_work(informers.enabled(model, state), kubelet.enabled(model, state))
    return prompt_work.in_flight_work(chain.from_iterable(deliveries), chain.from_iterable(kubelets))


def _answered(model: ClusterModel, state: ClusterState, enabled_fn: Any) -> Iterator[tuple[Action, ...]] | None:
    """What an active enabled-actions cache answers for `enabled_fn`'s parts in `state`
    (`EnabledCache.answered`: the same as asking `enabled_fn`), or None without one for `state`.
    Every active cache of `model` is asked, the innermost first: the portfolio's members run in
    turns, each within its own `memoised` block, so the cache computing `Tick`'s part for `state`
    need not be the innermost (it answered for `state` last: `EnabledCache.answered`)."""
    from kubeprop.model.cluster.compose import CACHES  # (the composition imports `faults`, which imports this)

    for cache in reversed(CACHES):
        found: Iterator[tuple[Action, ...]] | None = cache.answered(state, enabled_fn) if cache.model is model else None
        if found is not None:
            return found
    return None


def forget() -> None:
    """Forget the remembered verdicts (at the end of a search, with the controllers' decisions)."""
    _HOLDS_CLOCK.recent.clear()
