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

from kubeprop.model.api.objects import Node, ObjectKey, Pod
from kubeprop.model.api.server import Request, Response
from kubeprop.model.evolve import evolve
from kubeprop.model.scheduler.backoff import attempted
from kubeprop.model.scheduler.prepare import SCHEDULER_ERROR, SCHEDULER_USER, record_failure
from kubeprop.model.scheduler.queue import SchedulerState
from kubeprop.model.scheduler.volumebinding import (
    PLUGIN,
    binding_failure,
    check_bindings,
    claim_names,
    prebind_requests,
)
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState, send, view

__all__ = ["BINDER", "Bind", "bind", "bind_error", "binding_failed", "prebind_error", "volume_phase"]

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


def volume_phase(model: ClusterModel, state: ClusterState, instance: str, key: str
                 ) -> Literal["ready", "wait", "failed"]:
    """Where PreBind of an assumed pod whose volume bindings were written stands
    (`volumebinding.check_bindings` on the scheduler's caches)."""
    pod = _cached_pod(model, state, instance, key)
    if pod is None:
        return "failed"
    return check_bindings(view(model, state, instance), pod, _memory(state, instance).assumed[key])


def _volume_failure(model: ClusterModel, state: ClusterState, instance: str, key: str) -> str:
    """checkBindings' error for a waiting PreBind that failed (`volumebinding.binding_failure`);
    a pod gone from the pod lister: "pod does not exist any more"."""
    pod = _cached_pod(model, state, instance, key)
    if pod is None:
        name = key.partition("/")[2]
        return f'binding volumes: pod does not exist any more: pod "{name}" not found'
    error = binding_failure(view(model, state, instance), pod, _memory(state, instance).assumed[key])
    assert error is not None, "the volume phase is not failed"
    return error


def binding_failed(model: ClusterModel, state: ClusterState, instance: str, key: str, message: str
                   ) -> ClusterState:
    """handleBindingCycleError (see the module docstring): ForgetPod, MoveAllToActiveOrBackoffQueue
    (AssignedPodDelete), then handleSchedulingFailure with reason SchedulerError and
    clearNominatedNode."""
    memory = _memory(state, instance)
    nominated = memory.nominated.delete(key) if key in memory.nominated else memory.nominated
    memory = evolve(memory, assumed=memory.assumed.delete(key), bound=memory.bound - {key},
                    binding_volumes=memory.binding_volumes - {key}, nominated=nominated,
                    attempts=attempted(memory.attempts, key))
    state = _set_memory(state, instance, memory.move_all(state.clock))
    cached = _cached_pod(model, state, instance, key)
    if cached is None:
        return state
    if not cached.spec.node_name:  # AddUnschedulableIfNotPresent: an error waits in podErrorBackoffQ
        state = _set_memory(state, instance, _memory(state, instance).back_off(key, state.clock))
    return record_failure(model, state, instance, cached, message, "", reason=SCHEDULER_ERROR, cycle=False)


def _prebind(model: ClusterModel, state: ClusterState, act: Bind) -> tuple[ClusterState, bool]:
    """VolumeBinding's PreBind before the binding: write the pod's volume bindings (a pod whose
    claims all need nothing goes on to the binding at once: True), then wait until the PV
    controller has bound them (False: the pod stays assumed); a failure is handleBindingCycleError's."""
    memory = _memory(state, act.scheduler)
    if act.pod in memory.binding_volumes:
        if volume_phase(model, state, act.scheduler, act.pod) == "failed":
            error = prebind_error(_volume_failure(model, state, act.scheduler, act.pod))
            return binding_failed(model, state, act.scheduler, act.pod, error), False
        return _set_memory(state, act.scheduler, evolve(
            memory, binding_volumes=memory.binding_volumes - {act.pod})), True
    view_ = view(model, state, act.scheduler)
    pod = _cached_pod(model, state, act.scheduler, act.pod)
    node = view_.get(ObjectKey("nodes", "", memory.assumed[act.pod]))
    if pod is None or not isinstance(node, Node) or not claim_names(pod):
        return state, True
    requests = prebind_requests(view_, pod, node, str(model.parameter("defaultStorageClass")), SCHEDULER_USER)
    for request in requests:
        state, response = send(model, state, SCHEDULER_USER, request, act.scheduler)
        if not response.ok:  # bindAPIUpdate returns the API error as it is
            error = prebind_error(response.message or response.reason)
            return binding_failed(model, state, act.scheduler, act.pod, error), False
    if not requests and check_bindings(view_, pod, node.metadata.name) == "ready":
        return state, True
    memory = _memory(state, act.scheduler)
    return _set_memory(state, act.scheduler, evolve(memory, binding_volumes=memory.binding_volumes | {act.pod})), False


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
    return _set_memory(state, act.scheduler, evolve(memory, bound=memory.bound | {act.pod}))
