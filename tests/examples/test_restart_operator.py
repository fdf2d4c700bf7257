"""The restart operator example (examples/restart_operator): a user's controller that counts
restarts from the stops it happens to see (edge-triggered), so a restart it never saw stopped is
never counted. The expected run is clean; a restart before the operator saw the container stopped
is driven by hand; the default strategy finds it from the initial state; the level-triggered fix
counts it."""

from __future__ import annotations

from pathlib import Path

import pytest
from user_modules import assert_fix_clean, assert_found_from_initial_state, example_model, user_folder_fixture

from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.cluster.compose import initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.kubelet.component import StartPod
from kubeprop.model.state.actions import CrashContainer
from kubeprop.model.state.cluster import ClusterState

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "restart_operator"
PROPERTY = "restarts-counted"

example_on_path = user_folder_fixture(EXAMPLE)
"""The example folder on the import path, and the registry restored afterwards (importing the
properties module registers its property)."""


def _counted(state: ClusterState) -> tuple[str | None, int]:
    """The pod's annotation and its containers' restart count."""
    from restart_operator import RESTARTS, restart_count

    pod = state.store.get(ObjectKey("pods", "default", "web"))
    assert isinstance(pod, Pod)
    return pod.metadata.annotations.get(RESTARTS), restart_count(pod)


@pytest.mark.parametrize("fixed", [False, True], ids=["first-version", "fixed"])
def test_the_expected_run_has_nothing_to_count(fixed: bool) -> None:
    from restart_properties import restarts_counted

    model = example_model(EXAMPLE, fixed)
    done = settle(model, initial_state(model))
    assert not done.exhausted
    assert _counted(done.state) == (None, 0)
    assert restarts_counted(model, done.state) is None


@pytest.mark.parametrize(("fixed", "counted"), [(False, None), (True, "1")], ids=["first-version", "fixed"])
def test_a_restart_before_the_operator_saw_the_container_stopped(fixed: bool, counted: str | None) -> None:
    """The container crashes right after it started, before the kubelet reported it running; the
    kubelet restarts it, and the operator sees the pod running with one restart."""
    model = example_model(EXAMPLE, fixed)
    state = initial_state(model)
    for act in settle(model, state).trace:
        state = step(model, state, act)
        if isinstance(act, StartPod):
            break
    else:
        raise AssertionError("the pod never started")
    state = step(model, state, CrashContainer("worker-1", "default/web", "web"))
    done = settle(model, state)
    assert not done.exhausted
    assert Reconcile("restarts", "default/web") in done.trace
    assert _counted(done.state) == (counted, 1)


def test_the_default_strategy_finds_the_uncounted_restart_from_the_initial_state() -> None:
    assert_found_from_initial_state(EXAMPLE, PROPERTY)


@pytest.mark.slow
def test_the_fixed_operator_is_clean_at_the_same_budget() -> None:
    """`slow` (10 s of budget): the default run checks the same fix through docs/controllers.md, whose
    `kubeprop check examples/restart_operator/scenario-fixed.yaml --budget 10` must exit 0 (every
    property clean, this one included: tests/docs)."""
    assert_fix_clean(EXAMPLE, PROPERTY)
