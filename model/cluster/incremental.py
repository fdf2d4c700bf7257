"""Cheaper `actions`: each component's enabled actions recomputed only when what it reads changed.

`actions(model, state)` asks every component module for its enabled actions. Between a state and
its successor most components see exactly the same inputs (a watch delivery to one kubelet
changes nothing the scheduler reads), so `EnabledCache` remembers each component's last few
answers keyed by the parts of the state that component reads (`READS`), compared by identity
(a step shares every part it does not change with its predecessor, so an unchanged part is the
very same object); the costly ones (`BY_VALUE`) also by value, in-process only. Components in
`SPLIT` are cached in units: each kubelet node by node, watch deliveries component by component,
`Tick` apart from faults and recoveries. A component listed in neither (a user's own, say) is
asked every time.

The cache changes only when the answer is computed, never what it is:
`tests/model/cluster/test_incremental.py` compares it with the plain `actions` on random runs of
every catalogue scenario. A component that starts reading another part of the state must say
so here.

Engines turn it on for the duration of a search with `memoised(model)`, which makes
`compose.actions` (and everything built on it: `settle`, replay, shrinking) use the cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from operator import is_
from typing import Any

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.cluster import compose, faults, informers, workload
from kubeprop.model.cluster.footprint import KNOWN_TIMERS
from kubeprop.model.controllers import base as controllers
from kubeprop.model.controllers import hpa, nodelifecycle
from kubeprop.model.controllers.nodelifecycle_health import blocks_tick, cached_resource
from kubeprop.model.kubelet import component as kubelet
from kubeprop.model.scheduler import component as scheduler
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState
from kubeprop.model.state.cluster import kubelet as kubelet_name

KeyFn = Callable[[ClusterModel, ClusterState], tuple[Any, ...]]
RECENT = 4
"""Answers per component (per unit of a split component) checked by identity."""
KNOWN_GUARDS = {blocks_tick}
"""The tick guards `_tick` accounts for."""
LIMIT = 2_048
"""Answers kept by value per part before its memo is cleared (bounded memory: each answer keeps the
state parts of its key alive — about 1.5 KB — and at 20,000 the memo grew to ~60 MB in long
searches with no measured gain; docs/engines.md, "A frontier that fits")."""
BY_VALUE = {scheduler.enabled, nodelifecycle.enabled, faults.tick_enabled}
"""The parts costly enough to be remembered by value too (hashing their key costs less than
computing them again); the others are cheaper to recompute than to hash."""


def _view(model: ClusterModel, state: ClusterState, component: str) -> Any:
    """What `state.cluster.view` would give `component`, as a key part."""
    informer = state.informers.get(component)
    if informer is not None:
        return informer
    return state.store.objects if model.instant_caches else None


def _workload(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    # The next step waits for the object it names and for a user's drain (`maintenance.blocking`).
    return state.workload_next, state.store.objects, state.addons


def _informers(model: ClusterModel, state: ClusterState, component: str) -> tuple[Any, ...]:
    # `informers.component_enabled`: the component's caches, the event log, down and partitioned.
    return state.informers.get(component), state.store.events, state.store.compacted, state.down, state.partitioned


def _scheduler(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    return (state.down, state.schedulers, *(_view(model, state, i) for i in model.scheduler_instances))


def _controllers(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    return state.down, state.controllers


def _nodelifecycle(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    # Its own memory only (not the other controllers' queues), the nodes and pods of its cache,
    # heartbeats and the clock.
    return (state.down, state.controllers.get(nodelifecycle.NAME), cached_resource(model, state, "nodes"),
            cached_resource(model, state, "pods"), state.heartbeat_lost, state.clock)


def _kubelet_node(model: ClusterModel, state: ClusterState, node: str, node_key: ObjectKey) -> tuple[Any, ...]:
    # `kubelet.node_enabled`: whether the kubelet is up and reaches the API server (down,
    # partitioned), its runtime state, its cache, the clock, its Node object (status updates) and
    # whether the pressure budget is left.
    left = _pressure_left(model, state.kubelets)
    return (state.down, state.partitioned, state.kubelets.get(node), _view(model, state, kubelet_name(node)),
            state.clock, state.store.objects.get(node_key), left)


_PRESSURE: list[Any] = [None, None, False]


def _pressure_left(model: ClusterModel, kubelets: Any) -> bool:
    """Whether memory-pressure evictions are left in the budget (remembered for the last kubelets map)."""
    if _PRESSURE[0] is not model or _PRESSURE[1] is not kubelets:
        spent = kubelet.pressure_spent_in(kubelets)
        _PRESSURE[:] = [model, kubelets, spent < int(model.parameter("memoryPressureEvents"))]
    return bool(_PRESSURE[2])


def _tick(model: ClusterModel, state: ClusterState) -> tuple[Any, ...] | None:
    # Tick depends on every component's timer and on node lifecycle's guard (the same reads as
    # `Tick`'s footprint in `footprint._tick`): the kubelets' back-offs, the controllers' wake-ups
    # (their cache), node lifecycle's (its memory, heartbeats), the schedulers' flushes
    # (memory and caches), the HPA's and the add-ons' timers. None (not cached) for a model with
    # timers or guards not listed here.
    if not set(model.hooks.timers) <= KNOWN_TIMERS or not set(model.hooks.tick_guards) <= KNOWN_GUARDS:
        return None
    memories = state.controllers.get(nodelifecycle.NAME), state.controllers.get(hpa.NAME)
    return (state.clock, state.down, state.addons, *memories, state.kubelets, state.heartbeat_lost,
            state.schedulers, _view(model, state, CONTROLLER_MANAGER),
            *(_view(model, state, i) for i in model.scheduler_instances),
            state.store.objects if model.instant_caches else None)


def _faults(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    # Quiesce, faults and recoveries: what is down and partitioned, the budget (running containers,
    # watches and armed failures only while their kind of fault may still be injected).
    containers = faults.can_inject(state, model, "container_crash")
    watches = faults.can_inject(state, model, "watch_drop") and not model.instant_caches
    return (state.quiesced, state.faults, state.down, state.partitioned, state.armed_failures,
            state.kubelets if containers else None, state.informers if watches else None)


READS: dict[Any, KeyFn] = {
    workload: _workload,
    scheduler: _scheduler,
    controllers: _controllers,
    nodelifecycle: _nodelifecycle,
}
"""Component module → the parts of the state its `enabled` (and the timers it reads) depend on."""

Unit = tuple[Callable[..., Iterator[Action]], Callable[..., "tuple[Any, ...] | None"], tuple[Any, ...]]
"""A part of a component's `enabled`: (enabled function, key function, extra arguments of both)."""


