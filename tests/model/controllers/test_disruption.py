"""The disruption controller's arithmetic (`pkg/controller/disruption/disruption.go`)."""

from __future__ import annotations

from pathlib import Path

import attrs
from cluster_harness import settled

from kubeprop.model.api.objects import ObjectKey, Pod, PodDisruptionBudget
from kubeprop.model.api.policy import PodDisruptionBudgetSpec
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.controllers.disruption import (
    DisruptionController,
    disrupted_pods,
    expected_and_desired,
    healthy,
)
from kubeprop.model.scenario.load import load_scenario

DATA = Path(__file__).parents[1] / "data" / "maintenance"
SELECT = LabelSelector(match_labels={"app": "web"})


def test_controller_runs_only_with_budgets() -> None:
    with_pdb = build_model(load_scenario(DATA / "drained.yaml"))
    assert any(isinstance(c, DisruptionController) for c in with_pdb.controllers)
    without = build_model(load_scenario(Path(__file__).parents[1] / "data" / "hpa" / "linear.yaml"))
    assert not any(isinstance(c, DisruptionController) for c in without.controllers)


def test_expected_and_desired_counts() -> None:
    _, state = settled(DATA / "drained.yaml")
    pods = [p for p in state.store.list("pods") if isinstance(p, Pod)]

    def budget(**spec: object) -> PodDisruptionBudget:
        return PodDisruptionBudget(spec=PodDisruptionBudgetSpec(selector=SELECT, **spec))  # type: ignore[arg-type]

    assert expected_and_desired(state.store, budget(min_available=1), pods) == (2, 1)
    assert expected_and_desired(state.store, budget(min_available="50%"), pods) == (2, 1)
    assert expected_and_desired(state.store, budget(min_available="51%"), pods) == (2, 2)
    assert expected_and_desired(state.store, budget(max_unavailable=1), pods) == (2, 1)
    assert expected_and_desired(state.store, budget(max_unavailable="100%"), pods) == (2, 0)


def test_status_counts_healthy_pods_and_allowed_disruptions() -> None:
    _, state = settled(DATA / "drained.yaml")
    pdb = state.store.get(ObjectKey("poddisruptionbudgets.policy", "default", "web"))
    assert isinstance(pdb, PodDisruptionBudget)
    s = pdb.status
    assert (s.expected_pods, s.desired_healthy, s.current_healthy, s.disruptions_allowed) == (2, 1, 2, 1)
    assert s.observed_generation == pdb.metadata.generation
    assert [(c.type, c.status, c.reason) for c in s.conditions] == [("DisruptionAllowed", "True", "SufficientPods")]


def test_disrupted_pods_expire_after_the_deletion_timeout() -> None:
    _, state = settled(DATA / "drained.yaml")
    pods = [p for p in state.store.list("pods") if isinstance(p, Pod)]
    pdb = state.store.get(ObjectKey("poddisruptionbudgets.policy", "default", "web"))
    assert isinstance(pdb, PodDisruptionBudget)
    name = pods[0].metadata.name
    marked = attrs.evolve(pdb, status=attrs.evolve(pdb.status, disrupted_pods={name: 100}))
    kept, recheck = disrupted_pods(marked, pods, now=150, timeout=120)
    assert kept == {name: 100} and recheck == 220 and healthy(pods, kept) == 1
    expired, none = disrupted_pods(marked, pods, now=221, timeout=120)
    assert expired == {} and none is None and healthy(pods, expired) == 2
