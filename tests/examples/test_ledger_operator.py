"""The ledger operator example (examples/ledger_operator): a user's controller that writes a whole
ConfigMap back without its resourceVersion, so a write made from a stale cache silently overwrites
a newer one. The expected run is clean; the race is driven by hand; the default strategy finds it
from the scenario's initial state; with the resourceVersion on the write (the fix) the stale write
is refused with 409 and retried."""

from __future__ import annotations

from pathlib import Path

import pytest
from user_modules import assert_fix_clean, assert_found_from_initial_state, example_model, user_folder_fixture

from kubeprop.model.api.objects import ConfigMap, ObjectKey
from kubeprop.model.cluster.compose import actions, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.state.actions import Deliver
from kubeprop.model.state.cluster import ClusterState

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ledger_operator"
PROPERTY = "recorded-pods-in-ledger"

example_on_path = user_folder_fixture(EXAMPLE)
"""The example folder on the import path, and the registry restored afterwards (importing the
properties module registers its property)."""


def _ledger(state: ClusterState) -> list[str]:
    ledger = state.store.get(ObjectKey("configmaps", "default", "ledger"))
    assert isinstance(ledger, ConfigMap)
    return sorted(ledger.data)


@pytest.mark.parametrize("fixed", [False, True], ids=["first-version", "fixed"])
def test_the_expected_run_records_both_pods(fixed: bool) -> None:
    from ledger_properties import recorded_pods_in_ledger

    model = example_model(EXAMPLE, fixed)
    done = settle(model, initial_state(model))
    assert not done.exhausted
    assert _ledger(done.state) == ["report-a", "report-b"]
    assert recorded_pods_in_ledger(model, done.state) is None


@pytest.mark.parametrize(("fixed", "ledger"), [(False, ["report-b"]), (True, ["report-a"])],
                         ids=["first-version", "fixed"])
def test_a_reconcile_before_the_ledger_reaches_the_cache(fixed: bool, ledger: list[str]) -> None:
    """The race by hand: both pods have finished; right after report-a's entry is written,
    report-b is reconciled while the controller manager's ConfigMap cache has not seen the ledger
    with report-a yet. The first version's write wins over report-a's entry; the fix's write is
    refused (409) and report-b is not marked."""
    model = example_model(EXAMPLE, fixed)
    state = initial_state(model)
    for act in settle(model, state).trace:  # the expected run up to report-a's entry
        state = step(model, state, act)
        if _ledger(state):
            break
    assert act == Reconcile("ledger", "default/report-a") and _ledger(state) == ["report-a"]
    assert Deliver("controller-manager", "configmaps", 15) in actions(model, state), \
        "the ledger's new version is not delivered yet"
    state = step(model, state, Reconcile("ledger", "default/report-b"))
    assert _ledger(state) == ledger
    marked = state.store.get(ObjectKey("pods", "default", "report-b"))
    assert marked is not None and ("example.com/recorded" in marked.metadata.annotations) is not fixed
    if fixed:  # refused, requeued: once the cache has caught up the retry records report-b
        done = settle(model, state)
        assert _ledger(done.state) == ["report-a", "report-b"]


def test_the_default_strategy_finds_the_lost_update_from_the_initial_state() -> None:
    assert_found_from_initial_state(EXAMPLE, PROPERTY)


@pytest.mark.slow
def test_the_fixed_operator_is_clean_at_the_same_budget() -> None:
    """`slow` (10 s of budget): the default run checks the same fix through docs/controllers.md, whose
    `kubeprop check examples/ledger_operator/scenario-fixed.yaml --budget 10` must exit 0 (every
    property clean, this one included: tests/docs)."""
    assert_fix_clean(EXAMPLE, PROPERTY)
