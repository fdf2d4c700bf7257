"""What the scheduler writes when it preempts: the victims marked and deleted, lower-priority
nominations on the node cleared (`Evaluator.prepareCandidate`), and the preemptor's own status
(`handleSchedulingFailure`).

Upstream (`pkg/scheduler/framework/preemption/preemption.go`, v1.33; the evaluator's PreemptPod
arrived in this form with KEP-4832, kubernetes PR #128170, v1.32): for each victim, PreemptPod
adds the condition DisruptionTarget=True, reason PreemptionByScheduler, message "<schedulerName>:
preempting to accommodate a higher priority pod" (`apipod.UpdatePodCondition`: nothing is sent
when the victim already has that very condition) by a status patch (`pkg/scheduler/util/utils.go`
PatchPodStatus: a strategic merge patch, so it never conflicts), then deletes the victim
(`DeletePod`: by name, no precondition, the default grace period). The patch is retried while it
fails with a 500 or 503, up to 4 attempts (PatchPodStatus's `retry.OnError`,
`kubeprop.model.scheduler.status_patch`; the delete is not retried); a patch that still failed
fails PreemptPod, a 404 too (master tolerates a 404 there; v1.33 does not); a delete answered 404 counts as done
(the victim is gone); any other failure fails PreemptPod. The pods of lower priority the
scheduler's nominator holds on the node lose their nomination (getLowerPriorityNominatedPods,
clearNominatedNodeName: a status patch each — PatchPodStatus, retried likewise — none for a pod
whose object names no node yet; a failure left is only logged). The condition is what `podTerminatingByPreemption` looks
for: while such a victim terminates on its nominated node, the preemptor may not preempt again
("not eligible due to a terminating pod on the nominated node.", `kubeprop.model.scheduler.preemption`).

The synchronous `prepare_candidate` (`schedulerAsyncPreemption: false`, v1.32 and before) runs
inside the scheduling cycle: the victims (upstream in parallel, the model in the candidate's
order, stopping at the first failure, which upstream's cancelled context also does for the calls
not yet made), then the nominations; each patch's retries are made within the step, like
the rest of the preparation. Its failure is Preempt's error: the PostFilter status is an
Error whose message, "preemption: <the API error>", ends the FitError's message, and the cycle
still returns Unschedulable with the FitError (`schedule_one.go` schedulingCycle), so
handleSchedulingFailure writes PodScheduled=False with reason **Unschedulable** (not
SchedulerError: that reason is for a cycle whose status is not a rejection, which a PostFilter
error never makes) and keeps the nomination. The asynchronous preparation is
`kubeprop.model.scheduler.async_preemption`.

Victims already being deleted are marked and deleted again, as in v1.33 (kubernetes PR #134927,
v1.35, skips them). v1.31 and before also treated a 404 on the delete as a failure; not modelled.
"""

from __future__ import annotations

from kubeprop.model.api.codec import encode
from kubeprop.model.api.meta import Condition, condition_unchanged, find_condition
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.server import Request, Response
from kubeprop.model.evolve import evolve
from kubeprop.model.scheduler.nodeinfo import pod_priority
from kubeprop.model.scheduler.nominator import add_nominated, lower_nominated
from kubeprop.model.scheduler.queue import DEFAULT_SCHEDULER_NAME, PatchRetry, SchedulerState
from kubeprop.model.scheduler.status_patch import RETRY_STEPS, SCHEDULER_USER, retriable, send_failure_patch
from kubeprop.model.state.cluster import ClusterModel, ClusterState, pod_key, send, view

__all__ = [
    "PREEMPTION_REASON", "SCHEDULER_ERROR", "SCHEDULER_USER", "UNSCHEDULABLE", "clear_lower_nominations",
    "delete_victim", "disruption_target", "mark_victim",
    "needs_mark", "patch_pod_status", "prepare_candidate", "record_failure",
]

