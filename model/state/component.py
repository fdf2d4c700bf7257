"""The contracts components are written against.

- `Component`: what the composition asks of each component module (scheduler, kubelets,
  controllers, node lifecycle, informers, faults, workload): its enabled actions, the handler of
  each of its action classes, and optionally its next timer.
- `Hooks`: what the shared mechanisms run on a component's behalf — after watch events reach a
  component, when a component (re)starts, when the clock advances, which timers `Tick` waits
  for, what holds the clock, who may refuse a request before the API server handles it
  (`RequestGate`), and who observes API responses (measurement only, see `ResponseObserver`).
  The composition builds one `Hooks` value and the `ClusterModel` carries it, so what runs is
  data of the model, never a list filled in as a side effect of importing a module.
- `Controller` and `Reconciliation`: the protocol of a reconciling controller (docs/controllers.md;
  the work-queue mechanics are in `kubeprop.model.controllers.base`). Scenario loading checks user
  controllers against it, so it lives below both the scenario and the controllers — and so does
  the check of a controller's optional `namespaces` (`controller_namespaces`, `namespaces_problem`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import attrs

from kubeprop.model.api.names import name_is_dns_label
from kubeprop.model.api.objects import ApiObject
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.store import WatchEvent
from kubeprop.model.errors import UserCodeError, describe_value
from kubeprop.model.state.informer import ObjectView
from kubeprop.model.user_code import controller_error

if TYPE_CHECKING:
    from kubeprop.model.state.actions import Action
    from kubeprop.model.state.cluster import ClusterModel, ClusterState

__all__ = [
    "Change", "ChangeType", "Component", "Controller", "EventHook", "Hooks", "Reconciliation", "RequestGate",
    "Resetter", "ResponseObserver", "TickGuard", "TickHook", "Timer", "WatchSource", "change_of",
    "controller_namespaces", "keys_for_change", "namespaces_problem",
]

EventHook = Callable[["ClusterModel", "ClusterState", str, tuple[WatchEvent, ...]], "ClusterState"]
"""Runs after watch events reach a component: (model, state, component, events) → state."""
Resetter = Callable[["ClusterModel", "ClusterState", str], "ClusterState"]
"""Rebuilds a component's memory when it (re)starts: (model, state, component) → state."""
TickHook = Callable[["ClusterModel", "ClusterState", "ClusterState"], "ClusterState"]
"""Runs after the clock advances: (model, before, after) → after'."""
Timer = Callable[["ClusterModel", "ClusterState"], "int | None"]
"""A component's next timer (model time in seconds), or None."""
WatchSource = Callable[["ClusterModel", str], Iterable[str]]
"""(model, component) → more resources the component watches (add-on components' kinds)."""
TickGuard = Callable[["ClusterModel", "ClusterState"], bool]
"""Holds the clock while True: periodic work upstream runs more often than the model's tick is due."""
ResponseObserver = Callable[[str, Request, Response], None]
"""Sees every API response `send` returns: (component, request, response). For measurement only
(`kubeprop.properties.metrics` counts requests by verb and code): it must change nothing, so the
states of a run are the same with or without observers. Built models carry none."""
RequestGate = Callable[["ClusterModel", "ClusterState", str, Request, str], "Response | None"]
"""Decides before the API server handles a request whether it is refused (API server overload):
(model, state, user, request, component) → the refusal (429 …), or None to let it through."""
Handler = Callable[["ClusterModel", "ClusterState", Any], "ClusterState"]


@runtime_checkable
class Component(Protocol):
    """One part of the cluster the composition puts together (a module or any value with these)."""

    HANDLERS: Mapping[type[Any], Handler]

    def enabled(self, model: ClusterModel, state: ClusterState) -> Iterator[Action]: ...


@attrs.frozen
class Hooks:
    """What informer delivery, restarts and time run on the components' behalf (see module docstring)."""

    on_events: tuple[EventHook, ...] = ()
    on_sync_updates: tuple[EventHook, ...] = ()
    """The hooks a relist's updates of objects the cache held unchanged reach (client-go's sync updates,
    `kubeprop.model.cluster.informers.hand_relist`); the others' handlers do nothing with them."""
    resetters: tuple[Resetter, ...] = ()
    tick_hooks: tuple[TickHook, ...] = ()
    timers: tuple[Timer, ...] = ()
    tick_guards: tuple[TickGuard, ...] = ()
    watches: tuple[WatchSource, ...] = ()
    on_response: tuple[ResponseObserver, ...] = ()
    request_gates: tuple[RequestGate, ...] = ()
    memo_safe_gates: tuple[RequestGate, ...] = ()
    """The request gates whose reads the controllers' clock-guard memo accounts for
    (`kubeprop.model.controllers.queued_work`: the flood's, which reads the store, the informers and
    `state.overload`); a model whose `request_gates` are not exactly these is never memoised there."""


@attrs.frozen
class Reconciliation:
    """What one reconcile decided: requests to send in order, and the controller's new memory.

    `after_failure`, if set, gives the requests still sent after the first failed one (the
    failed request and its response → requests, sent in order until one fails): an upstream
    sync that writes its status whatever its other writes did (the ReplicaSet controller's
    ReplicaFailure condition, `pkg/controller/replicaset/replica_set.go` syncReplicaSet).

    `tolerate`, if set, says what a failed response means when it is not the failure that
    requeues the key: `"ignore"` — no error at all, the requests go on and the key is not requeued
    (upstream's code returns nil for it: the ReplicaSet controller's pod creates refused because the
    namespace is terminating); `"forget"` — the sync ends there, `after_failure` still runs, but
    the key is forgotten, not requeued (upstream's handleErr forgets it: the Deployment
    controller's `NamespaceTerminatingCause`); None — an ordinary failure."""

    requests: tuple[Request, ...] = ()
    memory: Any = None
    requeue: bool = False
    after_failure: Callable[[Request, Response], tuple[Request, ...]] | None = None
    tolerate: Callable[[Request, Response], Literal["ignore", "forget"] | None] | None = None


