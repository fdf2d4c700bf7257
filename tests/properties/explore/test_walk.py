"""Swarm random walks find the catalogue variants at small bounds, nothing on the correct model,
and report the same (shrunk) violation for a seed whatever the worker count."""

from __future__ import annotations

import attrs
import pytest
from engine_cases import CASES, DATA, assert_finds, case_setup

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import run
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.explore.walk import Walker, run_walks, walk_once

SHORTEST = {"rs-no-expectations": 5, "endpoints-terminating": 4, "dual-scheduler": 8}
"""The shortest trace of each case (tests/support/engine_cases.py), which delta debugging reaches."""


def setup(variant: str, case: str, **overrides: object) -> tuple[ClusterModel, ClusterState, EngineConfig]:
    return case_setup(variant, case, EngineConfig(seed=3, runs=300, workers=1, budget_seconds=None), **overrides)


@pytest.mark.parametrize("case", list(CASES))
def test_finds_variant_and_nothing_on_correct_model(case: str) -> None:
    model, start, config = setup(case, case)
    found = run_walks(model, start, config)
    assert_finds(case, model, start, found)
    assert len(found.trace) == SHORTEST[case]  # delta debugging reached the shortest trace here
    assert found.stats.shrunk_from is not None and found.stats.shrunk_from >= len(found.trace)

    model, start, config = setup("correct", case)
    clean = run_walks(model, start, config)
    assert (clean.exit_reason, clean.violation, clean.stats.runs) == ("runs-done", None, 300)


def test_same_seed_same_result_with_one_or_two_workers() -> None:
    model, start, config = setup("dual-scheduler", "dual-scheduler")
    one = run_walks(model, start, config)
    again = run_walks(model, start, config)
    two = run_walks(model, start, attrs.evolve(config, workers=2))
    for other in (again, two):
        assert (other.violation, other.trace, other.stats.note) == (one.violation, one.trace, one.stats.note)
    other_seed = run_walks(model, start, attrs.evolve(config, seed=4))
    assert other_seed.stats.note != one.stats.note


def test_walk_depends_only_on_seed_and_index() -> None:
    model, start, config = setup("correct", "dual-scheduler", swarm=True)
    walker = Walker(model, start, config, config.safety(), ())
    first, _ = walk_once(walker, 7)
    assert walk_once(walker, 7)[0] == first
    kinds = {walk_once(walker, i)[0].kinds for i in range(12)}
    assert len(kinds) > 1  # swarm: walks enable different subsets of action kinds
    everything = Walker(model, start, attrs.evolve(config, swarm=False), config.safety(), ())
    assert walk_once(everything, 7)[0].kinds == ("*",)


def test_convergence_checked_at_the_end_of_a_walk() -> None:
    # tight has room for one of the ReplicaSet's two pods: it can never become ready.
    model = build_model(load_scenario(DATA / "tight.yaml"))
    config = EngineConfig(seed=1, max_depth=5, properties=("workloads-ready",), runs=5, workers=1)
    result = run_walks(model, initial_state(model), config)
    assert result.violation is not None and result.violation.property == "workloads-ready"
    run(model, initial_state(model), result.trace)  # a replayable trace
    assert type(result.trace[-1]).__name__ == "Quiesce"


def test_budget_and_run_count() -> None:
    model, start, config = setup("correct", "rs-no-expectations")
    assert run_walks(model, start, attrs.evolve(config, budget_seconds=0.0)).exit_reason == \
        "time-bound"
    capped = run_walks(model, start, attrs.evolve(config, runs=10))
    assert (capped.exit_reason, capped.stats.runs) == ("runs-done", 10)


def test_unpicklable_filter_is_refused_for_several_workers() -> None:
    model, start, config = setup("correct", "rs-no-expectations")
    with pytest.raises(ValueError, match="cannot be sent to a worker process"):
        run_walks(model, start, attrs.evolve(config, workers=2, action_filter=lambda a: True))


def test_spawned_workers_rebuild_the_model() -> None:
    model, start, config = setup("rs-no-expectations", "rs-no-expectations")
    here = run_walks(model, start, config)
    spawned = run_walks(model, start, attrs.evolve(config, workers=2, start_method="spawn"))
    assert (spawned.violation, spawned.trace, spawned.stats.note) == (here.violation, here.trace, here.stats.note)


def test_walks_go_on_where_their_kinds_run_out() -> None:
    # Every object comes from the workload: the start enables only `UserStep` and `Quiesce`, and each
    # later step needs another kind (`Deliver`, `Reconcile`, `Bind`, …). A walk whose swarm omits the
    # kind its next step needs takes the fair run's move there and goes on; it used to end
    # (2.5 steps a run on the trial's mesh scenario, under 2 here).
    model = build_model(load_scenario(DATA.parent / "exits" / "migrate-then-rollout.yaml"))
    config = EngineConfig(seed=0, runs=6, max_depth=20, workers=1, budget_seconds=None, long_runs=False,
                          convergence=False, properties=("workload-steps-succeed",))
    walker = Walker(model, initial_state(model), config, config.safety(), ())
    outcomes = [walk_once(walker, i)[0] for i in range(6)]
    assert all(len(o.trace) == 20 for o in outcomes)  # every walk runs its full length
    assert any(o.fair for o in outcomes) and any("UserStep" not in o.kinds for o in outcomes)
    assert [walk_once(walker, i)[0] for i in range(6)] == outcomes  # the same seed, the same walks
    result = run_walks(model, initial_state(model), config)
    assert (result.exit_reason, result.stats.runs, result.stats.steps) == ("runs-done", 6, 120)
