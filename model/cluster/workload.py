"""The user's workload: the scenario's `workload:` steps as `UserStep` actions, in order.

Each step is what one kubectl command sends (as the scenario's `applyAs` user):

- `apply`: create each object, or patch it with the manifest if it exists (`kubectl apply` sends a
  three-way strategic merge patch; the model sends the manifest as a JSON merge patch, so fields
  removed from the manifest are kept);
- `scale`: a merge patch of `spec.replicas` (`kubectl scale`);
- `setImage`: a merge patch of one container's image (`kubectl set image`);
- `delete`: a delete with the given propagation policy (`kubectl delete --cascade`);
- `cordon`, `uncordon`: a patch of the node's `spec.unschedulable`; `drain`: cordon, then evict
  the node's pods and wait for them to go (`kubeprop.model.cluster.maintenance`) — the next step
  waits until the drain returns, as kubectl blocks.

A step whose request fails (409, 403, …) is still done: the user saw an error, as with kubectl.
Manifests named by `apply` steps are loaded when the model is built, never during a step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs

from kubeprop.model.api.codec import encode
from kubeprop.model.api.objects import (
    ApiObject,
    ObjectKey,
    encode_object,
    kind_info,
    object_key,
    qualified_resource,
    with_metadata,
)
from kubeprop.model.api.server import Request
from kubeprop.model.cluster import maintenance
from kubeprop.model.scenario.schema import DeleteStep, ScaleStep, SetImageStep
from kubeprop.model.state.actions import Action, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState, send

USER_COMPONENT = "user"
WORKLOAD_KINDS = {"deployment": "deployments.apps", "statefulset": "statefulsets.apps",
                  "replicaset": "replicasets.apps"}
DELETE_KINDS = {
    "Deployment": "deployments.apps", "StatefulSet": "statefulsets.apps", "ReplicaSet": "replicasets.apps",
    "Pod": "pods", "Service": "services", "ConfigMap": "configmaps", "Secret": "secrets", "Node": "nodes",
    "PersistentVolumeClaim": "persistentvolumeclaims", "Namespace": "namespaces",
}


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """The next workload step, if any is left (and no drain the user started is still running)."""
    if state.workload_next < len(model.scenario.spec.workload) and not maintenance.blocking(state):
        yield UserStep(state.workload_next)


def _target(ref: str) -> tuple[str, str]:
    namespace, _, name = ref.rpartition("/")
    return namespace or "default", name


def _workload_ref(step: ScaleStep | SetImageStep) -> tuple[str, str]:
    for field, resource in WORKLOAD_KINDS.items():
        ref = getattr(step, field, "")
        if ref:
            return resource, ref
    return "", ""


def _requests(model: ClusterModel, state: ClusterState, index: int) -> list[Request]:
    step = model.scenario.spec.workload[index]
    user = model.scenario.apply_as
    if step.apply:
        return [_apply_request(state, obj, user) for obj in model.workload_objects[index]]
    if step.scale is not None:
        resource, ref = _workload_ref(step.scale)
        namespace, name = _target(ref)
        return [Request(verb="patch", user=user, resource=resource, namespace=namespace, name=name,
                        patch={"spec": {"replicas": step.scale.replicas}})]
    if step.set_image is not None:
        return _set_image_requests(state, step.set_image, user)
    assert step.delete is not None
    return [_delete_request(step.delete, user)]


def _apply_request(state: ClusterState, obj: ApiObject, user: str) -> Request:
    info = kind_info(obj)
    namespace = obj.metadata.namespace or ("default" if info.namespaced else "")
    obj = with_metadata(obj, attrs.evolve(obj.metadata, namespace=namespace))
    resource = qualified_resource(info)
    if state.store.get(object_key(obj)) is None:
        return Request(verb="create", user=user, obj=obj, resource=resource, namespace=namespace,
                       name=obj.metadata.name)
    body = encode_object(obj)
    body.pop("status", None)
    return Request(verb="patch", user=user, resource=resource, namespace=namespace, name=obj.metadata.name,
                   patch=body)


def _set_image_requests(state: ClusterState, step: SetImageStep, user: str) -> list[Request]:
    resource, ref = _workload_ref(step)
    namespace, name = _target(ref)
    current = state.store.get(ObjectKey(resource, namespace, name))
    template = getattr(getattr(current, "spec", None), "template", None)
    if template is None:
        return [Request(verb="patch", user=user, resource=resource, namespace=namespace, name=name, patch={})]
    # kubectl sends a strategic merge patch keyed by container name; a JSON merge patch replaces
    # lists whole, so the model sends every container, only the named one changed.
    containers = [
        encode(attrs.evolve(c, image=step.image) if c.name == step.container else c)
        for c in template.spec.containers
    ]
    patch = {"spec": {"template": {"spec": {"containers": containers}}}}
    return [Request(verb="patch", user=user, resource=resource, namespace=namespace, name=name, patch=patch)]


def _delete_request(step: DeleteStep, user: str) -> Request:
    resource = DELETE_KINDS.get(step.kind, step.kind.lower() + "s")
    return Request(verb="delete", user=user, resource=resource, namespace=step.namespace, name=step.name,
                   propagation_policy=step.propagation_policy or None)


def _user_step(model: ClusterModel, state: ClusterState, act: UserStep) -> ClusterState:
    step = model.scenario.spec.workload[act.index]
    user = model.scenario.apply_as
    if step.drain is not None:
        state = maintenance.start_drain(model, state, step.drain.node, step.drain, user, "user", USER_COMPONENT)
        return attrs.evolve(state, workload_next=act.index + 1)
    if step.cordon is not None or step.uncordon is not None:
        node_step = step.cordon or step.uncordon
        assert node_step is not None
        request = maintenance.cordon_request(user, node_step.node, step.cordon is not None)
        state, _ = send(model, state, user, request, USER_COMPONENT)
        return attrs.evolve(state, workload_next=act.index + 1)
    for request in _requests(model, state, act.index):
        state, _response = send(model, state, request.user, request, USER_COMPONENT)
    return attrs.evolve(state, workload_next=act.index + 1)


HANDLERS: dict[type[Any], Callable[[ClusterModel, ClusterState, Any], ClusterState]] = {UserStep: _user_step}
