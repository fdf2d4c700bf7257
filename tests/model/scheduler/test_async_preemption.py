"""Asynchronous preemption (KEP-4832, SchedulerAsyncPreemption beta and on by default in v1.33;
`pkg/scheduler/framework/preemption/preemption.go` prepareCandidateAsync): the cycle nominates the
node and holds the pod; the goroutine's calls (`ClearNominations`, `PreemptVictim`) are steps of
their own that interleave with the scheduler's other cycles and with every component; a failed
call cancels the rest and activates the pod. And the synchronous path's failure (v1.32 and
before): PodScheduled=False, reason Unschedulable, "preemption: <error>"."""

from __future__ import annotations

import random
from pathlib import Path

import attrs
import pytest
from cluster_harness import api
from commuting import assert_commute, independent_pairs
from random_runs import random_run_states

from kubeprop.model.api.codec import decode
from kubeprop.model.api.meta import find_condition
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.server import Request
from kubeprop.model.cluster import informers
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.cluster.footprint import Footprints, actor, component_of
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.scenario.schema import PARAMETERS
from kubeprop.model.scheduler.component import ClearNominations, Preempt, PreemptVictim, Schedule, pending_queue
from kubeprop.model.scheduler.queue import SchedulerState
from kubeprop.model.state.cluster import ClusterModel, ClusterState, view

DATA = Path(__file__).parents[1] / "data" / "preemption"
ASYNC = DATA / "async" / "scenario.yaml"
PDB = DATA / "pdb" / "scenario.yaml"
P = "default/p-high"
V1, V2, V3 = "default/v1", "default/v2", "default/v3"


def _model(path: Path = ASYNC, **parameters: object) -> ClusterModel:
    return build_model(load_scenario(path), parameters={"instantCaches": True, **parameters})


def _pod(state: ClusterState, name: str) -> Pod | None:
    pod = state.store.get(ObjectKey("pods", "default", name))
    return pod if isinstance(pod, Pod) else None


def _get(state: ClusterState, name: str) -> Pod:
    pod = _pod(state, name)
    assert pod is not None, name
    return pod


def _memory(state: ClusterState) -> SchedulerState:
    memory: SchedulerState = state.schedulers["scheduler"]
    return memory


def _marked(state: ClusterState, name: str) -> bool:
    return find_condition(_get(state, name).status.conditions, "DisruptionTarget") is not None


def _deleting(state: ClusterState, name: str) -> bool:
    pod = _pod(state, name)
    return pod is None or pod.metadata.deletion_timestamp is not None


def _goroutine(state: ClusterState) -> set[object]:
    return {a for a in actions(_model(), state) if isinstance(a, ClearNominations | PreemptVictim)}


def _preempted(model: ClusterModel) -> ClusterState:
    state = initial_state(model)
    assert Preempt("scheduler", P, "n1") in actions(model, state)
    return step(model, state, Preempt("scheduler", P, "n1"))


def _write(state: ClusterState, model: ClusterModel, request: Request) -> ClusterState:
    """The user's request, its events delivered to the (instant) caches and handlers."""
    before = state.store.revision
    state = api(state, model, request)
    return informers.deliver_instantly(model, state, tuple(e for e in state.store.events if e.revision > before))


def _fail_next(state: ClusterState, code: int = 500) -> ClusterState:
    return attrs.evolve(state, armed_failures=state.armed_failures.set("scheduler", code))


def test_v1_33_preempts_asynchronously_by_default() -> None:
    """kube_features.go: SchedulerAsyncPreemption alpha (off) in v1.32, beta and on in v1.33."""
    assert PARAMETERS["schedulerAsyncPreemption"] is True
    assert _model().parameter("schedulerAsyncPreemption") is True


