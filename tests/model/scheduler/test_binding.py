"""A failed binding cycle (`pkg/scheduler/schedule_one.go` handleBindingCycleError, handleSchedulingFailure;
`kubeprop.model.scheduler.binding`): the assumed pod is forgotten, the parked pods move, and the failure
handler patches PodScheduled=False, reason SchedulerError, with the error's message, clearing the
nomination — whatever the scheduler's cache shows, so also onto a pod the binding did bind (a timeout
after the write; another instance's binding, 409). Before, the model wrote nothing. Scenarios:
tests/model/data/binding/."""

from __future__ import annotations

from pathlib import Path

import attrs
from cluster_harness import api, api_seen

from kubeprop.model.api.meta import Condition, ObjectMeta, find_condition
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.scheduler.backoff import Backoff
from kubeprop.model.scheduler.binding import Bind
from kubeprop.model.scheduler.component import MarkUnschedulable, Schedule
from kubeprop.model.scheduler.queue import SchedulerState
from kubeprop.model.state.actions import Action, FailNextRequest, Tick
from kubeprop.model.state.cluster import ClusterModel, ClusterState

DATA = Path(__file__).parents[1] / "data" / "binding"
A, B = "default/a", "default/b"
DEFAULT_BINDER = 'running Bind plugin "DefaultBinder": '


def _model(name: str, **parameters: object) -> ClusterModel:
    return build_model(load_scenario(DATA / name), parameters=parameters or None)


def _take(model: ClusterModel, state: ClusterState, act: Action) -> ClusterState:
    assert act in actions(model, state), (act, actions(model, state))
    return step(model, state, act)


def _pod(state: ClusterState, name: str) -> Pod:
    pod = state.store.get(ObjectKey("pods", "default", name))
    assert isinstance(pod, Pod), name
    return pod


def _memory(state: ClusterState, instance: str = "scheduler") -> SchedulerState:
    memory: SchedulerState = state.schedulers[instance]
    return memory


def _scheduled(pod: Pod) -> Condition:
    cond = find_condition(pod.status.conditions, "PodScheduled")
    assert cond is not None, pod.status.conditions
    return cond


def _assumed_a_parked_b(model: ClusterModel) -> ClusterState:
    """a assumed onto n1, b parked for want of the room a's assumption takes."""
    state = _take(model, initial_state(model), Schedule("scheduler", A, "n1"))
    state = _take(model, state, MarkUnschedulable("scheduler", B))
    assert A in _memory(state).assumed and B in _memory(state).unschedulable
    return state


def test_a_refused_binding_forgets_the_pod_moves_the_parked_and_patches_scheduler_error() -> None:
    """An injected 500 on the binding: handleBindingCycleError forgets a (its room is free again),
    moves b (AssignedPodDelete), and the failure handler writes PodScheduled=False, SchedulerError,
    with the Bind plugin's error. a waits in the error backoff queue (1 s after its first attempt,
    never popped early) and is tried again once a tick ends it; b, moved back within its own
    back-off, is popped from the backoff queue at once (SchedulerPopFromBackoffQ: the active queue is
    empty)."""
    model = _model("scenario.yaml")
    state = _take(model, _assumed_a_parked_b(model), FailNextRequest("scheduler", 500))
    state = _take(model, state, Bind("scheduler", A))
    a = _pod(state, "a")
    assert a.spec.node_name == ""
    cond = _scheduled(a)
    assert (cond.status, cond.reason, cond.message) == ("False", "SchedulerError", DEFAULT_BINDER + "injected failure")
    assert A not in _memory(state).assumed and not _memory(state).unschedulable
    assert _memory(state).backoff == {A: Backoff(1, error=True), B: Backoff(1)}
    assert Schedule("scheduler", A, "n1") not in actions(model, state)
    assert Schedule("scheduler", B, "n1") in actions(model, state)
    state = step(model, state, Tick(10))
    assert not _memory(state).backoff and Schedule("scheduler", A, "n1") in actions(model, state)


