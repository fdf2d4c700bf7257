"""The etcd keyspace as the API server sees it: objects by key, revisions, and the watch event log.

Mirrors `staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go`: every successful write raises
the global revision by one, an object's resourceVersion is the revision of its last write
(etcd mod_revision), create is `Txn(If mod_revision==0 Then Put)`, update is
`Txn(If mod_revision==expected Then Put)`. Events of all resources are ordered by revision
(`staging/src/k8s.io/apiserver/pkg/storage/cacher/watch_cache.go`); informers consume them.

`Store` is an immutable value: every write returns a new Store.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import attrs

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.names import generate_name
from kubeprop.model.api.objects import ApiObject, ObjectKey, object_key, with_metadata
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.memo import LastValues, intern

EventType = Literal["ADDED", "MODIFIED", "DELETED"]
_UID_PREFIX = "00000000-0000-4000-8000"
"""The model's UIDs: this prefix and a 12-digit hexadecimal counter (`Store.next_uid`)."""


@attrs.frozen(cache_hash=True)
class WatchEvent:
    """One watch event: ADDED/MODIFIED carry the new object, DELETED the last state."""

    type: EventType
    key: ObjectKey
    object: ApiObject
    revision: int

    def __str__(self) -> str:
        return f"{self.type} {self.key} @{self.revision}"


@attrs.frozen(cache_hash=True)
class Store:
    """All persisted objects plus the revision counter and the ordered event log.

    `events` holds the events after `compacted` (older ones were dropped by compaction, as
    etcd's compaction and the watch cache's ring buffer do); a watch from a revision below
    `compacted` must relist (410 Gone).
    """

    objects: FrozenMap[ObjectKey, ApiObject] = EMPTY
    revision: int = 1
    events: tuple[WatchEvent, ...] = ()
    compacted: int = 1
    names_generated: int = 0
    uids_issued: int = 0

    def get(self, key: ObjectKey) -> ApiObject | None:
        """The stored object at `key`, or None."""
        return self.objects.get(key)

    def list(self, resource: str, namespace: str = "") -> Iterator[ApiObject]:
        """Objects of a (qualified) resource, in key order, optionally in one namespace (from the
        objects' index by resource, `by_resource`)."""
        for key, obj in by_resource(self.objects).get(resource, ()):
            if not namespace or key.namespace == namespace:
                yield obj

    def next_uid(self) -> tuple[Store, str]:
        """A fresh UID. Deterministic (a counter) so runs are reproducible; real UIDs are random."""
        n = self.uids_issued + 1
        return evolve(self, uids_issued=n), f"{_UID_PREFIX}-{n:012x}"

    @staticmethod
    def uid_serial(uid: str) -> int | None:
        """The order `next_uid` issued `uid` in (None for a UID it did not issue): an object whose
        serial is lower was created first, in every run of the model."""
        prefix, _, serial = uid.rpartition("-")
        if prefix != _UID_PREFIX or len(serial) != 12:
            return None
        try:
            return int(serial, 16)
        except ValueError:
            return None

    def next_generated_name(self, base: str) -> tuple[Store, str]:
        """`base` plus a 5-character suffix (`staging/src/k8s.io/apiserver/pkg/storage/names/generate.go`),
        drawn from a counter instead of a random source so runs are reproducible."""
        n = self.names_generated + 1
        return evolve(self, names_generated=n), generate_name(base, n)

    def put(self, obj: ApiObject, event_type: EventType) -> tuple[Store, ApiObject, WatchEvent]:
        """Write `obj` at a new revision (its resourceVersion becomes that revision). Within a search
        the object stored is interned (`memo.intern`): the same write along another path of the
        search stores the very same object, which every later comparison finds by identity."""
        revision = self.revision + 1
        stored = intern(with_metadata(obj, evolve(obj.metadata, resource_version=str(revision))))
        key = object_key(stored)
        event = WatchEvent(event_type, key, stored, revision)
        new = evolve(
            self, objects=self.objects.set(key, stored), revision=revision, events=(*self.events, event)
        )
        return new, stored, event

    def remove(self, key: ObjectKey) -> tuple[Store, WatchEvent]:
        """Delete the object at `key`; the DELETED event carries its last state at the new revision."""
        revision = self.revision + 1
        last = self.objects[key]
        last = intern(with_metadata(last, evolve(last.metadata, resource_version=str(revision))))
        event = WatchEvent("DELETED", key, last, revision)
        new = evolve(self, objects=self.objects.delete(key), revision=revision, events=(*self.events, event))
        return new, event

    def last_sync_resource_version(self, resource: str) -> str:
        """As `ObjectView`: a store read directly (instant caches) is always at its own revision."""
        return str(self.revision)

    def has_synced(self, resource: str) -> bool:
        """As `ObjectView`: a store read directly has nothing to wait for."""
        return True

    def awaits_relist(self, resource: str) -> bool:
        """As `ObjectView`: a store read directly has no watch to break."""
        return False

    def events_since(self, revision: int) -> tuple[WatchEvent, ...] | None:
        """Events with revision > `revision`, or None if compaction dropped some of them (410 Gone)."""
        if revision < self.compacted:
            return None
        return tuple(e for e in self.events if e.revision > revision)

    def compact(self, revision: int) -> Store:
        """Drop events at or below `revision` (etcd compaction / watch cache eviction)."""
        if revision <= self.compacted:
            return self
        kept = tuple(e for e in self.events if e.revision > revision)
        return evolve(self, events=kept, compacted=min(revision, self.revision))


def stamp_new(store: Store, meta: ObjectMeta, now: int) -> tuple[Store, ObjectMeta]:
    """System fields of a new object: uid, creationTimestamp, generated name
    (`rest.FillObjectMetaSystemFields`, `names.SimpleNameGenerator`)."""
    if meta.generate_name and not meta.name:
        store, name = store.next_generated_name(meta.generate_name)
        meta = evolve(meta, name=name)
    store, uid = store.next_uid()
    return store, evolve(meta, uid=uid, creation_timestamp=now, resource_version="")


Items = tuple[tuple[ObjectKey, ApiObject], ...]

_BY_RESOURCE: LastValues[dict[str, Items]] = LastValues(8)
"""The index by resource of the last few object maps (by identity): a state's components, guards
and properties list resources of the same store one after another, and a step that writes
nothing keeps the map."""


def by_resource(objects: FrozenMap[ObjectKey, ApiObject]) -> dict[str, Items]:
    """`objects`' items by resource, each resource's in key order: `Store.list` reads one
    resource's items instead of going through every stored object (about forty on FeastFlow)."""
    return _BY_RESOURCE.get1(objects, _index, objects)


def _index(objects: FrozenMap[ObjectKey, ApiObject]) -> dict[str, Items]:
    grouped: dict[str, list[tuple[ObjectKey, ApiObject]]] = {}
    for item in objects.sorted_items():
        grouped.setdefault(item[0].resource, []).append(item)
    return {resource: tuple(items) for resource, items in grouped.items()}
