"""The scheduler component: its queue (parked pods moved back by events, failed bindings and the
leftover flush) and the system-default topology spreading it scores with."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from kubeprop.model.api.meta import ObjectMeta, OwnerReference
from kubeprop.model.api.objects import Pod, PodSpec, ReplicaSet, Service
from kubeprop.model.api.selectors import LabelSelector, LabelSelectorRequirement
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import is_progress, settle
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.component import Bind, MarkUnschedulable, Schedule, SchedulerState, decide
from kubeprop.model.scheduler.default_spread import default_selector
from kubeprop.model.scheduler.queue import next_flush
from kubeprop.model.state.actions import Action, FailNextRequest, Tick, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.convergence import settled_violation
from kubeprop.properties.registry import first_violation, select

DATA = Path(__file__).parents[1] / "data" / "variants"


def make(scenario: str, **parameters: object) -> ClusterModel:
    return build_model(load_scenario(DATA / f"{scenario}.yaml"), parameters=parameters or None)


def take(model: ClusterModel, state: ClusterState, kind: type[Action], **fields: object) -> ClusterState:
    act = next(a for a in actions(model, state) if isinstance(a, kind)
               and all(getattr(a, k) == v for k, v in fields.items()))
    return step(model, state, act)


def memory(state: ClusterState) -> SchedulerState:
    mem = state.schedulers["scheduler"]
    assert isinstance(mem, SchedulerState)
    return mem


# --- parked pods are retried --------------------------------------------------------------------

def parked_behind_assumed(model: ClusterModel) -> ClusterState:
    """a and b assumed onto worker-1 (full), c parked Unschedulable; a and b not bound yet."""
    state = initial_state(model)
    state = take(model, state, Schedule, pod="default/a")
    state = take(model, state, Schedule, pod="default/b")
    state = take(model, state, MarkUnschedulable, pod="default/c")
    assert "default/c" in memory(state).unschedulable
    return state


@pytest.mark.parametrize("instant", [True, False])
def test_pod_parked_behind_assumed_pods_is_bound_after_they_are_deleted(instant: bool) -> None:
    """The blocking pods are deleted before their bindings: upstream their bindings fail (404),
    handleBindingCycleError forgets them and moves the parked pods (AssignedPodDelete)."""
    model = make("parked", instantCaches=instant)
    state = parked_behind_assumed(model)
    state = step(model, step(model, state, UserStep(0)), UserStep(1))  # delete a, delete b
    assert settled_violation(model, state, select(["schedulable-pods-bound"])) is None
    final = settle(model, state).state
    assert [p.spec.node_name for p in final.store.list("pods") if isinstance(p, Pod)] == ["worker-1"]
    assert first_violation(model, final, select(["scheduler-decisions-sound"])) is None


def test_failed_binding_moves_the_parked_pods() -> None:
    model = make("parked", instantCaches=True)
    state = parked_behind_assumed(model)
    state = step(model, state, FailNextRequest("scheduler", 500))
    state = take(model, state, Bind, pod="default/a")
    assert "default/a" not in memory(state).assumed
    assert not memory(state).unschedulable, "MoveAllToActiveOrBackoffQueue(AssignedPodDelete)"


def test_leftover_flush_retries_a_pod_whose_inputs_changed() -> None:
    """c is parked at t=0 while a and b are only assumed; their bindings (no moving event) change
    the scheduler's inputs, so the flush pass after 5 minutes (t=330: passes every 30 s, parked
    for *more* than 300 s) retries it; parked again on unchanged inputs, no timer is left."""
    model = make("parked", instantCaches=True)
    state = parked_behind_assumed(model)
    state = take(model, take(model, state, Bind, pod="default/a"), Bind, pod="default/b")
    assert "default/c" in memory(state).unschedulable
    assert next_flush(0, 0, 300) == 330
    while state.clock < 320:
        state = step(model, state, Tick(10))
    assert "default/c" in memory(state).unschedulable
    state = step(model, state, Tick(10))
    assert "default/c" not in memory(state).unschedulable
    state = take(model, state, MarkUnschedulable, pod="default/c")
    assert not any(isinstance(a, Tick) for a in actions(model, state) if is_progress(a))


def test_no_flush_timer_for_a_pod_parked_on_unchanged_inputs() -> None:
    model = make("tight", instantCaches=True)
    state = settle(model, initial_state(model)).state
    assert len(memory(state).unschedulable) == 1
    assert not any(isinstance(a, Tick) for a in actions(model, state))


def test_flush_period_is_a_parameter() -> None:
    """60 s before v1.24 (kubernetes PR #108761 made it 5 minutes)."""
    model = make("parked", instantCaches=True, podMaxInUnschedulablePodsSeconds=60)
    state = parked_behind_assumed(model)
    state = take(model, take(model, state, Bind, pod="default/a"), Bind, pod="default/b")
    for _ in range(9):
        state = step(model, state, Tick(10))
    assert state.clock == 90 and "default/c" not in memory(state).unschedulable


# --- system-default topology spreading ----------------------------------------------------------

def test_default_selector_merges_services_and_the_owning_replicaset() -> None:
    """helper.DefaultSelector: matching Services' selectors merged, plus the controller's selector
    requirements; nothing for a pod selected by nothing."""
    labels = {"app": "web", "tier": "front"}
    owner = OwnerReference(api_version="apps/v1", kind="ReplicaSet", name="web-1", uid="u", controller=True)
    pod = Pod(metadata=ObjectMeta(name="p", namespace="default", labels=labels, owner_references=(owner,)),
              spec=PodSpec())
    svc = Service(metadata=ObjectMeta(name="web", namespace="default"))
    svc = attrs.evolve(svc, spec=attrs.evolve(svc.spec, selector={"app": "web"}))
    other = attrs.evolve(svc, metadata=ObjectMeta(name="db", namespace="default"),
                         spec=attrs.evolve(svc.spec, selector={"app": "db"}))
    rs = ReplicaSet(metadata=ObjectMeta(name="web-1", namespace="default"))
    rs = attrs.evolve(rs, spec=attrs.evolve(rs.spec, selector=LabelSelector(match_labels={"tier": "front"})))

    class View:
        def __init__(self) -> None:
            self.objects = {("services", "web"): svc, ("services", "db"): other, ("replicasets.apps", "web-1"): rs}

        def get(self, key: object) -> object:
            return self.objects.get((key.resource, key.name))  # type: ignore[attr-defined]

        def list(self, resource: str, namespace: str = "") -> object:
            return iter(o for (r, _), o in sorted(self.objects.items(), key=lambda kv: kv[0]) if r == resource)

    selector = default_selector(pod, View())  # type: ignore[arg-type]
    assert selector == LabelSelector(match_labels={"app": "web"},
                                     match_expressions=(LabelSelectorRequirement("tier", "In", ("front",)),))
    bare = attrs.evolve(pod, metadata=ObjectMeta(name="q", namespace="default", labels={"x": "y"}))
    assert default_selector(bare, View()) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("instant", [True, False])
def test_scheduler_spreads_replicas_by_default(instant: bool) -> None:
    """spread.yaml: resource scores prefer worker-1 for the second replica (worker-2 runs a batch
    pod); the default hostname constraint (maxSkew 3, weight 2) puts it on worker-2. Without the
    default selector the cluster scheduler co-located the replicas."""
    model = make("spread", instantCaches=instant)
    state = initial_state(model)
    placed: list[str] = []
    for _ in range(400):
        moves = [a for a in actions(model, state) if is_progress(a) and not isinstance(a, Tick)]
        if not moves:
            break
        schedules = [a for a in moves if isinstance(a, Schedule)]
        if schedules:
            assert len(schedules) == 1, "no score tie"
            placed.append(schedules[0].node)
        state = step(model, state, (schedules or moves)[0])
    assert placed == ["worker-1", "worker-2"]
    assert decide(model, state, "scheduler") is None
