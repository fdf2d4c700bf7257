"""The failure patch's retries (`pkg/scheduler/util/utils.go` PatchPodStatus: `retry.OnError(retry.DefaultBackoff,
Retriable, ...)`, v1.33; `kubeprop.model.scheduler.status_patch`): a 500 or 503 is retried, up to four
attempts, each a step of its own that a fault can hit; a scheduling cycle's retries hold the next cycle, a
binding goroutine's do not. Before, the model sent every failure patch once. Scenario: tests/model/data/binding/."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from kubeprop.model.api.meta import Condition, find_condition
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.server import Request, Response
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.footprint import actor
from kubeprop.model.evolve import evolve
from kubeprop.model.kubelet.actions import StartPod, SyncPodStatus
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.binding import Bind
from kubeprop.model.scheduler.component import MarkUnschedulable, RetryStatusPatch, Schedule
from kubeprop.model.scheduler.queue import SchedulerState
from kubeprop.model.scheduler.status_patch import RETRY_STEPS, retriable
from kubeprop.model.state.actions import Action, Deliver, FailNextRequest, Tick
from kubeprop.model.state.cluster import ClusterModel, ClusterState

DATA = Path(__file__).parents[1] / "data" / "binding"
A, B = "default/a", "default/b"


def _model() -> ClusterModel:
    return build_model(load_scenario(DATA / "scenario.yaml"))


def _take(model: ClusterModel, state: ClusterState, act: Action) -> ClusterState:
    assert act in actions(model, state), (act, actions(model, state))
    return step(model, state, act)


def _arm(state: ClusterState, code: int = 500) -> ClusterState:
    """The scheduler's next request fails (an armed fault, whatever the budget left)."""
    return evolve(state, armed_failures=state.armed_failures.set("scheduler", code))


def _memory(state: ClusterState) -> SchedulerState:
    memory: SchedulerState = state.schedulers["scheduler"]
    return memory


def _reason(state: ClusterState, name: str) -> str | None:
    pod = state.store.get(ObjectKey("pods", "default", name))
    assert isinstance(pod, Pod)
    cond = find_condition(pod.status.conditions, "PodScheduled")
    return None if cond is None else cond.reason


def _b_unschedulable_after_a_500(model: ClusterModel) -> ClusterState:
    """a assumed onto n1; b's cycle finds no room and its failure patch is answered 500."""
    state = _take(model, initial_state(model), Schedule("scheduler", A, "n1"))
    state = _take(model, state, FailNextRequest("scheduler", 500))
    return _take(model, state, MarkUnschedulable("scheduler", B))


def test_a_500_on_the_failure_patch_is_retried_and_the_patch_lands() -> None:
    """The first attempt fails (500 InternalError: Retriable); the retry is a step of its own, and
    the patch it sends is the first attempt's."""
    model = _model()
    state = _b_unschedulable_after_a_500(model)
    assert _reason(state, "b") is None
    retry = _memory(state).retrying[B]
    assert (retry.attempts, retry.cycle, retry.nominated) == (1, True, None)
    assert retry.condition is not None and retry.condition.reason == "Unschedulable"
    state = _take(model, state, RetryStatusPatch("scheduler", B))
    assert _reason(state, "b") == "Unschedulable"
    assert not _memory(state).retrying


def test_the_cycle_waits_for_its_retries_the_binding_goroutine_does_not() -> None:
    """While b's patch (a scheduling cycle's, sent inside ScheduleOne) is retried, no cycle starts;
    a's binding goroutine goes on. The retry is a step of the scheduling loop's actor."""
    model = _model()
    state = _b_unschedulable_after_a_500(model)
    enabled = [a for a in actions(model, state) if getattr(a, "scheduler", None) == "scheduler"]
    assert set(enabled) == {Bind("scheduler", A), RetryStatusPatch("scheduler", B)}
    assert actor(RetryStatusPatch("scheduler", B)) == "scheduler/scheduler"


def test_every_attempt_can_fail_and_the_fourth_failure_is_only_logged() -> None:
    """retry.DefaultBackoff makes 4 attempts: a fault armed before each retry fails it; after the
    fourth the patch is given up (handleSchedulingFailure logs the error) and cycles resume."""
    model = _model()
    state = _b_unschedulable_after_a_500(model)
    for attempt in range(2, RETRY_STEPS + 1):
        state = step(model, _arm(state), RetryStatusPatch("scheduler", B))
        assert _reason(state, "b") is None
        assert (B in _memory(state).retrying) == (attempt < RETRY_STEPS)
    assert not any(isinstance(a, RetryStatusPatch) for a in actions(model, state))