PREEMPTION_REASON = "PreemptionByScheduler"
"""`v1.PodReasonPreemptionByScheduler`."""
UNSCHEDULABLE = "Unschedulable"
"""`v1.PodReasonUnschedulable`: handleSchedulingFailure's reason for a rejected cycle."""
SCHEDULER_ERROR = "SchedulerError"
"""`v1.PodReasonSchedulerError`: its reason for any other failure (`status.IsRejected()` false)."""


def _condition(scheduler_name: str, now: int) -> Condition:
    scheduler = scheduler_name or DEFAULT_SCHEDULER_NAME
    return Condition(type="DisruptionTarget", status="True", reason=PREEMPTION_REASON,
                     message=f"{scheduler}: preempting to accommodate a higher priority pod", last_transition_time=now)


def disruption_target(preemptor: Pod, now: int) -> Condition:
    """The condition PreemptPod adds to a victim."""
    return _condition(preemptor.spec.scheduler_name, now)


def _patch_status(namespace: str, name: str, status: dict[str, object]) -> Request:
    return Request(verb="patch-status", user=SCHEDULER_USER, resource="pods", namespace=namespace,
                   name=name, patch={"status": status}, patch_type="strategic")


def needs_mark(victim: Pod, scheduler_name: str) -> bool:
    """UpdatePodCondition on the victim as the cycle saw it: whether the patch is to be sent."""
    return not condition_unchanged(victim.status.conditions, _condition(scheduler_name, 0))


def patch_pod_status(model: ClusterModel, state: ClusterState, instance: str, request: Request,
                     attempts: int = RETRY_STEPS) -> tuple[ClusterState, Response]:
    """`util.PatchPodStatus` within one step: up to `attempts` attempts while the answer is
    retriable (`retry.OnError(retry.DefaultBackoff, Retriable, ...)`,
    `kubeprop.model.scheduler.status_patch`); the last answer."""
    state, response = send(model, state, SCHEDULER_USER, request, instance)
    for _ in range(1, attempts):
        if response.ok or not retriable(response):
            break
        state, response = send(model, state, SCHEDULER_USER, request, instance)
    return state, response


def mark_victim(model: ClusterModel, state: ClusterState, instance: str, scheduler_name: str,
                victim: str, attempts: int = 1) -> tuple[ClusterState, Response]:
    """PreemptPod's first call: the DisruptionTarget patch of `victim` (namespace/name), by
    PatchPodStatus — `attempts` of its retries within this step (1: the asynchronous goroutine
    makes each attempt a step of its own)."""
    namespace, _, name = victim.partition("/")
    cond = encode(_condition(scheduler_name, state.clock))
    request = _patch_status(namespace, name, {"conditions": [cond]})
    return patch_pod_status(model, state, instance, request, attempts)


def delete_victim(model: ClusterModel, state: ClusterState, instance: str, victim: str
                  ) -> tuple[ClusterState, Response]:
    """PreemptPod's second call: DELETE by name (a 404 is success: the victim is gone)."""
    namespace, _, name = victim.partition("/")
    request = Request(verb="delete", user=SCHEDULER_USER, resource="pods", namespace=namespace, name=name)
    state, response = send(model, state, SCHEDULER_USER, request, instance)
    return state, (Response(200, "OK") if response.code == 404 else response)


def _preempt_victim(model: ClusterModel, state: ClusterState, instance: str, preemptor: Pod,
                    victim: Pod) -> tuple[ClusterState, str | None]:
    """PreemptPod: (the state, the error's message or None)."""
    key = pod_key(victim)
    if needs_mark(victim, preemptor.spec.scheduler_name):
        state, response = mark_victim(model, state, instance, preemptor.spec.scheduler_name, key, RETRY_STEPS)
        if not response.ok:
            return state, response.message or response.reason
    state, response = delete_victim(model, state, instance, key)
    return state, None if response.ok else (response.message or response.reason)


