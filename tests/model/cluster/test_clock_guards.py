"""The clock's guards for prompt work: `queued_work.holds_clock` (a controller with a key it can
reconcile now), `prompt_work.scheduler_holds_clock` and `prompt_work.in_flight_holds_clock`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.cluster.prompt_work import in_flight_holds_clock, scheduler_holds_clock, tick_reaches_timer
from kubeprop.model.controllers import base as controllers
from kubeprop.model.controllers.queued_work import holds_clock, urgent_keys
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import CrashComponent, Deliver
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState

DATA = Path(__file__).parents[1] / "data"


def _quota_end(monkeypatch: Any) -> tuple[ClusterModel, ClusterState]:
    """refused/quota.yaml at the end of its fair run: the ReplicaSet controller's create is refused
    for good by the scenario's admission rule, so its key stays queued and every retry is a stutter."""
    monkeypatch.syspath_prepend(str(DATA / "refused"))
    model = build_model(load_scenario(DATA / "refused" / "quota.yaml"))
    state = fair_run(model, initial_state(model)).state
    return model, state


def test_a_retry_that_changes_nothing_does_not_hold_the_clock(monkeypatch: Any) -> None:
    model, state = _quota_end(monkeypatch)
    queued = list(controllers.queued(model, state))
    assert queued and urgent_keys(model, state) == [] and not holds_clock(model, state)
    name, key = queued[0]
    assert step(model, state, controllers.Reconcile(name, key)) == state  # the stutter upstream backs off
    # An armed request failure would be consumed by the retry: a change, so work to do now.
    armed = evolve(state, armed_failures=state.armed_failures.set(CONTROLLER_MANAGER, 500))
    assert urgent_keys(model, armed) == queued and holds_clock(model, armed)


def test_the_guard_sends_nothing_an_observer_sees() -> None:
    seen: list[str] = []
    model = build_model(load_scenario(DATA / "waits" / "api-rollout.yaml"))
    observed = attrs.evolve(model, hooks=attrs.evolve(model.hooks, on_response=(lambda c, q, r: seen.append(c),)))
    state = initial_state(observed)
    assert holds_clock(observed, state) and seen == []  # (the Deployment's reconcile would create a ReplicaSet)
    step(observed, state, controllers.Reconcile("deployment", "default/api"))
    assert seen  # the reconcile itself is seen


def test_a_controller_manager_that_is_down_holds_nothing() -> None:
    model = build_model(load_scenario(DATA / "waits" / "api-rollout.yaml"))
    state = step(model, initial_state(model), CrashComponent(CONTROLLER_MANAGER))
    assert list(controllers.queued(model, state)) and not holds_clock(model, state)


def _after_replicaset_created() -> tuple[ClusterModel, ClusterState]:
    model = build_model(load_scenario(DATA / "waits" / "api-rollout.yaml"))
    state = initial_state(model)
    for act in (controllers.Reconcile("deployment", "default/api"),
                Deliver("controller-manager", "replicasets.apps", 12),
                controllers.Reconcile("replicaset", "default/api-6b68f5cc4b"),
                Deliver("controller-manager", "deployments.apps", 13)):  # (its progress deadline: 61 s)
        assert act in actions(model, state), act
        state = step(model, state, act)
    return model, state


def test_events_in_flight_hold_an_empty_tick_but_not_one_that_reaches_a_timer() -> None:
    """The new pods' events wait for the scheduler and the kubelets; the progress deadline (61 s)
    is the only timer. A tick from 0 s reaches no timer: held. The same work in flight with the
    clock at 55 s, where the tick reaches the deadline: the timer may fire with the events still in
    flight (a race of milliseconds upstream can have), so that tick is not held."""
    model, state = _after_replicaset_created()
    assert any(isinstance(a, Deliver) for a in actions(model, state))
    assert not tick_reaches_timer(model, state) and in_flight_holds_clock(model, state)
    late = evolve(state, clock=55)
    assert tick_reaches_timer(model, late) and not in_flight_holds_clock(model, late)


def test_the_scheduler_with_a_pod_to_attempt_holds_the_clock() -> None:
    model, state = _after_replicaset_created()
    assert not scheduler_holds_clock(model, state)  # its cache has not had the pods yet
    pods = [a for a in actions(model, state) if isinstance(a, Deliver) and a.component == "scheduler"
            and a.resource == "pods"]
    for act in pods:
        state = step(model, state, act)
    assert scheduler_holds_clock(model, state)
    assert not scheduler_holds_clock(model, step(model, state, CrashComponent("scheduler")))
    assert scheduler_holds_clock(model, evolve(state, clock=55))  # held even where the tick reaches a timer
