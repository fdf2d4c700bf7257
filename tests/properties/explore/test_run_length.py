"""Long runs: odd-numbered walks and PCT runs are as long as the fair run and a quarter, even ones
`max_depth`; the fair run's length is computed once per model and start state."""

from __future__ import annotations

from pathlib import Path

import attrs

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.explore.engine import EngineConfig, allow, run_length, with_fair_length
from kubeprop.properties.explore.pct import run_pct
from kubeprop.properties.explore.walk import run_walks

WEB = Path(__file__).parents[2] / "model" / "data" / "catalogue" / "web.yaml"


def test_odd_runs_follow_the_fair_run() -> None:
    model = build_model(load_scenario(WEB))
    start = initial_state(model)
    config = with_fair_length(model, start, EngineConfig(max_depth=30))
    assert config.fair_length == len(fair_run(model, start).trace) > 30
    assert [run_length(config, i) for i in range(4)] == [30, round(1.25 * config.fair_length + 0.49)] * 2
    assert with_fair_length(model, start, EngineConfig(max_depth=30)) == config  # remembered, the same
    assert run_length(attrs.evolve(config, long_runs=False), 1) == 30
    assert run_length(attrs.evolve(config, fair_length=10), 1) == 30  # never shorter than max_depth
    filtered = with_fair_length(model, start, EngineConfig(max_depth=30, action_filter=allow("Reconcile")))
    assert filtered.fair_length is None and run_length(filtered, 1) == 30


def test_long_runs_are_deterministic_and_reach_past_max_depth() -> None:
    model = build_model(load_scenario(WEB))
    start = initial_state(model)
    config = EngineConfig(max_depth=20, runs=4, workers=1, budget_seconds=None, convergence=False, shrink=False,
                          swarm=False)
    for engine in (run_pct, run_walks):
        one, two = engine(model, start, config), engine(model, start, config)
        assert one.exit_reason == two.exit_reason == "runs-done" and one.stats.steps == two.stats.steps
        assert one.stats.steps > 4 * 20  # the odd runs went on past max_depth
        short = engine(model, start, attrs.evolve(config, long_runs=False))
        assert short.stats.steps <= 4 * 20
