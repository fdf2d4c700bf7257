"""The PV controller's own writes, which it reads before its informers deliver them.

Upstream the PV controller keeps its own caches of volumes and claims (`ctrl.volumes`, the index
`findBestMatchForClaim` searches, and `ctrl.claims`), beside the informers': every object the
informers hand it goes in through storeObjectUpdate, and so does every object one of its own
successful writes returns (`pkg/controller/volume/persistentvolume/pv_controller.go`:
updateVolumePhase, updateBindVolumeToClaim, unbindVolume → storeVolumeUpdate; bindClaimToVolume,
updateClaimStatus, setClaimProvisioner → storeClaimUpdate). storeObjectUpdate keeps the newer
resourceVersion ("Throw away only older version, let the same version pass"). So its next sync sees
its own writes, even before the informer has delivered them: a volume it has just made Available
is matched at once. And a key whose informer object is older than the one its cache holds is not
synced at all (pv_controller_base.go updateVolume / updateClaim: `if !new { return }`): the
informer's event for the write brings it back.

The model keeps, in the controller's memory, the objects its successful update and update-status
requests of volumes and claims returned (`remember`), reads its view through them (`OwnWritesView`:
the newer resourceVersion of the same object wins) and forgets each once the informer has caught
up with it, lost the object, or holds another object of that name (`prune`, at every reconcile),
so the memory stays small and states that differ only in what upstream's cache would shadow anyway
are one. A crash of the controller manager forgets them (its memory starts empty), as a restarted
kube-controller-manager fills its caches from the informers alone (initializeCaches).

Model choice: an etcd restore that takes the resourceVersions back leaves a remembered write
shadowing the restored object until the controller manager restarts — as upstream's
storeObjectUpdate, which compares the numbers the same way, would.
"""

from __future__ import annotations

from collections.abc import Iterator

from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim
from kubeprop.model.api.objects import ApiObject, ObjectKey, object_key
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.volume import CLAIMS, VOLUMES
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.informer import ObjectView

OwnWrites = FrozenMap[ObjectKey, ApiObject]
"""The objects the controller's own writes returned, by key (none: `EMPTY`)."""

WRITES = ("update", "update-status")
"""The verbs whose answers the controller stores (it creates no volumes or claims; its deletes
store nothing: deleteVolumeOperation does not touch `ctrl.volumes`)."""


def _version(obj: ApiObject) -> int:
    """The object's resourceVersion as storeObjectUpdate parses it (a stored object's is a number)."""
    version = obj.metadata.resource_version
    return int(version) if version.isdigit() else 0


def remember(own: OwnWrites, request: Request, response: Response) -> OwnWrites:
    """`own` with the object a successful update of a volume or a claim returned."""
    obj = response.obj
    if request.verb not in WRITES or not response.ok or not isinstance(obj, PersistentVolume | PersistentVolumeClaim):
        return own
    return own.set(object_key(obj), obj)


def _newer(mine: ApiObject | None, cached: ApiObject | None) -> bool:
    """Whether `mine` is a newer version of the same object than the informer's `cached`."""
    return mine is not None and cached is not None and mine.metadata.uid == cached.metadata.uid \
        and _version(mine) > _version(cached)


def prune(own: OwnWrites, view: ObjectView) -> OwnWrites:
    """`own` without the writes the informer has caught up with (or whose object it no longer holds)."""
    for key, mine in own.items():
        if not _newer(mine, view.get(key)):
            own = own.delete(key)
    return own


class OwnWritesView:
    """The controller's cache: the informers' `view` with the newer of its own writes (`own`, pruned)
    in place of the informer's copy; `behind(key)` says the informer's copy is the older one."""

    __slots__ = ("_own", "_view")

    def __init__(self, view: ObjectView, own: OwnWrites) -> None:
        self._view, self._own = view, own

    def behind(self, key: ObjectKey) -> bool:
        """updateVolume / updateClaim's `!new`: the cache holds a newer version than the informer."""
        return key in self._own

    def get(self, key: ObjectKey) -> ApiObject | None:
        mine = self._own.get(key)
        return mine if mine is not None else self._view.get(key)

    def list(self, resource: str, namespace: str = "") -> Iterator[ApiObject]:
        for obj in self._view.list(resource, namespace):
            mine = self._own.get(object_key(obj)) if resource in (CLAIMS, VOLUMES) else None
            yield obj if mine is None else mine

    def last_sync_resource_version(self, resource: str) -> str:
        return self._view.last_sync_resource_version(resource)

    def has_synced(self, resource: str) -> bool:
        return self._view.has_synced(resource)

    def awaits_relist(self, resource: str) -> bool:
        return self._view.awaits_relist(resource)


def own_view(view: ObjectView, own: OwnWrites) -> ObjectView:
    """`view` read through `own` (already pruned against it); `view` itself when `own` is empty."""
    return OwnWritesView(view, own) if own else view


__all__ = ["OwnWrites", "OwnWritesView", "own_view", "prune", "remember"]
