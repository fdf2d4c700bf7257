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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from kubeprop.model.cluster.compose import step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.controllers.base import Reconcile, decide, queued
from kubeprop.model.controllers.statefulset import StatefulSetController
from kubeprop.model.controllers.work_queue import scoped
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, is_up, view
from kubeprop.model.state.component import Controller
from kubeprop.properties.registry import Violation

__all__ = ["STALE_CLAIM_CITATIONS", "STALE_CLAIM_PROPERTIES", "STALE_CLAIM_SETTLE_STEPS", "STALE_CLAIM_SUMMARY",
           "stale_claim_stall"]

CONTROLLER = "statefulset"

STALE_CLAIM_PROPERTIES = ("workloads-ready",)
"""What the stall breaks: the set stays below its replicas (the property names the StatefulSet)."""

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
    """The StatefulSet the violation names waits on a claim: its last sync stopped at a stale claim
    (PodClaimIsStale) and returned without error, and now — where the trace ends, or where its fair
    run settles — no key of it is queued, the controller manager is up, and a sync would act (the
    claim is gone). Not with a resync of the set (`statefulSetResyncSeconds` > 0, v1.14 and before):
    that would take it up."""
    controller = _controller(model)
    keys = violation.all_named("StatefulSet")
    if controller is None or controller.resync_period > 0 or not keys:
        return False
    if any(_stalled(model, controller, states, trace, key) for key in keys):
        return True
    run = settle(model, states[-1], max_steps=STALE_CLAIM_SETTLE_STEPS)
    if run.exhausted or not run.trace:
        return False
    more = _states(model, states[-1], run.trace)
    whole_states, whole_trace = [*states[:-1], *more], [*trace, *run.trace]
    return any(_stalled(model, controller, whole_states, whole_trace, key) for key in keys)


STALE_CLAIM_SUMMARY = (
    "A StatefulSet with `persistentVolumeClaimRetentionPolicy.whenScaled: Delete` does not create a pod while "
    "that pod's claim still belongs to an earlier pod of the same name (the garbage collector is deleting it): "
    "the sync returns without an error, so nothing retries it, and the controller has no claim handler, so the "
    "claim's deletion does not wake the set either. Since v1.15 the set handler has no 30 s resync: the set "
    "stays short of its replicas until the set or one of its pods changes, or the informers' resync 12 to 24 "
    "hours later. A scale down and up again (or a deleted pod) racing the claim's deletion reaches it; touching "
    "the set (an annotation) or restarting kube-controller-manager takes it up.")
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
