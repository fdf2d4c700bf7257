"""PATCH bodies and field ownership at the API server: JSON merge patch, strategic merge patch,
server-side apply, and the managedFields bookkeeping of every write.

`patched_object` turns a PATCH into the object the update pipeline then admits
(`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go`: jsonPatcher, smpPatcher,
applyPatcher); `track` records an ordinary write in managedFields (the handlers'
`fieldManager.UpdateNoErrors`, run after defaulting and before admission). Server-side apply by the
manager `kubectl` also refreshes an existing last-applied annotation (`lastappliedupdater.go`), and
its conflicts on fields the annotation sets to their live values are forgiven (`lastAppliedManager`,
`ssa.apply_upgrading`): the upgrade from client-side to server-side apply. The semantics of
ownership are in `kubeprop.model.api.ssa`, of the patch formats in `kubeprop.model.api.strategic`
and `writes_support.merge_patch`.
"""

from __future__ import annotations

from typing import Any

from kubeprop.model.api import ssa
from kubeprop.model.api.codec import DecodeError
from kubeprop.model.api.meta import ManagedFieldsEntry
from kubeprop.model.api.objects import (
    ApiObject,
    CustomObject,
    CustomResourceDefinition,
    decode_object,
    encode_object,
    with_metadata,
)
from kubeprop.model.api.server import Context, Response, status
from kubeprop.model.api.store import Store
from kubeprop.model.api.strategic import (
    LAST_APPLIED_ANNOTATION,
    PatchError,
    last_applied_text,
    strategic_merge_patch,
)
from kubeprop.model.api.strategic_objects import merged_object
from kubeprop.model.api.validation import FieldError
from kubeprop.model.api.writes_support import field_manager, invalid, merge_patch
from kubeprop.model.evolve import evolve

_UNSUPPORTED = ("the body of the request was in an unknown format - accepted media types include: "
                "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")


def ownership_kind(ctx: Context, obj: ApiObject) -> str:
    """The kind whose list semantics apply ("" for a custom resource: atomic lists)."""
    return "" if isinstance(obj, CustomObject) else ctx.info.kind


def track(new: ApiObject, old: ApiObject, ctx: Context, subresource: str) -> ApiObject:
    """`new` with the managedFields of an ordinary write by the request's manager; objects no one
    has applied to carry none (see `ssa`)."""
    if not old.metadata.managed_fields:
        if new.metadata.managed_fields == ():  # (kept as it is: a copy would be equal, and compare slower)
            return new
        return with_metadata(new, evolve(new.metadata, managed_fields=()))
    managers = ssa.update(encode_object(old), encode_object(new), ssa.decode_managers(old.metadata.managed_fields),
                          field_manager(ctx.request), ownership_kind(ctx, old), ctx.info.api_version, subresource)
    return with_metadata(new, evolve(new.metadata, managed_fields=ssa.encode_managers(managers)))


def _crds(store: Store) -> list[CustomResourceDefinition]:
    return [c for c in store.list("customresourcedefinitions.apiextensions.k8s.io")
            if isinstance(c, CustomResourceDefinition)]


def _decode(store: Store, ctx: Context, name: str, body: Any) -> ApiObject | Response:
    try:
        return decode_object(body, _crds(store))
    except DecodeError as err:
        return invalid(ctx.info, name, [FieldError(path, "Invalid value", message) for path, message in err.problems])


def patched_object(store: Store, ctx: Context, name: str, old: ApiObject) -> ApiObject | Response:
    """The stored object with the request's merge or strategic merge patch applied (415 for a
    strategic patch of a custom resource, 400 for a malformed `$retainKeys`: the handler's
    interpretStrategicMergePatchError). A patch without a resourceVersion of its own carries the
    stored one, so it never conflicts."""
    if ctx.request.patch_type == "strategic":
        if isinstance(old, CustomObject):
            return status(415, "UnsupportedMediaType", _UNSUPPORTED)
        merged = merged_object(old, ctx.request.patch, ctx.info.kind)  # (field by field: `strategic_objects`)
        if merged is not None:
            return merged
    live = encode_object(old)
    if ctx.request.patch_type == "strategic":
        try:
            body = strategic_merge_patch(live, ctx.request.patch, ctx.info.kind)
        except PatchError as err:
            return status(400, "BadRequest", str(err))
    else:
        body = merge_patch(live, ctx.request.patch)
    return _decode(store, ctx, name, body)


def _apply_options(ctx: Context) -> Response | None:
    config = ctx.request.patch
    if not ctx.request.field_manager:
        return status(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                      "is required for apply patch")
    if not isinstance(config, dict):
        return status(400, "BadRequest", "the applied configuration must be an object")
    if config.get("metadata", {}).get("managedFields") is not None:
        return status(400, "BadRequest", "metadata.managedFields must be nil")
    return None


def applied_object(store: Store, ctx: Context, namespace: str, name: str,
                   old: ApiObject | None) -> ApiObject | Response:
    """Server-side apply of the request's configuration: the object to create (`old` None) or to
    run through the update pipeline, with its managedFields; 409 on conflicts unless forced."""
    bad = _apply_options(ctx)
    if bad is not None:
        return bad
    config = dict(ctx.request.patch)
    config["metadata"] = {**config.get("metadata", {}), "name": name, **({"namespace": namespace} if namespace
                                                                           else {})}
    me = ctx.request.field_manager
    if old is None:
        created = _decode(store, ctx, name, config)
        if isinstance(created, Response):
            return created
        kind = ownership_kind(ctx, created)
        managers = {(me, "Apply", ""): (ctx.info.api_version, ssa.field_set(config, kind))}
        return _with_managers(created, managers)
    kind = ownership_kind(ctx, old)
    try:
        merged, managers = ssa.apply_upgrading(encode_object(old), config,
                                               ssa.decode_managers(old.metadata.managed_fields), me,
                                               ctx.request.force, kind, ctx.info.api_version,
                                               old.metadata.annotations.get(LAST_APPLIED_ANNOTATION))
    except ssa.ApplyConflict as err:
        return status(409, "Conflict", str(err))
    if me == ssa.LAST_APPLIED_MANAGER and old.metadata.annotations.get(LAST_APPLIED_ANNOTATION):
        # lastAppliedUpdater: kubectl's server-side apply keeps the client-side annotation current.
        annotations = {**merged.get("metadata", {}).get("annotations", {}),
                       LAST_APPLIED_ANNOTATION: last_applied_text(ctx.request.patch)}
        merged["metadata"] = {**merged["metadata"], "annotations": annotations}
    new = _decode(store, ctx, name, merged)
    return new if isinstance(new, Response) else _with_managers(new, managers)


def _with_managers(obj: ApiObject, managers: ssa.Managers) -> ApiObject:
    entries: tuple[ManagedFieldsEntry, ...] = ssa.encode_managers(managers)
    return with_metadata(obj, evolve(obj.metadata, managed_fields=entries))
