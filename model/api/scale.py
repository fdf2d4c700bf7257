"""The scale subresource (`autoscaling/v1 Scale`) of Deployments, ReplicaSets and StatefulSets.

Upstream: `pkg/registry/apps/deployment/storage/storage.go` ScaleREST (and the ReplicaSet and
StatefulSet twins, `pkg/registry/apps/replicaset/storage/storage.go`,
`pkg/registry/apps/statefulset/storage/storage.go`), v1.33:

- GET (`ScaleREST.Get`, verb `get-scale`): the workload read and its Scale built
  (`scaleFromDeployment`: name, namespace, uid, resourceVersion; `spec.replicas`;
  `status.replicas` and the selector as a string); a missing workload is the store's 404
  (`deployments.apps "web" not found`);
- PUT (`ScaleREST.Update`, verb `update-scale`: `patch` holds the Scale body) and PATCH (verb
  `patch-scale`: `patch` is a JSON merge patch of the Scale, what `kubectl scale` sends:
  `staging/src/k8s.io/kubectl/pkg/scale/scale.go` genericScaler.ScaleSimple) both go through
  `scaleUpdatedObjectInfo`: the workload read (missing: `deployments/scale.apps "web" not found`,
  upstream's NotFound on the `deployments/scale` resource), its Scale built, the body applied to it
  (PUT: the body replaces it; PATCH: merged into it), the new Scale validated (`ValidateScale`:
  `Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or
  equal to 0`), a UID it carries compared (409), then `spec.replicas` and the Scale's
  resourceVersion moved onto the workload, which is written as an update of the workload: the
  storage compares the resourceVersion (409 when stale, none when empty), the workload strategy's
  PrepareForUpdate bumps `metadata.generation` since the spec changed, its validation and admission
  (with subresource `scale`) run, and managedFields record the writer with subresource `scale`
  (`managedfields.NewScaleHandler`). The response carries the new Scale (`Response.scale`), not
  the workload.

Authorization is the subresource's (`server._AUTHZ_VERB`): `get`, `update` or `patch` on
`deployments/scale` (`statefulsets/scale`, `replicasets/scale`), so a user allowed only the
subresource can scale and one allowed only the workload cannot, as upstream. A kind without a
scale subresource is 404 (`the server could not find the requested resource`: no such route).

The model's PUT body may carry only what it sets: a Scale field it leaves out is Go's zero value
(`spec.replicas` 0, no resourceVersion: an unconditional write, no UID: no precondition); name and
namespace are the request's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import attrs

from kubeprop.model.api.objects import ApiObject, Deployment, ObjectKey, ReplicaSet, StatefulSet
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.api.server import Context, Result, status
from kubeprop.model.api.store import Store
from kubeprop.model.evolve import evolve

SCALABLE: dict[str, str] = {"Deployment": "deployments.apps", "ReplicaSet": "replicasets.apps",
                            "StatefulSet": "statefulsets.apps"}
"""Kinds with a scale subresource → their qualified resource."""

NO_ROUTE = "the server could not find the requested resource"
"""The 404 message of a subresource the kind does not serve."""


@attrs.frozen
class Scale:
    """`autoscaling/v1 Scale`: desired and observed replicas, and the pods' selector as a string."""

    name: str
    namespace: str
    resource_version: str
    spec_replicas: int
    status_replicas: int
    selector: str
    label_selector: LabelSelector | None = None
    uid: str = ""

    def encode(self) -> dict[str, Any]:
        """The Scale as JSON data, as the API server serves it (a PATCH is applied to this)."""
        meta = {"name": self.name, "namespace": self.namespace, "uid": self.uid,
                "resourceVersion": self.resource_version}
        return {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {k: v for k, v in meta.items() if v},
                "spec": {"replicas": self.spec_replicas},
                "status": {"replicas": self.status_replicas, "selector": self.selector}}


def selector_string(selector: LabelSelector | None) -> str:
    """metav1.FormatLabelSelector: `a=b,c in (d,e)`; "" for none."""
    if selector is None:
        return ""
    parts = [f"{k}={v}" for k, v in selector.match_labels.sorted_items()]
    for req in selector.match_expressions:
        values = ",".join(sorted(req.values))
        parts.append({"In": f"{req.key} in ({values})", "NotIn": f"{req.key} notin ({values})",
                      "Exists": req.key, "DoesNotExist": f"!{req.key}"}.get(req.operator, req.key))
    return ",".join(parts)


