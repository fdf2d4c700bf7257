"""The preemption's own status patches are `util.PatchPodStatus` calls and are retried like the
failure handler's (`pkg/scheduler/framework/preemption/preemption.go` PreemptPod,
`pkg/scheduler/util/utils.go` PatchPodStatus, ClearNominatedNodeName; `retry.OnError` with
`retry.DefaultBackoff`: up to 4 attempts while the answer is a 500 or 503). Before, the model sent
each of them once, so one injected 500 failed a preemption that upstream completes. Scenario:
tests/model/data/preemption/async/ (p-high preempts v1..v3 on n1)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs

from kubeprop.model.api.meta import find_condition
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.server import Request, Response
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.component import ClearNominations, Preempt, PreemptVictim
from kubeprop.model.scheduler.prepare import patch_pod_status
from kubeprop.model.scheduler.queue import SchedulerState
from kubeprop.model.scheduler.status_patch import RETRY_STEPS, SCHEDULER_USER
from kubeprop.model.state.cluster import ClusterModel, ClusterState

ASYNC = Path(__file__).parents[1] / "data" / "preemption" / "async" / "scenario.yaml"
P, V1 = "default/p-high", "default/v1"
Gate = Callable[[ClusterModel, ClusterState, str, Request, str], Response | None]


def _model(**parameters: object) -> ClusterModel:
    return build_model(load_scenario(ASYNC), parameters=parameters or None)


def _refusing(model: ClusterModel, refusals: int, seen: list[Request]) -> ClusterModel:
    """The API server answers the first `refusals` DisruptionTarget patches 503 (all with -1)."""
    def gate(model: ClusterModel, state: ClusterState, user: str, request: Request, component: str
             ) -> Response | None:
        if request.verb != "patch-status" or "conditions" not in str(request.patch) or "Disruption" not in str(
                request.patch):
            return None
        seen.append(request)
        refused = refusals < 0 or len(seen) <= refusals
        return Response(503, "ServiceUnavailable", "unavailable") if refused else None
    return attrs.evolve(model, hooks=attrs.evolve(model.hooks, request_gates=(*model.hooks.request_gates, gate)))


def _pod(state: ClusterState, name: str) -> Pod | None:
    pod = state.store.get(ObjectKey("pods", "default", name))
    return pod if isinstance(pod, Pod) else None


def _marked(state: ClusterState, name: str) -> bool:
    pod = _pod(state, name)
    return pod is not None and find_condition(pod.status.conditions, "DisruptionTarget") is not None


def _memory(state: ClusterState) -> SchedulerState:
    memory = state.schedulers["scheduler"]
    assert isinstance(memory, SchedulerState)
    return memory


def _armed(state: ClusterState) -> ClusterState:
    return attrs.evolve(state, armed_failures=state.armed_failures.set("scheduler", 500))


def test_patch_pod_status_retries_a_500_or_503_up_to_four_attempts() -> None:
    request = Request(verb="patch-status", user=SCHEDULER_USER, resource="pods", namespace="default", name="v1",
                      patch={"status": {"conditions": [{"type": "DisruptionTarget", "status": "True"}]}},
                      patch_type="strategic")
    for refusals, ok in ((RETRY_STEPS - 1, True), (RETRY_STEPS, False)):
        seen: list[Request] = []
        model = _refusing(_model(), refusals, seen)
        _, response = patch_pod_status(model, initial_state(model), "scheduler", request)
        assert (response.ok, len(seen)) == (ok, RETRY_STEPS)


def test_a_synchronous_preemption_survives_one_injected_500() -> None:
    """v1.32: the victim's patch fails once with a 500 and is retried within the cycle: the victims
    are marked and deleted, and the pod's condition carries no "preemption:" error."""
    model = _model(schedulerAsyncPreemption=False)
    state = step(model, _armed(initial_state(model)), Preempt("scheduler", P, "n1"))
    assert all(_marked(state, v) for v in ("v1", "v2", "v3"))
    pod = _pod(state, "p-high")
    assert pod is not None and pod.status.nominated_node_name == "n1"


def test_an_asynchronous_victim_patch_is_retried_as_steps_of_its_own() -> None:
    """The goroutine's patch of v1 fails once (500): the preemption goes on, the next PreemptVictim
    of v1 is the patch's second attempt, and it lands."""
    model = _model()
    state = step(model, initial_state(model), Preempt("scheduler", P, "n1"))
    state = step(model, state, ClearNominations("scheduler", P))
    state = step(model, _armed(state), PreemptVictim("scheduler", P, V1))
    (prep,) = _memory(state).preempting[P]
    assert not _marked(state, "v1") and prep.tries == {V1: 1} and not prep.failed
    assert PreemptVictim("scheduler", P, V1) in actions(model, state)
    state = step(model, state, PreemptVictim("scheduler", P, V1))
    (prep,) = _memory(state).preempting[P]
    assert _marked(state, "v1") and V1 in prep.patched and not prep.tries


def test_an_asynchronous_victim_patch_refused_four_times_fails_the_preemption() -> None:
    seen: list[Request] = []
    model = _refusing(_model(), -1, seen)
    state = step(model, initial_state(model), Preempt("scheduler", P, "n1"))
    state = step(model, state, ClearNominations("scheduler", P))
    for _ in range(RETRY_STEPS):
        assert P in _memory(state).preempting
        state = step(model, state, PreemptVictim("scheduler", P, V1))
    assert len(seen) == RETRY_STEPS and not _marked(state, "v1")
    assert not _memory(state).preempting and P not in _memory(state).unschedulable  # Activate
