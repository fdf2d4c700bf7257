"""PCT priority runs: deterministic per seed and run index, honour a run count, find a depth-1 bug."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import run
from kubeprop.model.cluster.footprint import actor
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.explore.incremental import Checker
from kubeprop.properties.explore.pct import MAX_BUG_DEPTH, new_run, run_once, run_pct
from kubeprop.properties.explore.shrink import Judge

CATALOGUE = Path(__file__).parents[2] / "model" / "data" / "catalogue"


def test_runs_are_deterministic_per_seed_and_index() -> None:
    first, again, other = new_run(0, 4, 80), new_run(0, 4, 80), new_run(1, 4, 80)
    assert first.depth == 1 + 4 % MAX_BUG_DEPTH and len(first.change_points) == first.depth - 1
    assert first.change_points == again.change_points
    model = build_model(load_scenario(CATALOGUE / "web.yaml"))
    config = EngineConfig(max_depth=30)
    judge = Judge(model, initial_state(model), config.safety())
    one = run_once(model, initial_state(model), config, Checker(model, config.safety()), judge, 4)
    two = run_once(model, initial_state(model), config, Checker(model, config.safety()), judge, 4)
    assert one == two and len(one.trace) == 30
    assert other.change_points != first.change_points or other.rng.random() != first.rng.random()


def test_finds_rs_no_expectations_and_honours_a_run_count() -> None:
    model = build_model(load_scenario(CATALOGUE / "web.yaml"), variant="rs-no-expectations")
    config = EngineConfig(budget_seconds=60.0, runs=20, properties=("replicaset-no-overcreation",))
    found = run_pct(model, initial_state(model), config)
    assert found.violation is not None and found.engine == "pct"
    run(model, initial_state(model), found.trace)
    correct = build_model(load_scenario(CATALOGUE / "web.yaml"))
    clean = run_pct(correct, initial_state(correct), config)
    assert (clean.exit_reason, clean.violation, clean.stats.runs) == ("runs-done", None, 20)


def test_the_engine_reports_n_the_most_actors_one_run_gave_a_priority() -> None:
    """Trial 9: the bound 1 / (n · k^(d−1)) could not be checked without n. It is the most actors
    one run's scheduler gave a priority, each at least every actor that took a step in the run."""
    model = build_model(load_scenario(CATALOGUE / "web.yaml"))
    config = EngineConfig(max_depth=30, runs=3, long_runs=False)
    start = initial_state(model)
    judge = Judge(model, start, config.safety())
    outcomes = [run_once(model, start, config, Checker(model, config.safety()), judge, i) for i in range(3)]
    for outcome in outcomes:
        assert outcome.actors >= len({actor(a) for a in outcome.trace[:30]}) > 1
    result = run_pct(model, start, config)
    assert result.stats.runs == 3 and result.stats.actors == max(o.actors for o in outcomes)