def test_a_binding_that_timed_out_after_the_write_still_gets_the_failure_patch() -> None:
    """A 504 whose write landed: the pod is bound, yet the scheduler forgets it and its failure
    handler patches PodScheduled=False, SchedulerError onto it (updatePod runs whatever the cache
    shows); the kubelet's first status sets PodScheduled=True again."""
    model = _model("scenario.yaml")
    state = _take(model, _assumed_a_parked_b(model), FailNextRequest("scheduler", 504))
    state = _take(model, state, Bind("scheduler", A))
    a = _pod(state, "a")
    assert a.spec.node_name == "n1"
    cond = _scheduled(a)
    assert (cond.status, cond.reason) == ("False", "SchedulerError")
    assert cond.message == DEFAULT_BINDER + "the request timed out (the write may have been applied)"
    assert A not in _memory(state).assumed and not _memory(state).unschedulable


def test_the_binding_failure_clears_the_nomination() -> None:
    """a carries nominatedNodeName n1 (an earlier preemption): the failure handler's
    clearNominatedNode (ModeOverride, "") clears it in the same patch."""
    model = _model("scenario.yaml", instantCaches=True)
    state = initial_state(model)
    stored = _pod(state, "a")
    state = api_seen(state, model, Request(verb="update-status", user=ADMIN, obj=attrs.evolve(
        stored, status=attrs.evolve(stored.status, nominated_node_name="n1"))))
    assert _memory(state).nominated == {A: "n1"}
    state = _take(model, state, Schedule("scheduler", A, "n1"))
    state = _take(model, state, FailNextRequest("scheduler", 500))
    state = _take(model, state, Bind("scheduler", A))
    a = _pod(state, "a")
    assert a.status.nominated_node_name == "" and _scheduled(a).reason == "SchedulerError"
    assert _memory(state).nominated == {}


def test_the_losing_instance_of_two_gets_409_and_still_patches_the_bound_pod() -> None:
    """Two instances without leader election assume a onto n1; the second binding is refused with
    the API server's conflict on pods/binding, and its failure patch lands on the bound pod."""
    model = _model("dual.yaml")
    state = _take(model, initial_state(model), Schedule("scheduler", A, "n1"))
    state = _take(model, state, Schedule("scheduler-2", A, "n1"))
    state = _take(model, state, Bind("scheduler", A))
    assert _scheduled(_pod(state, "a")).status == "True"
    state = _take(model, state, Bind("scheduler-2", A))
    a = _pod(state, "a")
    assert a.spec.node_name == "n1"
    cond = _scheduled(a)
    assert (cond.status, cond.reason) == ("False", "SchedulerError")
    assert cond.message == (DEFAULT_BINDER + 'Operation cannot be fulfilled on pods/binding "a": '
                            'pod a is already assigned to node "n1"')
    assert A in _memory(state, "scheduler").assumed and A not in _memory(state, "scheduler-2").assumed


def test_the_binding_carries_the_pod_uid() -> None:
    """DefaultBinder's Binding names the pod's UID: a pod deleted and recreated under the same name
    after the scheduler assumed its predecessor (its cache not yet showing either write) is refused
    (409, a precondition failure) instead of being bound in its predecessor's place."""
    model = _model("scenario.yaml")
    state = _take(model, initial_state(model), Schedule("scheduler", A, "n1"))
    old = _pod(state, "a")
    state = api(state, model, Request(verb="delete", user=ADMIN, resource="pods", namespace="default", name="a"))
    fresh = attrs.evolve(old, metadata=ObjectMeta(name="a", namespace="default"), status=attrs.evolve(
        old.status, conditions=()))
    state = api(state, model, Request(verb="create", user=ADMIN, obj=fresh))
    new = _pod(state, "a")
    assert new.metadata.uid != old.metadata.uid
    state = step(model, state, Bind("scheduler", A))
    a = _pod(state, "a")
    assert a.spec.node_name == ""
    cond = _scheduled(a)
    assert cond.reason == "SchedulerError" and cond.message == (
        DEFAULT_BINDER + 'Operation cannot be fulfilled on pods "a": Precondition failed: UID in precondition: '
        f"{old.metadata.uid}, UID in object meta: {new.metadata.uid}")