def scale_of(obj: ApiObject | None) -> Scale | None:
    """The Scale of a workload (None for kinds without a scale subresource)."""
    if not isinstance(obj, Deployment | ReplicaSet | StatefulSet):
        return None
    replicas = 1 if obj.spec.replicas is None else obj.spec.replicas
    return Scale(obj.metadata.name, obj.metadata.namespace, obj.metadata.resource_version, replicas,
                 obj.status.replicas, selector_string(obj.spec.selector), obj.spec.selector, obj.metadata.uid)


def get_scale(store: Store, kind: str, namespace: str, name: str) -> Scale | None:
    """The Scale of the workload of `kind` stored under namespace/name, read from `store` without
    a request (None: no such workload, or a kind without a scale subresource)."""
    resource = SCALABLE.get(kind)
    return None if resource is None else scale_of(store.get(ObjectKey(resource, namespace, name)))


def _workload(store: Store, ctx: Context, namespace: str, name: str) -> ApiObject | None:
    return store.get(ObjectKey(SCALABLE[ctx.info.kind], namespace, name))


def read_scale(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """GET <workload>/<name>/scale (`ScaleREST.Get`)."""
    if ctx.info.kind not in SCALABLE:
        return Result(store, status(404, "NotFound", NO_ROUTE))
    scale = scale_of(_workload(store, ctx, namespace, name))
    if scale is None:
        return Result(store, status(404, "NotFound", f'{SCALABLE[ctx.info.kind]} "{name}" not found'))
    return Result(store, status(200, "OK", scale=scale))


def update_scale(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """PUT <workload>/<name>/scale: the request's Scale body replaces the current Scale."""
    body = ctx.request.patch
    return _write_scale(store, ctx, namespace, name, lambda _: body)


def patch_scale(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """PATCH <workload>/<name>/scale: the request's JSON merge patch applied to the current Scale."""
    from kubeprop.model.api.writes_support import merge_patch

    return _write_scale(store, ctx, namespace, name, lambda current: merge_patch(current, ctx.request.patch))


class _Invalid(Exception):
    """A Scale body that does not decode (400) or validate (422)."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def _field(body: Any, section: str, key: str, kind: type) -> Any:
    """body[section][key] as decoding a Scale reads it: absent or null is the zero value; another type is 400."""
    part = body.get(section) if isinstance(body, dict) else None
    value = part.get(key) if isinstance(part, dict) else None
    if value is None:
        return kind()
    if not isinstance(value, kind) or isinstance(value, bool):
        go_type = {int: "int32", str: "string"}[kind]
        raise _Invalid(400, "BadRequest", f'Scale in version "v1" cannot be handled as a Scale: json: cannot '
                       f"unmarshal {type(value).__name__} into Go struct field {section}.{key} of type {go_type}")
    return value


def _write_scale(store: Store, ctx: Context, namespace: str, name: str,
                 new_body: Callable[[dict[str, Any]], Any]) -> Result:
    """scaleUpdatedObjectInfo.UpdatedObject, then the workload's update (module docstring)."""
    from kubeprop.model.api.server_write import update_subresource

    if ctx.info.kind not in SCALABLE:
        return Result(store, status(404, "NotFound", NO_ROUTE))
    current = _workload(store, ctx, namespace, name)
    scale = scale_of(current)
    if not isinstance(current, Deployment | ReplicaSet | StatefulSet) or scale is None:
        group_resource = f"{ctx.info.resource}/scale.{ctx.info.group}"
        return Result(store, status(404, "NotFound", f'{group_resource} "{name}" not found'))
    body = new_body(scale.encode())
    try:
        replicas = _field(body, "spec", "replicas", int)
        rv, uid = _field(body, "metadata", "resourceVersion", str), _field(body, "metadata", "uid", str)
    except _Invalid as bad:
        return Result(store, status(bad.code, bad.reason, bad.message))
    if replicas < 0:
        return Result(store, status(422, "Invalid", f'Scale.autoscaling "{name}" is invalid: spec.replicas: '
                                    f"Invalid value: {replicas}: must be greater than or equal to 0"))
    if uid and uid != current.metadata.uid:
        return Result(store, status(409, "Conflict", f'Operation cannot be fulfilled on {ctx.info.resource}/scale.'
                                    f'{ctx.info.group} "{name}": Precondition failed: UID in precondition: {uid}, '
                                    f"UID in object meta: {current.metadata.uid}"))
    new: ApiObject = evolve(cast(Any, current), spec=evolve(current.spec, replicas=replicas),
                            metadata=evolve(current.metadata, resource_version=rv))
    as_update = evolve(ctx, request=evolve(ctx.request, verb="update", obj=new, patch=None, patch_type="merge"))
    result = update_subresource(store, as_update, namespace, name, "scale")
    if not result.response.ok:
        return result
    written = scale_of(result.response.obj)
    return evolve(result, response=evolve(result.response, obj=None, scale=written))
