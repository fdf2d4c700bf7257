"""The scheduler's binding cycle for an assumed pod: VolumeBinding's PreBind, the binding, and what
a failure of either does (`handleBindingCycleError`).

Upstream (`pkg/scheduler/schedule_one.go`, v1.33): after the scheduling cycle assumed the pod, a
goroutine runs the binding cycle: PreBind (`RunPreBindPlugins`: a plugin's error becomes `running
PreBind plugin "VolumeBinding": <err>`), then Bind (`RunBindPlugins`: DefaultBinder POSTs a
`v1.Binding` naming the pod and its UID, `pkg/scheduler/framework/plugins/defaultbinder/
default_binder.go`; an API error becomes `running Bind plugin "DefaultBinder": <err>`). Both
return an Error status, never a rejection. On failure, `handleBindingCycleError`:

1. un-reserves and `ForgetPod`s the assumed pod (`pkg/scheduler/backend/cache/cache.go`): its
   resources are free again in the scheduler's cache;
2. treats the forgetting as an `AssignedPodDelete` event: `MoveAllToActiveOrBackoffQueue` at once
   (not deferred: the status is not a rejection), so the parked pods that waited for those
   resources are tried again;
3. calls the FailureHandler, `handleSchedulingFailure`, with `clearNominatedNode` (ModeOverride,
   ""): the reason is `SchedulerError` (`status.IsRejected()` is false) and the message the status's;
   the pod is requeued (backoffQ for an error) unless the informer cache shows it bound (the
   binding landed, e.g. it timed out after the write: "Abort adding it back to queue") or gone;
   `AddNominatedPod` drops its nomination; and whatever the cache shows, `updatePod` sends one
   status patch (`pkg/scheduler/util/utils.go` PatchPodStatus, strategic merge) with
   PodScheduled=False, reason SchedulerError, that message, and nominatedNodeName cleared if the
   pod had one. On a pod the binding did bind (a 504 that landed, or another scheduler instance's
   binding: 409) the patch turns its PodScheduled False until its kubelet's first status sets it
   True again, as upstream.

Model choices: a pod whose binding failed waits in the error backoff queue until its back-off ends
(1 s after its first attempt, doubling to 10 s: `kubeprop.model.scheduler.backoff`; a timer, never
popped early). The patch is computed against the scheduler's cached pod at the
time of the failure (upstream: the pod object of the scheduling cycle, whose status only a write
since the cycle would make differ); no patch is sent when the cache no longer holds the pod
(upstream's patch by name would answer 404). A 500 or 503 on the patch is retried in the binding
goroutine (`kubeprop.model.scheduler.status_patch`); a failure left is only logged.
"""

from __future__ import annotations

from typing import Literal

import attrs

from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim
from kubeprop.model.api.objects import ApiObject, Node, ObjectKey, Pod
from kubeprop.model.api.server import Request, Response
from kubeprop.model.evolve import evolve
from kubeprop.model.scheduler.backoff import attempted
from kubeprop.model.scheduler.prepare import SCHEDULER_ERROR, SCHEDULER_USER, record_failure
from kubeprop.model.scheduler.queue import SchedulerState
from kubeprop.model.scheduler.volumeassume import AssumedView, VolumeDecisions, assume, check, restore, update_requests
from kubeprop.model.scheduler.volumebinding import PLUGIN, claim_names, pod_volumes
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState, send, view

__all__ = ["BINDER", "Bind", "bind", "bind_error", "binding_failed", "prebind_error", "reserve", "volume_phase"]

BINDER = "DefaultBinder"
"""The default profile's only Bind plugin (`defaultbinder.Name`)."""


@attrs.frozen(order=True)
class Bind(Action):
    """The scheduler's binding call for an assumed pod (POST pods/binding)."""

    scheduler: str
    pod: str


def bind_error(response: Response) -> str:
    """The message of a failed Bind: `RunBindPlugins` wraps DefaultBinder's API error."""
    return f'running Bind plugin "{BINDER}": {response.message or response.reason}'


def prebind_error(error: str) -> str:
    """The message of a failed PreBind: `RunPreBindPlugins` wraps VolumeBinding's error."""
    return f'running PreBind plugin "{PLUGIN}": {error}'


def _memory(state: ClusterState, instance: str) -> SchedulerState:
    memory: SchedulerState = state.schedulers[instance]
    return memory


def _set_memory(state: ClusterState, instance: str, memory: SchedulerState) -> ClusterState:
    return evolve(state, schedulers=state.schedulers.set(instance, memory))


def _cached_pod(model: ClusterModel, state: ClusterState, instance: str, key: str) -> Pod | None:
    namespace, _, name = key.partition("/")
    pod = view(model, state, instance).get(ObjectKey("pods", namespace, name))
    return pod if isinstance(pod, Pod) else None


def reserve(model: ClusterModel, state: ClusterState, instance: str, key: str, node_name: str) -> ClusterState:
    """VolumeBinding's Reserve (AssumePodVolumes, `kubeprop.model.scheduler.volumeassume`) for the pod
    just assumed onto `node_name`: the cycle's decisions for its claims not yet bound, assumed in
    the binder's assume caches; nothing for a pod without claims or with every claim bound."""
    view_ = view(model, state, instance)
    namespace, _, name = key.partition("/")
    pod = view_.get(ObjectKey("pods", namespace, name))
    node = view_.get(ObjectKey("nodes", "", node_name))
    if not isinstance(pod, Pod) or not isinstance(node, Node) or not claim_names(pod):
        return state
    memory = _memory(state, instance)
    found = pod_volumes(AssumedView(view_, memory.volume_cache), pod, str(model.parameter("defaultStorageClass")))
    if found is None or found.prefilter is not None:
        return state
    decisions, cache = assume(found, node, memory.volume_cache)
    if decisions is None:
        return state
    return _set_memory(state, instance, memory.with_volumes(memory.volume_binds.set(key, decisions), cache))


