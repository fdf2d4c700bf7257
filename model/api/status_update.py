"""What a PUT on `/status` stores: the per-kind status strategies' PrepareForUpdate.

The built-in kinds' status strategies reset the *spec* to the stored one and let the rest of what
the client sent through — the metadata too (then `rest.BeforeUpdate` keeps the system fields: uid,
creationTimestamp, deletionTimestamp, deletionGracePeriodSeconds, generation — `server_write`):
`newX.Spec = oldX.Spec` in `pkg/registry/apps/{replicaset,statefulset,daemonset}/strategy.go`,
`pkg/registry/batch/{job,cronjob}/strategy.go`, `pkg/registry/core/{node,namespace,service,
persistentvolume,persistentvolumeclaim}/strategy.go`, `pkg/registry/policy/poddisruptionbudget`,
`pkg/registry/autoscaling/horizontalpodautoscaler`, `pkg/registry/networking/ingress`. Two reset
more:

* Pod (`pkg/registry/core/pod/strategy.go` podStatusStrategy.PrepareForUpdate): spec,
  deletionTimestamp and ownerReferences ("old kubelets corrupt them"); labels, annotations and
  finalizers are stored — the last finalizer of a pod being deleted with grace 0 removed through
  `/status` deletes it (ShouldDeleteDuringUpdate, `server_delete`).
* Deployment (`pkg/registry/apps/deployment/strategy.go` deploymentStatusStrategy.PrepareForUpdate):
  spec and labels (the revision annotation the controller writes with its status persists).

Custom objects with a status subresource keep everything but `.status` (the CR status strategy,
`apiextensions-apiserver/pkg/registry/customresource/status_strategy.go`: the old object with the
new status). A CustomResourceDefinition's `/status` keeps the stored metadata too (its strategy
resets labels, annotations and ownerReferences; what it does with finalizers is not checked here,
so the model keeps the whole metadata, as before). StatefulSets keep their current revision as the
main resource does (`revisions`).
"""

from __future__ import annotations

from typing import Any, cast

from kubeprop.model.api.objects import (
    ApiObject,
    CustomObject,
    CustomResourceDefinition,
    Deployment,
    Pod,
    StatefulSet,
)
from kubeprop.model.api.revisions import carry_current_revision
from kubeprop.model.evolve import evolve

__all__ = ["prepare_for_status_update"]


def _with_status(obj: ApiObject, status_value: Any) -> ApiObject:
    result: ApiObject = evolve(cast(Any, obj), status=status_value)
    return result


def _spec_reset(new: ApiObject, old: ApiObject) -> ApiObject | None:
    """The sent object with what its kind's status strategy resets taken from the stored one (None
    for the kinds whose stored metadata stays: custom resource definitions)."""
    if isinstance(new, CustomResourceDefinition) or not hasattr(new, "spec") or type(new) is not type(old):
        return None
    meta = new.metadata
    if meta == old.metadata:
        meta = old.metadata  # (the stored one itself: what a status write of a cached copy carries)
    elif isinstance(new, Pod):
        meta = evolve(meta, owner_references=old.metadata.owner_references)
    elif isinstance(new, Deployment):
        meta = evolve(meta, labels=old.metadata.labels)
    reset: ApiObject = evolve(cast(Any, new), metadata=meta, spec=cast(Any, old).spec)
    return reset


def prepare_for_status_update(new: ApiObject | None, old: ApiObject) -> ApiObject:
    """The object a `/status` update of `old` with `new` writes, before the system fields are kept
    (`server_write`) and managedFields tracked."""
    if isinstance(new, CustomObject) and isinstance(old, CustomObject):
        value = new.content.get("status")
        content = old.content.delete("status") if value is None else old.content.set("status", value)
        return evolve(old, content=content)
    reset = None if new is None else _spec_reset(new, old)
    merged = reset if reset is not None else _with_status(old, getattr(new, "status", None))
    if isinstance(merged, StatefulSet) and isinstance(old, StatefulSet):
        merged = carry_current_revision(merged, old)
    return merged