def _refusing_status_patches(model: ClusterModel) -> ClusterModel:
    """The model with an API server that answers every status patch of the scheduler 503."""
    def gate(model: ClusterModel, state: ClusterState, user: str, request: Request, component: str
             ) -> Response | None:
        refused = request.verb == "patch-status" and component == "scheduler"
        return Response(503, "ServiceUnavailable", "unavailable") if refused else None
    return attrs.evolve(model, hooks=attrs.evolve(model.hooks, request_gates=(*model.hooks.request_gates, gate)))


def test_a_binding_failure_patch_retried_leaves_the_cycles_going_but_holds_its_pod() -> None:
    """a's binding fails (500; DefaultBinder does not retry), its failure patch too (503): the retry
    is pending but the scheduling cycles go on for b (the patch is the binding goroutine's), while a
    stays out of the queue until its patch is done; then it waits out its error back-off (a tick)
    and is tried again."""
    model = _model()
    refusing = _refusing_status_patches(model)
    state = _take(model, initial_state(model), Schedule("scheduler", A, "n1"))
    state = _take(model, state, FailNextRequest("scheduler", 500))
    state = _take(refusing, state, Bind("scheduler", A))
    retry = _memory(state).retrying[A]
    assert (retry.attempts, retry.cycle, retry.nominated) == (1, False, None)
    scheduling = {a for a in actions(model, state) if isinstance(a, Schedule | MarkUnschedulable)}
    assert scheduling == {Schedule("scheduler", B, "n1")}
    state = _take(model, state, RetryStatusPatch("scheduler", A))
    assert _reason(state, "a") == "SchedulerError"
    assert Schedule("scheduler", A, "n1") not in actions(model, state)
    assert Schedule("scheduler", A, "n1") in actions(model, step(model, state, Tick(10)))


@pytest.mark.parametrize(("response", "expected"), [
    (Response(500, "InternalError", "injected failure"), True),
    (Response(503, "ServiceUnavailable"), True),
    (Response(500, "", "no reason"), True),
    (Response(504, "Timeout"), False),
    (Response(429, "TooManyRequests"), False),
    (Response(409, "Conflict"), False),
    (Response(404, "NotFound"), False),
])
def test_retriable_is_v1_33s(response: Response, expected: bool) -> None:
    """`util.Retriable` in v1.33: IsInternalError or IsServiceUnavailable (a Conflict only on master,
    whose patches carry a resourceVersion)."""
    assert retriable(response) is expected


def test_the_kubelet_running_the_pod_sets_pod_scheduled_true_again_after_a_late_failure_patch() -> None:
    """Two instances assume a; the first binds it and n1's kubelet runs it and reports it; the
    second's binding gets 409 and its failure patch (PodScheduled=False, SchedulerError) lands on the
    running pod. The kubelet's next status sync sets PodScheduled=True again: generateAPIPodStatus
    always appends PodScheduled=True (`pkg/kubelet/kubelet_pods.go`), and the status manager's
    periodic syncBatch finds the API's kubelet-owned conditions differ from its cache
    (`pkg/kubelet/status/status_manager.go` needsReconcile, isPodStatusByKubeletEqual) and writes.
    (Upstream the restored condition keeps the cached lastTransitionTime; the model stamps its write.)"""
    model = build_model(load_scenario(DATA / "dual.yaml"))
    state = _take(model, initial_state(model), Schedule("scheduler", A, "n1"))
    state = _take(model, state, Schedule("scheduler-2", A, "n1"))
    state = _take(model, state, Bind("scheduler", A))
    state = _kubelet_steps(model, state)
    assert _condition(state).status == "True" and _phase(state) == "Running"
    state = _take(model, state, Bind("scheduler-2", A))
    assert (_condition(state).status, _condition(state).reason) == ("False", "SchedulerError")
    state = _kubelet_steps(model, state)
    assert (_condition(state).status, _condition(state).reason) == ("True", "")


def _kubelet_steps(model: ClusterModel, state: ClusterState) -> ClusterState:
    """n1's kubelet alone: its pod informer's deliveries, starting the pod, its status syncs."""
    for _ in range(20):
        mine = [a for a in actions(model, state) if isinstance(a, Deliver | StartPod | SyncPodStatus)
                and (not isinstance(a, Deliver) or (a.component, a.resource) == ("kubelet/n1", "pods"))]
        if not mine:
            return state
        state = step(model, state, mine[0])
    raise AssertionError("n1's kubelet did not settle")


def _stored_a(state: ClusterState) -> Pod:
    pod = state.store.get(ObjectKey("pods", "default", "a"))
    assert isinstance(pod, Pod)
    return pod


def _condition(state: ClusterState) -> Condition:
    cond = find_condition(_stored_a(state).status.conditions, "PodScheduled")
    assert cond is not None
    return cond


def _phase(state: ClusterState) -> str:
    return _stored_a(state).status.phase