def _check(model: ClusterModel, state: ClusterState, instance: str, key: str) -> tuple[str, str | None]:
    memory = _memory(state, instance)
    return check(view(model, state, instance), key, memory.assumed[key], memory.volume_binds[key])


def volume_phase(model: ClusterModel, state: ClusterState, instance: str, key: str
                 ) -> Literal["ready", "wait", "failed"]:
    """Where the waiting PreBind of an assumed pod whose volume decisions were written stands
    (checkBindings on the scheduler's caches: `volumeassume.check`)."""
    memory = _memory(state, instance)
    return check(view(model, state, instance), key, memory.assumed[key], memory.volume_binds[key])[0]


def forget_volumes(memory: SchedulerState, key: str) -> SchedulerState:
    """Unreserve's RevertAssumedPodVolumes for a binding cycle that ends without binding the pod:
    its volume decisions go, and the assume caches take the informer's objects back."""
    decisions = memory.volume_binds.get(key)
    if decisions is None:
        return memory
    return memory.with_volumes(memory.volume_binds.delete(key), restore(memory.volume_cache, decisions))


def binding_failed(model: ClusterModel, state: ClusterState, instance: str, key: str, message: str
                   ) -> ClusterState:
    """handleBindingCycleError (see the module docstring): Unreserve (the pod's volume assumptions
    restored: `forget_volumes`), ForgetPod, MoveAllToActiveOrBackoffQueue (AssignedPodDelete), then
    handleSchedulingFailure with reason SchedulerError and clearNominatedNode."""
    memory = forget_volumes(_memory(state, instance), key)
    nominated = memory.nominated.delete(key) if key in memory.nominated else memory.nominated
    memory = evolve(memory, assumed=memory.assumed.delete(key), bound=memory.bound - {key},
                    nominated=nominated, attempts=attempted(memory.attempts, key))
    state = _set_memory(state, instance, memory.move_all(state.clock))
    cached = _cached_pod(model, state, instance, key)
    if cached is None:
        return state
    if not cached.spec.node_name:  # AddUnschedulableIfNotPresent: an error waits in podErrorBackoffQ
        state = _set_memory(state, instance, _memory(state, instance).back_off(key, state.clock))
    return record_failure(model, state, instance, cached, message, "", reason=SCHEDULER_ERROR, cycle=False)


def _prebind(model: ClusterModel, state: ClusterState, act: Bind) -> tuple[ClusterState, bool]:
    """VolumeBinding's PreBind before the binding (True: go on to bind; False: the pod stays
    assumed, or its binding failed). A pod without decisions (no claims, or all bound: allBound)
    goes on at once. Else the first step writes the decisions as the cycle assumed them
    (bindAPIUpdate: an error fails the binding as it is) and keeps the API's answers; a later step,
    enabled once checkBindings no longer waits, fails the binding with its error or goes on."""
    memory = _memory(state, act.scheduler)
    decisions = memory.volume_binds.get(act.pod)
    if decisions is None:
        return state, True
    if decisions.sent:
        phase, error = _check(model, state, act.scheduler, act.pod)
        if phase == "failed":
            assert error is not None
            return binding_failed(model, state, act.scheduler, act.pod, prebind_error(error)), False
        return state, True
    written: list[ApiObject] = []
    for request in update_requests(decisions, SCHEDULER_USER):
        state, response = send(model, state, SCHEDULER_USER, request, act.scheduler)
        if not response.ok:  # bindAPIUpdate returns the API error as it is
            error = prebind_error(response.message or response.reason)
            return binding_failed(model, state, act.scheduler, act.pod, error), False
        answer = response.obj if response.obj is not None else request.obj
        if answer is not None:
            written.append(answer)
    count = len(decisions.bindings)
    sent = VolumeDecisions(tuple(o for o in written[:count] if isinstance(o, PersistentVolume)),
                           tuple(o for o in written[count:] if isinstance(o, PersistentVolumeClaim)), sent=True)
    memory = _memory(state, act.scheduler)
    return _set_memory(state, act.scheduler, memory.with_volumes(memory.volume_binds.set(act.pod, sent),
                                                                 memory.volume_cache)), False


def bind(model: ClusterModel, state: ClusterState, act: Bind) -> ClusterState:
    """PreBind (volumes, `_prebind`), then DefaultBinder's POST pods/binding with the pod's UID as
    the cache has it (the pod the cycle assumed: the assumption is dropped when the cache sees the
    pod deleted). On success the pod stays assumed until the informer shows it bound
    (FinishBinding); on failure (409, an injected error, a timeout) handleBindingCycleError."""
    state, go_on = _prebind(model, state, act)
    if not go_on:
        return state
    node = _memory(state, act.scheduler).assumed[act.pod]
    namespace, _, name = act.pod.partition("/")
    cached = _cached_pod(model, state, act.scheduler, act.pod)
    request = Request(verb="bind", user=SCHEDULER_USER, resource="pods", namespace=namespace, name=name,
                      node_name=node, precondition_uid=(cached.metadata.uid or None) if cached is not None else None)
    state, response = send(model, state, SCHEDULER_USER, request, act.scheduler)
    if not response.ok:
        return binding_failed(model, state, act.scheduler, act.pod, bind_error(response))
    memory = _memory(state, act.scheduler)
    if act.pod in memory.volume_binds:
        memory = memory.with_volumes(memory.volume_binds.delete(act.pod), memory.volume_cache)
    return _set_memory(state, act.scheduler, evolve(memory, bound=memory.bound | {act.pod}))
