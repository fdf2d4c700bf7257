"""The default strategy and the hard budget: every engine returns within its budget (generous
slack: these are not timing targets), the portfolio reports what each engine did, and the same
seed gives the same report."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kubeprop.counterexamples.api import check
from kubeprop.properties.explore.engine import EngineConfig, ExitReason
from kubeprop.properties.explore.lanes import assign
from kubeprop.properties.explore.portfolio import MEMBERS
from kubeprop.properties.explore.runner import ENGINES

CATALOGUE = Path(__file__).parents[2] / "model" / "data" / "catalogue"
SLACK = 2.0
"""Seconds beyond the budget a run may take (one step of an engine, recording, a loaded machine)."""


@pytest.mark.parametrize("engine", ["portfolio", "around", "faults", "perturb", "pct", "bfs", "walk", "hypothesis"])
def test_every_engine_honours_the_budget(engine: str) -> None:
    assert engine in ENGINES
    began = time.perf_counter()
    report = check(None, engine=engine, budget=1.0, config=EngineConfig(workers=1))  # FeastFlow: never finished
    elapsed = time.perf_counter() - began
    assert report.violation is None and report.exit_reason == ExitReason.TIME_BOUND
    assert elapsed < 1.0 + SLACK, f"{engine} took {elapsed:.1f} s for a 1 s budget"
    assert report.stats is not None and report.stats.seconds < 1.0 + SLACK


def test_walks_and_hypothesis_keep_going_until_the_budget_unless_given_a_run_count() -> None:
    for engine in ("walk", "hypothesis", "pct"):
        until_budget = check(CATALOGUE / "tainted.yaml", engine=engine, budget=1.5,
                             config=EngineConfig(workers=1, max_depth=5))
        assert until_budget.exit_reason == ExitReason.TIME_BOUND, engine
        counted = check(CATALOGUE / "tainted.yaml", engine=engine, budget=60.0,
                        config=EngineConfig(workers=1, max_depth=5, runs=3), variant="correct")
        assert counted.exit_reason == ExitReason.RUNS_DONE and counted.stats.runs >= 3, engine


def test_the_portfolio_reports_each_engine() -> None:
    report = check(CATALOGUE / "web.yaml", budget=1.5)
    parts = report.stats.parts
    assert [p.engine for p in parts] == [m.name for m in MEMBERS] + ["expected"]  # the expected run, computed once
    lanes = assign(MEMBERS, len(report.stats.lanes))
    for lane in lanes:  # the members of one lane take turns: their seconds add up to at most the run's
        assert sum(parts[index].stats.seconds for index, _ in lane) <= report.stats.seconds + 0.1
    assert any(p.stats.steps > 0 for p in parts)


def test_same_seed_same_report() -> None:
    one = check(CATALOGUE / "web.yaml", variant="rs-no-expectations", budget=30.0, seed=3)
    two = check(CATALOGUE / "web.yaml", variant="rs-no-expectations", budget=30.0, seed=3)
    assert one.violation is not None
    assert (one.violation, one.trace, one.stats.note) == (two.violation, two.trace, two.stats.note)
    assert [(p.engine, p.exit_reason, p.stats.steps) for p in one.stats.parts] == [
        (p.engine, p.exit_reason, p.stats.steps) for p in two.stats.parts]


def test_cli_budget_bounds_the_whole_run(tmp_path: Path) -> None:
    from kubeprop.properties.cli.main import main

    began = time.perf_counter()
    code = main(["check", "--budget", "3", "--out", str(tmp_path)])  # FeastFlow, default strategy
    assert code == 0 and time.perf_counter() - began < 3.0 + SLACK


def test_process_age_counts_the_start_up_before_the_budget() -> None:
    from kubeprop.properties.explore.engine import process_age

    age = process_age()
    if Path("/proc/self/stat").exists():
        assert 0.0 < age < 24 * 3600  # this test process started before the test ran
    later = process_age()
    assert later >= age


def test_a_hypothesis_run_past_its_deadline_ends_within_a_step() -> None:
    """Regression: a batch running when the budget ended used to carry on, rule after no-op rule,
    example after example; now its first rule raises `BudgetSpent`, which Hypothesis lets through."""
    from hypothesis.stateful import run_state_machine_as_test

    from kubeprop.model.cluster.compose import build_model
    from kubeprop.model.scenario.load import load_scenario
    from kubeprop.properties.explore.stateful import BudgetSpent, Recorder, engine_settings, machine_for
    from kubeprop.properties.registry import select

    model = build_model(load_scenario(CATALOGUE / "tainted.yaml"))
    recorder = Recorder()
    machine = machine_for(model, tuple(select(kind="safety")), recorder=recorder, deadline=time.perf_counter())
    with pytest.raises(BudgetSpent):
        run_state_machine_as_test(machine, settings=engine_settings(EngineConfig(max_depth=50), 100))
    assert recorder.steps == 0 and recorder.runs == 1


def test_a_walk_past_its_deadline_stops_unjudged() -> None:
    from kubeprop.model.cluster.compose import build_model, initial_state
    from kubeprop.model.scenario.load import load_scenario
    from kubeprop.properties.explore.walk import Walker, walk_once

    model = build_model(load_scenario(CATALOGUE / "web.yaml"), variant="nodelifecycle-crash")
    config = EngineConfig(max_depth=50)
    walker = Walker(model, initial_state(model), config, config.safety(), config.convergence_properties())
    outcome, taken = walk_once(walker, 0, deadline=time.perf_counter())
    assert (outcome.trace, outcome.violation, taken) == ((), None, 0)
    full, _ = walk_once(walker, 0)
    assert len(full.trace) > 0


def test_a_portfolio_that_exhausts_the_state_space_found_nothing() -> None:
    """An exhausted BFS decides the run too; no time to find is reported then (the CLI printed
    "found after …, then shrunk" over a table where every property held)."""
    scenario = Path(__file__).parents[2] / "model" / "data" / "maintenance" / "refused.yaml"
    report = check(scenario, budget=60.0, properties=["node-not-overcommitted"], config=EngineConfig(workers=1))
    assert report.exit_reason == ExitReason.EXHAUSTED and report.violation is None
    assert report.found_after is None and report.stats is not None and report.stats.found_after is None