def test_the_cycle_nominates_and_holds_the_pod_before_any_victim_is_touched() -> None:
    model = _model()
    state = _preempted(model)
    pod = _get(state, "p-high")
    assert pod.status.nominated_node_name == "n1"
    cond = find_condition(pod.status.conditions, "PodScheduled")
    assert cond is not None
    assert (cond.status, cond.reason, cond.message) == ("False", "Unschedulable",
                                                        "0/1 nodes are available: 1 Insufficient cpu.")
    assert not any(_marked(state, v) or _deleting(state, v) for v in ("v1", "v2", "v3"))
    memory = _memory(state)
    assert memory.held(P) and P in memory.unschedulable
    assert _goroutine(state) == {ClearNominations("scheduler", P)}
    # PreEnqueue: events that move the parked pods leave it parked; it is not in the active queue
    assert P in memory.move_all(state.clock).unschedulable
    unparked = attrs.evolve(memory, unschedulable=memory.unschedulable.delete(P))
    assert P not in {f"default/{p.metadata.name}" for p in pending_queue(view(model, state, "scheduler"), unparked)}


def test_the_batch_runs_in_any_order_and_the_pod_is_released_before_the_last_victim() -> None:
    model = _model()
    state = step(model, _preempted(model), ClearNominations("scheduler", P))
    assert _goroutine(state) == {PreemptVictim("scheduler", P, V1), PreemptVictim("scheduler", P, V2)}
    state = step(model, state, PreemptVictim("scheduler", P, V2))  # v2's patch first
    assert _marked(state, "v2") and not _deleting(state, "v2") and not _marked(state, "v1")
    for call in (PreemptVictim("scheduler", P, V1), PreemptVictim("scheduler", P, V1),
                 PreemptVictim("scheduler", P, V2)):
        assert _memory(state).held(P)
        state = step(model, state, call)
    assert all(_marked(state, v) and _deleting(state, v) for v in ("v1", "v2"))
    assert not _memory(state).held(P)  # out of `preempting` before the last victim's calls
    assert not _marked(state, "v3") and _goroutine(state) == {PreemptVictim("scheduler", P, V3)}
    state = step(model, state, PreemptVictim("scheduler", P, V3))
    state = step(model, state, PreemptVictim("scheduler", P, V3))
    assert _marked(state, "v3") and _deleting(state, "v3")
    assert not _memory(state).preempting and _goroutine(state) == set()


def test_another_pod_is_scheduled_onto_the_node_while_the_victims_wait() -> None:
    """Between the preemption cycle and the goroutine's calls the scheduler runs other cycles: a
    pod of higher priority (the nomination does not reserve room against it) lands on the node
    while no victim is marked yet, which the synchronous preparation made impossible."""
    for asynchronous in (True, False):
        model = _model(schedulerAsyncPreemption=asynchronous)
        state = _preempted(model)
        top = decode(Pod, {"metadata": {"name": "top", "namespace": "default"},
                           "spec": {"priorityClassName": "top", "containers": [
                               {"name": "c", "image": "t:1", "resources": {"requests": {"cpu": "100m"}}}]}})
        state = api(state, model, Request(verb="create", user=ADMIN, obj=top))
        assert Schedule("scheduler", "default/top", "n1") in actions(model, state)
        state = step(model, state, Schedule("scheduler", "default/top", "n1"))
        assert _marked(state, "v1") is not asynchronous
    run = fair_run(model := _model(), state := api(_preempted(model), model, Request(
        verb="create", user=ADMIN, obj=top)))
    placed = {p.metadata.name: p.spec.node_name for p in run.state.store.list("pods") if isinstance(p, Pod)}
    assert placed == {"p-high": "n1", "top": "n1"}


def test_a_failed_delete_cancels_the_rest_and_activates_the_pod() -> None:
    """A victim's delete fails mid-way: the cancelled context stops the batch's other calls and
    the last victim's; the goroutine's error path `Activate`s the pod, still nominated, and its next
    cycle preempts again (no victim terminates on the nominated node)."""
    model = _model()
    state = step(model, _preempted(model), ClearNominations("scheduler", P))
    state = step(model, state, PreemptVictim("scheduler", P, V1))  # the patch
    state = step(model, _fail_next(state), PreemptVictim("scheduler", P, V1))  # the delete: 500
    assert _marked(state, "v1") and not _deleting(state, "v1")  # marked, never deleted
    assert not any(_marked(state, v) or _deleting(state, v) for v in ("v2", "v3"))
    memory = _memory(state)
    assert not memory.preempting and P not in memory.unschedulable
    assert _get(state, "p-high").status.nominated_node_name == "n1"
    assert Preempt("scheduler", P, "n1") in actions(model, state)


