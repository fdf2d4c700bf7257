"""A stand-in for the PV controller's cache in unit tests: a view holding only the claims and
volumes it is given (the controller reads `get` and `list`)."""

from __future__ import annotations

from kubeprop.model.api.objects import ObjectKey, PersistentVolume, PersistentVolumeClaim


class VolumeView:
    """A cache of `objects` only (the controller reads `get` and `list`)."""

    def __init__(self, *objects: PersistentVolume | PersistentVolumeClaim) -> None:
        self.objects = {ObjectKey("persistentvolumeclaims" if isinstance(o, PersistentVolumeClaim)
                                  else "persistentvolumes", o.metadata.namespace, o.metadata.name): o
                        for o in objects}

    def get(self, key: ObjectKey) -> object:
        return self.objects.get(key)

    def list(self, resource: str, namespace: str = "") -> object:
        return iter([o for k, o in self.objects.items() if k.resource == resource])
