"""Parked pods moved by their rejecting plugins' queueing hints (`kubeprop.model.scheduler.requeue`),
and `scheduler-decisions-sound` judging a parked pod only once the queue had its chance (audit18b)."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.pod import Toleration
from kubeprop.model.api.store import WatchEvent
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.component import Schedule, SchedulerState
from kubeprop.model.scheduler.queue import inputs
from kubeprop.model.scheduler.requeue import own_update_moves, requeued
from kubeprop.model.state.actions import Action, Deliver, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.model.state.informer import HandedEvent
from kubeprop.properties.registry import first_violation, select

DATA = Path(__file__).parents[1] / "data" / "requeue"
SOUND = select(["scheduler-decisions-sound"])


def make(scenario: str, instant: bool) -> ClusterModel:
    return build_model(load_scenario(DATA / f"{scenario}.yaml"), parameters={"instantCaches": instant})


def memory(state: ClusterState) -> SchedulerState:
    mem = state.schedulers["scheduler"]
    assert isinstance(mem, SchedulerState)
    return mem


def pods(state: ClusterState) -> dict[str, Pod]:
    return {f"{p.metadata.namespace}/{p.metadata.name}": p for p in state.store.list("pods") if isinstance(p, Pod)}


def parked_then_user_step(model: ClusterModel) -> ClusterState:
    """The scenario settled (its pod parked), then the user's first step."""
    state = settle(model, initial_state(model)).state
    assert memory(state).unschedulable, "the pod waits parked"
    return step(model, state, UserStep(0))


def take(model: ClusterModel, state: ClusterState, kind: type[Action], **fields: object) -> ClusterState:
    act = next(a for a in actions(model, state) if isinstance(a, kind)
               and all(getattr(a, k) == v for k, v in fields.items()))
    return step(model, state, act)


def deliver_all(model: ClusterModel, state: ClusterState) -> ClusterState:
    while (act := next((a for a in actions(model, state) if isinstance(a, Deliver)), None)) is not None:
        state = step(model, state, act)
    return state


# --- the scenarios: bound before the leftover flush ------------------------------------------------

@pytest.mark.parametrize("instant", [True, False])
def test_pod_parked_by_pod_affinity_is_bound_once_the_matching_pod_is(instant: bool) -> None:
    model = make("affinity-wait", instant)
    state = settle(model, initial_state(model)).state
    (parked,) = memory(state).unschedulable.values()
    assert parked.plugins == frozenset({"InterPodAffinity"})
    # no Tick: moved by the AssignedPodAdd of cache (then popped from the backoff queue), not by the flush
    final = settle(model, step(model, state, UserStep(0)), allow_ticks=False).state
    assert all(p.spec.node_name == "worker-1" for p in pods(final).values())


@pytest.mark.parametrize("instant", [True, False])
def test_pod_parked_by_a_taint_is_bound_once_it_tolerates_it(instant: bool) -> None:
    model = make("toleration-update", instant)
    # no Tick: moved by its own UpdatePodToleration, not by the leftover flush
    final = settle(model, parked_then_user_step(model), allow_ticks=False).state
    assert pods(final)["default/job1"].spec.node_name == "worker-1"


# --- the hints --------------------------------------------------------------------------------------

def _pod(name: str, labels: dict[str, str], node: str = "") -> Pod:
    model = make("affinity-wait", True)
    web = next(p for p in settle(model, initial_state(model)).state.store.list("pods") if isinstance(p, Pod))
    meta = evolve(web.metadata, name=name, labels=type(web.metadata.labels)(labels))
    return evolve(web, metadata=meta, spec=evolve(web.spec, affinity=None, node_name=node))


class _View:
    """A scheduler cache holding the parked pod alone."""

    def __init__(self, pod: Pod) -> None:
        self.pod = pod

    def get(self, key: ObjectKey) -> Pod | None:
        return self.pod if key.name == self.pod.metadata.name else None


