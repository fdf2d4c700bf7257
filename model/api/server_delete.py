"""The API server's DELETE verb: graceful deletion, finalizers and propagation policy.

Follows the generic registry's two-phase delete
(`staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go` `Store.Delete`,
`updateForGracefulDeletionAndFinalizers`, `deletionFinalizersForGarbageCollection`,
`markAsDeleting`) and `rest.BeforeDelete`
(`staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go`):

1. `before_delete` decides, on the stored object, whether the delete is *graceful* (pods only:
   `CheckGracefulDelete`, `pkg/registry/core/pod/strategy.go`), *pending* (an earlier graceful
   delete is still running and this one does not shorten it: nothing is written) or neither;
2. if graceful, or finalizers are pending, or the propagation policy changes the GC finalizers,
   the object is first *updated* (deletionTimestamp, deletionGracePeriodSeconds, finalizers) —
   a MODIFIED watch event;
3. it is then removed (a DELETED event) unless finalizers remain or the grace period is > 0.

A delete of an object already marked for deletion with grace 0 whose finalizers remain (a second
DELETE of a terminated pod a finalizer keeps, podgc's repeated delete of it) changes nothing in
`markAsDeleting` (it keeps the earlier deletionTimestamp), and `GuaranteedUpdate` writes nothing
when the new object's bytes equal the stored one's (`staging/src/k8s.io/apiserver/pkg/storage/etcd3/
store.go` GuaranteedUpdate: no new resourceVersion, no watch event).

So a grace-0 delete of a pod writes MODIFIED then DELETED, as upstream does. Namespaces have
their own REST `Delete` (`pkg/registry/core/namespace/storage/storage.go`): the first delete only
marks the namespace Terminating; a later one removes it once `spec.finalizers` is empty.

`should_delete_during_update` is `ShouldDeleteDuringUpdate` (store.go; namespaces add
`ShouldDeleteNamespaceDuringUpdate`): an update removes the object only if the *stored* object
is already being deleted with a grace period of 0 or none and the new one has no finalizers —
so the kubelet's status writes to a pod deleted with grace 30 never remove it.
"""

from __future__ import annotations

import attrs

from kubeprop.model.api.admission import Denial, run_mutating, run_validating
from kubeprop.model.api.meta import FOREGROUND_FINALIZER, ORPHAN_FINALIZER, ObjectMeta
from kubeprop.model.api.objects import (
    ApiObject,
    Namespace,
    ObjectKey,
    Pod,
    object_key,
    qualified_resource,
    with_metadata,
)
from kubeprop.model.api.server import Context, Response, Result, status
from kubeprop.model.api.store import Store
from kubeprop.model.api.writes_support import admission_request, forbidden, not_found, pod_grace_period
from kubeprop.model.evolve import evolve


@attrs.frozen
class DeleteDecision:
    """`rest.BeforeDelete`'s outcome: `graceful` (update the object, then remove it only if `grace`
    is 0), `pending` (a longer-or-equal graceful delete is already under way: write nothing), and
    the object's metadata with the new deletionTimestamp / deletionGracePeriodSeconds."""

    graceful: bool
    pending: bool
    meta: ObjectMeta
    grace: int = 0


def before_delete(obj: ApiObject, requested: int | None, now: int) -> DeleteDecision:
    """`rest.BeforeDelete` for the model's kinds: only pods have a graceful delete strategy.

    A pod already being deleted may only have its grace period *shortened*: the new
    deletionTimestamp is the old one minus the old grace plus the new grace, clamped to `now`
    (then a non-zero grace becomes 1, so another actor still makes the final delete). The clamp is
    kubernetes PR #122646 ("prevent deletionTimestamp from moving into the past", fixes #87039;
    still in review in late January 2025, during v1.33's development); before it the shortened
    deadline could lie in the past and the requested grace was kept. The release that first
    shipped it (v1.33, or a patch release by cherry-pick) is not confirmed from the sources the
    model was checked against, so it is not a release parameter: the model follows the clamp."""
    meta = obj.metadata
    if requested is not None and requested < 0:
        requested = 1  # "Negative values will be treated as the value `1s` on the delete path."
    if meta.deletion_grace_period_seconds is not None and meta.deletion_grace_period_seconds < 0:
        meta = evolve(meta, deletion_grace_period_seconds=1)
    if not isinstance(obj, Pod):
        return DeleteDecision(False, False, meta)
    if meta.deletion_timestamp is not None:
        old_grace = meta.deletion_grace_period_seconds
        if not old_grace:
            return DeleteDecision(False, False, meta)  # recover from a failed second phase: delete now
        if requested is None or requested >= old_grace:
            return DeleteDecision(False, True, meta)
        deadline, period = meta.deletion_timestamp - old_grace + requested, requested
        if deadline < now:
            deadline, period = now, (1 if period != 0 else 0)
        return DeleteDecision(True, False, evolve(meta, deletion_timestamp=deadline,
                                                  deletion_grace_period_seconds=period), requested)
    grace = pod_grace_period(obj, requested)
    generation = meta.generation + 1 if meta.generation > 0 else meta.generation
    meta = evolve(meta, deletion_timestamp=now + grace, deletion_grace_period_seconds=grace,
                  generation=generation)
    return DeleteDecision(True, False, meta, grace)


