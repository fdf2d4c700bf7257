"""Recognizer of upstream behaviour of the StatefulSet controller: a set whose last sync waited on a
stale claim, and that nothing queues again (`upstream_behaviour.KNOWN` lists the entry).

Upstream (v1.15 and later, v1.33 included) the set handler has no resync of its own (kubernetes PR
#75622: `setInformer.Informer().AddEventHandler`, `pkg/controller/statefulset/stateful_set.go`
NewStatefulSetController) and the controller has no claim handler ("TODO: Watch volumes"). A
missing pod whose claim still names an earlier pod of its name is not created: PodClaimIsStale
(`stateful_pod_control.go`) returns `true, nil` and processReplica returns `true, err` with err nil
(`stateful_set_control.go`: "If a pod has a stale PVC, no more work can be done this round"), so
the sync succeeds, the key is forgotten, and when the garbage collector deletes the claim no event
reaches the set. It waits for its next event or the shared informers' resync, 12 to 24 hours later.

What the stall breaks: `workloads-ready` (the set stays short; the property names it), and a command
of the user's workload waiting on the set — `kubectl rollout status statefulset/kv`, or `kubectl
wait` on a pod of it the stall keeps from being made — that never returns
(`workload-steps-finish`, without a timeout) or times out (`workload-steps-succeed`, kubectl's
`timed out waiting for the condition`). For the last, a safety property, the stall must be in force
in the violating state itself: the set's last sync waited on a stale claim, nothing of it is queued,
and a sync would act now. A failed step that waits on something else, or fails otherwise (a 404, a
403), is the user's violation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from kubeprop.model.api.apps import StatefulSet
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.cluster.compose import step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.workload import named_key
from kubeprop.model.cluster.workload_wait import TIMED_OUT, rollout_target, wait_kind
from kubeprop.model.controllers.base import Reconcile, decide, queued
from kubeprop.model.controllers.statefulset import StatefulSetController
from kubeprop.model.controllers.statefulset_pod import parent_and_ordinal, start_ordinal
from kubeprop.model.controllers.work_queue import scoped
from kubeprop.model.scenario.schema import WorkloadStep
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, is_up, view
from kubeprop.model.state.component import Controller
from kubeprop.properties.registry import Violation

__all__ = ["STALE_CLAIM_CITATIONS", "STALE_CLAIM_PROPERTIES", "STALE_CLAIM_SETTLE_STEPS", "STALE_CLAIM_SUMMARY",
           "stale_claim_stall"]

CONTROLLER = "statefulset"

STEPS_FINISH = "workload-steps-finish"
STEPS_SUCCEED = "workload-steps-succeed"

STALE_CLAIM_PROPERTIES = ("workloads-ready", STEPS_FINISH, STEPS_SUCCEED)
"""What the stall breaks: the set stays below its replicas (`workloads-ready` names the StatefulSet),
and a workload command waiting on the set or its pod never returns or times out (`_waited_sets`)."""

STALE_CLAIM_SETTLE_STEPS = 5000
"""Steps of the fair run `stale_claim_stall` follows from a violating state that is not yet settled
(as the convergence properties' continuation)."""


def _controller(model: ClusterModel) -> StatefulSetController | None:
    for controller in model.controllers:
        if controller.name == CONTROLLER and isinstance(controller, StatefulSetController):
            return controller
    return None


def _last_sync(states: Sequence[ClusterState], trace: Sequence[Action], key: str) -> ClusterState | None:
    """The state in which the last whole sync of `key` in the trace was taken, or None."""
    for i in range(len(trace) - 1, -1, -1):
        act = trace[i]
        if isinstance(act, Reconcile) and act.controller == CONTROLLER and act.key == key:
            return states[i]
    return None


def _stalled(model: ClusterModel, controller: StatefulSetController, states: Sequence[ClusterState],
             trace: Sequence[Action], key: str) -> bool:
    """In the last state the controller manager is up, `key` is not queued and a sync of it would
    send a request now; and the set's last sync stopped at a missing pod whose claim was stale,
    without an error (nothing requeued it)."""
    last = states[-1]
    if not is_up(last, CONTROLLER_MANAGER) or (CONTROLLER, key) in set(queued(model, last)):
        return False
    if not decide(model, last, CONTROLLER, key).requests:
        return False
    synced = _last_sync(states, trace, key)
    if synced is None:
        return False
    seen = scoped(cast(Controller, controller), view(model, synced, CONTROLLER_MANAGER))
    return controller.stale_claim_wait(seen, key, synced.clock)


def _states(model: ClusterModel, start: ClusterState, trace: Sequence[Action]) -> list[ClusterState]:
    """`start` and the state after each action of `trace` taken from it."""
    states = [start]
    for act in trace:
        states.append(step(model, states[-1], act))
    return states


def stale_claim_stall(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                      violation: Violation) -> bool:
    """The StatefulSet the violation is about (`_sets`) waits on a claim: its last sync stopped at a
    stale claim (PodClaimIsStale) and returned without error, and now no key of it is queued, the
    controller manager is up, and a sync would act (the claim is gone). Now is where the trace ends,
    or, for `workloads-ready` and `workload-steps-finish` (judged where the cluster settles), where its
    fair run settles; for `workload-steps-succeed` only the violating state, where the step failed.
    Not with a resync of the set (`statefulSetResyncSeconds` > 0, v1.14 and before): that would take
    it up."""
    controller = _controller(model)
    if controller is None or controller.resync_period > 0:
        return False
    keys = _sets(model, states[-1], violation)
    if any(_stalled(model, controller, states, trace, key) for key in keys):
        return True
    if violation.property == STEPS_SUCCEED:
        return False
    run = settle(model, states[-1], max_steps=STALE_CLAIM_SETTLE_STEPS)
    if run.exhausted or not run.trace:
        return False
    more = _states(model, states[-1], run.trace)
    whole_states, whole_trace = [*states[:-1], *more], [*trace, *run.trace]
    keys = _sets(model, whole_states[-1], violation)
    return any(_stalled(model, controller, whole_states, whole_trace, key) for key in keys)


def _sets(model: ClusterModel, state: ClusterState, violation: Violation) -> tuple[str, ...]:
    """The StatefulSets (`ns/name`) the violation in `state` is about: those `workloads-ready` names;
    for `workload-steps-finish`, those the waiting command the violation names waits on; for
    `workload-steps-succeed`, those of the step whose failure it reports, where that failure is
    kubectl's timeout (`_waited_sets`)."""
    if violation.property == STEPS_FINISH:
        index = state.workload_next
        steps = model.scenario.spec.workload
        if index >= len(steps) or not violation.message.startswith(f"workload step {index + 1} of {len(steps)} ("):
            return ()  # another step's (a drain's, a delete's): not a command waiting on the set
        return _waited_sets(state, steps[index], violation.objects)
    if violation.property == STEPS_SUCCEED:
        failed = next(iter(state.workload_errors.sorted_items()), None)
        if failed is None or not failed[1].startswith(f"error: {TIMED_OUT}") or \
                not violation.message.startswith(f"workload step {failed[0] + 1} ("):
            return ()  # not by its timeout alone: a 404, a 403, a watch whose LIST is refused, kubectl's own
        return _waited_sets(state, model.scenario.spec.workload[failed[0]])
    return violation.all_named("StatefulSet")


def _waited_sets(state: ClusterState, step: WorkloadStep, named: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The StatefulSets a waiting step waits on in `state`: the set of a `rolloutStatus` (its status
    viewer waits for the missing pod to be ready), or the set whose pod a `wait` (for a condition or
    a jsonpath) waits for while that pod is missing — `<set>-<ordinal>`, an ordinal the set wants
    (`parent_and_ordinal`, `start_ordinal`). Not a `wait` on the set itself, whose condition or field
    may be one the stall does not hold back, nor a wait for a deletion. `named`: the objects a
    violation names, which must include the one the step waits on."""
    if step.rollout_status is not None:
        resource, namespace, name = rollout_target(step.rollout_status)
        if resource != "statefulsets.apps" or (named is not None and f"StatefulSet {namespace}/{name}" not in named):
            return ()
        return (f"{namespace}/{name}",)
    if step.wait is None or wait_kind(step.wait) == "delete":
        return ()
    key = named_key(state.store, step)
    if not isinstance(key, ObjectKey) or key.resource != "pods" or state.store.get(key) is not None \
            or (named is not None and f"Pod {key.namespace}/{key.name}" not in named):
        return ()
    parent, ordinal = parent_and_ordinal(key.name)
    sts = state.store.get(ObjectKey("statefulsets.apps", key.namespace, parent))
    if not isinstance(sts, StatefulSet):
        return ()
    start = start_ordinal(sts)
    wanted = 1 if sts.spec.replicas is None else sts.spec.replicas
    return (f"{key.namespace}/{parent}",) if start <= ordinal < start + wanted else ()


STALE_CLAIM_SUMMARY = (
    "A StatefulSet with `persistentVolumeClaimRetentionPolicy.whenScaled: Delete` does not create a pod while "
    "that pod's claim still belongs to an earlier pod of the same name (the garbage collector is deleting it): "
    "the sync returns without an error, so nothing retries it, and the controller has no claim handler, so the "
    "claim's deletion does not wake the set either. Since v1.15 the set handler has no 30 s resync: the set "
    "stays short of its replicas until the set or one of its pods changes, or the informers' resync 12 to 24 "
    "hours later; `kubectl rollout status` on it, or `kubectl wait` on its missing pod, times out, or without "
    "a timeout never returns. A scale down and up again (or a deleted pod) racing the claim's deletion reaches "
    "it; touching the set (an annotation) or restarting kube-controller-manager takes it up.")
STALE_CLAIM_CITATIONS = (
    "pkg/controller/statefulset/stateful_pod_control.go PodClaimIsStale (true, nil for a claim whose owner "
    "reference names another pod); stateful_set_control.go processReplica ('If a pod has a stale PVC, no more "
    "work can be done this round': return true, err with err nil)",
    "pkg/controller/statefulset/stateful_set.go NewStatefulSetController (setInformer.Informer().AddEventHandler "
    "without a resync period; 'TODO: Watch volumes'); https://github.com/kubernetes/kubernetes/pull/75622 "
    "('Remove resync period for sset controller', v1.15)",
    "cmd/kube-controller-manager/app/controllermanager.go ResyncPeriod (MinResyncPeriod 12h times a random "
    "factor from 1 to 2: the shared informers' resync); https://github.com/kubernetes/kubernetes/pull/127020",
)
