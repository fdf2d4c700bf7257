"""A user's 'crash recycler': deletes a db pod whose container has restarted, so the StatefulSet
makes a fresh one. First version deletes by name (no UID precondition): a reconcile on a stale
cache, which still shows the old, crashed db-0, deletes the fresh db-0 the StatefulSet created."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.objects import ApiObject, ObjectKey, Pod
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.base import Memoryless, Reconciliation
from kubeprop.model.state.informer import ObjectView

LABEL = "app"
VALUE = "db"


def restarted(pod: Pod) -> bool:
    return any(cs.restart_count > 0 for cs in pod.status.container_statuses)


@attrs.frozen
class Recycler(Memoryless):
    name: str = "recycler"
    watches: tuple[str, ...] = ("pods",)
    identity: str = "system:kube-controller-manager"
    use_uid: bool = False

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        if isinstance(obj, Pod) and obj.metadata.labels.get(LABEL) == VALUE:
            return (f"{obj.metadata.namespace}/{obj.metadata.name}",)
        return ()

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        namespace, _, name = key.rpartition("/")
        pod = view.get(ObjectKey("pods", namespace, name))
        if not isinstance(pod, Pod) or pod.metadata.deletion_timestamp is not None or not restarted(pod):
            return Reconciliation(memory=memory)
        req = Request(verb="delete", user=self.identity, resource="pods", namespace=namespace, name=name,
                      precondition_uid=pod.metadata.uid if self.use_uid else None)
        return Reconciliation((req,), memory, tolerate=None)


RECYCLER = Recycler()
RECYCLER_FIXED = Recycler(use_uid=True)
