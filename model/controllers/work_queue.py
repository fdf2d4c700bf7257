"""Controllers' work queues: what each controller has queued and remembers (`ControllerState`), the
watch events and informers' initial LISTs that enqueue keys (`notify`, `initial_controllers`,
`sync_informer`), and the actions queued keys and unsynced informers enable (`Reconcile`,
`SyncInformer`: `enabled`).

Upstream controllers (`pkg/controller/*`) share the controller manager's informers, whose event
handlers turn watch events into work-queue keys (`staging/src/k8s.io/client-go/tools/cache/
controller.go`); a worker takes one key at a time (`staging/src/k8s.io/client-go/util/workqueue/
queue.go`: a key is never processed by two workers at once, and adding a queued key again merges
with it). What a `Reconcile` does with its key — decide from the cache, send the requests, requeue
— is `kubeprop.model.controllers.base`, which re-exports every public name here (the documented
import path, docs/controllers.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any, NamedTuple

import attrs

from kubeprop.model.api.store import Store, WatchEvent
from kubeprop.model.controllers.cache_sync import (
    informer_of,
    informer_refusal,
    informer_target,
    informers,
    refused_informers,
)
from kubeprop.model.controllers.processes import controllers_in, process_of
from kubeprop.model.controllers.sync_updates import ignores_sync_update
from kubeprop.model.controllers.user_calls import built_in, handled_keys, started_memory
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.memo import LastValues
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, is_up, view
from kubeprop.model.state.component import Change, Controller, change_of, controller_namespaces, keys_for_change
from kubeprop.model.state.informer import NamespacedView, ObjectView

__all__ = ["ControllerState", "Dispatch", "Handler", "Reconcile", "SyncInformer", "enabled", "handlers",
           "initial_controllers", "notify", "queued", "runnable", "scoped", "sync_informer", "sync_key", "waiting"]


@attrs.frozen(cache_hash=True)
class ControllerState:
    """A controller's work queue (sorted, deduplicated keys) and in-memory state.

    `unsynced`: the informers that have not synced yet — their LIST was refused
    (`kubeprop.model.controllers.cache_sync`): a watched resource's name, or `namespaces/NS/<resource>`
    for a controller whose informers watch some namespaces only (`cache_sync.informer_name`). While
    any is left the controller's workers wait in WaitForCacheSync: none of its keys is reconciled,
    and events of those informers reach no handler of it. Always empty for a controller whose
    identity is trusted (every built-in one)."""

    queue: tuple[str, ...] = ()
    memory: Any = None
    unsynced: tuple[str, ...] = attrs.field(default=(), metadata={"fingerprint": "omit-if-default"})

    def enqueue(self, keys: Iterable[str]) -> ControllerState:
        """Add keys; a key already queued merges with itself."""
        merged = set(self.queue) | set(keys)
        if len(merged) == len(self.queue):
            return self
        return evolve(self, queue=tuple(sorted(merged)))

    def dequeue(self, key: str) -> ControllerState:
        """Take a key out of the queue (a worker starts on it)."""
        return evolve(self, queue=tuple(k for k in self.queue if k != key))


@attrs.frozen(order=True)
class Reconcile(Action):
    """A controller worker takes `key` from its queue and reconciles it."""

    controller: str
    key: str

    def acting(self, controller: Any) -> Any:
        """The controller that decides this reconcile: `controller` itself (a subclass may name an
        environment's choice it makes: `daemonset_order.ReconcileFrom`)."""
        return controller


@attrs.frozen(order=True)
class SyncInformer(Action):
    """The reflector of a controller's `informer` (a watched resource, or `namespaces/NS/<resource>`,
    whose LIST was refused) retries after its back-off and the LIST now succeeds: the informer
    syncs, its handlers get an ADD for every listed object (`cache_sync`). Enabled only while the
    LIST would succeed."""

    controller: str
    informer: str


_VIEWS: LastValues[ObjectView] = LastValues(keep=8)
"""The last few views of controllers with `namespaces` (by the controller and the shared view): the
very same view object for the same cache, so that a user's controller's decisions, remembered by
the view's identity (`decisions.DecisionMemo`), are found again."""


def scoped(controller: Controller, view_: ObjectView) -> ObjectView:
    """What `controller` reads of the controller manager's view: all of it, or for a controller
    with `namespaces` only those namespaces' objects and cluster-scoped ones (`NamespacedView`)."""
    namespaces = controller_namespaces(controller)
    if not namespaces:
        return view_
    return _VIEWS.get((controller, view_), NamespacedView, view_, namespaces)


def _keys_of(controller: Controller, view_: ObjectView, names: Iterable[str]) -> set[str]:
    """The keys the initial LISTs of the informers `names` enqueue: `keys_for` of every object they
    list (`view_` is the controller's own, `scoped`)."""
    keys: set[str] = set()
    for informer in names:
        resource, namespace = informer_target(informer)
        for obj in view_.list(resource, namespace):
            keys.update(handled_keys(controller, Change("add", obj), view_))
    return keys


def initial_controllers(model: ClusterModel, view_: ObjectView, store: Store | None = None,
                        process: str | None = None) -> FrozenMap[str, ControllerState]:
    """Every controller (of `process` only, if given: `processes.controllers_in`; `view_` is then
    that process's) with its initial memory and every existing object's keys queued
    (an informer's initial LIST delivers an ADD for each object). Given the `store`, a controller
    whose identity may not LIST a watched resource — at the cluster scope, or in one of its
    `namespaces` — starts with that informer unsynced (`ControllerState.unsynced`; its objects
    enqueue nothing)."""
    out = {}
    for controller in model.controllers if process is None else controllers_in(model, process):
        unsynced = () if store is None else refused_informers(store, model.api.users, controller)
        synced = (i for i in _informers_of(controller, store) if i not in unsynced)
        keys = _keys_of(controller, scoped(controller, view_), synced)
        out[controller.name] = ControllerState(tuple(sorted(keys)), started_memory(controller), unsynced)
    return FrozenMap(out)


def _informers_of(controller: Controller, store: Store | None) -> tuple[str, ...]:
    """The controller's informers (`cache_sync.informers`); without a store, one per resource (the
    namespaces' objects are then listed through the controller's view)."""
    return tuple(controller.watches) if store is None else informers(store, controller)


class Handler(NamedTuple):
    """One controller's event handlers as a watch event of one resource reaches them (`handlers`):
    what `notify` would otherwise work out again for every event."""

    controller: Controller
    name: str
    namespaces: tuple[str, ...]
    """`controller_namespaces`: () for a controller that watches every namespace."""
    ignores_sync: bool
    """`sync_updates.ignores_sync_update` for this resource."""
    keys: Callable[[Controller, Change, ObjectView], Iterable[str]]
    """`component.keys_for_change` for a built-in controller (`handled_keys` takes its answer as it
    is), `handled_keys` (which checks the answer) for a user's."""


Dispatch = dict[str, tuple[Handler, ...]]
"""Watched resource → the handlers of the controllers that watch it, in `model.controllers`' order."""

_DISPATCH: LastValues[Dispatch] = LastValues(keep=4)
"""The dispatch tables of the last few controller tuples, by identity (`handlers`)."""


def handlers(controllers: tuple[Controller, ...]) -> Dispatch:
    """The handlers a watch event of each resource reaches, by resource: every controller whose
    `watches` name it, in `controllers`' order (`notify` then asks each only what depends on the
    event: its namespace, its controller's unsynced informers). Worked out once per tuple of
    controllers (a model's are fixed): an event of a resource only some controllers watch is
    handed to those alone, instead of every controller being asked whether it watches it."""
    return _DISPATCH.get1(controllers, _dispatch, controllers)


def _dispatch(controllers: tuple[Controller, ...]) -> Dispatch:
    table: dict[str, list[Handler]] = {}
    for controller in controllers:
        keys = keys_for_change if built_in(controller) else handled_keys
        for resource in dict.fromkeys(controller.watches):
            table.setdefault(resource, []).append(Handler(
                controller, controller.name, controller_namespaces(controller),
                ignores_sync_update(controller, resource), keys))
    return {resource: tuple(found) for resource, found in table.items()}


def notify(model: ClusterModel, state: ClusterState, events: Iterable[WatchEvent], sync: bool = False,
           process: str = CONTROLLER_MANAGER) -> ClusterState:
    """Run the event handlers of every controller of `process` (the controller manager's, or an
    operator's with a cache of its own: `kubeprop.model.controllers.processes`) on events its
    informers delivered (enqueue the keys they name); an
    event of a namespace a controller does not watch (`namespaces`) reaches none of its handlers.
    `sync`: the events are a relist's updates of objects the cache held unchanged, which the handlers
    of `sync_updates.ignores_sync_update` do nothing with. Each handler is told the kind of event and
    an update's old object (`keys_for_change`). The handlers an event reaches are those of its
    resource (`handlers`)."""
    if not is_up(state, process):
        return state
    view_ = view(model, state, process)
    controllers = state.controllers
    table = handlers(controllers_in(model, process))
    for event in events:
        key = event.key
        change: Change | None = None
        for controller, name, namespaces, ignores_sync, keys_of in table.get(key.resource, ()):
            queued = controllers.get(name)
            if queued is None or (sync and ignores_sync):
                continue
            if namespaces:
                if key.namespace and key.namespace not in namespaces:
                    continue  # (no informer of that namespace)
                seen = scoped(controller, view_)
            else:
                seen = view_
            if queued.unsynced and informer_of(namespaces, key) in queued.unsynced:
                continue  # (that informer has not listed: no watch, no event)
            change = change or change_of(event)
            keys = keys_of(controller, change, seen)
            if keys:  # (no key: the queue as it is, and so the map)
                controllers = controllers.set(name, queued.enqueue(keys))
    # (keys all queued already: the very same map, and the state unchanged)
    return state if controllers is state.controllers else evolve(state, controllers=controllers)


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """One Reconcile per queued key of every controller whose informers have synced, and a
    SyncInformer for each unsynced informer whose LIST would now succeed (when its process — the
    controller manager, or the operator's own — is up)."""
    down = state.down
    for controller in model.controllers:
        ctl_state = state.controllers.get(controller.name)
        if ctl_state is None or (down and not is_up(state, process_of(model, controller.name))):
            continue
        if ctl_state.unsynced:
            for informer in ctl_state.unsynced:
                if informer_refusal(state.store, model.api.users, controller.identity, informer) is None:
                    yield SyncInformer(controller.name, informer)
            continue
        for key in ctl_state.queue:
            yield _reconcile(controller.name, key)


@lru_cache(maxsize=4096)
def _reconcile(controller: str, key: str) -> Reconcile:
    """`Reconcile(controller, key)`, made once: an action is a value, and `enabled` is asked
    again whenever any controller's queue or memory changes (most reconciles)."""
    return Reconcile(controller, key)


def waiting(state: ClusterState) -> tuple[str, ...]:
    """The controllers waiting for an informer to sync (`ControllerState.unsynced`), by name;
    the empty tuple (one object) when none is."""
    names = tuple(name for name, c in state.controllers.items() if getattr(c, "unsynced", ()))
    return names or ()


def sync_key(state: ClusterState) -> Any:
    """What `enabled` reads besides the queues: the stored objects (the RBAC policy), but only
    while some controller waits for an informer to sync (None otherwise)."""
    return state.store.objects if waiting(state) else None


def sync_informer(model: ClusterModel, state: ClusterState, act: SyncInformer) -> ClusterState:
    """The informer syncs: it leaves `unsynced`, and every object it lists (of its resource, in its
    namespace if it has one) in the controller manager's cache enqueues its keys (the ADDs of the
    reflector's LIST)."""
    controller = _controller(model, act.controller)
    ctl_state: ControllerState = state.controllers[act.controller]
    assert act.informer in ctl_state.unsynced, "SyncInformer is not enabled"
    own = view(model, state, process_of(model, act.controller))
    keys = _keys_of(controller, scoped(controller, own), (act.informer,))
    unsynced = tuple(r for r in ctl_state.unsynced if r != act.informer)
    ctl_state = evolve(ctl_state.enqueue(keys), unsynced=unsynced)
    return evolve(state, controllers=state.controllers.set(act.controller, ctl_state))


def _controller(model: ClusterModel, name: str) -> Any:
    for controller in model.controllers:
        if controller.name == name:
            return controller
    raise KeyError(name)


def queued(model: ClusterModel, state: ClusterState) -> Iterator[tuple[str, str]]:
    """(controller, key) for every queued key of every controller, in `enabled`'s order (whether its
    process is up or not: `runnable` asks)."""
    for controller in model.controllers:
        ctl_state = state.controllers.get(controller.name)
        if ctl_state is not None and not ctl_state.unsynced:
            for key in ctl_state.queue:
                yield controller.name, key


def runnable(model: ClusterModel, state: ClusterState) -> Iterator[tuple[str, str]]:
    """`queued`'s keys of the controllers whose process (the controller manager, or an operator's
    own: `processes.process_of`) is up: those a `Reconcile` is enabled for."""
    down = state.down
    for controller, key in queued(model, state):
        if not down or is_up(state, process_of(model, controller)):
            yield controller, key
