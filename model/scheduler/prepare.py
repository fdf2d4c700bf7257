"""What the scheduler writes when it preempts: the victims marked and deleted, lower-priority
nominations on the node cleared (`Evaluator.prepareCandidate`).

Upstream (`pkg/scheduler/framework/preemption/preemption.go`, v1.33): for each victim, the
evaluator's PreemptPod adds the condition DisruptionTarget=True, reason PreemptionByScheduler,
message "<schedulerName>: preempting to accommodate a higher priority pod" (`apipod.UpdatePodCondition`:
nothing is sent when the victim already has that very condition) by a status patch
(`pkg/scheduler/util/utils.go` PatchPodStatus: a strategic merge patch, so it never conflicts),
then deletes the victim (`DeletePod`: no precondition, the default grace period). A victim already
gone (404, on the patch or the delete) is skipped; any other failure ends the preparation, and
Preempt returns that error: the pod is not nominated. Then the pods of lower priority nominated to
the node lose their nomination (getLowerPriorityNominatedPods, clearNominatedNodeName: a status
patch; a failure there is only logged). The condition is what `podTerminatingByPreemption` looks
for: while such a victim terminates on its nominated node, the preemptor may not preempt again
("not eligible due to a terminating pod on the nominated node.", `kubeprop.model.scheduler.preemption`).

Victims already being deleted are marked and deleted again, as in v1.33 (kubernetes PR #134927,
v1.35, skips them). Upstream runs the victims in parallel; the model takes them in the candidate's
order and stops at the first failure. A preemption that fails leaves the pod parked as unschedulable
where upstream's handleSchedulingFailure also backs it off with reason SchedulerError.
"""

from __future__ import annotations

from kubeprop.model.api.codec import encode
from kubeprop.model.api.meta import Condition, condition_unchanged
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.server import Request, Response
from kubeprop.model.scheduler.nodeinfo import pod_priority
from kubeprop.model.scheduler.queue import DEFAULT_SCHEDULER_NAME
from kubeprop.model.state.cluster import ClusterModel, ClusterState, pod_key, send, view

__all__ = ["PREEMPTION_REASON", "disruption_target", "prepare_candidate"]

SCHEDULER_USER = "system:kube-scheduler"
PREEMPTION_REASON = "PreemptionByScheduler"
"""`v1.PodReasonPreemptionByScheduler`."""


def disruption_target(preemptor: Pod, now: int) -> Condition:
    """The condition PreemptPod adds to a victim."""
    scheduler = preemptor.spec.scheduler_name or DEFAULT_SCHEDULER_NAME
    return Condition(type="DisruptionTarget", status="True", reason=PREEMPTION_REASON,
                     message=f"{scheduler}: preempting to accommodate a higher priority pod", last_transition_time=now)


def _patch_status(pod: Pod, status: dict[str, object]) -> Request:
    return Request(verb="patch-status", user=SCHEDULER_USER, resource="pods", namespace=pod.metadata.namespace,
                   name=pod.metadata.name, patch={"status": status}, patch_type="strategic")


def _failed(response: Response) -> bool:
    return not response.ok and response.code != 404


def _preempt_victim(model: ClusterModel, state: ClusterState, instance: str, preemptor: Pod,
                    victim: Pod) -> tuple[ClusterState, bool]:
    """PreemptPod: (the state, whether it succeeded). A 404 counts as success (the victim is gone)."""
    cond = disruption_target(preemptor, state.clock)
    if not condition_unchanged(victim.status.conditions, cond):
        request = _patch_status(victim, {"conditions": [encode(cond)]})
        state, response = send(model, state, SCHEDULER_USER, request, instance)
        if not response.ok:
            return state, not _failed(response)
    request = Request(verb="delete", user=SCHEDULER_USER, resource="pods", namespace=victim.metadata.namespace,
                      name=victim.metadata.name)
    state, response = send(model, state, SCHEDULER_USER, request, instance)
    return state, not _failed(response)


def _lower_nominated(model: ClusterModel, state: ClusterState, instance: str, preemptor: Pod,
                     node: str) -> list[Pod]:
    """getLowerPriorityNominatedPods: the scheduler's pending pods nominated to `node` with a lower
    priority than the preemptor's."""
    prio = pod_priority(preemptor)
    return [p for p in view(model, state, instance).list("pods")
            if isinstance(p, Pod) and not p.spec.node_name and p.status.nominated_node_name == node
            and pod_priority(p) < prio and pod_key(p) != pod_key(preemptor)]


def prepare_candidate(model: ClusterModel, state: ClusterState, instance: str, preemptor: Pod, node: str,
                      victims: tuple[str, ...]) -> tuple[ClusterState, bool]:
    """prepareCandidate for the chosen node: (the state, whether the pod is to be nominated)."""
    cache = view(model, state, instance)
    for key in victims:
        namespace, _, name = key.partition("/")
        victim = cache.get(ObjectKey("pods", namespace, name))
        if not isinstance(victim, Pod):
            continue
        state, ok = _preempt_victim(model, state, instance, preemptor, victim)
        if not ok:
            return state, False
    for pod in _lower_nominated(model, state, instance, preemptor, node):
        state, _ = send(model, state, SCHEDULER_USER, _patch_status(pod, {"nominatedNodeName": None}), instance)
    return state, True
