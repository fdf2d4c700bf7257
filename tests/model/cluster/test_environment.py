"""The environment: declared usage and its changes, and user environment rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.model.api.objects import Node, ObjectKey, Pod
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import is_progress, settle
from kubeprop.model.cluster.environment import EnvironmentRule, SetLoad
from kubeprop.model.scenario.load import ScenarioError, load_scenario
from kubeprop.model.state.metrics import pod_metric

DATA = Path(__file__).parents[1] / "data"


def test_shared_load_divides_among_serving_pods_and_can_change_before_quiesce() -> None:
    model = build_model(load_scenario(DATA / "hpa" / "linear.yaml"),
                        parameters={"hpaSyncPeriodSeconds": 100_000})
    state = settle(model, initial_state(model), max_steps=2000, max_ticks=3).state
    pods = [p for p in state.store.list("pods") if isinstance(p, Pod)]
    assert [pod_metric(model, state, p, "cpu") for p in pods] == [150]
    assert not [a for a in actions(model, state) if isinstance(a, SetLoad)], "no usageChange budget"
    assert not is_progress(SetLoad(0, 0))


def test_metrics_wait_for_the_first_scrape() -> None:
    model = build_model(load_scenario(DATA / "hpa" / "linear.yaml"))
    state = settle(model, initial_state(model), max_steps=2000, max_ticks=0).state
    pod = next(p for p in state.store.list("pods") if isinstance(p, Pod))
    assert pod.status.phase == "Running" and pod_metric(model, state, pod, "cpu") is None


def test_a_rule_with_behaviour_acts_as_an_action(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(DATA / "environment"))
    model = build_model(load_scenario(DATA / "environment" / "headroom.yaml"))
    run = settle(model, initial_state(model), max_steps=2000)
    assert EnvironmentRule("headroom-taint", "worker-1") in run.trace and is_progress(run.trace[-1])
    state = run.state
    assert not [a for a in actions(model, state) if isinstance(a, EnvironmentRule)], "it acts once, then holds"
    node = state.store.get(ObjectKey("nodes", "", "worker-1"))
    assert isinstance(node, Node) and [t.key for t in node.spec.taints] == ["example.com/overloaded"]
    state = step(model, state, next(a for a in actions(model, state) if type(a).__name__ == "UserStep"))
    state = settle(model, state, max_steps=2000).state
    pending = [p for p in state.store.list("pods") if isinstance(p, Pod) and not p.spec.node_name]
    assert len(pending) == 1, "the fourth replica stays off the tainted node"


def test_a_bad_rule_is_a_scenario_error(tmp_path: Path) -> None:
    scenario = (DATA / "environment" / "headroom.yaml").read_text().replace(
        "headroom_rules:HeadroomTaint", "os:path").replace("[app.yaml]", f"[{DATA / 'environment' / 'app.yaml'}]")
    path = tmp_path / "bad.yaml"
    path.write_text(scenario)
    with pytest.raises(ScenarioError, match=r"environment\.rules\[0\].*not an environment rule"):
        load_scenario(path)
