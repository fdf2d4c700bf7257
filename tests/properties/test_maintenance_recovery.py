"""A maintenance whose drain kubectl refuses (a bare pod; user trial 7's maint-bare scenario) leaves
its node cordoned until the operator ends it, a recovery of the environment
(`kubeprop.model.cluster.maintenance.EndMaintenance`). Convergence is judged where the environment
recovers, so the rollout that needs the node completes there: the correct model is clean. Before,
the maintenance was dropped without uncordoning and the default strategy reported
`deployments-complete` violated after 458 steps (one lane, seed 0)."""

from __future__ import annotations

from pathlib import Path

from kubeprop.counterexamples.api import check
from kubeprop.properties.explore.engine import EngineConfig

SCENARIO = Path(__file__).parents[1] / "model" / "data" / "maintenance" / "maint-bare.yaml"

CLEAN_STEPS = 4_000
"""The bounded search below takes 4,468 steps (measured; one lane, seed 0, every member run to its
end): ten times the 458 in which it found the false alarm."""


def test_the_default_strategy_is_clean_on_a_refused_maintenance_within_a_deterministic_bound() -> None:
    config = EngineConfig(shrink=False, workers=1, max_states=1_000, runs=5)
    report = check(SCENARIO, ["deployments-complete", "workloads-ready", "schedulable-pods-bound"], budget=None,
                   config=config)
    assert report.violation is None, (report.violation, report.trace)
    assert report.exit_reason == "runs-done" and report.stats is not None and report.stats.steps >= CLEAN_STEPS
