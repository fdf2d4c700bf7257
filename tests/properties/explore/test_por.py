"""Partial-order reduction is sound: on small scenarios the full and the reduced breadth-first
searches reach the same states and give every property the same verdict, and the reduced one
takes fewer transitions where actions are independent."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.bfs import Bounds, bfs
from kubeprop.properties.explore.catalogue import DUAL_SCHEDULER, REPLICASET_RACE
from kubeprop.properties.explore.engine import ActionFilter, EngineConfig, allow, run_bfs
from kubeprop.properties.explore.por import reduced_bfs, reduced_bfs_steps
from kubeprop.properties.registry import select

DATA = Path(__file__).parents[2] / "model" / "data" / "variants"

# (scenario, variant, parameters, filter, depth)
CASES: dict[str, tuple[str, str, dict[str, object], ActionFilter | None, int]] = {
    "replicaset race": ("web", "rs-no-expectations", {"instantCaches": False}, REPLICASET_RACE, 7),
    "dual scheduler": ("tight", "dual-scheduler", {}, DUAL_SCHEDULER, 9),
    "database, every action": ("db", "correct", {}, None, 4),
    "web, every action": ("web", "correct", {"instantCaches": True}, None, 4),
    "partitioned database": ("db", "sts-split-brain", {"instantCaches": True},
                             allow("Partition", "Reconcile", "Schedule", "Bind", "StartPod", "Deliver"), 4),
}


def full_states(model: ClusterModel, start: ClusterState, flt: ActionFilter | None, depth: int) -> set[ClusterState]:
    """Every state within `depth` actions of `start` (a plain breadth-first search)."""
    seen, layer = {start}, [start]
    for _ in range(depth):
        following = []
        for state in layer:
            for act in actions(model, state):
                if flt is None or flt(act):
                    nxt = step(model, state, act)
                    if nxt not in seen:
                        seen.add(nxt)
                        following.append(nxt)
        layer = following
    return seen


def reduced_states(model: ClusterModel, start: ClusterState, flt: ActionFilter | None, depth: int
                   ) -> set[ClusterState]:
    seen: set[ClusterState] = set()
    gen = reduced_bfs_steps(model, start, (), Bounds(max_depth=depth), flt, visit=seen.add)
    next(gen)
    with pytest.raises(StopIteration):
        gen.send(None)
    return seen


@pytest.mark.parametrize("case", list(CASES))
def test_reduced_search_reaches_the_same_states(case: str) -> None:
    scenario, variant, parameters, flt, depth = CASES[case]
    model = build_model(load_scenario(DATA / f"{scenario}.yaml"), variant=variant, parameters=parameters or None)
    start = initial_state(model)
    assert reduced_states(model, start, flt, depth) == full_states(model, start, flt, depth)


@pytest.mark.parametrize("case", ["replicaset race", "dual scheduler", "partitioned database"])
def test_every_property_gets_the_same_verdict(case: str) -> None:
    scenario, variant, parameters, flt, depth = CASES[case]
    model = build_model(load_scenario(DATA / f"{scenario}.yaml"), variant=variant, parameters=parameters or None)
    start = initial_state(model)
    for prop in select(kind="safety"):
        full = bfs(model, start, [prop], Bounds(max_depth=depth), action_filter=flt)
        reduced = reduced_bfs(model, start, [prop], Bounds(max_depth=depth), action_filter=flt)
        assert (full.violation is None) == (reduced.violation is None), prop.name
        assert reduced.stats.distinct <= full.stats.distinct
        if full.violation is None:
            assert reduced.stats.distinct == full.stats.distinct and reduced.exit_reason == full.exit_reason


def test_reduction_takes_fewer_transitions_and_finds_the_same_bug() -> None:
    model = build_model(load_scenario(DATA / "tight.yaml"), variant="correct")
    start = initial_state(model)
    config = EngineConfig(max_depth=30, action_filter=DUAL_SCHEDULER, budget_seconds=None,
                          properties=("node-not-overcommitted",))
    full = run_bfs(model, start, attrs.evolve(config, reduction=False))
    reduced = run_bfs(model, start, config)
    assert (full.exit_reason, reduced.exit_reason) == ("exhausted", "exhausted")
    assert reduced.stats.distinct == full.stats.distinct and reduced.stats.steps < full.stats.steps
    buggy = build_model(load_scenario(DATA / "tight.yaml"), variant="dual-scheduler")
    found = run_bfs(buggy, initial_state(buggy), config)
    assert found.violation is not None and found.violation.property == "node-not-overcommitted"
