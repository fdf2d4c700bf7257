"""The catalogue variants the sampling engines' tests look for (tests/properties/explore/
test_walk.py, test_stateful.py): each case's model and start state, and the engine configuration
they share (one property, its action filter and depth); each engine adds its own seed and counts."""

from __future__ import annotations

from pathlib import Path

import attrs

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import run, settle
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.catalogue import DUAL_SCHEDULER, REPLICASET_RACE
from kubeprop.properties.explore.engine import Allow, EngineConfig, EngineResult, allow, match

DATA = Path(__file__).parents[1] / "model" / "data" / "variants"

ENDPOINTS = allow(match("UserStep", index=0), match("Reconcile", controller=("deployment", "replicaset", "endpoints")))


@attrs.frozen
class EngineCase:
    """A variant to find: the scenario (in tests/model/data/variants), its parameters, whether to
    settle first, the actions explored, the property the variant breaks, the run length."""

    scenario: str
    parameters: dict[str, object]
    settled: bool
    action_filter: Allow
    property: str
    depth: int


CASES: dict[str, EngineCase] = {
    "rs-no-expectations": EngineCase("web", {"instantCaches": False}, False, REPLICASET_RACE,
                                     "replicaset-no-overcreation", 12),
    "endpoints-terminating": EngineCase("web", {"instantCaches": True}, True, ENDPOINTS, "endpoints-ready-pods", 8),
    "dual-scheduler": EngineCase("tight", {}, False, DUAL_SCHEDULER, "node-not-overcommitted", 14),
}


def case_setup(variant: str, case: str, config: EngineConfig,
               **overrides: object) -> tuple[ClusterModel, ClusterState, EngineConfig]:
    """`case`'s scenario under `variant`, its start state, and `config` with the case's property,
    action filter and depth, then the test's `overrides`."""
    c = CASES[case]
    model = build_model(load_scenario(DATA / f"{c.scenario}.yaml"), variant=variant, parameters=c.parameters or None)
    start = initial_state(model)
    if c.settled:
        start = settle(model, start).state
    config = attrs.evolve(config, max_depth=c.depth, properties=(c.property,), action_filter=c.action_filter)
    return model, start, attrs.evolve(config, **overrides)


def assert_finds(case: str, model: ClusterModel, start: ClusterState, found: EngineResult) -> None:
    """`found` is a violation of the property `case` breaks, with a trace whose every action is
    enabled in turn from `start`."""
    assert found.exit_reason == "violation"
    assert found.violation is not None and found.violation.property == CASES[case].property
    run(model, start, found.trace)
