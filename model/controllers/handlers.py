"""The event-handler pattern the ReplicaSet, Deployment and StatefulSet controllers share for the objects
they own (pods; the Deployment controller's ReplicaSets), with the kind of event and an update's old
object (`kubeprop.model.state.component.Change`).

Upstream each spells it out (`pkg/controller/replicaset/replica_set.go` addPod/updatePod/deletePod,
`pkg/controller/deployment/deployment_controller.go` addReplicaSet/updateReplicaSet/deleteReplicaSet,
`pkg/controller/statefulset/stateful_set.go` addPod/updatePod/deletePod):

- add: an object already being deleted is handed to the delete handler ("on a restart of the
  controller manager, it's possible a new pod shows up in a state that is already pending
  deletion"); one with a ControllerRef enqueues the owner it resolves to (`resolveControllerRef`: the
  cached owner of that kind, name and UID) — "that's all that matters"; an orphan enqueues every owner
  whose selector matches it ("to see if anyone wants to adopt it");
- update: nothing when the resourceVersions are equal ("Periodic resync will send update events for
  all known pods"); a changed ControllerRef also enqueues the old reference's owner; then the new
  reference's owner, or for an orphan the matching owners — but only if its labels or its
  ControllerRef changed ("If anything changed, sync matching controllers");
- delete: the owner the ControllerRef resolves to ("No controller should care about orphans being
  deleted").

The ReplicaSet controller's updatePod first hands a pod being deleted to deletePod (and its old
self too when its labels changed); its caller does that (`replicaset.ReplicaSetController`).
"""

from __future__ import annotations

from collections.abc import Callable

from kubeprop.model.api.objects import ApiObject
from kubeprop.model.controllers.podutil import controller_of, resolve_controller_ref
from kubeprop.model.state.component import Change
from kubeprop.model.state.informer import ObjectView

Orphans = Callable[[ApiObject], tuple[str, ...]]
"""The keys of the owners whose selector matches an orphan (getPodReplicaSets, …)."""


def same_version(old: ApiObject | None, new: ApiObject) -> bool:
    """Whether an update's old and new objects have one resourceVersion: a relist's sync update ("Two
    different versions of the same pod will always have different RVs")."""
    return old is not None and old.metadata.resource_version == new.metadata.resource_version


def labels_changed(old: ApiObject, new: ApiObject) -> bool:
    """`!reflect.DeepEqual(cur.Labels, old.Labels)`."""
    return dict(old.metadata.labels) != dict(new.metadata.labels)


def owner_key(view: ObjectView, obj: ApiObject, resource: str, kind: str) -> tuple[str, ...]:
    """The key of the owner `obj`'s ControllerRef resolves to in the cache, or none."""
    owner = resolve_controller_ref(view, obj, resource, kind)
    return () if owner is None else (f"{owner.metadata.namespace}/{owner.metadata.name}",)


def on_delete(view: ObjectView, obj: ApiObject, resource: str, kind: str) -> tuple[str, ...]:
    """The delete handler: the resolved owner; an orphan's deletion enqueues nothing."""
    return owner_key(view, obj, resource, kind) if controller_of(obj) is not None else ()


def on_add(view: ObjectView, obj: ApiObject, resource: str, kind: str, orphans: Orphans) -> tuple[str, ...]:
    """The add handler (module docstring)."""
    if obj.metadata.deletion_timestamp is not None:
        return on_delete(view, obj, resource, kind)
    if controller_of(obj) is not None:
        return owner_key(view, obj, resource, kind)
    return orphans(obj)


def on_update(view: ObjectView, old: ApiObject, new: ApiObject, resource: str, kind: str,
              orphans: Orphans) -> tuple[str, ...]:
    """The update handler after its resourceVersion check (module docstring)."""
    cur_ref, old_ref = controller_of(new), controller_of(old)
    ref_changed = cur_ref != old_ref
    keys: tuple[str, ...] = ()
    if ref_changed and old_ref is not None:
        keys = owner_key(view, old, resource, kind)  # "The ControllerRef was changed. Sync the old controller"
    if cur_ref is not None:
        return keys + owner_key(view, new, resource, kind)
    if labels_changed(old, new) or ref_changed:
        return keys + orphans(new)
    return keys


def owned_change(change: Change, view: ObjectView, resource: str, kind: str, orphans: Orphans) -> tuple[str, ...]:
    """The keys an add, update or delete of an owned object enqueues (module docstring), sorted."""
    obj = change.object
    if change.type == "delete":
        keys = on_delete(view, obj, resource, kind)
    elif change.type == "add" or change.old is None:
        keys = on_add(view, obj, resource, kind, orphans)
    elif same_version(change.old, obj):
        keys = ()
    else:
        keys = on_update(view, change.old, obj, resource, kind, orphans)
    return tuple(sorted(set(keys)))
