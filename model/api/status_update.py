"""What a PUT on `/status` stores: the per-kind status strategies' PrepareForUpdate.

Most kinds' status strategies keep the stored object but its status: the spec, and the metadata
through `metav1.ResetObjectMetaForStatus` (labels, annotations, finalizers, ownerReferences,
deletionTimestamp, generation). Three older strategies reset less, so the metadata a client
sends to `/status` is stored (then `rest.BeforeUpdate` keeps the system fields: uid,
creationTimestamp, deletionTimestamp, deletionGracePeriodSeconds, generation — `server_write`):

* Pod (`pkg/registry/core/pod/strategy.go` podStatusStrategy.PrepareForUpdate): spec,
  deletionTimestamp and ownerReferences reset ("old kubelets corrupt them"); labels, annotations
  and finalizers are stored — the last finalizer of a pod being deleted with grace 0 removed
  through `/status` deletes it (ShouldDeleteDuringUpdate, `server_delete`).
* ReplicaSet (`pkg/registry/apps/replicaset/strategy.go` rsStatusStrategy.PrepareForUpdate): the
  spec alone reset.
* Deployment (`pkg/registry/apps/deployment/strategy.go` deploymentStatusStrategy.PrepareForUpdate):
  spec and labels reset (the revision annotation the controller writes with its status persists).

Custom objects with a status subresource keep everything but `.status` (the CR status strategy);
StatefulSets keep their current revision as the main resource does (`revisions`).
"""

from __future__ import annotations

from typing import Any, cast

from kubeprop.model.api.objects import (
    ApiObject,
    CustomObject,
    Deployment,
    Pod,
    ReplicaSet,
    StatefulSet,
)
from kubeprop.model.api.revisions import carry_current_revision
from kubeprop.model.evolve import evolve

__all__ = ["prepare_for_status_update"]


def _with_status(obj: ApiObject, status_value: Any) -> ApiObject:
    result: ApiObject = evolve(cast(Any, obj), status=status_value)
    return result


def _legacy(new: ApiObject, old: ApiObject) -> ApiObject | None:
    """The sent object with the fields its kind's status strategy resets taken from the stored one
    (None for the kinds that reset the whole metadata)."""
    if isinstance(new, Pod) and isinstance(old, Pod):
        meta = evolve(new.metadata, owner_references=old.metadata.owner_references)
        return evolve(new, metadata=meta, spec=old.spec)
    if isinstance(new, ReplicaSet) and isinstance(old, ReplicaSet):
        return evolve(new, spec=old.spec)
    if isinstance(new, Deployment) and isinstance(old, Deployment):
        return evolve(new, metadata=evolve(new.metadata, labels=old.metadata.labels), spec=old.spec)
    return None


def prepare_for_status_update(new: ApiObject | None, old: ApiObject) -> ApiObject:
    """The object a `/status` update of `old` with `new` writes, before the system fields are kept
    (`server_write`) and managedFields tracked."""
    if isinstance(new, CustomObject) and isinstance(old, CustomObject):
        value = new.content.get("status")
        content = old.content.delete("status") if value is None else old.content.set("status", value)
        return evolve(old, content=content)
    legacy = None if new is None else _legacy(new, old)
    if legacy is not None:
        return legacy
    merged = _with_status(old, getattr(new, "status", None))
    if isinstance(merged, StatefulSet) and isinstance(old, StatefulSet):
        merged = carry_current_revision(merged, old)
    return merged

