"""The API server's write verbs: create, update, update-status, patch, bind (delete is in
`server_delete`, server-side apply and strategic merge patch in `server_apply`).

Each follows the generic registry (`staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go`)
and the per-kind strategies (`pkg/registry/*/strategy.go`); see `server` for the filter chain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from kubeprop.model.api.admission import Denial, run_mutating, run_validating
from kubeprop.model.api.batch import Job
from kubeprop.model.api.crd_defaulting import coerce
from kubeprop.model.api.crd_schema import validate_custom, version_schema
from kubeprop.model.api.defaults import apply_defaults
from kubeprop.model.api.feature_gates import apply_gates
from kubeprop.model.api.meta import Condition, KindInfo, set_condition
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
    StatefulSet,
    object_key,
    qualified_resource,
    with_metadata,
)
from kubeprop.model.api.pod_affinity import prepare_pod_affinity
from kubeprop.model.api.rbac_escalation import write_refusal
from kubeprop.model.api.revisions import carry_current_revision
from kubeprop.model.api.server import Context, Response, Result, describe, status
from kubeprop.model.api.server_apply import applied_object, patched_object, track
from kubeprop.model.api.server_delete import delete, should_delete_during_update
from kubeprop.model.api.store import Store, stamp_new
from kubeprop.model.api.validation import FieldError, validate_create, validate_status_update, validate_update
from kubeprop.model.api.validation_job import generate_selector
from kubeprop.model.api.writes_support import (
    admission_request,
    allocate_cluster_ip,
    allocate_on_update,
    allocation_errors,
    conflict,
    drop_type_dependent_fields,
    forbidden,
    invalid,
    normalize_cluster_ips,
    not_found,
    patch_allocated_values,
)
from kubeprop.model.evolve import evolve
from kubeprop.model.memo import INTERNERS

Handler = Callable[[Store, Context, str, str], Result]


def _custom_schema(store: Store, obj: ApiObject | None) -> Any:
    """The stored CRD's schema for a custom object's version (None for built-in kinds or no schema)."""
    if not isinstance(obj, CustomObject):
        return None
    crd = store.get(ObjectKey("customresourcedefinitions.apiextensions.k8s.io", "",
                              f"{obj.info.resource}.{obj.info.group}"))
    return version_schema(crd, obj.info.version) if isinstance(crd, CustomResourceDefinition) else None


def _pruned(store: Store, obj: ApiObject | None) -> ApiObject | None:
    """A custom object as the CR handler decodes it: pruned, without the nulls its schema forbids,
    defaulted (`apiextensions-apiserver/pkg/apiserver/customresource_handler.go`;
    `kubeprop.model.api.crd_defaulting`)."""
    schema = _custom_schema(store, obj)
    if schema is None or not isinstance(obj, CustomObject):
        return obj
    return evolve(obj, content=coerce(schema, obj.content))


def _schema_errors(store: Store, obj: ApiObject) -> list[FieldError]:
    """A custom object's errors against its CRD's schema (the CR strategy's Validate)."""
    schema = _custom_schema(store, obj)
    return [] if schema is None or not isinstance(obj, CustomObject) else validate_custom(schema, obj.content)


def with_status(obj: ApiObject, status_value: Any) -> ApiObject:
    """A copy of `obj` (a kind with a `status` field) with a new status."""
    result: ApiObject = evolve(cast(Any, obj), status=status_value)
    return result


def _tracks_generation(obj: ApiObject) -> bool:
    return isinstance(obj, CustomObject) or hasattr(obj, "spec")


def _prepare_for_create(obj: ApiObject, info: KindInfo, store: Store) -> ApiObject:
    """Strategy PrepareForCreate: status is not user-settable; generation starts at 1."""
    meta = obj.metadata
    meta = evolve(meta, generation=1 if _tracks_generation(obj) else 0,
                  deletion_timestamp=None, deletion_grace_period_seconds=None)
    obj = with_metadata(obj, meta)
    if isinstance(obj, Pod):
        return evolve(obj, status=_gated_status(obj, PodStatus(phase="Pending")))
    if isinstance(obj, Namespace):
        finalizers = obj.spec.finalizers or ("kubernetes",)
        return evolve(obj, spec=NamespaceSpec(finalizers), status=NamespaceStatus(phase="Active"))
    if isinstance(obj, PersistentVolume | PersistentVolumeClaim):
        return with_status(obj, evolve(type(obj)().status, phase="Pending"))
    if isinstance(obj, Service):
        return allocate_cluster_ip(obj, store)
    if isinstance(obj, Node):
        # "Nodes allow *all* fields, including status, to be set on create" (pkg/registry/core/node/strategy.go)
        return obj
    if isinstance(obj, Job):  # jobStrategy.PrepareForCreate (pkg/registry/batch/job/strategy.go)
        obj = generate_selector(obj)
    if isinstance(obj, CustomObject):
        return obj if not info.status_subresource else evolve(obj, content=obj.content.delete("status"))
    if info.status_subresource and hasattr(obj, "status"):
        return with_status(obj, cast(Any, type(obj)()).status)
    return obj


def _gated_status(pod: Pod, status_value: PodStatus) -> PodStatus:
    """applySchedulingGatedCondition (`pkg/registry/core/pod/strategy.go` PrepareForCreate): a pod
    created with scheduling gates gets PodScheduled=False reason SchedulingGated, stamped with its
    creation time."""
    if not pod.spec.scheduling_gates:
        return status_value
    gated = Condition(type="PodScheduled", status="False", reason="SchedulingGated", message=GATED_MESSAGE,
                      last_transition_time=pod.metadata.creation_timestamp)
    return evolve(status_value, conditions=set_condition(status_value.conditions, gated))


GATED_MESSAGE = "Scheduling is blocked due to non-empty scheduling gates"


def create(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """POST: defaults → mutating admission → system fields → validation → validating admission →
    `If(mod_revision==0) Put` (409 AlreadyExists)."""
    obj = _pruned(store, ctx.request.obj)
    if obj is None:
        return Result(store, status(400, "BadRequest", "create needs an object"))
    if ctx.info.namespaced and obj.metadata.namespace and obj.metadata.namespace != namespace:
        msg = "the namespace of the provided object does not match the namespace sent on the request"
        return Result(store, status(400, "BadRequest", msg))
    # managedFields are the server's: kept only when server-side apply computed them.
    managed = obj.metadata.managed_fields if ctx.request.patch_type == "apply" else ()
    obj = with_metadata(obj, evolve(obj.metadata, namespace=namespace, managed_fields=managed))
    obj = apply_gates(apply_defaults(obj), None, ctx.config.max_unavailable_stateful_set)
    mutated = run_mutating(ctx.config.admission, admission_request(ctx, store, "CREATE", obj, None, namespace, name))
    if isinstance(mutated, Denial):  # before the name is generated: NewForbidden's extractResourceName
        shown = name or obj.metadata.generate_name or "Unknown"
        return Result(store, forbidden(ctx, shown, mutated.code, mutated.reason, mutated.message))
    assert mutated is not None
    refused = write_refusal(store, ctx, mutated, None, namespace)  # the policybased storage's Create
    if refused is not None:
        return Result(store, refused)
    written, meta = stamp_new(store, mutated.metadata, ctx.now)
    obj = _prepare_for_create(with_metadata(mutated, meta), ctx.info, store)
    obj = cast(ApiObject, prepare_pod_affinity(obj, None, ctx.config.match_label_keys_in_pod_affinity))
    name = obj.metadata.name
    # The Service allocator runs before the strategy's validation (BeginCreate, `alloc.go`).
    errors = allocation_errors(obj, None, store) if isinstance(obj, Service) else []
    errors = errors or _validated(_CREATED, validate_create, obj) + _schema_errors(store, obj)
    if errors:
        return Result(store, invalid(ctx.info, name, errors))
    denial = run_validating(ctx.config.admission, admission_request(ctx, store, "CREATE", obj, None, namespace, name))
    if denial is not None:
        return Result(store, forbidden(ctx, name, denial.code, denial.reason, denial.message))
    if store.get(object_key(obj)) is not None:
        return Result(store, status(409, "AlreadyExists", f"{describe(ctx.info, name)} already exists"))
    if ctx.request.dry_run:
        return Result(store, status(201, "Created", obj=obj))
    written, stored, event = written.put(obj, "ADDED")
    return Result(written, status(201, "Created", obj=stored), (event,))


def _keep_system_fields(new: ApiObject, old: ApiObject) -> ApiObject:
    """Fields clients cannot change through update (`rest.BeforeUpdate`, `FillObjectMetaSystemFields`)."""
    o = old.metadata
    meta = evolve(
        new.metadata, uid=o.uid, creation_timestamp=o.creation_timestamp, deletion_timestamp=o.deletion_timestamp,
        deletion_grace_period_seconds=o.deletion_grace_period_seconds, generation=o.generation,
        generate_name=new.metadata.generate_name or o.generate_name, managed_fields=o.managed_fields,
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
    if isinstance(new, Namespace) and isinstance(old, Namespace):
        # namespaceStrategy.PrepareForUpdate (pkg/registry/core/namespace/strategy.go): spec.finalizers
        # change only through the finalize subresource.
        new = evolve(new, spec=evolve(new.spec, finalizers=old.spec.finalizers))
    if info.status_subresource:
        if isinstance(new, CustomObject) and isinstance(old, CustomObject):
            status_value = old.content.get("status")
            content = new.content.delete("status")
            new = evolve(new, content=content if status_value is None else content.set("status", status_value))
        elif hasattr(old, "status"):
            new = with_status(new, old.status)
    changed = _spec_of(new) != _spec_of(old)
    if isinstance(new, Deployment):
        changed = changed or new.metadata.annotations != old.metadata.annotations
    if changed and _tracks_generation(new):
        new = with_metadata(new, evolve(new.metadata, generation=old.metadata.generation + 1))
    if isinstance(new, StatefulSet) and isinstance(old, StatefulSet):
        new = carry_current_revision(new, old)
    if isinstance(new, Service) and isinstance(old, Service):
        new = drop_type_dependent_fields(new, old)
    return new


def _write_update(store: Store, ctx: Context, new: ApiObject, old: ApiObject) -> Result:
    """Persist an admitted update: delete it instead if `ShouldDeleteDuringUpdate` (the stored
    object is being deleted with grace 0 or none and the new one has no finalizers, see
    `server_delete`); a no-op if nothing changed."""
    if should_delete_during_update(new, old):
        written, event = store.remove(object_key(old))
        return Result(written, status(200, "OK", obj=event.object), (event,))
    same = new if new.metadata.resource_version == old.metadata.resource_version else \
        with_metadata(new, evolve(new.metadata, resource_version=old.metadata.resource_version))
    if same == old:
        return Result(store, status(200, "OK", obj=old))
    written, stored, event = store.put(new, "MODIFIED")
    return Result(written, status(200, "OK", obj=stored), (event,))


VALID_LIMIT = 4096
"""Objects (or pairs) each set below keeps before it forgets them all (bounded memory: each keeps
its objects alive)."""
_CREATED: set[Any] = set()
_UPDATED: set[Any] = set()
_STATUS_UPDATED: set[Any] = set()


def _validated(valid: set[Any], check: Callable[..., list[FieldError]], *objects: ApiObject) -> list[FieldError]:
    """`check(*objects)`, with the objects found valid remembered by value: validation is a pure
    function of the objects, and a search writes equal objects along many paths (86% of the
    creates in the default check's first 15,000 steps on FeastFlow, half the updates); the
    store interns what it writes, so the hash computed here is the one interning needs anyway.
    Only validity is remembered (an error's message may print a quantity as it was written,
    which equality does not compare: `Quantity`), only within a search (while the store interns:
    `memo.INTERNERS`), and only for hashable objects (an object holding a plain dict is not)."""
    if not INTERNERS:
        return check(*objects)
    try:
        if objects in valid:
            return []
    except TypeError:
        return check(*objects)
    errors = check(*objects)
    if not errors:
        if len(valid) >= VALID_LIMIT:
            valid.clear()
        valid.add(objects)
    return errors


def _check_update(store: Store, ctx: Context, new: ApiObject, old: ApiObject, subresource: str) -> Result:
    name = old.metadata.name
    namespace = old.metadata.namespace
    check, memo = (validate_status_update, _STATUS_UPDATED) if subresource == "status" else (validate_update, _UPDATED)
    errors = _validated(memo, check, new, old) + _schema_errors(store, new)
    if errors:
        return Result(store, invalid(ctx.info, name, errors))
    req = admission_request(ctx, store, "UPDATE", new, old, namespace, name, subresource)
    denial = run_validating(ctx.config.admission, req)
    if denial is not None:
        return Result(store, forbidden(ctx, name, denial.code, denial.reason, denial.message))
    if isinstance(new, Service) and isinstance(old, Service) and subresource != "status":
        # The Service allocator runs after validation on update (BeginUpdate, `alloc.go`).
        alloc = allocation_errors(new, old, store)
        if alloc:
            return Result(store, invalid(ctx.info, name, alloc))
    if ctx.request.dry_run:
        return Result(store, status(200, "OK", obj=new))
    return _write_update(store, ctx, new, old)


def _precondition(ctx: Context, new: ApiObject, old: ApiObject) -> Response | None:
    """An update's preconditions: the object's UID when it carries one
    (`staging/src/k8s.io/apiserver/pkg/registry/rest/update.go`, `defaultUpdatedObjectInfo.Preconditions`;
    a failed precondition is a 409, `storage/errors.InterpretUpdateError`) — a write made from a
    cached copy of a pod that was since deleted and recreated under the same name never lands on
    the new one — then its resourceVersion."""
    uid = new.metadata.uid
    if uid and uid != old.metadata.uid:
        msg = f"Precondition failed: UID in precondition: {uid}, UID in object meta: {old.metadata.uid}"
        return status(409, "Conflict", f"Operation cannot be fulfilled on {describe(ctx.info, old.metadata.name)}: "
                      f"{msg}")
    rv = new.metadata.resource_version
    if rv and rv != old.metadata.resource_version:
        return conflict(ctx, old.metadata.name)
    if not rv and isinstance(old, CustomObject):
        return invalid(ctx.info, old.metadata.name, [FieldError(
            ("metadata", "resourceVersion"), "Invalid value", "must be specified for an update", 0)])
    return None


def update(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """PUT on the main resource: optimistic concurrency on resourceVersion (empty = unconditional for
    built-in kinds), keeps status, bumps generation on spec change."""
    return update_subresource(store, ctx, namespace, name, "")


def update_subresource(store: Store, ctx: Context, namespace: str, name: str, subresource: str) -> Result:
    """`update` of the whole object on behalf of a subresource that writes part of it (`scale`:
    `kubeprop.model.api.scale`): admission sees the subresource and managedFields record it."""
    new = _pruned(store, ctx.request.obj)
    old = store.get(ObjectKey(qualified_resource(ctx.info), namespace, name))
    if old is None:
        return Result(store, not_found(ctx, name))
    if new is None or new.metadata.name != name:
        return Result(store, status(400, "BadRequest", "the name of the object does not match the name in the request"))
    bad = _precondition(ctx, new, old)
    if bad is not None:
        return Result(store, bad)
    applied = new.metadata.managed_fields
    new = with_metadata(new, evolve(new.metadata, namespace=namespace))
    new = apply_gates(apply_defaults(new), old, ctx.config.max_unavailable_stateful_set)
    if isinstance(new, Service) and isinstance(old, Service):  # beginUpdate runs before PrepareForUpdate
        new = normalize_cluster_ips(patch_allocated_values(new, old), old)
    new = _prepare_for_update(new, old, ctx.info)
    new = cast(ApiObject, prepare_pod_affinity(new, old, ctx.config.match_label_keys_in_pod_affinity))
    if isinstance(new, Service) and isinstance(old, Service):
        new = allocate_on_update(new, old, store)
    if ctx.request.patch_type == "apply":
        new = with_metadata(new, evolve(new.metadata, managed_fields=applied))
    else:
        new = track(new, old, ctx, subresource)
    mutated = run_mutating(ctx.config.admission,
                           admission_request(ctx, store, "UPDATE", new, old, namespace, name, subresource))
    if isinstance(mutated, Denial):
        return Result(store, forbidden(ctx, name, mutated.code, mutated.reason, mutated.message))
    assert mutated is not None
    refused = write_refusal(store, ctx, mutated, old, namespace)  # the policybased storage's Update
    if refused is not None:
        return Result(store, refused)
    return _check_update(store, ctx, mutated, old, subresource)


def update_status(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """PUT on `/status`: only the status changes; the stored spec and metadata are kept. Upstream
    status strategies reset only the spec (podStatusStrategy: ownerReferences too), storing the
    metadata sent; the model keeps it while its kubelet sends its cached pod here (upstream: a
    status-only PatchPodStatus), which would otherwise put back finalizers from a stale cache."""
    new = _pruned(store, ctx.request.obj)
    old = store.get(ObjectKey(qualified_resource(ctx.info), namespace, name))
    if not ctx.info.status_subresource:
        return Result(store, status(404, "NotFound", f"{qualified_resource(ctx.info)} has no status subresource"))
    if old is None:
        return Result(store, not_found(ctx, name))
    if new is None:
        return Result(store, status(400, "BadRequest", "update-status needs an object"))
    bad = _precondition(ctx, new, old)
    if bad is not None:
        return Result(store, bad)
    if isinstance(new, CustomObject) and isinstance(old, CustomObject):
        value = new.content.get("status")
        content = old.content.delete("status") if value is None else old.content.set("status", value)
        merged: ApiObject = evolve(old, content=content)
    else:
        merged = with_status(old, getattr(new, "status", None))
        if isinstance(old, Deployment):
            # deploymentStatusStrategy.PrepareForUpdate resets only spec and labels
            # (pkg/registry/apps/deployment/strategy.go): the revision annotation persists.
            annotations = new.metadata.annotations
            if annotations != merged.metadata.annotations:  # (equal: the stored metadata kept as it is)
                merged = with_metadata(merged, evolve(merged.metadata, annotations=annotations))
        if isinstance(merged, StatefulSet) and isinstance(old, StatefulSet):
            merged = carry_current_revision(merged, old)
    return _check_update(store, ctx, track(merged, old, ctx, "status"), old, "status")


def finalize(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """PUT on `namespaces/{name}/finalize` (`FinalizeREST.Update`,
    `pkg/registry/core/namespace/storage/storage.go`, with `namespaceFinalizeStrategy`,
    `pkg/registry/core/namespace/strategy.go`): only spec.finalizers changes. The store's
    `ShouldDeleteNamespaceDuringUpdate` then removes a namespace being deleted once its
    spec.finalizers and metadata.finalizers are both empty (`should_delete_during_update`)."""
    new = ctx.request.obj
    old = store.get(ObjectKey(qualified_resource(ctx.info), namespace, name))
    if not isinstance(old, Namespace):
        if old is None and ctx.info.resource == "namespaces":
            return Result(store, not_found(ctx, name))
        return Result(store, status(404, "NotFound", f"{qualified_resource(ctx.info)} has no finalize subresource"))
    if not isinstance(new, Namespace):
        return Result(store, status(400, "BadRequest", "finalize needs a Namespace"))
    bad = _precondition(ctx, new, old)
    if bad is not None:
        return Result(store, bad)
    merged = evolve(old, spec=evolve(old.spec, finalizers=new.spec.finalizers))
    return _check_update(store, ctx, track(merged, old, ctx, "finalize"), old, "finalize")


def patch(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """PATCH: a JSON merge patch (RFC 7386), a strategic merge patch, or server-side apply
    (`server_apply`), then run as an update — or, for an apply to a missing object, as a create."""
    old = store.get(ObjectKey(qualified_resource(ctx.info), namespace, name))
    if old is None and ctx.request.patch_type != "apply":
        return Result(store, not_found(ctx, name))
    if ctx.request.patch_type == "apply":
        new = applied_object(store, ctx, namespace, name, old)
    else:
        assert old is not None
        new = patched_object(store, ctx, name, old)
    if isinstance(new, Response):
        return Result(store, new)
    as_write = evolve(ctx, request=evolve(ctx.request, obj=new))
    if old is None:
        return create(store, as_write, namespace, name)
    return update(store, as_write, namespace, name)


def patch_status(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """PATCH on `/status` (a merge or strategic merge patch): the patch applied to the stored object,
    then run as a PUT on `/status`, so only the status changes. Without a resourceVersion of its
    own the patch never conflicts: what util.PatchPodStatus sends (`pkg/scheduler/util/utils.go`,
    `pkg/util/pod/pod.go`: a two-way strategic merge patch of the status, conditions merged by type)."""
    old = store.get(ObjectKey(qualified_resource(ctx.info), namespace, name))
    if old is None:
        return Result(store, not_found(ctx, name))
    if ctx.request.patch_type == "apply":
        return Result(store, status(415, "UnsupportedMediaType", "the model applies no configuration to a status"))
    new = patched_object(store, ctx, name, old)
    if isinstance(new, Response):
        return Result(store, new)
    return update_status(store, evolve(ctx, request=evolve(ctx.request, obj=new)), namespace, name)


def bind(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """POST pods/binding (`pkg/registry/core/pod/storage/storage.go` BindingREST.Create, assignPod,
    setPodNodeAndMetadata, v1.33): the binding's UID (the scheduler's DefaultBinder sends the pod's)
    is a precondition of the storage update, checked first (409 `Operation cannot be fulfilled on
    pods "p": Precondition failed: UID in precondition: …`: a pod deleted and recreated under the
    same name is not bound in its predecessor's place); then, inside the update, a pod being
    deleted, already bound or still gated is refused with a plain error that assignPod turns into
    a Conflict on `pods/binding` (409 `Operation cannot be fulfilled on pods/binding "p": pod p is
    already assigned to node "n"`); a missing pod is 404. The node is not looked at: a binding to a
    node that does not exist succeeds (the pod GC deletes the pod later). Sets nodeName and
    PodScheduled=True. (Upstream's precondition error also carries the storage error's text,
    `StorageError: invalid object, Code: 4, Key: …, AdditionalErrorMsg: `, which the model leaves
    out here as for every update's precondition.)"""
    if ctx.info.resource != "pods" or not ctx.request.node_name:
        return Result(store, status(400, "BadRequest", "bind needs a pod and a node name"))
    pod = store.get(ObjectKey("pods", namespace, name))
    if not isinstance(pod, Pod):
        return Result(store, not_found(ctx, name))
    uid = ctx.request.precondition_uid
    if uid is not None and uid != pod.metadata.uid:
        msg = f"Precondition failed: UID in precondition: {uid}, UID in object meta: {pod.metadata.uid}"
        return Result(store, status(409, "Conflict", f"Operation cannot be fulfilled on {describe(ctx.info, name)}: "
                                    f"{msg}"))
    refused = _binding_refusal(pod)
    if refused is not None:
        msg = f'Operation cannot be fulfilled on pods/binding "{name}": {refused}'
        return Result(store, status(409, "Conflict", msg))
    scheduled = Condition(type="PodScheduled", status="True", last_transition_time=ctx.now)
    new = evolve(
        pod,
        spec=evolve(pod.spec, node_name=ctx.request.node_name),
        status=evolve(pod.status, conditions=set_condition(pod.status.conditions, scheduled)),
    )
    if ctx.request.dry_run:
        return Result(store, status(201, "Created", obj=new))
    written, stored, event = store.put(new, "MODIFIED")
    return Result(written, status(201, "Created", obj=stored), (event,))


def _binding_refusal(pod: Pod) -> str | None:
    """setPodNodeAndMetadata's own refusals, in its order."""
    name = pod.metadata.name
    if pod.metadata.deletion_timestamp is not None:
        return f"pod {name} is being deleted, cannot be assigned to a host"
    if pod.spec.node_name:
        return f'pod {name} is already assigned to node "{pod.spec.node_name}"'
    if pod.spec.scheduling_gates:  # "Reject binding to a scheduling un-ready Pod."
        return f"pod {name} has non-empty .spec.schedulingGates"
    return None


WRITE_HANDLERS: dict[str, Handler] = {
    "create": create, "update": update, "update-status": update_status, "patch": patch, "patch-status": patch_status,
    "delete": delete, "bind": bind, "finalize": finalize,
}
