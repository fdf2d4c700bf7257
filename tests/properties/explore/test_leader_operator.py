"""A user's first operator (data/leader, from a user trial): it labels one Ready pod of each elected
StatefulSet leader, keyed by pod and reading its cache. Its double-leader race needs the controller
manager down while both pods of a Parallel StatefulSet become Ready, a restart (the relist queues
both pod keys) and the second key reconciled before the first key's patch came back to the cache.

The default strategy finds it from the initial state within a step budget (one lane, seed 0: the
same on any machine; the wall-clock budget only bounds a regression): the perturbation engine
reverses the race between the operator's write coming back to its cache and its next reconcile
(`perturb._Perturb._stale_reads`) on the run where the controller manager crashed and restarted.
The fixed operator (keyed by StatefulSet, the lowest ordinal leads, patches carry the
resourceVersion) is clean on the whole perturbation search (every run it places, to its end)."""

from __future__ import annotations

from pathlib import Path

from user_modules import user_folder_fixture

from kubeprop.counterexamples.api import check
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import run
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.explore.engine import EngineConfig, ExitReason
from kubeprop.properties.explore.perturb import run_perturb
from kubeprop.properties.modules import scenario_properties
from kubeprop.properties.registry import select

LEADER = Path(__file__).parent / "data" / "leader"
PROPERTIES = ("at-most-one-leader", "ready-statefulset-has-leader")

leader_on_path = user_folder_fixture(LEADER)
"""The fixture's folder on the import path (as `PYTHONPATH=.` puts it there), the registry restored
afterwards."""

STEP_BUDGET = 7_000
"""The portfolio's steps (one lane, seed 0) within which it must find the double leader: measured
4,596 (perturb's 2,347: the controller manager crashed after a write, restarted once both pods were
Ready, and not observing the first leader patch); 33,489 before perturb reversed such races on
writes that are not a perturbation's effects (then `around` found it, two deviations, after 10,452
of its own steps)."""

def test_the_default_strategy_finds_the_double_leader_from_the_initial_state() -> None:
    report = check(LEADER / "scenario.yaml", budget=120.0, config=EngineConfig(shrink=False, workers=1))
    assert report.violation is not None, report.exit_reason
    assert report.violation.property == "at-most-one-leader", report.violation
    assert report.stats is not None and report.stats.steps <= STEP_BUDGET, report.stats
    assert report.stats.note.startswith("found by perturb"), report.stats.note
    model = build_model(load_scenario(LEADER / "scenario.yaml"))
    run(model, initial_state(model), report.trace)  # a replayable trace from the initial state


def test_the_fixed_operator_is_clean_on_the_whole_perturbation_search() -> None:
    scenario = load_scenario(LEADER / "scenario-fixed.yaml")
    model = build_model(scenario)
    chosen = select(list(PROPERTIES), extra=scenario_properties(scenario))
    config = EngineConfig(properties=chosen, budget_seconds=None, shrink=False)
    result = run_perturb(model, initial_state(model), config)  # to its end: 318 runs, 5,284 steps
    assert result.violation is None, (result.violation, result.trace)
    assert result.exit_reason is ExitReason.RUNS_DONE, result.stats
