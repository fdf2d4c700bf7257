"""The migration operator example (examples/migration_operator): a user's controller with a
stale-cache bug, and a second version with a crash-between-two-writes bug. Each needs a race or
a fault — the expected run is clean — and the default strategy finds each from the scenario's
initial state; the fixed operator refuses the second create."""

from __future__ import annotations

from pathlib import Path

import pytest
from user_modules import example_model, user_folder_fixture

from kubeprop.counterexamples.api import check
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import run, settle
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import CrashDuringReconcile, Deliver, RestartComponent
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.engine import EngineConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "migration_operator"
PROPERTY = "one-migration-per-generation"

example_on_path = user_folder_fixture(EXAMPLE)
"""The example folder on the import path, and the registry restored afterwards (importing the
properties module registers its property)."""


def _model(fixed: bool) -> ClusterModel:
    return example_model(EXAMPLE, fixed)


def _migration_pods(state: ClusterState) -> list[str]:
    return sorted(p.metadata.name for p in state.store.list("pods", "default")
                  if "example.com/migration-of" in p.metadata.labels)


def _until_first_migration(model: ClusterModel) -> ClusterState:
    """The expected run up to the operator's reconcile that created the first migration pod."""
    state = initial_state(model)
    for act in settle(model, state).trace:
        state = step(model, state, act)
        if isinstance(act, Reconcile) and act.controller == "migrations" and _migration_pods(state):
            return state
    raise AssertionError("the operator never created a migration pod")


@pytest.mark.parametrize("fixed", [False, True], ids=["first-version", "fixed"])
def test_the_expected_run_creates_one_migration_pod(fixed: bool) -> None:
    model = _model(fixed)
    done = settle(model, initial_state(model))
    assert not done.exhausted
    assert len(_migration_pods(done.state)) == 1


@pytest.mark.parametrize(("fixed", "pods"), [(False, 2), (True, 1)], ids=["first-version", "fixed"])
def test_a_requeued_reconcile_before_the_pod_reaches_the_cache(fixed: bool, pods: int) -> None:
    """The race by hand: right after the create, the requeued reconcile runs while the controller
    manager's pod cache has not seen the new pod yet."""
    model = _model(fixed)
    state = _until_first_migration(model)
    enabled = actions(model, state)
    assert any(isinstance(a, Deliver) and a.component == "controller-manager" and a.resource == "pods"
               for a in enabled), "the new pod is not delivered yet"
    state = step(model, state, Reconcile("migrations", "default/orders"))
    assert len(_migration_pods(state)) == pods


def test_the_default_strategy_finds_the_bug_from_the_initial_state() -> None:
    report = check(EXAMPLE / "scenario.yaml", budget=20.0, config=EngineConfig(shrink=False))
    assert report.violation is not None, report.exit_reason
    assert report.violation.property == PROPERTY, report.violation
    model = _model(fixed=False)
    run(model, initial_state(model), report.trace)  # a replayable trace from the initial state


@pytest.mark.slow
def test_the_fixed_operator_is_clean_at_the_same_budget() -> None:
    """`slow` (10 s of budget): the default run checks the same fix through docs/controllers.md, whose
    `kubeprop check examples/migration_operator/scenario-fixed.yaml --budget 10` must exit 0 (every
    property clean, this one included: tests/docs)."""
    report = check(EXAMPLE / "scenario-fixed.yaml", [PROPERTY], budget=10.0)
    assert report.violation is None, report.violation


def test_the_second_version_never_migrates_after_a_crash_between_its_two_writes() -> None:
    """`MIGRATIONS_RECORDED` records the generation, then creates the pod: the controller manager
    dying between the two (the annotation written) leaves the generation unmigrated for good."""
    from migration_properties import ready_generations_migrate

    model = build_model(load_scenario(EXAMPLE / "scenario-recorded.yaml"))
    state = initial_state(model)
    assert ready_generations_migrate(model, settle(model, state).state) is None  # the expected run migrates
    for act in settle(model, state).trace:
        crash = CrashDuringReconcile("migrations", "default/orders", 1)
        if crash in actions(model, state):
            break
        state = step(model, state, act)
    else:
        raise AssertionError("the operator never sent its two requests")
    state = step(model, step(model, state, crash), RestartComponent("controller-manager"))
    done = settle(model, state)
    assert not done.exhausted
    assert _migration_pods(done.state) == []
    assert ready_generations_migrate(model, done.state) is not None


def test_the_default_strategy_finds_the_crash_between_the_two_writes() -> None:
    report = check(EXAMPLE / "scenario-recorded.yaml", budget=30.0, config=EngineConfig(shrink=False))
    assert report.violation is not None, report.exit_reason
    assert report.violation.property == "ready-generations-migrate", report.violation
    assert any(isinstance(a, CrashDuringReconcile) for a in report.trace)