def clear_lower_nominations(model: ClusterModel, state: ClusterState, instance: str, priority: int,
                            preemptor: str, node: str) -> tuple[ClusterState, bool]:
    """getLowerPriorityNominatedPods, then clearNominatedNodeName (`pkg/scheduler/util/utils.go`
    ClearNominatedNodeName): the pods the scheduler's nominator holds on `node` with a lower
    priority than the preemptor's lose their nomination, one status patch each (PatchPodStatus, its
    retries on a 500 or 503 made within this step: `patch_pod_status`) — but for those
    whose object (the queue's, the cached one) names no node yet, which are skipped (their
    nomination, in memory only, stays). (The state, whether a patch failed: only logged
    upstream, but the asynchronous goroutine then ends as an error.) The nominator itself changes
    when the patch is delivered back (`kubeprop.model.scheduler.nominator`)."""
    failed = False
    memory: SchedulerState = state.schedulers[instance]
    pods = view(model, state, instance).list("pods")
    for pod in lower_nominated(memory, pods, priority, preemptor, node):
        if not pod.status.nominated_node_name:
            continue
        request = _patch_status(pod.metadata.namespace, pod.metadata.name, {"nominatedNodeName": None})
        state, response = patch_pod_status(model, state, instance, request)
        failed = failed or not response.ok
    return state, failed


def prepare_candidate(model: ClusterModel, state: ClusterState, instance: str, preemptor: Pod, node: str,
                      victims: tuple[str, ...]) -> tuple[ClusterState, str | None]:
    """prepareCandidate for the chosen node: (the state, the error that failed it, or None)."""
    cache = view(model, state, instance)
    for key in victims:
        namespace, _, name = key.partition("/")
        victim = cache.get(ObjectKey("pods", namespace, name))
        if not isinstance(victim, Pod):
            continue
        state, error = _preempt_victim(model, state, instance, preemptor, victim)
        if error is not None:
            return state, error
    state, _ = clear_lower_nominations(model, state, instance, pod_priority(preemptor), pod_key(preemptor), node)
    return state, None


def record_failure(model: ClusterModel, state: ClusterState, instance: str, pod: Pod, message: str,
                   nominating: str | None, reason: str = UNSCHEDULABLE, cycle: bool = True) -> ClusterState:
    """handleSchedulingFailure (`schedule_one.go`) with the PostFilter's NominatingInfo
    `nominating`: a node (ModeOverride: preemption nominated it), "" (ModeOverride: preemption
    found no candidate, "Specify nominatedNodeName to clear the pod's nominatedNodeName status"),
    or KEEP / None (ModeNoop: no PostFilter result — not eligible to preempt, a failed synchronous
    preparation, no preemption plugin). First AddNominatedPod updates the scheduler's nominator
    (`kubeprop.model.scheduler.nominator`), then updatePod sends one status patch
    (`pkg/scheduler/util/utils.go` PatchPodStatus: a strategic merge patch of what changed, no
    resourceVersion, so it never conflicts) with PodScheduled=False, `reason` (Unschedulable for a
    rejection, the FitError's `message`; SchedulerError for an error, `status.IsRejected()` false:
    a failed binding, `kubeprop.model.scheduler.binding`), and the nomination where ModeOverride
    changes it; nothing is sent when neither changes (UpdatePodCondition: the transition time moves
    only with the status). A 500 or 503 is retried (`kubeprop.model.scheduler.status_patch`: from a
    scheduling cycle, `cycle`, or a binding goroutine); a failure left is only logged."""
    key = pod_key(pod)
    namespace, _, name = key.partition("/")
    cached = view(model, state, instance).get(ObjectKey("pods", namespace, name))
    memory: SchedulerState = state.schedulers[instance]
    updated = add_nominated(memory, cached if isinstance(cached, Pod) else None, nominating)
    if updated is not memory:
        state = evolve(state, schedulers=state.schedulers.set(instance, updated))
    current = find_condition(pod.status.conditions, "PodScheduled")
    since = current.last_transition_time if current is not None and current.status == "False" else state.clock
    cond = Condition(type="PodScheduled", status="False", reason=reason, message=message,
                     last_transition_time=since)
    patch = PatchRetry(condition=None if condition_unchanged(pod.status.conditions, cond) else cond,
                       nominated=nominating if nominating is not None and nominating != pod.status.nominated_node_name
                       else None, cycle=cycle)
    if patch.condition is None and patch.nominated is None:
        return state
    return send_failure_patch(model, state, instance, key, patch)
