"""Informer caches: each component's own, lagging view of the API store.

Upstream (`staging/src/k8s.io/client-go/tools/cache/reflector.go`, `shared_informer.go`): a
reflector LISTs a resource, then WATCHes from the list's resourceVersion; events of one resource
arrive in revision order; a dropped watch or 410 Gone means a fresh LIST, which replaces the
cache (intermediate states are never seen; deleted objects vanish). Different resources are
separate watches, so a component's pod cache and node cache can be at different revisions.

In the model a component's cache is an `InformerState`: per watched resource, the objects and
the revision delivered up to. Delivering the next event of one resource to one component is an
action (`Deliver`), so caches lag the store and components do not see their own writes until
the event arrives. `instantCaches` (a scenario parameter) replaces all of this by reading the
store directly, for faster exploration when lag is not under test.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator
from typing import Protocol

import attrs

from kubeprop.model.api.objects import ApiObject, ObjectKey
from kubeprop.model.api.store import Store, WatchEvent
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.memo import LastValues

ObjectFilter = Callable[[ApiObject], bool]


@attrs.frozen(cache_hash=True)
class HandedEvent(WatchEvent):
    """A watch event as a component's informer hands it to its event handlers, with `old`: the object
    its cache held at that key before (None: none). client-go's `processDeltas`
    (`staging/src/k8s.io/client-go/tools/cache/controller.go`) calls OnUpdate(old, new) for an added or
    updated object the indexer already held and OnAdd otherwise, and OnDelete with the object the delta
    carries (after a relist, the last cached state: `DeletedFinalStateUnknown`)."""

    old: ApiObject | None = None


def handed(event: WatchEvent, old: ApiObject | None) -> WatchEvent:
    """`event` with the cached object it replaces (`HandedEvent`); a deletion is handed as it is."""
    if event.type == "DELETED" or old is None:
        return event
    return HandedEvent(event.type, event.key, event.object, event.revision, old)


class ObjectView(Protocol):
    """What a component may read: a Store (instant caches) or an InformerState (lagging cache).

    Besides `get` and `list` (a lister), it says how fresh each resource's cache is, as a shared
    informer does (`staging/src/k8s.io/client-go/tools/cache/shared_informer.go`):
    `last_sync_resource_version(resource)` is `LastSyncResourceVersion()` — the resourceVersion of
    the last LIST or watch event delivered (`reflector.go` setLastSyncResourceVersion), "" for a
    resource not watched; `has_synced(resource)` is `HasSynced()` — the initial LIST has been
    delivered. A controller compares an object's resourceVersion with the former to know whether
    its own write has reached the cache yet (the ReplicaSet controller's expectations do);
    `awaits_relist(resource)` says the watch broke and no event arrives until the reflector lists
    again (its last resourceVersion may then be one of a history an etcd restore took back)."""

    def get(self, key: ObjectKey) -> ApiObject | None: ...

    def list(self, resource: str, namespace: str = "") -> Iterator[ApiObject]: ...

    def last_sync_resource_version(self, resource: str) -> str: ...

    def has_synced(self, resource: str) -> bool: ...

    def awaits_relist(self, resource: str) -> bool: ...


class NamespacedView:
    """What a controller whose informers watch some namespaces only reads: `view` (the controller
    manager's shared cache, or the store with instant caches) without the objects of every other
    namespace. Cluster-scoped objects (no namespace: nodes, namespaces, volumes) stay — upstream
    their informers list every one of them whatever the namespaces
    (`kubeprop.model.controllers.cache_sync`).

    `get` of another namespace's object is None and `list` yields none of them: a lister of a
    namespaced informer factory only holds what its LISTs returned
    (`staging/src/k8s.io/client-go/informers/factory.go` WithNamespace; controller-runtime's
    `pkg/cache/multi_namespace_cache.go`, whose Get of such an object even errors with "unable to
    get: … because of unknown namespace for the cache"). The freshness questions are the shared
    cache's answers for the whole resource."""

    __slots__ = ("namespaces", "view")

    def __init__(self, view: ObjectView, namespaces: tuple[str, ...]) -> None:
        self.view, self.namespaces = view, namespaces

    def get(self, key: ObjectKey) -> ApiObject | None:
        """The object at `key` if it is cluster-scoped or in one of the namespaces, else None."""
        if key.namespace and key.namespace not in self.namespaces:
            return None
        return self.view.get(key)

    def list(self, resource: str, namespace: str = "") -> Iterator[ApiObject]:
        """The objects of `resource` in the namespaces (or in `namespace`, if it is one of them),
        and cluster-scoped ones."""
        if namespace:
            if namespace in self.namespaces:
                yield from self.view.list(resource, namespace)
            return
        namespaces = self.namespaces
        for obj in self.view.list(resource):
            if not obj.metadata.namespace or obj.metadata.namespace in namespaces:
                yield obj

    def last_sync_resource_version(self, resource: str) -> str:
        """The shared cache's `last_sync_resource_version`."""
        return self.view.last_sync_resource_version(resource)

    def has_synced(self, resource: str) -> bool:
        """The shared cache's `has_synced`."""
        return self.view.has_synced(resource)

    def awaits_relist(self, resource: str) -> bool:
        """The shared cache's `awaits_relist`."""
        return self.view.awaits_relist(resource)


@attrs.frozen(cache_hash=True)
class ResourceCache:
    """One resource's objects as a component last heard of them.

    `revision` is the revision of the last delivered event (or of the LIST); `stale` is True
    after a dropped watch until the next relist (no more events arrive meanwhile)."""

    objects: FrozenMap[ObjectKey, ApiObject] = EMPTY
    revision: int = 0
    stale: bool = False


@attrs.frozen(cache_hash=True)
class InformerState:
    """A component's caches, one per watched (qualified) resource."""

    resources: FrozenMap[str, ResourceCache] = EMPTY

    def get(self, key: ObjectKey) -> ApiObject | None:
        """The cached object at `key`, or None (also when the resource is not watched)."""
        cache = self.resources.get(key.resource)
        return None if cache is None else cache.objects.get(key)

    def list(self, resource: str, namespace: str = "") -> Iterator[ApiObject]:
        """Cached objects of a resource in key order, optionally in one namespace."""
        cache = self.resources.get(resource)
        if cache is None:
            return
        for key, obj in cache.objects.sorted_items():
            if not namespace or key.namespace == namespace:
                yield obj

    def last_sync_resource_version(self, resource: str) -> str:
        """client-go `LastSyncResourceVersion()`: the revision of the last LIST or watch event
        delivered for `resource` (still the last one while a dropped watch awaits its relist);
        "" when the component does not watch it."""
        cache = self.resources.get(resource)
        return "" if cache is None else str(cache.revision)

    def has_synced(self, resource: str) -> bool:
        """client-go `HasSynced()`: the initial LIST of `resource` has been delivered. A component's
        caches are listed when it starts, so this is True for every watched resource (also while
        a dropped watch awaits its relist: upstream HasSynced stays true then too); False for a
        resource it does not watch."""
        return resource in self.resources

    def awaits_relist(self, resource: str) -> bool:
        """The cache of `resource` is stale: its watch broke (dropped, or refused after an etcd
        restore) and it gets no event until the next relist."""
        cache = self.resources.get(resource)
        return cache is not None and cache.stale

    def lag(self, store: Store) -> FrozenMap[str, int]:
        """For each watched resource, how many of its events are not yet delivered."""
        out = {}
        for resource, cache in self.resources.items():
            out[resource] = sum(1 for e in store.events if e.key.resource == resource and e.revision > cache.revision)
        return FrozenMap(out)


def list_resource(store: Store, resource: str, keep: ObjectFilter | None = None) -> ResourceCache:
    """A fresh LIST of one resource (optionally filtered, like a field selector)."""
    objects = {
        key: obj for key, obj in store.objects.sorted_items()
        if key.resource == resource and (keep is None or keep(obj))
    }
    return ResourceCache(FrozenMap(objects), store.revision, stale=False)


def start_informer(store: Store, resources: tuple[str, ...], filters: FrozenMap[str, ObjectFilter] = EMPTY
                   ) -> InformerState:
    """A component's caches right after it starts (LIST of every watched resource)."""
    return InformerState(FrozenMap({r: list_resource(store, r, filters.get(r)) for r in resources}))


def next_event(store: Store, cache: ResourceCache, resource: str) -> WatchEvent | None:
    """The next undelivered event of `resource` for this cache, if any (None while stale)."""
    return None if cache.stale else next_in(event_index(store.events), cache, resource)


def next_in(index: dict[str, ResourceEvents], cache: ResourceCache, resource: str) -> WatchEvent | None:
    """The next event of `resource` after the cache's revision in an indexed log (`event_index`)."""
    revisions, events = index.get(resource, _NONE)
    at = bisect_right(revisions, cache.revision)  # in revision order: skip the delivered ones
    return events[at] if at < len(events) else None


ResourceEvents = tuple[tuple[int, ...], tuple[WatchEvent, ...]]
"""One resource's events of a log, in revision order: their revisions, and the events."""
_NONE: ResourceEvents = ((), ())


def event_index(events: tuple[WatchEvent, ...]) -> dict[str, ResourceEvents]:
    """The events of a store's log by resource (`next_event` bisects one resource's revisions
    instead of scanning the log past the events of every other resource). Remembered for the last
    few logs by identity (`_INDEXES`); a log that is the last one plus one event (a write) is
    indexed from it. The dictionary is shared: callers never change it."""
    return _INDEXES.get1(events, _index, events)


def _index(events: tuple[WatchEvent, ...]) -> dict[str, ResourceEvents]:
    recent = _INDEXES.recent
    if recent:
        (last,), index = recent[0]
        assert isinstance(last, tuple)
        if len(events) == len(last) + 1 and events[:-1] == last:
            index = dict(index)  # (tuples compare item by item, identity first: pointers only)
            event = events[-1]
            revisions, of_resource = index.get(event.key.resource, _NONE)
            index[event.key.resource] = ((*revisions, event.revision), (*of_resource, event))
            return index
    grouped: dict[str, list[WatchEvent]] = {}
    for event in events:
        grouped.setdefault(event.key.resource, []).append(event)
    return {r: (tuple(e.revision for e in es), tuple(es)) for r, es in grouped.items()}


_INDEXES: LastValues[dict[str, ResourceEvents]] = LastValues(keep=8)
"""The last few logs indexed (each entry keeps its log alive, so an identity never matches
another log)."""


def deliver(cache: ResourceCache, event: WatchEvent, keep: ObjectFilter | None = None) -> ResourceCache:
    """Apply one watch event to a cache. With a filter (a field selector such as the kubelet's
    `spec.nodeName=<node>`), an object that stops matching is removed, as the watch then sends
    DELETED."""
    if event.type == "DELETED" or (keep is not None and not keep(event.object)):
        objects = cache.objects.delete(event.key)
    else:
        objects = cache.objects.set(event.key, event.object)
    return ResourceCache(objects, event.revision, stale=False)


def oldest_needed_revision(informers: FrozenMap[str, InformerState]) -> int | None:
    """The lowest revision any live, non-stale cache still needs events after (None if none)."""
    revisions = [
        cache.revision
        for informer in informers.values()
        for cache in informer.resources.values()
        if not cache.stale
    ]
    return min(revisions) if revisions else None