def _added(pod: Pod) -> WatchEvent:
    return WatchEvent("ADDED", ObjectKey("pods", pod.metadata.namespace, pod.metadata.name), pod, 9)


def test_assigned_pod_added_moves_only_what_its_hints_queue() -> None:
    model = make("affinity-wait", True)
    state = settle(model, initial_state(model)).state
    web = next(p for p in state.store.list("pods") if isinstance(p, Pod))
    key = f"default/{web.metadata.name}"
    view = _View(web)
    cache, other = _pod("cache", {"app": "cache"}, "worker-1"), _pod("other", {"app": "other"}, "worker-1")
    assert requeued(_added(cache), {key: frozenset({"InterPodAffinity"})}, view) == {key}
    assert not requeued(_added(other), {key: frozenset({"InterPodAffinity"})}, view), "QueueSkip: no term matches"
    assert not requeued(_added(cache), {key: frozenset({"TaintToleration"})}, view), "not a Pod/Add plugin"
    assert requeued(_added(other), {key: frozenset()}, view) == {key}, "no rejecting plugin: any event"
    unbound = _pod("cache", {"app": "cache"})
    assert not requeued(_added(unbound), {key: frozenset({"InterPodAffinity"})}, view), "an unassigned pod"


def test_own_update_moves_by_what_changed() -> None:
    pod = _pod("job1", {})
    tolerating = evolve(pod, spec=evolve(pod.spec, tolerations=(Toleration(key="dedicated", operator="Exists"),)))
    status_only = evolve(pod, status=attrs.evolve(pod.status, nominated_node_name="worker-1"))
    assert own_update_moves(frozenset({"TaintToleration"}), pod, tolerating)
    assert not own_update_moves(frozenset({"TaintToleration"}), pod, status_only), "the general Pod/Update"
    assert not own_update_moves(frozenset({"NodeUnschedulable"}), pod, tolerating), "not the unschedulable taint"
    assert not own_update_moves(frozenset({"InterPodAffinity"}), pod, tolerating)
    event = HandedEvent("MODIFIED", ObjectKey("pods", "default", "job1"), tolerating, 9, pod)
    assert requeued(event, {"default/job1": frozenset({"TaintToleration"})}, _View(pod)) == {"default/job1"}


# --- scheduler-decisions-sound: the queue had its chance --------------------------------------------

@pytest.mark.parametrize("instant", [True, False])
def test_an_assumed_pod_is_not_held_against_a_parked_pod(instant: bool) -> None:
    """Schedule(cache) assumes cache onto worker-1, where web's pod would now fit; its binding has
    not reached the queue (the AssignedPodAdd that moves web's pod): no violation yet."""
    model = make("affinity-wait", instant)
    state = take(model, deliver_all(model, parked_then_user_step(model)), Schedule, pod="default/cache")
    assert "default/cache" in memory(state).assumed and memory(state).unschedulable
    assert first_violation(model, state, SOUND) is None


def test_a_user_update_not_yet_delivered_is_not_judged() -> None:
    """The toleration is stored but has not reached the scheduler's cache: no violation yet."""
    model = make("toleration-update", False)
    state = parked_then_user_step(model)
    assert "default/job1" in memory(state).unschedulable
    assert first_violation(model, state, SOUND) is None


@pytest.mark.parametrize("instant", [True, False])
def test_a_pod_left_parked_after_the_queue_saw_its_update_is_a_violation(instant: bool) -> None:
    """The property still has teeth: a queue that kept the pod parked after seeing the toleration."""
    model = make("toleration-update", instant)
    state = deliver_all(model, parked_then_user_step(model))
    mem = memory(state)
    assert "default/job1" not in mem.unschedulable, "the queue moved it"
    stamp = inputs(model, state, "scheduler", mem)
    stuck = mem.park("default/job1", state.clock, stamp, frozenset({"TaintToleration"}))
    state = evolve(state, schedulers=state.schedulers.set("scheduler", stuck))
    found = first_violation(model, state, SOUND)
    assert found is not None and "default/job1 is marked Unschedulable" in str(found)
