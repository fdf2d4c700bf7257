"""The readiness-gate example (examples/lb_gate): a user's controller sets the pods' readiness gate
with a status update, the kubelet then reports them Ready, and the rollout completes; without the
controller nothing sets the gate and deployments-complete names it."""

from __future__ import annotations

from pathlib import Path

import pytest
from user_modules import example_model, user_folder_fixture

from kubeprop.model.api.meta import find_condition
from kubeprop.model.api.objects import Endpoints, ObjectKey, Pod
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import settle
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.convergence import deployments_complete, endpoints_match_ready_pods

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lb_gate"

example_on_path = user_folder_fixture(EXAMPLE)
"""The example folder on the import path (the scenario names `lb_gate_controller:LB_REGISTRATION`)."""


def _conditions(pod: Pod, *types: str) -> tuple[str | None, ...]:
    found = [find_condition(pod.status.conditions, t) for t in types]
    return tuple(c.status if c is not None else None for c in found)


@pytest.mark.parametrize("patch", [False, True], ids=["update-status", "patch-status"])
def test_the_controller_sets_the_gate_and_the_rollout_completes(patch: bool) -> None:
    from lb_gate_controller import GATE, LB_REGISTRATION_PATCH

    model = example_model(EXAMPLE)
    if patch:
        model = build_model(model.scenario, controllers=(LB_REGISTRATION_PATCH,))
    assert [getattr(c, "patch", None) for c in model.controllers if c.name == "lb-registration"] == [patch]
    done = settle(model, initial_state(model))
    assert not done.exhausted
    pods = [p for p in done.state.store.list("pods", "default") if isinstance(p, Pod)]
    assert len(pods) == 2
    assert {_conditions(p, GATE, "Ready") for p in pods} == {("True", "True")}
    endpoints = done.state.store.get(ObjectKey("endpoints", "default", "web"))
    assert isinstance(endpoints, Endpoints)
    assert sum(len(s.addresses) for s in endpoints.subsets) == 2
    assert deployments_complete(model, done.state) is None
    assert endpoints_match_ready_pods(model, done.state) is None


def test_the_default_strategy_finds_nothing_with_the_controller() -> None:
    from kubeprop.counterexamples.api import check

    report = check(EXAMPLE / "scenario.yaml", ["deployments-complete", "endpoints-match-ready-pods",
                                               "endpoints-ready-pods"], budget=5)
    assert report.violation is None, report.violation


def test_without_the_controller_the_rollout_waits_for_the_gate_for_ever() -> None:
    model = build_model(load_scenario(EXAMPLE / "manifests"))
    done = settle(model, initial_state(model))
    found = deployments_complete(model, done.state)
    assert found is not None
    assert 'pod readiness gate "example.com/lb-registered" does not exist.' in found.message, found
