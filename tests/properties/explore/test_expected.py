"""The expected run computed once per check and shared (`expected.py`), in steps (seed 0, the same
on any machine): a member that takes it from there explores the same runs and finds the same
violation, its own steps fewer by the expected run's, which the portfolio counts once."""

from __future__ import annotations

import time
from pathlib import Path

import attrs
import pytest

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.explore.around import sliced_around_fair, sliced_fault_injection
from kubeprop.properties.explore.engine import EngineConfig, EngineResult, ExitReason, with_fair_length
from kubeprop.properties.explore.expected import NAME, compute
from kubeprop.properties.explore.perturb import sliced_perturb
from kubeprop.properties.explore.portfolio import run_portfolio
from kubeprop.properties.explore.slicing import Sliced

CATALOGUE = Path(__file__).parents[2] / "model" / "data" / "catalogue"


def _to_end(sliced: Sliced) -> EngineResult:
    result = sliced.run(None)
    assert result is not None
    return result


@pytest.mark.parametrize(("scenario", "variant", "on_it"), [
    ("db.yaml", "sts-split-brain", None), ("web.yaml", "endpoints-terminating", "endpoints-ready-pods")])
def test_a_member_given_the_expected_run_finds_the_same_in_fewer_steps(scenario: str, variant: str,
                                                                        on_it: str | None) -> None:
    """db.yaml's split brain is found past the expected run by every member (around 750 steps,
    perturb 120, faults 167, each 33 of them the expected run's); on web.yaml the expected run
    itself shows endpoints-terminating, so a member given it finds it at once."""
    model = build_model(load_scenario(CATALOGUE / scenario), variant=variant)
    start = initial_state(model)
    config = EngineConfig(shrink=False, budget_seconds=120.0, workers=1)
    run = compute(model, start, config, None)
    assert run.complete and run.steps == len(run.states) - 1 + (run.after is not None)
    assert (run.found and run.found.property) == on_it
    shared = attrs.evolve(config, expected=run)
    for engine in (sliced_around_fair, sliced_perturb, sliced_fault_injection):
        alone = _to_end(engine(model, start, config))
        given = _to_end(engine(model, start, shared))
        assert (given.exit_reason, given.violation, given.trace, given.stats.note) == (
            alone.exit_reason, alone.violation, alone.trace, alone.stats.note), engine
        if engine is sliced_perturb:  # a held run retraces the expected run too, from there
            assert given.stats.steps + run.steps <= alone.stats.steps, (given.stats, alone.stats)
        else:
            assert given.stats.steps + run.steps == alone.stats.steps, (engine, given.stats, alone.stats)


def test_the_portfolio_computes_it_once_and_around_spends_its_first_turn_on_deviations() -> None:
    """FeastFlow's rs-no-expectations, one lane: `around` took the fair run's ~485 steps itself
    (three turns of 180) before its one-deviation layer found the bug 36 steps later, while
    `perturb`, `faults`, PCT and the walks took their turns (2,121 portfolio steps); now the
    expected run is the portfolio's `expected` part and `around` finds it in its first turn."""
    model = build_model(load_scenario(None), variant="rs-no-expectations")
    result = run_portfolio(model, initial_state(model), EngineConfig(workers=1, budget_seconds=120.0, shrink=False))
    assert result.violation is not None and result.violation.property == "replicaset-no-overcreation"
    parts = {p.engine: p for p in result.stats.parts}
    assert result.stats.note.startswith("found by around"), result.stats.note
    assert parts[NAME].stats.steps > 400 and parts[NAME].exit_reason == ExitReason.RUNS_DONE
    assert parts["around"].stats.steps <= 180  # its first turn
    assert result.stats.steps == sum(p.stats.steps for p in result.stats.parts)  # counted once
    assert [name for name, p in parts.items() if p.stats.steps > 0] == ["around", NAME]


def test_an_expected_run_longer_than_the_budget_is_cut_by_it() -> None:
    """FeastFlow's expected run (~485 steps and its convergence judgements) does not fit in
    0.05 s: the portfolio returns when the budget ends, its `expected` part `time-bound`
    (generous slack: not a timing target)."""
    model = build_model(load_scenario(None))
    began = time.perf_counter()
    result = run_portfolio(model, initial_state(model), EngineConfig(workers=2, budget_seconds=0.05))
    assert time.perf_counter() - began < 2.0
    assert result.violation is None and result.exit_reason == ExitReason.TIME_BOUND
    part = next(p for p in result.stats.parts if p.engine == NAME)
    assert part.exit_reason == ExitReason.TIME_BOUND and part.stats.steps < 485


@pytest.mark.parametrize("scenario", ["web.yaml", "db-failover.yaml", "shop.yaml"])
def test_its_length_is_the_fair_runs_that_pct_and_walks_fit_their_runs_to(scenario: str) -> None:
    model = build_model(load_scenario(CATALOGUE / scenario))
    start = initial_state(model)
    config = EngineConfig()
    run = compute(model, start, config, None)
    assert run.fair_length(config) == len(fair_run(model, start, config.settle_steps, config.settle_ticks).trace)
    assert with_fair_length(model, start, attrs.evolve(config, expected=run)).fair_length == run.fair_length(config)
