"""Each cluster-level catalogue variant is found from the initial state of a scenario written as a
user writes it (tests/model/data/catalogue) by the default strategy, within its budget; the correct
model is clean on the same scenario at the same budget (slow: see benchmarks/bench_catalogue.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.counterexamples.api import check
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import run
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.explore.catalogue import USER_SCENARIOS
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.upstream_behaviour import match

CATALOGUE = Path(__file__).parents[2] / "model" / "data" / "catalogue"

REACH = USER_SCENARIOS
SLOW = {"watch-time-travel", "endpoints-stale-cache"}
"""Found within the budget, but after several seconds: in the slow suite."""


NOT_YET = {
    "nodelifecycle-crash": "web.yaml: needs two faults (a partition, then a controller-manager crash between marking "
                           "the node Unknown and marking its pods); the one-fault path the search found before was "
                           "the model bug fixed in nodelifecycle_health (nodesToRetry dropped on a lagging cache)",
}
"""Variants the default strategy does not find yet (issue 11): expected failures, in the slow suite."""


def _params() -> list[object]:
    out: list[object] = []
    for v in REACH:
        if v in NOT_YET:
            out.append(pytest.param(v, marks=(pytest.mark.slow, pytest.mark.xfail(strict=True, reason=NOT_YET[v]))))
        else:
            out.append(pytest.param(v, marks=pytest.mark.slow) if v in SLOW else v)
    return out


@pytest.mark.parametrize("variant", _params())
def test_default_strategy_finds_the_variant_from_the_initial_state(variant: str) -> None:
    scenario, caught_by = REACH[variant]
    report = check(CATALOGUE / f"{scenario}.yaml", variant=variant, budget=20.0,
                   config=EngineConfig(shrink=False))
    assert report.violation is not None, f"{variant}: {report.exit_reason}"
    assert report.violation.property in caught_by, report.violation
    model = build_model(load_scenario(CATALOGUE / f"{scenario}.yaml"), variant=variant)
    run(model, initial_state(model), report.trace)  # a replayable trace from the initial state


@pytest.mark.slow
@pytest.mark.parametrize("scenario", sorted({s for s, _ in REACH.values()}))
def test_correct_model_is_clean_on_the_catalogue_scenarios(scenario: str) -> None:
    """Clean but for known upstream behaviour (issue 12): on web-rollout the Deployment controller,
    its ReplicaSet cache behind, creates a second ReplicaSet at full size, as upstream does."""
    report = check(CATALOGUE / f"{scenario}.yaml", budget=10.0, all_discoveries=True)
    alarms = [d for d in report.found if match(report.model, d.violation, d.trace) is None]
    assert not alarms, f"{scenario}: {alarms[0].violation}\n{alarms[0].trace}"