def _kubelet_units(model: ClusterModel) -> tuple[Unit, ...]:
    return tuple((kubelet.node_enabled, partial(_kubelet_node, node_key=ObjectKey("nodes", "", node)), (node,))
                 for node in sorted(model.nodes))


def _informer_units(model: ClusterModel) -> tuple[Unit, ...]:
    # `informers.enabled` goes through `state.informers` in name order; its keys are always among
    # `informers.components(model)` (components lose and regain their caches, no other gets one).
    return tuple((informers.component_enabled, _informers, (c,)) for c in sorted(informers.components(model)))


def _faults_units(model: ClusterModel) -> tuple[Unit, ...]:
    return ((faults.tick_enabled, _tick, ()), (faults.fault_enabled, _faults, ()))


SPLIT: dict[Any, Callable[[ClusterModel], tuple[Unit, ...]]] = {
    kubelet: _kubelet_units, faults: _faults_units, informers: _informer_units,
}
"""Components whose `enabled` is the concatenation of parts cached separately: the kubelets node
by node, watch deliveries component by component, time apart from faults (a watch delivery to
one kubelet changes nothing another reads)."""


class _Part:
    """One component's (or one unit's) remembered answers: the last few by identity of their
    key's parts; for the costly ones (`BY_VALUE`) also every answer (up to `LIMIT`) by value, so
    a state reached again along another path (equal parts, other objects) is not recomputed."""

    __slots__ = ("args", "enabled_fn", "key_fn", "recent", "values")

    def __init__(self, enabled_fn: Callable[..., Iterator[Action]],
                 key_fn: Callable[..., tuple[Any, ...] | None] | None, args: tuple[Any, ...] = ()) -> None:
        self.enabled_fn, self.key_fn, self.args = enabled_fn, key_fn, args
        self.recent: list[tuple[tuple[Any, ...], tuple[Action, ...]]] = []
        self.values: dict[tuple[Any, ...], tuple[Action, ...]] | None = {} if enabled_fn in BY_VALUE else None

    def enabled(self, model: ClusterModel, state: ClusterState) -> tuple[Action, ...]:
        key = None if self.key_fn is None else self.key_fn(model, state, *self.args)
        if key is None:
            return tuple(self.enabled_fn(model, state, *self.args))
        for seen, found in self.recent:
            if all(map(is_, seen, key)):  # keys of one part have one length
                return found
        values = self.values
        answer = None if values is None else values.get(key)
        if answer is None:
            answer = tuple(self.enabled_fn(model, state, *self.args))
            if values is not None:
                if len(values) >= LIMIT:
                    values.clear()
                values[key] = answer
        self.recent.insert(0, (key, answer))
        del self.recent[RECENT:]
        return answer


def _parts(model: ClusterModel, module: Any) -> tuple[_Part, ...]:
    split = SPLIT.get(module)
    if split is not None:
        return tuple(_Part(fn, key_fn, args) for fn, key_fn, args in split(model))
    return (_Part(module.enabled, READS.get(module)),)


class EnabledCache:
    """`actions(model, state)` with each component's answer remembered by what it reads."""

    def __init__(self, model: ClusterModel) -> None:
        self.model = model
        self.parts = tuple(part for module in compose.COMPONENTS for part in _parts(model, module))

    def actions(self, state: ClusterState, tick: bool = True) -> tuple[Action, ...]:
        """Every enabled action, in `compose.actions` order (without `Tick` unless `tick`)."""
        out: list[Action] = []
        for part in self.parts:
            if tick or part.enabled_fn is not faults.tick_enabled:
                out.extend(part.enabled(self.model, state))
        return tuple(out)


@contextmanager
def memoised(model: ClusterModel) -> Iterator[EnabledCache]:
    """Within the block, `compose.actions(model, …)` answers from an `EnabledCache` for `model`."""
    cache = EnabledCache(model)
    compose.CACHES.append(cache)
    try:
        yield cache
    finally:
        compose.CACHES.remove(cache)
