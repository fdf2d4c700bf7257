"""The HPA controller in a cluster: it scales a Deployment through the scale subresource."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from kubeprop.model.api.autoscaling import HorizontalPodAutoscaler
from kubeprop.model.api.objects import Deployment, ObjectKey
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.controllers.hpa import SyncHPA, memory
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import CONTROLLER_MANAGER

DATA = Path(__file__).parents[1] / "data" / "hpa"
HPA = ObjectKey("horizontalpodautoscalers.autoscaling", "default", "web")
WEB = ObjectKey("deployments.apps", "default", "web")


def _settled(parameters: dict[str, object] | None = None, ticks: int = 60):  # type: ignore[no-untyped-def]
    model = build_model(load_scenario(DATA / "linear.yaml"), parameters=parameters)
    return model, settle(model, initial_state(model), max_steps=3000, max_ticks=ticks).state


def test_shared_load_settles_at_load_over_target() -> None:
    """150m shared by the ready pods at a 50 % target of 100m: ceil(150 / 50) = 3 replicas."""
    _, state = _settled()
    deployment = state.store.get(WEB)
    hpa = state.store.get(HPA)
    assert isinstance(deployment, Deployment) and isinstance(hpa, HorizontalPodAutoscaler)
    assert deployment.spec.replicas == 3
    assert (hpa.status.current_replicas, hpa.status.desired_replicas) == (3, 3)
    assert hpa.status.current_metrics[0].resource is not None
    assert hpa.status.current_metrics[0].resource.current.average_utilization == 50
    reasons = {c.type: c.reason for c in hpa.status.conditions}
    assert reasons == {"AbleToScale": "ReadyForNewScale", "ScalingActive": "ValidMetricFound",
                       "ScalingLimited": "DesiredWithinRange"}


def test_max_replicas_limits_the_scale_up() -> None:
    model = build_model(load_scenario(DATA / "linear.yaml"))
    state = initial_state(model)
    hpa = state.store.get(HPA)
    assert isinstance(hpa, HorizontalPodAutoscaler)
    limited = attrs.evolve(hpa, spec=attrs.evolve(hpa.spec, max_replicas=2))
    store, _, _ = state.store.put(limited, "MODIFIED")
    state = settle(model, attrs.evolve(state, store=store), max_steps=3000, max_ticks=40).state
    deployment = state.store.get(WEB)
    assert isinstance(deployment, Deployment) and deployment.spec.replicas == 2
    final = state.store.get(HPA)
    assert isinstance(final, HorizontalPodAutoscaler)
    assert {c.type: c.reason for c in final.status.conditions}["ScalingLimited"] == "TooManyReplicas"


def test_sync_waits_for_the_resync_period_and_memory_is_lost_on_crash() -> None:
    model = build_model(load_scenario(DATA / "linear.yaml"))
    state = initial_state(model)
    assert memory(state).due == {"default/web": 15}
    assert not [a for a in actions(model, state) if isinstance(a, SyncHPA)]
    from kubeprop.model.state.actions import CrashComponent, RestartComponent, Tick

    state = step(model, step(model, state, Tick(10)), Tick(10))
    assert SyncHPA("default/web") in actions(model, state)
    state = step(model, state, SyncHPA("default/web"))
    assert memory(state).due["default/web"] == 35 and "default/web" in memory(state).recommendations
    crashed = attrs.evolve(state, faults=state.faults)
    from kubeprop.model.cluster.faults import HANDLERS

    crashed = HANDLERS[CrashComponent](model, crashed, CrashComponent(CONTROLLER_MANAGER))
    restarted = HANDLERS[RestartComponent](model, crashed, RestartComponent(CONTROLLER_MANAGER))
    assert memory(restarted).recommendations == {} and memory(restarted).due == {"default/web": 35}


def test_behavior_without_a_scale_down_window_flaps_every_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    """With `behavior.scaleDown.stabilizationWindowSeconds: 0` the queueing scenario's HPA flaps
    between 2 and 3 on every sync, and remembers its scale events for the rate policies."""
    from kubeprop.model.api.autoscaling import HorizontalPodAutoscalerBehavior, HPAScalingPolicy, HPAScalingRules

    monkeypatch.syspath_prepend(str(DATA))
    model = build_model(load_scenario(DATA / "queueing.yaml"))
    state = initial_state(model)
    hpa = state.store.get(HPA)
    assert isinstance(hpa, HorizontalPodAutoscaler)
    behavior = HorizontalPodAutoscalerBehavior(
        scale_up=HPAScalingRules(0, "Max", (HPAScalingPolicy("Pods", 1, 60),)),
        scale_down=HPAScalingRules(0, "Max", (HPAScalingPolicy("Percent", 100, 15),)))
    store, _, _ = state.store.put(attrs.evolve(hpa, spec=attrs.evolve(hpa.spec, behavior=behavior)), "MODIFIED")
    run = settle(model, attrs.evolve(state, store=store), max_steps=3000, max_ticks=20)
    replicas = []
    current = attrs.evolve(state, store=store)
    for act in run.trace:
        current = step(model, current, act)
        deployment = current.store.get(WEB)
        assert isinstance(deployment, Deployment)
        if not replicas or replicas[-1] != deployment.spec.replicas:
            replicas.append(deployment.spec.replicas)
    assert replicas[:6] == [2, 3, 2, 3, 2, 3]
    assert memory(run.state).scale_up_events and memory(run.state).scale_down_events


def test_the_scale_is_read_with_a_live_get_that_can_fail() -> None:
    """reconcileAutoscaler GETs the target's scale subresource live (`scaleForResourceMappings`): a
    failed GET (here an injected 500, the controller manager's next request) is FailedGetScale with
    the error, and no recommendation is recorded. The model used to read the store, so the GET
    could not fail and the failure fell on a later request."""
    model = build_model(load_scenario(DATA / "linear.yaml"))
    state = initial_state(model)
    from kubeprop.model.state.actions import Tick

    state = step(model, step(model, state, Tick(10)), Tick(10))
    state = attrs.evolve(state, armed_failures=state.armed_failures.set(CONTROLLER_MANAGER, 500))
    state = step(model, state, SyncHPA("default/web"))
    hpa = state.store.get(HPA)
    assert isinstance(hpa, HorizontalPodAutoscaler)
    able = next(c for c in hpa.status.conditions if c.type == "AbleToScale")
    assert (able.status, able.reason) == ("False", "FailedGetScale")
    assert able.message == "the HPA controller was unable to get the target's current scale: injected failure"
    assert "default/web" not in memory(state).recommendations