ORPHAN_BY_DEFAULT: frozenset[str] = frozenset({"jobs.batch"})
"""Resources whose strategy's DefaultGarbageCollectionPolicy is OrphanDependents for the version
the model serves: batch/v1 Jobs, "for backwards compatibility" (`pkg/registry/batch/job/strategy.go`);
a DELETE of one with neither a propagation policy nor a GC finalizer orphans its pods
(store.go shouldOrphanDependents). Every other kind deletes its dependents in the background."""


def deletion_finalizers(finalizers: tuple[str, ...], policy: str | None,
                        orphan_by_default: bool = False) -> tuple[bool, tuple[str, ...]]:
    """`deletionFinalizersForGarbageCollection`: the `orphan` / `foregroundDeletion` finalizers the
    propagation policy asks for (an explicit policy overrides the existing finalizers, which
    override the kind's default: background, or orphan for `ORPHAN_BY_DEFAULT`). Returns (changed,
    new finalizers)."""
    if policy in ("Orphan", "Background", "Foreground"):
        orphan, foreground = policy == "Orphan", policy == "Foreground"
    else:
        first = next((f for f in finalizers if f in (ORPHAN_FINALIZER, FOREGROUND_FINALIZER)), "")
        orphan = first == ORPHAN_FINALIZER or (not first and orphan_by_default)
        foreground = first == FOREGROUND_FINALIZER
    kept = [f for f in finalizers if f not in (ORPHAN_FINALIZER, FOREGROUND_FINALIZER)]
    new = (*kept, *((ORPHAN_FINALIZER,) if orphan else ()), *((FOREGROUND_FINALIZER,) if foreground else ()))
    return set(new) != set(finalizers), (new if set(new) != set(finalizers) else finalizers)


def mark_as_deleting(meta: ObjectMeta, now: int) -> ObjectMeta:
    """`markAsDeleting`: grace 0, deletionTimestamp now unless an earlier one is set, and a
    generation bump the first time."""
    generation = meta.generation + 1 if meta.deletion_timestamp is None and meta.generation > 0 else meta.generation
    deadline = now if meta.deletion_timestamp is None or meta.deletion_timestamp > now else meta.deletion_timestamp
    return evolve(meta, deletion_timestamp=deadline, deletion_grace_period_seconds=0, generation=generation)


def should_delete_during_update(new: ApiObject, old: ApiObject) -> bool:
    """`ShouldDeleteDuringUpdate`: the new object has no finalizers and the *stored* one is already
    being deleted with a grace period of 0 or none (a namespace also needs empty spec.finalizers)."""
    if new.metadata.finalizers or old.metadata.deletion_timestamp is None:
        return False
    if isinstance(new, Namespace) and new.spec.finalizers:
        return False
    return not old.metadata.deletion_grace_period_seconds


