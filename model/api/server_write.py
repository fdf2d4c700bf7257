"""The API server's write verbs: create, update, update-status, patch, delete, bind.

Each follows the generic registry (`staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go`)
and the per-kind strategies (`pkg/registry/*/strategy.go`); see `apiserver` for the filter chain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import attrs

from kubeprop.model.api.admission import AdmissionRequest, Operation, run_mutating, run_validating
from kubeprop.model.api.codec import DecodeError
from kubeprop.model.api.defaults import apply_defaults
from kubeprop.model.api.meta import Condition, KindInfo, ObjectMeta, set_condition
from kubeprop.model.api.objects import (
    ApiObject,
    CustomObject,
    CustomResourceDefinition,
    Deployment,
    Namespace,
    NamespaceSpec,
    NamespaceStatus,
    Node,
    ObjectKey,
    PersistentVolume,
    PersistentVolumeClaim,
    Pod,
    PodStatus,
    Service,
    decode_object,
    encode_object,
    object_key,
    qualified_resource,
    with_metadata,
)
from kubeprop.model.api.server import Context, Response, Result, describe, status
from kubeprop.model.api.store import Store, stamp_new
from kubeprop.model.api.validation import FieldError, validate_create, validate_status_update, validate_update
from kubeprop.model.api.writes_support import allocate_cluster_ip, merge_patch, pod_grace_period

Handler = Callable[[Store, Context, str, str], Result]


def _admission(ctx: Context, store: Store, op: Operation, obj: ApiObject | None, old: ApiObject | None,
               namespace: str, name: str, subresource: str = "") -> AdmissionRequest:
    return AdmissionRequest(
        operation=op, obj=obj, old_obj=old, user=ctx.user, namespace=namespace, name=name,
        resource=qualified_resource(ctx.info), subresource=subresource, store=store, dry_run=ctx.request.dry_run,
    )


def _invalid(info: KindInfo, name: str, errors: list[FieldError]) -> Response:
    """422 in the upstream form: `Deployment.apps "x" is invalid: [a, b]` (no brackets for one)."""
    group_kind = f"{info.kind}.{info.group}" if info.group else info.kind
    details = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(str(e) for e in errors) + "]"
    return status(422, "Invalid", f'{group_kind} "{name}" is invalid: {details}', errors=tuple(errors))


def _forbidden(ctx: Context, name: str, code: int, reason: str, message: str) -> Response:
    if code == 403:
        message = f"{describe(ctx.info, name)} is forbidden: {message}"
    return status(code, reason, message)


def with_status(obj: ApiObject, status_value: Any) -> ApiObject:
    """A copy of `obj` (a kind with a `status` field) with a new status."""
    result: ApiObject = attrs.evolve(cast(Any, obj), status=status_value)
    return result


def _tracks_generation(obj: ApiObject) -> bool:
    return isinstance(obj, CustomObject) or hasattr(obj, "spec")


def _prepare_for_create(obj: ApiObject, info: KindInfo, store: Store) -> ApiObject:
    """Strategy PrepareForCreate: status is not user-settable; generation starts at 1."""
    meta = obj.metadata
    meta = attrs.evolve(meta, generation=1 if _tracks_generation(obj) else 0,
                        deletion_timestamp=None, deletion_grace_period_seconds=None)
    obj = with_metadata(obj, meta)
    if isinstance(obj, Pod):
        return attrs.evolve(obj, status=PodStatus(phase="Pending"))
    if isinstance(obj, Namespace):
        finalizers = obj.spec.finalizers or ("kubernetes",)
        return attrs.evolve(obj, spec=NamespaceSpec(finalizers), status=NamespaceStatus(phase="Active"))
    if isinstance(obj, PersistentVolume | PersistentVolumeClaim):
        return with_status(obj, attrs.evolve(type(obj)().status, phase="Pending"))
    if isinstance(obj, Service):
        return allocate_cluster_ip(obj, store)
    if isinstance(obj, Node):
        # "Nodes allow *all* fields, including status, to be set on create" (pkg/registry/core/node/strategy.go)
        return obj
    if isinstance(obj, CustomObject):
        return obj if not info.status_subresource else attrs.evolve(obj, content=obj.content.delete("status"))
    if info.status_subresource and hasattr(obj, "status"):
        return with_status(obj, cast(Any, type(obj)()).status)
    return obj


def create(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """POST: defaults → mutating admission → system fields → validation → validating admission →
    `If(mod_revision==0) Put` (409 AlreadyExists)."""
    obj = ctx.request.obj
    if obj is None:
        return Result(store, status(400, "BadRequest", "create needs an object"))
    if ctx.info.namespaced and obj.metadata.namespace and obj.metadata.namespace != namespace:
        msg = "the namespace of the provided object does not match the namespace sent on the request"
        return Result(store, status(400, "BadRequest", msg))
    obj = with_metadata(obj, attrs.evolve(obj.metadata, namespace=namespace))
    obj = apply_defaults(obj)
    mutated = run_mutating(ctx.config.admission, _admission(ctx, store, "CREATE", obj, None, namespace, name))
    assert mutated is not None
    written, meta = stamp_new(store, mutated.metadata, ctx.now)
    obj = _prepare_for_create(with_metadata(mutated, meta), ctx.info, store)
    name = obj.metadata.name
    errors = validate_create(obj)
    if errors:
        return Result(store, _invalid(ctx.info, name, errors))
    denial = run_validating(ctx.config.admission, _admission(ctx, store, "CREATE", obj, None, namespace, name))
    if denial is not None:
        return Result(store, _forbidden(ctx, name, denial.code, denial.reason, denial.message))
    if store.get(object_key(obj)) is not None:
        return Result(store, status(409, "AlreadyExists", f"{describe(ctx.info, name)} already exists"))
    if ctx.request.dry_run:
        return Result(store, status(201, "Created", obj=obj))
    written, stored, event = written.put(obj, "ADDED")
    return Result(written, status(201, "Created", obj=stored), (event,))


def _conflict(ctx: Context, name: str) -> Response:
    return status(409, "Conflict", f"Operation cannot be fulfilled on {describe(ctx.info, name)}: the object "
                  "has been modified; please apply your changes to the latest version and try again")


def _not_found(ctx: Context, name: str) -> Response:
    return status(404, "NotFound", f"{describe(ctx.info, name)} not found")


def _keep_system_fields(new: ApiObject, old: ApiObject) -> ApiObject:
    """Fields clients cannot change through update (`rest.BeforeUpdate`, `FillObjectMetaSystemFields`)."""
    o = old.metadata
    meta = attrs.evolve(
        new.metadata, uid=o.uid, creation_timestamp=o.creation_timestamp, deletion_timestamp=o.deletion_timestamp,
        deletion_grace_period_seconds=o.deletion_grace_period_seconds, generation=o.generation,
        generate_name=new.metadata.generate_name or o.generate_name,
    )
    return with_metadata(new, meta)


def _spec_of(obj: ApiObject) -> Any:
    if isinstance(obj, CustomObject):
        return obj.content.delete("status")
    return getattr(obj, "spec", None)


def _prepare_for_update(new: ApiObject, old: ApiObject, info: KindInfo) -> ApiObject:
    """Strategy PrepareForUpdate: the main resource keeps the old status; generation +1 when the spec
    changes (Deployment: annotations too, `pkg/registry/apps/deployment/strategy.go`)."""
    new = _keep_system_fields(new, old)
    if info.status_subresource:
        if isinstance(new, CustomObject) and isinstance(old, CustomObject):
            status_value = old.content.get("status")
            content = new.content.delete("status")
            new = attrs.evolve(new, content=content if status_value is None else content.set("status", status_value))
        elif hasattr(old, "status"):
            new = with_status(new, old.status)
    changed = _spec_of(new) != _spec_of(old)
    if isinstance(new, Deployment):
        changed = changed or new.metadata.annotations != old.metadata.annotations
    if changed and _tracks_generation(new):
        new = with_metadata(new, attrs.evolve(new.metadata, generation=old.metadata.generation + 1))
    return new


def _write_update(store: Store, ctx: Context, new: ApiObject, old: ApiObject) -> Result:
    """Persist an admitted update: no-op if nothing changed; delete if terminating with no finalizers."""
    same = with_metadata(new, attrs.evolve(new.metadata, resource_version=old.metadata.resource_version))
    if same == old:
        return Result(store, status(200, "OK", obj=old))
    if not new.metadata.finalizers and old.metadata.deletion_timestamp is not None and (
            not old.metadata.deletion_grace_period_seconds):
        # ShouldDeleteDuringUpdate (generic/registry/store.go): only an object already being deleted
        # with grace 0 or none; a status write to a gracefully terminating pod keeps it.
        written, event = store.remove(object_key(old))
        return Result(written, status(200, "OK", obj=event.object), (event,))
    written, stored, event = store.put(new, "MODIFIED")
    return Result(written, status(200, "OK", obj=stored), (event,))


def _check_update(store: Store, ctx: Context, new: ApiObject, old: ApiObject, subresource: str) -> Result:
    name = old.metadata.name
    namespace = old.metadata.namespace
    errors = validate_status_update(new, old) if subresource == "status" else validate_update(new, old)
    if errors:
        return Result(store, _invalid(ctx.info, name, errors))
    req = _admission(ctx, store, "UPDATE", new, old, namespace, name, subresource)
    denial = run_validating(ctx.config.admission, req)
    if denial is not None:
        return Result(store, _forbidden(ctx, name, denial.code, denial.reason, denial.message))
    if ctx.request.dry_run:
        return Result(store, status(200, "OK", obj=new))
    return _write_update(store, ctx, new, old)


def _precondition(ctx: Context, new: ApiObject, old: ApiObject) -> Response | None:
    rv = new.metadata.resource_version
    if rv and rv != old.metadata.resource_version:
        return _conflict(ctx, old.metadata.name)
    if not rv and isinstance(old, CustomObject):
        return _invalid(ctx.info, old.metadata.name, [FieldError(
            ("metadata", "resourceVersion"), "Invalid value", "must be specified for an update", 0)])
    return None


def update(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """PUT on the main resource: optimistic concurrency on resourceVersion (empty = unconditional for
    built-in kinds), keeps status, bumps generation on spec change."""
    new = ctx.request.obj
    old = store.get(ObjectKey(qualified_resource(ctx.info), namespace, name))
    if old is None:
        return Result(store, _not_found(ctx, name))
    if new is None or new.metadata.name != name:
        return Result(store, status(400, "BadRequest", "the name of the object does not match the name in the request"))
    bad = _precondition(ctx, new, old)
    if bad is not None:
        return Result(store, bad)
    new = with_metadata(new, attrs.evolve(new.metadata, namespace=namespace))
    new = _prepare_for_update(apply_defaults(new), old, ctx.info)
    mutated = run_mutating(ctx.config.admission, _admission(ctx, store, "UPDATE", new, old, namespace, name))
    assert mutated is not None
    return _check_update(store, ctx, mutated, old, "")


def update_status(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """PUT on `/status`: only the status changes; the stored spec and metadata are kept."""
    new = ctx.request.obj
    old = store.get(ObjectKey(qualified_resource(ctx.info), namespace, name))
    if not ctx.info.status_subresource:
        return Result(store, status(404, "NotFound", f"{qualified_resource(ctx.info)} has no status subresource"))
    if old is None:
        return Result(store, _not_found(ctx, name))
    if new is None:
        return Result(store, status(400, "BadRequest", "update-status needs an object"))
    bad = _precondition(ctx, new, old)
    if bad is not None:
        return Result(store, bad)
    if isinstance(new, CustomObject) and isinstance(old, CustomObject):
        value = new.content.get("status")
        content = old.content.delete("status") if value is None else old.content.set("status", value)
        merged: ApiObject = attrs.evolve(old, content=content)
    else:
        merged = with_status(old, getattr(new, "status", None))
        if isinstance(old, Deployment):
            # deploymentStatusStrategy.PrepareForUpdate resets only spec and labels
            # (pkg/registry/apps/deployment/strategy.go): the revision annotation persists.
            annotations = new.metadata.annotations
            merged = with_metadata(merged, attrs.evolve(merged.metadata, annotations=annotations))
    return _check_update(store, ctx, merged, old, "status")


def patch(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """PATCH with a JSON merge patch (RFC 7386), applied to the stored object and then run as an update."""
    old = store.get(ObjectKey(qualified_resource(ctx.info), namespace, name))
    if old is None:
        return Result(store, _not_found(ctx, name))
    # A patch applies to the current object: without a resourceVersion of its own it carries the
    # stored one, so it never conflicts (`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go`).
    body = merge_patch(encode_object(old), ctx.request.patch)
    crds = [c for c in store.list("customresourcedefinitions.apiextensions.k8s.io")
            if isinstance(c, CustomResourceDefinition)]
    try:
        new = decode_object(body, crds)
    except DecodeError as err:
        return Result(store, _invalid(ctx.info, name, [FieldError(err.path, "Invalid value", err.message)]))
    as_update = attrs.evolve(ctx, request=attrs.evolve(ctx.request, obj=new))
    return update(store, as_update, namespace, name)


def delete(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """DELETE: preconditions, graceful deletion (pods), finalizers and propagation policy
    (`staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go` BeforeDelete, `store.go` Delete)."""
    req = ctx.request
    old = store.get(ObjectKey(qualified_resource(ctx.info), namespace, name))
    if old is None:
        return Result(store, _not_found(ctx, name))
    meta = old.metadata
    if req.precondition_uid is not None and req.precondition_uid != meta.uid:
        msg = f"Precondition failed: UID in precondition: {req.precondition_uid}, UID in object meta: {meta.uid}"
        return Result(store, status(409, "Conflict", msg))
    rv = req.precondition_resource_version
    if rv is not None and rv != meta.resource_version:
        msg = (f"Precondition failed: ResourceVersion in precondition: {rv}, "
               f"ResourceVersion in object meta: {meta.resource_version}")
        return Result(store, status(409, "Conflict", msg))
    denial = run_validating(ctx.config.admission, _admission(ctx, store, "DELETE", None, old, namespace, name))
    if denial is not None:
        return Result(store, _forbidden(ctx, name, denial.code, denial.reason, denial.message))
    return _delete_graceful(store, ctx, old)


def _propagation_finalizers(ctx: Context, meta: ObjectMeta) -> tuple[str, ...]:
    policy = ctx.request.propagation_policy
    finalizers = list(meta.finalizers)
    wanted = {"Orphan": "orphan", "Foreground": "foregroundDeletion"}.get(policy or "")
    if wanted and wanted not in finalizers:
        finalizers.append(wanted)
    return tuple(finalizers)


def _delete_graceful(store: Store, ctx: Context, old: ApiObject) -> Result:
    meta = old.metadata
    grace = pod_grace_period(old, ctx.request.grace_period_seconds) if isinstance(old, Pod) else 0
    finalizers = _propagation_finalizers(ctx, meta) if meta.deletion_timestamp is None else meta.finalizers
    if isinstance(old, Namespace):
        finalizers = finalizers or old.spec.finalizers
    if meta.deletion_timestamp is not None:
        remaining = meta.deletion_timestamp - ctx.now
        if grace > 0 and grace < remaining:
            new_meta = attrs.evolve(meta, deletion_timestamp=ctx.now + grace, deletion_grace_period_seconds=grace)
            return _persist(store, ctx, with_metadata(old, new_meta))
        if grace > 0 or finalizers:
            return Result(store, status(200, "OK", obj=old))
    elif grace > 0 or finalizers:
        generation = meta.generation + 1 if meta.generation > 0 else 0
        new_meta = attrs.evolve(meta, deletion_timestamp=ctx.now + grace, deletion_grace_period_seconds=grace,
                                finalizers=finalizers, generation=generation)
        new = with_metadata(old, new_meta)
        if isinstance(new, Namespace):
            new = attrs.evolve(new, status=attrs.evolve(new.status, phase="Terminating"))
        return _persist(store, ctx, new)
    if ctx.request.dry_run:
        return Result(store, status(200, "OK", obj=old))
    written, event = store.remove(object_key(old))
    return Result(written, status(200, "OK", obj=event.object), (event,))


def _persist(store: Store, ctx: Context, obj: ApiObject) -> Result:
    if ctx.request.dry_run:
        return Result(store, status(200, "OK", obj=obj))
    written, stored, event = store.put(obj, "MODIFIED")
    return Result(written, status(200, "OK", obj=stored), (event,))


def bind(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """POST pods/binding (`pkg/registry/core/pod/storage/storage.go` assignPod): 409 if the pod is
    terminating or already bound; sets nodeName and PodScheduled=True."""
    if ctx.info.resource != "pods" or not ctx.request.node_name:
        return Result(store, status(400, "BadRequest", "bind needs a pod and a node name"))
    pod = store.get(ObjectKey("pods", namespace, name))
    if not isinstance(pod, Pod):
        return Result(store, _not_found(ctx, name))
    if pod.metadata.deletion_timestamp is not None:
        return Result(store, status(409, "Conflict", f"pod {name} is being deleted, cannot be assigned to a host"))
    if pod.spec.node_name:
        msg = f'pod {name} is already assigned to node "{pod.spec.node_name}"'
        return Result(store, status(409, "Conflict", msg))
    scheduled = Condition(type="PodScheduled", status="True", last_transition_time=ctx.now)
    new = attrs.evolve(
        pod,
        spec=attrs.evolve(pod.spec, node_name=ctx.request.node_name),
        status=attrs.evolve(pod.status, conditions=set_condition(pod.status.conditions, scheduled)),
    )
    if ctx.request.dry_run:
        return Result(store, status(201, "Created", obj=new))
    written, stored, event = store.put(new, "MODIFIED")
    return Result(written, status(201, "Created", obj=stored), (event,))


WRITE_HANDLERS: dict[str, Handler] = {
    "create": create, "update": update, "update-status": update_status, "patch": patch, "delete": delete,
    "bind": bind,
}
