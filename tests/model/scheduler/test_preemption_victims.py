"""What the scheduler writes when it preempts (`pkg/scheduler/framework/preemption/preemption.go`
prepareCandidate, PreemptPod): the victim gets DisruptionTarget=True (PreemptionByScheduler) by a
status patch before its deletion, so the preemptor waits while it terminates ("not eligible due to
a terminating pod on the nominated node."); lower-priority nominations on the node are cleared;
and the status subresource's PATCH that carries the condition. These tests take the synchronous
preparation (`schedulerAsyncPreemption: false`, v1.32 and before) where they look inside the
preemption cycle; the asynchronous one (v1.33's default) is tests/model/scheduler/test_async_preemption.py."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from cluster_harness import api, api_seen

from kubeprop.model.api.codec import decode
from kubeprop.model.api.meta import Condition, find_condition
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.server import Request, handle
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.scheduler.component import MarkUnschedulable, Preempt, decide
from kubeprop.model.scheduler.prepare import PREEMPTION_REASON, prepare_candidate
from kubeprop.model.state.cluster import ClusterModel, ClusterState

SCENARIO = Path(__file__).parents[1] / "data" / "preemption" / "pdb" / "scenario.yaml"
MESSAGE = "default-scheduler: preempting to accommodate a higher priority pod"


def _pod(state: ClusterState, name: str) -> Pod:
    pod = state.store.get(ObjectKey("pods", "default", name))
    assert isinstance(pod, Pod), name
    return pod


def _preempted(instant: bool = True) -> tuple[ClusterModel, ClusterState]:
    model = build_model(load_scenario(SCENARIO),
                        parameters={"instantCaches": instant, "schedulerAsyncPreemption": False})
    state = initial_state(model)
    assert Preempt("scheduler", "default/p-high", "n2") in actions(model, state)
    return model, step(model, state, Preempt("scheduler", "default/p-high", "n2"))


def test_the_victim_is_marked_disruption_target_then_deleted() -> None:
    """Before the fix the victim was deleted with no condition (the model's docstring said so)."""
    _, state = _preempted()
    victim = _pod(state, "b-unprotected")
    cond = find_condition(victim.status.conditions, "DisruptionTarget")
    assert cond is not None
    assert (cond.status, cond.reason, cond.message) == ("True", PREEMPTION_REASON, MESSAGE)
    assert victim.metadata.deletion_timestamp is not None
    assert _pod(state, "p-high").status.nominated_node_name == "n2"
    assert find_condition(_pod(state, "a-protected").status.conditions, "DisruptionTarget") is None


def test_the_preemptor_waits_while_its_victim_terminates() -> None:
    """PodEligibleToPreemptOthers: a lower-priority pod terminating by preemption on the nominated
    node makes the pod ineligible; the model preempted again, deleting the victim a second time."""
    model, state = _preempted()
    decision = decide(model, state, "scheduler")
    assert decision is not None and decision[1].preemption is None
    assert decision[1].message == ("0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to "
                                   "a terminating pod on the nominated node.")
    assert MarkUnschedulable("scheduler", "default/p-high") in actions(model, state)


@pytest.mark.parametrize(("instant", "asynchronous"), [(True, True), (False, True), (True, False), (False, False)])
def test_the_fair_run_still_places_the_preemptor(instant: bool, asynchronous: bool) -> None:
    model = build_model(load_scenario(SCENARIO), parameters={"instantCaches": instant,
                                                             "schedulerAsyncPreemption": asynchronous})
    run = fair_run(model, initial_state(model))
    assert [a.node for a in run.trace if isinstance(a, Preempt)] == ["n2"]
    placed = {p.metadata.name: p.spec.node_name for p in run.state.store.list("pods") if isinstance(p, Pod)}
    assert placed == {"a-protected": "n1", "p-high": "n2"}


def test_a_victim_with_that_condition_already_is_only_deleted() -> None:
    """UpdatePodCondition reports no change, so no patch is sent; the delete still is."""
    model = build_model(load_scenario(SCENARIO), parameters={"instantCaches": True})
    state = initial_state(model)
    cond = Condition(type="DisruptionTarget", status="True", reason=PREEMPTION_REASON, message=MESSAGE,
                     last_transition_time=0)
    victim = _pod(state, "b-unprotected")
    marked = attrs.evolve(victim, status=attrs.evolve(victim.status, conditions=(cond,)))
    state = api(state, model, Request(verb="update-status", user=ADMIN, obj=marked))
    before = _pod(state, "b-unprotected").metadata.resource_version
    state = attrs.evolve(state, clock=7)
    state, error = prepare_candidate(model, state, "scheduler", _pod(state, "p-high"), "n2",
                                     ("default/b-unprotected",))
    after = _pod(state, "b-unprotected")
    assert error is None and after.metadata.deletion_timestamp is not None
    assert after.status.conditions == (cond,)  # transition time 0: not patched at 7
    assert int(after.metadata.resource_version) == int(before) + 1  # the delete alone


def test_a_lower_priority_nomination_on_the_node_is_cleared() -> None:
    """getLowerPriorityNominatedPods / clearNominatedNodeName."""
    model = build_model(load_scenario(SCENARIO), parameters={"instantCaches": True})
    state = initial_state(model)
    waiting = decode(Pod, {"metadata": {"name": "waiting", "namespace": "default"},
                           "spec": {"priorityClassName": "low", "containers": [{"name": "c", "image": "w:1"}]}})
    state = api_seen(state, model, Request(verb="create", user=ADMIN, obj=waiting))
    stored = _pod(state, "waiting")
    state = api_seen(state, model, Request(verb="update-status", user=ADMIN, obj=attrs.evolve(
        stored, status=attrs.evolve(stored.status, nominated_node_name="n2"))))
    assert state.schedulers["scheduler"].nominated == {"default/waiting": "n2"}  # the nominator saw it
    state, error = prepare_candidate(model, state, "scheduler", _pod(state, "p-high"), "n2",
                                     ("default/b-unprotected",))
    assert error is None and _pod(state, "waiting").status.nominated_node_name == ""


def test_a_status_patch_merges_conditions_by_type_and_never_conflicts() -> None:
    model = build_model(load_scenario(SCENARIO), parameters={"instantCaches": True})
    state = initial_state(model)
    victim = _pod(state, "b-unprotected")
    ready = Condition(type="Ready", status="False", reason="ContainersNotReady", last_transition_time=1)
    state = api(state, model, Request(verb="update-status", user=ADMIN, obj=attrs.evolve(
        victim, status=attrs.evolve(victim.status, conditions=(ready,)))))
    patch = {"status": {"conditions": [{"type": "DisruptionTarget", "status": "True", "reason": "R"}]}}
    request = Request(verb="patch-status", user="system:kube-scheduler", resource="pods", namespace="default",
                      name="b-unprotected", patch=patch, patch_type="strategic")
    result = handle(state.store, request, model.api, 5)
    assert result.response.ok, result.response
    pod = result.store.get(ObjectKey("pods", "default", "b-unprotected"))
    assert isinstance(pod, Pod)
    assert [(c.type, c.status, c.reason) for c in pod.status.conditions] == [
        ("Ready", "False", "ContainersNotReady"), ("DisruptionTarget", "True", "R")]
    assert pod.spec == victim.spec
    spec_patch = {"status": {"conditions": []}, "spec": {"nodeName": "n1"}}
    result = handle(state.store, attrs.evolve(request, patch=spec_patch), model.api, 5)
    moved = result.store.get(ObjectKey("pods", "default", "b-unprotected"))
    assert isinstance(moved, Pod) and moved.spec.node_name == "n2"  # the status subresource keeps the spec
    missing = handle(state.store, attrs.evolve(request, name="nope"), model.api, 5)
    assert missing.response.code == 404