ChangeType = Literal["add", "update", "delete"]


@attrs.frozen
class Change:
    """What a shared informer hands an event handler: client-go's `ResourceEventHandler`
    (`staging/src/k8s.io/client-go/tools/cache/controller.go`) gets OnAdd(obj), OnUpdate(old, new) or
    OnDelete(obj), and `processDeltas` picks OnUpdate for an object the informer's cache already held.
    `old` is set for an update only (equal to `object` for a relist's sync update); a deletion's `object`
    is the deleted object's last state (after a relist, the last *cached* state, as upstream's
    `DeletedFinalStateUnknown` tombstone carries)."""

    type: ChangeType
    object: ApiObject
    old: ApiObject | None = None


def change_of(event: WatchEvent) -> Change:
    """The handler call an informer makes for `event`: OnDelete for a deletion, OnUpdate when the event
    carries the object the cache held (`kubeprop.model.state.informer.HandedEvent`), OnAdd otherwise."""
    if event.type == "DELETED":
        return Change("delete", event.object)
    old = getattr(event, "old", None)
    return Change("add", event.object) if old is None else Change("update", event.object, old)


def keys_for_change(controller: Controller, change: Change, view: ObjectView) -> Iterable[str]:
    """The keys a controller's event handlers enqueue for `change`: its optional
    `keys_for_change(change, view)` (upstream's AddFunc/UpdateFunc/DeleteFunc, each deciding on its own),
    or else `keys_for(object, view)` — the same for every kind of event (a scenario's controller that
    does not tell them apart: controller-runtime's handlers enqueue on every event by default)."""
    handler = getattr(controller, "keys_for_change", None)
    try:
        if handler is None:
            return controller.keys_for(change.object, view)
        keys: Iterable[str] = handler(change, view)
        return keys
    except UserCodeError:
        raise
    except Exception as err:  # the boundary where the model calls a controller's event handler
        meta = change.object.metadata
        name = f"{meta.namespace}/{meta.name}" if meta.namespace else meta.name
        error = controller_error(controller, f"handling the {change.type} of {type(change.object).__name__} "
                                             f"{name!r} (keys_for / keys_for_change)", err)
        if error is None:
            raise  # (no frame of the user's: kubeprop's own bug)
        raise error from err


@runtime_checkable
class Controller(Protocol):
    """A reconciling controller (see the module docstring). It may also have `namespaces`, the
    namespaces its informers are limited to (`controller_namespaces`), `wakeup_at`
    (`kubeprop.model.controllers.base`) and `keys_for_change(change, view)`, which is then asked
    instead of `keys_for` with the kind of event and the old object of an update (`Change`)."""

    name: str
    watches: tuple[str, ...]
    identity: str

    def initial_memory(self) -> Any: ...

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]: ...

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation: ...

    def observe(self, memory: Any, request: Request, response: Response) -> Any: ...


def controller_namespaces(controller: object) -> tuple[str, ...]:
    """The namespaces a controller's informers watch: its optional `namespaces` (checked by
    `namespaces_problem`), or () — every namespace, what every built-in controller watches.

    Upstream an operator limited to some namespaces builds its informers with them: client-go's
    `informers.NewSharedInformerFactoryWithOptions(client, resync, informers.WithNamespace(ns))`
    (`staging/src/k8s.io/client-go/informers/factory.go`: one namespace per factory, the default
    `v1.NamespaceAll`), or controller-runtime's `cache.Options{DefaultNamespaces: {ns: {}, …}}`
    (`pkg/cache/cache.go`), whose name the field takes. What that changes is in
    `kubeprop.model.controllers.cache_sync`."""
    value = getattr(controller, "namespaces", ())
    return value if type(value) is tuple else tuple(value)


def namespaces_problem(controller: object) -> str | None:
    """What is wrong with a controller's `namespaces`, naming the controller, or None: a tuple (or
    list) of distinct namespace names — DNS-1123 labels, as a Namespace's name must be
    (`staging/src/k8s.io/apimachinery/pkg/api/validation/generic.go`: ValidateNamespaceName =
    NameIsDNSLabel). An empty name is refused: it is `metav1.NamespaceAll` upstream, every
    namespace, which leaving the field out (or empty) says."""
    if not hasattr(controller, "namespaces"):
        return None
    value = controller.namespaces
    where = f"controller {getattr(controller, 'name', '?')!r}: namespaces"
    if not isinstance(value, tuple | list):
        return (f"{where} must be a list of namespace names, such as ('shop',) (leave it out for every "
                f"namespace), not {describe_value(value)}")
    for i, namespace in enumerate(value):
        if not isinstance(namespace, str):
            return f"{where}[{i}] must be a namespace name, not {describe_value(namespace)}"
        if not namespace:
            return (f"{where}[{i}] is empty: name a namespace (\"\" is every namespace upstream, "
                    "metav1.NamespaceAll: leave `namespaces` out or empty for that)")
        errors = name_is_dns_label(namespace)
        if errors:
            return f"{where}[{i}] {namespace!r} is not a valid namespace name: {errors[0]}"
        if namespace in value[:i]:
            return f"{where}[{i}] {namespace!r} is listed twice"
    return None
