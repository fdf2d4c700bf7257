"""An operator with a cache of its own (`kubeprop.model.controllers.processes`) under the engines'
assumptions: its actions' footprints are sound (independent actions commute, neither enabling nor
disabling the other), the enabled-actions cache answers as `actions` does and its `DEPS` cover what
the keys read, and partial-order reduction reaches the states and verdicts of the full search.

The scenario is trial21's recycler (tests/model/data/own_cache) with a fault of every kind the
operator's process takes part in: its crash and restart, a crash within its reconcile, a dropped
watch of its own cache, a failed request of its own."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from commuting import assert_commute, independent_pairs
from random_runs import plain_actions, random_run_states
from user_modules import user_folder

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.enabled_reads import changes
from kubeprop.model.cluster.footprint import Footprints
from kubeprop.model.cluster.incremental import EnabledCache
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.bfs import Bounds, bfs
from kubeprop.properties.explore.engine import allow
from kubeprop.properties.explore.por import reduced_bfs, reduced_bfs_steps
from kubeprop.properties.registry import select

DATA = Path(__file__).parents[1] / "data" / "own_cache"
OPERATOR = "operator/recycler"


@pytest.fixture(autouse=True)
def recycler_on_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with user_folder(monkeypatch, DATA):
        yield


def _model(parameters: dict[str, object] | None = None) -> ClusterModel:
    return build_model(load_scenario(DATA / "scenario-faults.yaml"), parameters=parameters)


def _mine(act: Action) -> bool:
    """An action of the operator's process: its deliveries, relists, reconciles, faults."""
    return OPERATOR in repr(act) or "'recycler'" in repr(act)


@pytest.mark.parametrize("parameters", [{}, {"instantCaches": True}])
def test_independent_actions_of_the_operator_commute(parameters: dict[str, object]) -> None:
    model = _model(parameters or None)
    footprints, rng = Footprints(model), random.Random(7)
    checked = mine = 0
    for state in random_run_states(model, rng, runs=5, length=40):
        pairs = independent_pairs(footprints, actions(model, state))
        ours = [p for p in pairs if any(_mine(a) for a in p)]
        mine += assert_commute(model, state, rng.sample(ours, min(4, len(ours))))
        checked += assert_commute(model, state, rng.sample(pairs, min(3, len(pairs))))
    assert mine > 10 and checked > 20


def test_the_enabled_cache_answers_like_actions() -> None:
    model = _model()
    cache, rng = EnabledCache(model), random.Random(3)
    seen_mine = 0
    for _ in range(5):
        state = initial_state(model)
        for _ in range(50):
            enabled = plain_actions(model, state)
            assert cache.actions(state) == enabled
            seen_mine += sum(1 for a in enabled if _mine(a))
            if not enabled:
                break
            state = step(model, state, enabled[rng.randrange(len(enabled))])
    assert seen_mine > 50


def test_deps_cover_what_each_key_reads() -> None:
    model = _model()
    cache, rng = EnabledCache(model), random.Random(6)
    states = list(random_run_states(model, rng, runs=4, length=40))
    pairs = list(itertools.pairwise(states)) + [(rng.choice(states), rng.choice(states)) for _ in states]
    for before, after in pairs:
        changed = changes(before, after)
        for part in cache.parts:
            if part.deps is None or not part.deps.isdisjoint(changed):
                continue
            key_before = part.key_fn(model, before, *part.args)  # type: ignore[misc]
            key_after = part.key_fn(model, after, *part.args)  # type: ignore[misc]
            assert key_before is not None and key_after is not None
            assert all(a is b or (a == b and isinstance(a, bool | int)) or type(a) is object
                       for a, b in zip(key_before, key_after, strict=True)), part.enabled_fn


OPERATOR_RACE = allow("Deliver", "Reconcile", "CrashComponent", "RestartComponent", "CrashDuringReconcile",
                      "DropWatch", "Relist", "FailNextRequest")
"""The control plane's informers and controllers with the faults of processes, watches and requests."""


def _full(model: ClusterModel, start: ClusterState, depth: int) -> set[ClusterState]:
    seen, layer = {start}, [start]
    for _ in range(depth):
        following = []
        for state in layer:
            for act in actions(model, state):
                if OPERATOR_RACE(act):
                    nxt = step(model, state, act)
                    if nxt not in seen:
                        seen.add(nxt)
                        following.append(nxt)
        layer = following
    return seen


def _reduced(model: ClusterModel, start: ClusterState, depth: int) -> set[ClusterState]:
    seen: set[ClusterState] = set()
    gen = reduced_bfs_steps(model, start, (), Bounds(max_depth=depth), OPERATOR_RACE, visit=seen.add)
    next(gen)
    with pytest.raises(StopIteration):
        gen.send(None)
    return seen


def _started(model: ClusterModel) -> ClusterState:
    """A state where the operator has work: the fair run up to the recycler's first pending
    delivery of a pod db-0 that runs (so its cache, its queue and its faults all take part)."""
    state = initial_state(model)
    for _ in range(200):
        enabled = actions(model, state)
        if any(getattr(a, "component", "") == OPERATOR and type(a).__name__ == "Deliver" for a in enabled) and any(
                type(a).__name__ == "SyncPodStatus" for a in enabled):
            return state
        state = step(model, state, enabled[0])
    raise AssertionError("the operator never had a delivery pending")


def test_partial_order_reduction_reaches_the_same_states() -> None:
    model = _model()
    start = _started(model)
    full = _full(model, start, 3)
    assert any(OPERATOR not in s.informers for s in full)  # (its crash is among them)
    assert _reduced(model, start, 3) == full


@pytest.mark.slow
def test_partial_order_reduction_gives_every_property_the_same_verdict() -> None:
    model = _model()
    start = _started(model)
    import recycler_properties  # noqa: F401  (the scenario's property, registered on import)

    for prop in select(["fresh-db-pods-not-deleted", "one-running-pod-per-identity", "resource-versions-monotonic"]):
        full = bfs(model, start, [prop], Bounds(max_depth=3), action_filter=OPERATOR_RACE)
        reduced = reduced_bfs(model, start, [prop], Bounds(max_depth=3), action_filter=OPERATOR_RACE)
        assert (full.violation is None) == (reduced.violation is None), prop.name
        if full.violation is None:
            assert reduced.stats.distinct == full.stats.distinct, prop.name