def test_a_victim_gone_before_its_patch_fails_the_preemption() -> None:
    """v1.33's PreemptPod returns the patch's error, a 404 too (master skips it): the goroutine
    ends as an error, the other victims untouched, and the pod is activated."""
    model = _model()
    state = step(model, _preempted(model), ClearNominations("scheduler", P))
    state = api(state, model, Request(verb="delete", user=ADMIN, resource="pods", namespace="default", name="v1",
                                      grace_period_seconds=0))
    assert _pod(state, "v1") is None
    state = step(model, state, PreemptVictim("scheduler", P, V1))
    assert not _memory(state).preempting and P not in _memory(state).unschedulable
    assert not any(_marked(state, v) or _deleting(state, v) for v in ("v2", "v3"))


def test_a_released_pod_preempts_again_before_its_last_victim_is_deleted() -> None:
    """One victim: the pod leaves `preempting` right after the nominations; an event moves it, the
    victim is not terminating yet, so its cycle preempts again and a second goroutine starts (the
    double preemption master's lastVictimsPendingPreemption prevents)."""
    model = _model(PDB)
    state = initial_state(model)
    state = step(model, step(model, state, Preempt("scheduler", P, "n2")), ClearNominations("scheduler", P))
    assert not _memory(state).held(P)
    node = state.store.get(ObjectKey("nodes", "", "n1"))
    state = _write(state, model, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        node, metadata=attrs.evolve(node.metadata, labels=node.metadata.labels.set("k", "v")))))
    assert P not in _memory(state).unschedulable  # a Node event moved it
    state = step(model, state, Preempt("scheduler", P, "n2"))
    assert len(_memory(state).preempting[P]) == 2
    run = fair_run(model, state)
    placed = {p.metadata.name: p.spec.node_name for p in run.state.store.list("pods") if isinstance(p, Pod)}
    assert placed == {"a-protected": "n1", "p-high": "n2"}


def test_a_failed_synchronous_preemption_is_unschedulable_with_the_error() -> None:
    """v1.32 and before: PostFilter's error ends the FitError ("preemption: <error>"); the cycle
    still returns Unschedulable, so handleSchedulingFailure writes reason Unschedulable, not
    SchedulerError, and leaves the nomination as it was. (The victim's patch fails with a 429, which
    PatchPodStatus does not retry.)"""
    model = _model(schedulerAsyncPreemption=False)
    state = _fail_next(initial_state(model), 429)
    state = step(model, state, Preempt("scheduler", P, "n1"))
    pod = _get(state, "p-high")
    cond = find_condition(pod.status.conditions, "PodScheduled")
    assert cond is not None
    assert (cond.status, cond.reason, cond.message) == (
        "False", "Unschedulable", "0/1 nodes are available: 1 Insufficient cpu. preemption: injected failure")
    assert not pod.status.nominated_node_name
    assert not any(_marked(state, v) or _deleting(state, v) for v in ("v1", "v2", "v3"))
    assert P in _memory(state).unschedulable and not _memory(state).preempting


@pytest.mark.parametrize("instant", [True, False])
def test_the_goroutines_footprints_commute(instant: bool) -> None:
    """The goroutine's steps are an actor of their own, and what the footprints call independent
    commutes (as tests/model/cluster/test_footprint.py, on this scenario)."""
    model = _model(instantCaches=instant)
    footprints, rng = Footprints(model), random.Random(7)
    assert actor(ClearNominations("scheduler", P)) == "scheduler/scheduler/preemption"
    assert component_of(PreemptVictim("scheduler", P, V1)) == "scheduler"
    checked = 0
    for state in random_run_states(model, rng, runs=6, length=30):
        checked += assert_commute(model, state, [
            p for p in independent_pairs(footprints, actions(model, state))
            if any(isinstance(a, ClearNominations | PreemptVictim) for a in p)])
    assert checked > 5
