"""Cheaper `actions`: each component's enabled actions recomputed only when what it reads changed.

`actions(model, state)` asks every component module for its enabled actions. Between a state and
its successor most components see exactly the same inputs (a watch delivery to one kubelet
changes nothing the scheduler reads), so `EnabledCache` remembers each component's answer keyed by
the parts of the state that component reads (`READS`), compared by value (shared, unchanged
parts are the very same objects, so the comparison is mostly identity checks). A component not
listed in `READS` (a user's own, say) is asked every time.

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
from typing import Any

from kubeprop.model.cluster import compose, faults, informers, workload
from kubeprop.model.controllers import base as controllers
from kubeprop.model.controllers import nodelifecycle
from kubeprop.model.kubelet import component as kubelet
from kubeprop.model.scheduler import component as scheduler
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState
from kubeprop.model.state.cluster import kubelet as kubelet_name

KeyFn = Callable[[ClusterModel, ClusterState], tuple[Any, ...]]
LIMIT = 20_000
"""Answers kept per component before its cache is cleared (bounded memory)."""
RECENT = 4
"""Answers per component checked by identity before the by-value lookup."""


def _view(model: ClusterModel, state: ClusterState, component: str) -> Any:
    """What `state.cluster.view` would give `component`, as a key part."""
    informer = state.informers.get(component)
    if informer is not None:
        return informer
    return state.store.objects if model.instant_caches else None


def _workload(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    # The next step waits for the object it names and for a user's drain (`maintenance.blocking`).
    return state.workload_next, state.store.objects, state.addons


def _informers(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    if model.instant_caches:
        return ()
    return state.informers, state.store.events, state.store.compacted, state.down, state.partitioned


def _scheduler(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    return (state.down, state.schedulers, *(_view(model, state, i) for i in model.scheduler_instances))


def _controllers(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    return state.down, state.controllers


def _nodelifecycle(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    return (state.down, state.controllers, _view(model, state, CONTROLLER_MANAGER), state.heartbeat_lost,
            state.clock)


def _kubelet(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    return (state.down, state.partitioned, state.kubelets, state.clock, state.store.objects,
            *(_view(model, state, kubelet_name(n)) for n in model.nodes))


def _faults(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    # Tick depends on every component's timer: the kubelets', the controllers' wake-ups (their
    # cache), node lifecycle's (its memory, heartbeats); faults on the budget, what is down and
    # partitioned, running containers, watches and armed failures.
    return (state.quiesced, state.faults, state.down, state.partitioned, state.kubelets, state.informers,
            state.armed_failures, state.clock, state.heartbeat_lost, state.controllers,
            state.store.objects if model.instant_caches else None)


READS: dict[Any, KeyFn] = {
    workload: _workload,
    informers: _informers,
    scheduler: _scheduler,
    controllers: _controllers,
    nodelifecycle: _nodelifecycle,
    kubelet: _kubelet,
    faults: _faults,
}
"""Component module → the parts of the state its `enabled` (and the timers it reads) depend on."""


class _Part:
    """One component's remembered answers: the last few by identity of their key's parts, then
    all of them (up to `LIMIT`) by value."""

    __slots__ = ("key_fn", "module", "recent", "values")

    def __init__(self, module: Any, key_fn: KeyFn | None) -> None:
        self.module, self.key_fn = module, key_fn
        self.recent: list[tuple[tuple[Any, ...], tuple[Action, ...]]] = []
        self.values: dict[tuple[Any, ...], tuple[Action, ...]] = {}

    def enabled(self, model: ClusterModel, state: ClusterState) -> tuple[Action, ...]:
        if self.key_fn is None:
            return tuple(self.module.enabled(model, state))
        key = self.key_fn(model, state)
        for seen, found in self.recent:
            if all(a is b for a, b in zip(seen, key, strict=True)):
                return found
        answer = tuple(self.module.enabled(model, state))
        self.recent.insert(0, (key, answer))
        del self.recent[RECENT:]
        return answer


class EnabledCache:
    """`actions(model, state)` with each component's answer remembered by what it reads."""

    def __init__(self, model: ClusterModel) -> None:
        self.model = model
        self.parts = tuple(_Part(module, READS.get(module)) for module in compose.COMPONENTS)

    def actions(self, state: ClusterState) -> tuple[Action, ...]:
        """Every enabled action, in `compose.actions` order."""
        out: list[Action] = []
        for part in self.parts:
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
