"""The scale subresource (`autoscaling/v1 Scale`) of Deployments, ReplicaSets and StatefulSets.

Upstream: `pkg/registry/apps/deployment/storage/storage.go` ScaleREST (and the ReplicaSet and
StatefulSet twins): GET builds a Scale from the workload (`spec.replicas`, `status.replicas`,
the selector as a string); UPDATE validates the Scale (replicas ≥ 0), then writes the workload
with `spec.replicas` replaced — an ordinary update, so generation, admission and validation apply.
A Scale carrying a resourceVersion must match the workload's (409 otherwise).

In the model a scale read is `scale_of` (a live read of the store, as the HPA's GET is) and a
scale update is a request with verb `update-scale` whose `patch` is the Scale body as JSON data:
`{"spec": {"replicas": N}, "metadata": {"resourceVersion": "…"}}`.
"""

from __future__ import annotations

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
                 obj.status.replicas, selector_string(obj.spec.selector), obj.spec.selector)


def get_scale(store: Store, kind: str, namespace: str, name: str) -> Scale | None:
    """GET <kind>/<name>/scale: the Scale, or None (404)."""
    resource = SCALABLE.get(kind)
    return None if resource is None else scale_of(store.get(ObjectKey(resource, namespace, name)))


def _replicas(body: Any) -> int | None:
    spec = body.get("spec") if isinstance(body, dict) else None
    value = spec.get("replicas") if isinstance(spec, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def update_scale(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """PUT <workload>/<name>/scale (see the module docstring)."""
    from kubeprop.model.api.server_write import update

    if ctx.info.kind not in SCALABLE:
        return Result(store, status(404, "NotFound", f"{ctx.info.resource} has no scale subresource"))
    current = store.get(ObjectKey(SCALABLE[ctx.info.kind], namespace, name))
    if current is None or not isinstance(current, Deployment | ReplicaSet | StatefulSet):
        return Result(store, status(404, "NotFound", f'{SCALABLE[ctx.info.kind]} "{name}" not found'))
    body = ctx.request.patch
    replicas = _replicas(body)
    if replicas is None or replicas < 0:
        shown = "<missing>" if replicas is None else replicas
        return Result(store, status(422, "Invalid", f'Scale.autoscaling "{name}" is invalid: spec.replicas: '
                                    f"Invalid value: {shown}: must be greater than or equal to 0"))
    meta = body.get("metadata") if isinstance(body, dict) else None
    rv = meta.get("resourceVersion", "") if isinstance(meta, dict) else ""
    if rv and rv != current.metadata.resource_version:
        return Result(store, status(409, "Conflict", f'Operation cannot be fulfilled on {SCALABLE[ctx.info.kind]} '
                                    f'"{name}": the object has been modified; please apply your changes to the '
                                    "latest version and try again"))
    new: ApiObject = evolve(cast(Any, current), spec=evolve(current.spec, replicas=replicas))
    as_update = evolve(ctx, request=evolve(ctx.request, verb="update", obj=new, patch=None))
    return update(store, as_update, namespace, name)
