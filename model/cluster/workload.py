"""The user's workload: the scenario's `workload:` steps as `UserStep` actions, in order.

Each step is what one kubectl command sends (as the scenario's `applyAs` user):

- `apply: PATH` — client-side `kubectl apply` (`staging/src/k8s.io/kubectl/pkg/cmd/apply/apply.go`,
  `patcher.go`; field manager `kubectl-client-side-apply`): an object that does not exist is
  created with the `kubectl.kubernetes.io/last-applied-configuration` annotation; one that exists
  gets kubectl's three-way patch against that annotation (`strategic.three_way_merge_patch`: a
  strategic merge patch for built-in kinds, a JSON merge patch for custom resources) — fields
  removed from the manifest since the last apply are deleted, fields never in it (replicas set by a
  scale) are kept; no request when nothing changes ("unchanged");
- `apply: {path, serverSide: true, fieldManager, force}` — `kubectl apply --server-side`
  (manager `kubectl` by default; `force` is `--force-conflicts`): the manifest is sent as an apply
  patch, the API server merges it and tracks field ownership (`kubeprop.model.api.ssa`);
- `scale`: a merge patch of the scale subresource (`kubectl scale`, manager `kubectl-scale`;
  `staging/src/k8s.io/kubectl/pkg/scale/scale.go` ScaleSimple; `kubeprop.model.api.scale`): RBAC
  asks for `patch` on `deployments/scale` (or `statefulsets/scale`, `replicasets/scale`); with
  `currentReplicas` or `resourceVersion` (`--current-replicas`, `--resource-version`) a GET of
  the Scale, kubectl's check of those preconditions, and a PUT of the Scale
  (`kubeprop.model.cluster.workload_scale`);
- `setImage`: a strategic merge patch of one container's image (`kubectl set image`, manager
  `kubectl-set`);
- `rolloutRestart`: a strategic merge patch of the pod template's `kubectl.kubernetes.io/restartedAt`
  annotation with the model's time (`kubectl rollout restart`, manager `kubectl-rollout`; a paused
  Deployment is refused: `kubeprop.model.cluster.workload_restart`);
- `delete`: a delete with the given propagation policy (`kubectl delete --cascade`; Background
  when the step has none, as kubectl always sends one: `KUBECTL_CASCADE`); the kind is
  resolved as kubectl's RESTMapper does (`server.resolve_type`), custom kinds through the CRDs
  in the store, so the request names `<plural>.<group>`. kubectl then waits (`--wait`, true
  unless the step says `wait: false`) until the object it deleted is gone — graceful pod
  termination, finalizers, a Foreground deletion's dependents included — and the next step
  waits with it (`DeleteWait`, below);
- `cordon`, `uncordon`: a patch of the node's `spec.unschedulable`, none when it already has the
  value (kubectl GETs the node first: `maintenance.cordon`); `drain`: cordon, then evict
  the node's pods and wait for them to go (`kubeprop.model.cluster.maintenance`) — the next step
  waits until the drain returns, as kubectl blocks;
- `rolloutStatus`, `wait`: `kubectl rollout status` and `kubectl wait`, which GET, then LIST and WATCH
  the object (one refused the LIST never sees it); the next step waits until the command returns —
  its status viewer or condition satisfied, its timeout passed on the model's clock, or its failure
  (`kubeprop.model.cluster.workload_wait`).

A step that names an object (`scale`, `setImage`, `rolloutRestart`, `delete`, `rolloutStatus`, `wait` but for
`--for=delete`) waits while that object may still appear, and no longer: the user runs `kubectl
delete pod db-0` after seeing db-0, not before its controller made it, but a user scripting
kubectl sees no object coming that cannot come, and their next command fails as kubectl fails
(`_waits`). The step runs at once when the object exists; when
the user made it themselves (it is in the manifests, or in an `apply` step before this one: kubectl
apply returned, so a missing object is one that was removed since, or whose apply was refused);
when its namespace is gone or Terminating (NamespaceLifecycle refuses every create there, and no
later step that could recreate the namespace runs while this one waits); and when kubectl cannot
resolve its kind (a CRD gone or never applied). kubectl's failure is then what upstream's
commands give: `kubectl scale` and `kubectl set image` GET the object first through the resource
builder (`staging/src/k8s.io/kubectl/pkg/cmd/scale/scale.go` RunScale, `kubectl rollout restart` too,
`staging/src/k8s.io/kubectl/pkg/cmd/set/set_image.go` Complete: `.Latest()`), so the step sends
that GET and gets the API server's 404 (`deployments.apps "web" not found`; kubectl prints
`Error from server (NotFound): …` and exits 1) — or, for an object that exists, its 403 when the user
may not GET it (`workload_wait.refused`; an allowed GET is left out, a read that changes nothing);
`kubectl delete` builds its infos without the
object (`staging/src/k8s.io/kubectl/pkg/cmd/delete/delete.go`: `RequireObject(false)`) and its
DELETE gets the 404; an unresolvable type is kubectl's own `error: the server doesn't have a
resource type "…"` (`staging/src/k8s.io/cli-runtime/pkg/resource/builder.go`). Only an object a
controller makes (a StatefulSet's pod, a PVC from a claim template) in a live namespace is waited
for. An unavailable API server (5xx, 429 — e.g. no etcd quorum) leaves the step
not done: the user runs it again later. Any other error (a 409 apply conflict, a 403, a 404, a
422, kubectl's own refusal) is a scenario error: the step counts as done, as kubectl exits, and the
response is recorded in `ClusterState.workload_errors`, which the `workload-steps-succeed` property
reports. Manifests named by `apply` steps are loaded when the model is built, never during a step.

`kubectl delete --wait` (`staging/src/k8s.io/kubectl/pkg/cmd/delete/delete.go` DeleteResult:
`WaitForDeletion`, default true, with the deleted object's UID from the DELETE's response in a
`UIDMap`; `staging/src/k8s.io/kubectl/pkg/cmd/wait/delete.go` IsDeleted): kubectl GETs the object
and returns when it is not found or has another UID (a new incarnation, e.g. a StatefulSet's
replacement pod), else watches until it is deleted. A timeout of 0 (kubectl delete's default) is
a week, which the model does not reach: it waits as long as the object stays. A 403 on that GET
ends the wait without an error ("if we're forbidden from waiting, we shouldn't fail"). The model
keeps the wait as a `DeleteWait` in `state.addons["workload"]` only when the object is still
there after the DELETE; the next step is not enabled while the object with that UID exists, as a
drain holds it (`maintenance.blocking`), and the next step clears the entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from kubeprop.model.api.objects import (
    ApiObject,
    CustomObject,
    CustomResourceDefinition,
    ObjectKey,
    encode_object,
    kind_info,
    object_key,
    qualified_resource,
    with_metadata,
)
from kubeprop.model.api.server import Request, Response, handle, resolve_type
from kubeprop.model.api.store import Store
from kubeprop.model.api.strategic import LAST_APPLIED_ANNOTATION, last_applied_text, three_way_merge_patch
from kubeprop.model.cluster import maintenance, workload_wait
from kubeprop.model.cluster.aggregation_pending import pending_note
from kubeprop.model.cluster.workload_commands import (
    CLIENT_SIDE_APPLY_MANAGER,
    SERVER_SIDE_APPLY_MANAGER,
    target,
    workload_ref,
)
from kubeprop.model.cluster.workload_restart import restart_request
from kubeprop.model.cluster.workload_scale import scale_request
from kubeprop.model.cluster.workload_wait import CommandWait
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.schema import (
    ApplyStep,
    DeleteStep,
    SetImageStep,
    WaitStep,
    WorkloadStep,
)
from kubeprop.model.state.actions import Action, UserStep
from kubeprop.model.state.cluster import USER_COMPONENT, ClusterModel, ClusterState, send

KEY = workload_wait.KEY
"""The workload's entry in `state.addons`: the `DeleteWait` of a `kubectl delete` still waiting, or
the `CommandWait` of a `kubectl rollout status` or `kubectl wait` (`workload_wait`)."""
KUBECTL_CASCADE = "Background"
"""The propagation policy of a `delete` step without one: kubectl always sends one
(`staging/src/k8s.io/kubectl/pkg/cmd/delete/delete.go` DeleteResult: `options.PropagationPolicy =
&o.CascadingStrategy`), `--cascade`'s default `background` (`delete_flags.go`
NewDeleteCommandFlags; parseCascadingFlag maps every accepted value to Background, Foreground or
Orphan). An explicit policy takes precedence over an `orphan` or `foregroundDeletion` finalizer the
object carries (`staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go`
shouldOrphanDependents, shouldDeleteDependents): with none sent, such a finalizer would decide."""


@attrs.frozen(cache_hash=True)
class DeleteWait:
    """`kubectl delete --wait` still waiting: the step that deleted, and the object it waits to be
    gone, by UID (kubectl's `UIDMap`): gone when no object has that key, or one with another UID."""

    step: int
    resource: str
    namespace: str
    name: str
    uid: str

    def still_there(self, store: Store) -> bool:
        """True while the object with this UID exists (kubectl's IsDeleted says not yet)."""
        found = store.get(ObjectKey(self.resource, self.namespace, self.name))
        return found is not None and found.metadata.uid == self.uid


def delete_wait(state: ClusterState) -> DeleteWait | None:
    """The `kubectl delete` the user is still waiting for, if any (None once its object is gone)."""
    found = state.addons.get(KEY)
    return found if isinstance(found, DeleteWait) and found.still_there(state.store) else None


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """The next workload step, unless the user waits for the object it names (`_waits`), for a
    drain, or for a `kubectl delete` to return (`delete_wait`); a waiting command's step once it
    can return (`_returns`)."""
    index = state.workload_next
    if index >= len(model.scenario.spec.workload) or maintenance.blocking(state) or delete_wait(state) is not None:
        return
    step = model.scenario.spec.workload[index]
    if workload_wait.is_wait_step(step):
        if _returns(model, state, index):
            yield UserStep(index)
    elif not _waits(model, state.store, index):
        yield UserStep(index)


def _returns(model: ClusterModel, state: ClusterState, index: int) -> bool:
    """Whether a `rollout status` or `wait` step can be taken: a command that started waiting
    (`CommandWait`) once its outcome is decided; one not started yet once the object it names is
    there to see (`_waits`) and, when it would wait for ever, once it returns at once."""
    step = model.scenario.spec.workload[index]
    waiting = workload_wait.command_wait(state)
    if waiting is None:
        if _waits(model, state.store, index):
            return False
        if workload_wait.timed(step):
            return True  # it starts: it returns now or records its wait
    named = named_key(state.store, step)
    if not isinstance(named, ObjectKey):
        return True  # kubectl's own error
    get = _get_request(model.scenario.apply_as, named, step.as_)
    response = handle(state.store, get, model.api, state.clock).response
    unlisted = workload_wait.list_refusal(model, state, step, named)
    return workload_wait.outcome(step, named, response, waiting, state.clock, unlisted) is not None


def _get_request(user: str, key: ObjectKey, acting_as: str = "") -> Request:
    """kubectl's GET of the object a step names (its resource builder's `Latest()`), `--as acting_as`."""
    return Request(verb="get", user=user, resource=key.resource, namespace=key.namespace, name=key.name,
                   impersonate=acting_as)


def _acting_as(step: WorkloadStep, requests: list[Request | str]) -> list[Request | str]:
    """The step's requests with `kubectl --as` (the step's `as`, if any: `impersonation`)."""
    if not step.as_:
        return requests
    return [evolve(r, impersonate=step.as_) if isinstance(r, Request) else r for r in requests]


def _crds(store: Store) -> list[CustomResourceDefinition]:
    return [c for c in store.list("customresourcedefinitions.apiextensions.k8s.io")
            if isinstance(c, CustomResourceDefinition) and c.metadata.deletion_timestamp is None]


def _delete_key(store: Store, step: DeleteStep | WaitStep) -> ObjectKey | None:
    info = resolve_type(step.kind, _crds(store))
    if info is None:
        return None
    return ObjectKey(qualified_resource(info), step.namespace if info.namespaced else "", step.name)


def named_key(store: Store, step: WorkloadStep) -> ObjectKey | str | None:
    """The key of the object a step names; None for a step that names none; kubectl's own error
    for a `delete` whose type kubectl cannot resolve (`staging/src/k8s.io/cli-runtime/pkg/resource/
    builder.go` mappingFor: the resource as typed, before its first dot, `schema.ParseResourceArg`)."""
    typed = step.delete or step.wait
    if typed is not None:
        key = _delete_key(store, typed)
        if key is not None:
            return key
        return f"error: the server doesn't have a resource type {json.dumps(typed.kind.partition('.')[0])}"
    named = step.scale or step.set_image or step.rollout_status or step.rollout_restart
    if named is None:
        return None
    resource, ref = workload_ref(named)
    namespace, name = target(ref)
    return ObjectKey(resource, namespace, name)


def _waits(model: ClusterModel, store: Store, index: int) -> bool:
    """True while the user waits to see the object step `index` names: it is not there, a
    controller may still make it (the user did not: not among the manifests or the objects of an
    earlier `apply` step), and its namespace is live, so creates there can still succeed
    (`plugin/pkg/admission/namespace/lifecycle/admission.go`). Anything else runs now and, if the
    object is missing, fails as kubectl fails (see the module docstring)."""
    step = model.scenario.spec.workload[index]
    if step.wait is not None and workload_wait.wait_kind(step.wait) == "delete":
        return False  # waiting for an object to go: a missing one is gone
    key = named_key(store, step)
    if not isinstance(key, ObjectKey) or store.get(key) is not None:
        return False
    if key.namespace:
        namespace = store.get(ObjectKey("namespaces", "", key.namespace))
        if namespace is None or namespace.metadata.deletion_timestamp is not None:
            return False
    return key not in _user_made(model, index)


_USER_MADE: dict[int, tuple[ClusterModel, list[frozenset[ObjectKey]]]] = {}
"""Per model (by identity, the model kept alive with its entry), `_user_made` for each step."""


def _user_made(model: ClusterModel, index: int) -> frozenset[ObjectKey]:
    """The keys of the objects the user made before step `index`: the manifests' and those of
    every `apply` step before it (namespaces filled in as kubectl fills them)."""
    entry = _USER_MADE.get(id(model))
    if entry is None or entry[0] is not model:
        if len(_USER_MADE) >= 16:
            _USER_MADE.clear()
        keys = frozenset(object_key(_manifest(m.obj)[0]) for m in model.scenario.objects)
        made = [keys]
        for objects in model.workload_objects:
            made.append(made[-1] | {object_key(_manifest(o)[0]) for o in objects})
        entry = _USER_MADE[id(model)] = model, made
    return entry[1][min(index, len(entry[1]) - 1)]


def _requests(model: ClusterModel, state: ClusterState, index: int) -> list[Request | str]:
    """The requests a step sends, in order (a string: kubectl's own error, no request sent), each
    with the step's `as`."""
    return _acting_as(model.scenario.spec.workload[index], _step_requests(model, state, index))


def _step_requests(model: ClusterModel, state: ClusterState, index: int) -> list[Request | str]:
    """`_requests` before `--as`."""
    step = model.scenario.spec.workload[index]
    user = model.scenario.apply_as
    options = step.apply_options
    if options is not None:
        applied = [_apply_request(state, obj, user, options) for obj in model.workload_objects[index]]
        return [r for r in applied if r is not None]
    named = named_key(state.store, step)
    if isinstance(named, str):
        return [named]
    assert named is not None
    if step.delete is not None:
        return [Request(verb="delete", user=user, resource=named.resource, namespace=named.namespace,
                        name=named.name, propagation_policy=step.delete.propagation_policy or KUBECTL_CASCADE)]
    get = _get_request(user, named)
    if state.store.get(named) is None or workload_wait.refused(model, state, evolve(get, impersonate=step.as_)):
        # kubectl's resource builder GETs the object first: the API server's 404 (or 403) is the step's
        return [get]
    if step.scale is not None:
        return [scale_request(model, state, step.scale, named, user, step.as_)]
    if step.rollout_restart is not None:
        return restart_request(state, named, user)
    assert step.set_image is not None
    return _set_image_request(state, step.set_image, user)


def _manifest(obj: ApiObject) -> tuple[ApiObject, dict[str, Any]]:
    """The object with its namespace filled in as kubectl does, and its JSON without status."""
    namespace = obj.metadata.namespace or ("default" if kind_info(obj).namespaced else "")
    obj = with_metadata(obj, evolve(obj.metadata, namespace=namespace))
    body = encode_object(obj)
    body.pop("status", None)
    return obj, body


def _apply_request(state: ClusterState, obj: ApiObject, user: str, options: ApplyStep) -> Request | None:
    obj, body = _manifest(obj)
    resource, namespace, name = qualified_resource(kind_info(obj)), obj.metadata.namespace, obj.metadata.name
    if options.server_side:
        return Request(verb="patch", user=user, resource=resource, namespace=namespace, name=name, patch=body,
                       patch_type="apply", field_manager=options.field_manager or SERVER_SIDE_APPLY_MANAGER,
                       force=options.force)
    manager = options.field_manager or CLIENT_SIDE_APPLY_MANAGER
    text = last_applied_text(body)
    live = state.store.get(object_key(obj))
    if live is None:
        annotated = evolve(obj.metadata, annotations=obj.metadata.annotations.set(LAST_APPLIED_ANNOTATION, text))
        return Request(verb="create", user=user, obj=with_metadata(obj, annotated), resource=resource,
                       namespace=namespace, name=name, field_manager=manager)
    modified = json.loads(text)
    modified["metadata"] = {**modified["metadata"], "annotations": {
        **modified["metadata"].get("annotations", {}), LAST_APPLIED_ANNOTATION: text}}
    try:
        original = json.loads(live.metadata.annotations.get(LAST_APPLIED_ANNOTATION, "{}"))
    except ValueError:
        original = {}
    custom = isinstance(live, CustomObject)
    patch = three_way_merge_patch(original if isinstance(original, dict) else {}, modified, encode_object(live),
                                  "" if custom else kind_info(live).kind, strategic=not custom)
    if not patch:
        return None
    return Request(verb="patch", user=user, resource=resource, namespace=namespace, name=name, patch=patch,
                   patch_type="merge" if custom else "strategic", field_manager=manager)


def _set_image_request(state: ClusterState, step: SetImageStep, user: str) -> list[Request | str]:
    """`kubectl set image` (`staging/src/k8s.io/kubectl/pkg/cmd/set/set_image.go`, v1.33 `Run` and
    `setImage`): the image of every container and init container named `step.container` (`*`: of
    every one) in the live template, sent as a strategic merge patch keyed by container name. kubectl
    sends nothing when no image changes (its patch is `{}`), and refuses a name that neither list has
    (`error: unable to find container named`)."""
    resource, ref = workload_ref(step)
    namespace, name = target(ref)
    current = state.store.get(ObjectKey(resource, namespace, name))
    template = getattr(getattr(current, "spec", None), "template", None)
    if template is None:
        return [f'error: unable to find container named "{step.container}"']
    spec: dict[str, Any] = {}
    found = False
    for field, containers in (("initContainers", template.spec.init_containers),
                              ("containers", template.spec.containers)):
        named = [c for c in containers if step.container in ("*", c.name)]
        found = found or bool(named)
        changed = [{"name": c.name, "image": step.image} for c in named if c.image != step.image]
        if changed:
            spec[field] = changed
    if not found:
        return [f'error: unable to find container named "{step.container}"']
    if not spec:
        return []
    patch = {"spec": {"template": {"spec": spec}}}
    return [Request(verb="patch", user=user, resource=resource, namespace=namespace, name=name, patch=patch,
                    patch_type="strategic", field_manager="kubectl-set")]


def _unavailable(code: int) -> bool:
    """A server that cannot answer now (5xx, 429): the user runs the command again later."""
    return code >= 500 or code == 429


def _wait_after_delete(model: ClusterModel, state: ClusterState, index: int, request: Request,
                       response: Response) -> ClusterState:
    """Record the `DeleteWait` of a successful `kubectl delete` (unless `wait: false`) whose object
    is still there, and that the user may GET (a 403 on kubectl's GET ends the wait at once)."""
    delete = model.scenario.spec.workload[index].delete
    if delete is None or not delete.wait or not response.ok or response.obj is None:
        return state
    wait = DeleteWait(index, request.resource, request.namespace, request.name, response.obj.metadata.uid)
    if not wait.still_there(state.store):
        return state
    get = Request(verb="get", user=request.user, resource=request.resource, namespace=request.namespace,
                  name=request.name, impersonate=request.impersonate)
    if handle(state.store, get, model.api, state.clock).response.code == 403:
        return state
    return evolve(state, addons=state.addons.set(KEY, wait))


def _user_step(model: ClusterModel, state: ClusterState, act: UserStep) -> ClusterState:
    step = model.scenario.spec.workload[act.index]
    user = model.scenario.apply_as
    if isinstance(state.addons.get(KEY), DeleteWait):  # the last `kubectl delete` returned (`enabled`)
        state = evolve(state, addons=state.addons.delete(KEY))
    if step.drain is not None or step.cordon is not None or step.uncordon is not None:
        return _node_step(model, state, act.index, user)
    if workload_wait.is_wait_step(step):
        return _wait_step(model, state, act.index, user)
    failures: list[str] = []
    for request in _requests(model, state, act.index):
        if isinstance(request, str):
            failures.append(request)
            continue
        state, response = send(model, state, request.user, request, USER_COMPONENT)
        if _unavailable(response.code):
            return state  # not done: the step stays enabled and is retried (apply is idempotent)
        if not response.ok:
            note = pending_note(model, state, request) if response.code == 403 else ""
            failures.append(f"{response.code} {response.reason}: {response.message}" + (f" ({note})" if note else ""))
        if request.verb == "delete":
            state = _wait_after_delete(model, state, act.index, request, response)
    state = evolve(state, workload_next=act.index + 1)
    if failures:
        state = evolve(state, workload_errors=state.workload_errors.set(act.index, "; ".join(failures)))
    return state


def _wait_step(model: ClusterModel, state: ClusterState, index: int, user: str) -> ClusterState:
    """`kubectl rollout status` or `kubectl wait`: kubectl GETs the object (a server that cannot
    answer now: the step is not done, and is taken again); then the command returns (its failure
    recorded as any step's) or, when it must wait and has a deadline or an object to see go, starts
    waiting (`workload_wait.CommandWait`: the step is taken again when the wait is decided)."""
    step = model.scenario.spec.workload[index]
    waiting = workload_wait.command_wait(state)
    named = named_key(state.store, step)
    if isinstance(named, str):
        return _finish(state, index, named)
    assert named is not None
    state, response = send(model, state, user, _get_request(user, named, step.as_), USER_COMPONENT)
    if _unavailable(response.code):
        return state
    unlisted = workload_wait.list_refusal(model, state, step, named)
    ended = workload_wait.outcome(step, named, response, waiting, state.clock, unlisted)
    if ended is not None:
        return _finish(state, index, ended)
    if waiting is None and response.obj is not None:
        wait = workload_wait.start(step, index, named, response.obj, state.clock)
        return evolve(state, addons=state.addons.set(KEY, wait))
    return state  # not decided: `enabled` offers the step only once it is


def _finish(state: ClusterState, index: int, failure: str) -> ClusterState:
    """Step `index` returned (with `failure`, unless ""): the next step may run."""
    if isinstance(state.addons.get(KEY), CommandWait):
        state = evolve(state, addons=state.addons.delete(KEY))
    state = evolve(state, workload_next=index + 1)
    if failure:
        state = evolve(state, workload_errors=state.workload_errors.set(index, failure))
    return state


def _node_step(model: ClusterModel, state: ClusterState, index: int, user: str) -> ClusterState:
    """`kubectl cordon|uncordon|drain NODE`. A refused drain (a pod it may not delete) or a refused
    patch is the step's failure, as for any other step; a server that cannot answer now is asked again."""
    step = model.scenario.spec.workload[index]
    failure: Response | str | None
    if step.drain is not None:
        state, failure = maintenance.start_drain(model, state, step.drain.node, step.drain, user, "user",
                                                 USER_COMPONENT, acting_as=step.as_)
    else:
        node_step = step.cordon or step.uncordon
        assert node_step is not None
        state, response = maintenance.cordon(model, state, user, node_step.node, step.cordon is not None,
                                             USER_COMPONENT, step.as_)
        failure = None if response.ok else response
    if isinstance(failure, Response) and _unavailable(failure.code):
        return state  # not done: the step stays enabled and is retried
    state = evolve(state, workload_next=index + 1)
    if isinstance(failure, Response):
        failure = f"{failure.code} {failure.reason}: {failure.message}"
    if failure is not None:
        state = evolve(state, workload_errors=state.workload_errors.set(index, failure))
    return state


HANDLERS: dict[type[Any], Callable[[ClusterModel, ClusterState, Any], ClusterState]] = {UserStep: _user_step}
