"""`EngineConfig.on_run` is told every run an engine finishes, and changes nothing of the search."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.explore.pct import run_pct
from kubeprop.properties.explore.stateful import find_with_hypothesis
from kubeprop.properties.explore.walk import run_walks
from kubeprop.properties.metrics import WorstFold, worst_case

WEB = Path(__file__).parents[2] / "model" / "data" / "catalogue" / "web.yaml"


@pytest.mark.parametrize("engine", [run_walks, run_pct, find_with_hypothesis])
def test_every_finished_run_is_observed_and_the_result_is_unchanged(engine: object) -> None:
    model = build_model(load_scenario(WEB))
    start = initial_state(model)
    seen: list[tuple[Action, ...]] = []
    config = EngineConfig(seed=2, runs=4, max_depth=12, workers=2, budget_seconds=120.0, convergence=False,
                          long_runs=False)
    watched = engine(model, start, attrs.evolve(config, on_run=seen.append))  # type: ignore[operator]
    plain = engine(model, start, config)  # type: ignore[operator]
    assert watched.exit_reason == plain.exit_reason == "runs-done"
    assert watched.stats.runs == plain.stats.runs and watched.stats.steps == plain.stats.steps
    assert len(seen) == watched.stats.runs and all(len(t) <= 12 for t in seen)


def test_the_fold_agrees_with_worst_case() -> None:
    model = build_model(load_scenario(WEB))
    start = initial_state(model)
    seen: list[tuple[Action, ...]] = []
    run_walks(model, start, EngineConfig(seed=5, runs=5, max_depth=30, workers=1, budget_seconds=120.0,
                                         on_run=seen.append))
    fold = WorstFold(model, start)
    for trace in seen:
        fold.add(trace)
    assert fold.runs == 5
    assert fold.worst() == worst_case(model, start, seen)