def precondition_conflict(ctx: Context, old: ApiObject, uid: str | None, resource_version: str | None
                          ) -> Response | None:
    """`rest.BeforeDelete`'s early check of DeleteOptions.Preconditions
    (`staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go`): the UID, then the
    resourceVersion; a mismatch is a 409 Conflict on the object's *kind* (NewConflict with
    GroupResource{Group, Resource: Kind}: `Pod "p"`, `Deployment.apps "web"`)."""
    meta = old.metadata
    if uid is not None and uid != meta.uid:
        why = (f"the UID in the precondition ({uid}) does not match the UID in record ({meta.uid}). "
               "The object might have been deleted and then recreated")
    elif resource_version is not None and resource_version != meta.resource_version:
        why = (f"the ResourceVersion in the precondition ({resource_version}) does not match the ResourceVersion "
               f"in record ({meta.resource_version}). The object might have been modified")
    else:
        return None
    kind = f"{ctx.info.kind}.{ctx.info.group}" if ctx.info.group else ctx.info.kind
    return status(409, "Conflict", f'Operation cannot be fulfilled on {kind} "{meta.name}": {why}')


def delete(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """DELETE: preconditions, admission (Admit, then Validate), then the kind's delete."""
    req = ctx.request
    old = store.get(ObjectKey(qualified_resource(ctx.info), namespace, name))
    if old is None:
        return Result(store, not_found(ctx, name))
    refused = precondition_conflict(ctx, old, req.precondition_uid, req.precondition_resource_version)
    if refused is not None:
        return Result(store, refused)
    attributes = admission_request(ctx, store, "DELETE", None, old, namespace, name)
    # rest.AdmissionToValidateObjectDeleteFunc: the mutating plug-ins' Admit, then Validate
    admitted = run_mutating(ctx.config.admission, attributes)
    denial = admitted if isinstance(admitted, Denial) else run_validating(ctx.config.admission, attributes)
    if denial is not None:
        return Result(store, forbidden(ctx, name, denial.code, denial.reason, denial.message))
    if isinstance(old, Namespace):
        return _delete_namespace(store, ctx, old)
    return _delete_object(store, ctx, old)


def _delete_object(store: Store, ctx: Context, old: ApiObject) -> Result:
    """`Store.Delete`: BeforeDelete, the optional update phase, then removal."""
    decision = before_delete(old, ctx.request.grace_period_seconds, ctx.now)
    if decision.pending:
        return Result(store, status(200, "OK", obj=old))
    changed, finalizers = deletion_finalizers(old.metadata.finalizers, ctx.request.propagation_policy,
                                              qualified_resource(ctx.info) in ORPHAN_BY_DEFAULT)
    if not (decision.graceful or old.metadata.finalizers or changed):
        return _remove(store, ctx, old)
    meta = evolve(decision.meta, finalizers=finalizers)
    if not decision.graceful:
        if not meta.finalizers:
            return _remove(store, ctx, old)  # errDeleteNow: nothing written first
        marked = with_metadata(old, mark_as_deleting(meta, ctx.now))
        if marked == old:  # already marked: GuaranteedUpdate writes nothing when nothing changed
            return Result(store, status(200, "OK", obj=old))
        return _persist(store, ctx, marked)
    updated = _persist(store, ctx, with_metadata(old, meta))
    if meta.finalizers or decision.grace > 0 or updated.response.obj is None:
        return updated
    removed = _remove(updated.store, ctx, updated.response.obj)
    return Result(removed.store, removed.response, (*updated.events, *removed.events))


def _delete_namespace(store: Store, ctx: Context, old: Namespace) -> Result:
    """The namespace REST `Delete`: the first delete sets deletionTimestamp (no grace period),
    phase Terminating and the GC finalizers; later ones remove it once spec.finalizers is empty."""
    meta = old.metadata
    if meta.deletion_timestamp is None:
        _changed, finalizers = deletion_finalizers(meta.finalizers, ctx.request.propagation_policy)
        meta = evolve(meta, deletion_timestamp=ctx.now, finalizers=finalizers)
        marked = evolve(old, metadata=meta, status=evolve(old.status, phase="Terminating"))
        return _persist(store, ctx, marked)
    if old.spec.finalizers:
        return Result(store, status(200, "OK", obj=old))
    return _delete_object(store, ctx, old)


def _remove(store: Store, ctx: Context, old: ApiObject) -> Result:
    if ctx.request.dry_run:
        return Result(store, status(200, "OK", obj=old))
    written, event = store.remove(object_key(old))
    return Result(written, status(200, "OK", obj=event.object), (event,))


def _persist(store: Store, ctx: Context, obj: ApiObject) -> Result:
    if ctx.request.dry_run:
        return Result(store, status(200, "OK", obj=obj))
    written, stored, event = store.put(obj, "MODIFIED")
    return Result(written, status(200, "OK", obj=stored), (event,))
