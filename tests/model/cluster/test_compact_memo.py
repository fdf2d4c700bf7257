"""`compact` with the lowest revision the live caches need remembered by the caches' identity
(`cluster._LOWEST`): it compacts every state as the direct definition does — the lowest revision
of a non-stale cache of a component that is up, else the store's revision — whatever states were
compacted in between (the memo's entries those of other states), and with other components down."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.informers import mark_stale
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState, compact, is_up

DATA = Path(__file__).parents[1] / "data"


def direct(model: ClusterModel, state: ClusterState) -> ClusterState:
    """`compact` as defined: no memo."""
    revisions = [cache.revision for c, informer in state.informers.items() if is_up(state, c)
                 for cache in informer.resources.values() if not cache.stale]
    store = state.store.compact(min(revisions) if revisions else state.store.revision)
    return state if store is state.store else evolve(state, store=store)


def _reached(model: ClusterModel, seed: int, steps: int) -> tuple[list[ClusterState], random.Random]:
    """The states of a random run with faults, each also with its log as it was before the step's
    compaction (the predecessor's log), and the generator, to go on drawing from."""
    rng = random.Random(seed)
    reached: list[ClusterState] = []
    state = initial_state(model)
    for _ in range(steps):
        enabled = actions(model, state)
        if not enabled:
            break
        before = state
        state = step(model, state, enabled[rng.randrange(len(enabled))])
        reached += [state, evolve(state, store=evolve(state.store, events=before.store.events,
                                                      compacted=before.store.compacted))]
    return reached, rng


@pytest.mark.parametrize("scenario", [None, DATA / "catalogue" / "web.yaml"])
def test_compact_is_the_direct_definition(scenario: Path | None) -> None:
    """Random runs with faults (crashes put components down, watch faults make caches stale);
    each state reached, and each state with its log as it was before the step's compaction
    (the predecessor's log), compacted in random order against the direct definition."""
    model = build_model(load_scenario(scenario))
    reached, rng = _reached(model, seed=3, steps=400)
    assert any(state.down for state in reached), "no component went down: the runs test too little"
    assert any(cache.stale for state in reached for informer in state.informers.values()
               for cache in informer.resources.values()), "no cache went stale: the runs test too little"
    rng.shuffle(reached)
    differ = 0
    for state in reached[:200]:
        # the same caches with every component down but one, asked right after: a key without what
        # is down would answer for the state before
        others = frozenset(state.informers)
        for variant in (state, *(evolve(state, down=state.down | (others - {c})) for c in others)):
            assert compact(model, variant) == direct(model, variant)
            differ += compact(model, variant).store.events != compact(model, state).store.events
    assert differ, "no component down made a difference: the runs test too little"


@pytest.mark.parametrize("scenario", [None, DATA / "catalogue" / "web.yaml"])
def test_held_back_by_any_cache(scenario: Path | None) -> None:
    """The shortcut of `compact` (`cluster._held_back`: the cache that needed the lowest revision
    last time, asked first) against the direct definition, whichever cache it names: every cache of
    each state reached — stale ones, ones past the log's compacted revision, ones of a component
    that is down — with the state's own log and its predecessor's (a state names its caches, so
    the shortcut is asked about each through `_HOLDER`, which a run sets to the cache it met)."""
    from kubeprop.model.state import cluster

    model = build_model(load_scenario(scenario))
    reached, _ = _reached(model, seed=5, steps=300)
    kinds = set()
    for state in reached[::3]:
        behind = state  # every cache at or below the compacted revision stale: the log is held back no more
        for c, informer in state.informers.items():
            behind = mark_stale(behind, c, [r for r, cache in informer.resources.items()
                                            if cache.revision <= state.store.compacted])
        for c, informer in state.informers.items():
            for resource in informer.resources:
                for variant in (state, evolve(state, down=state.down | {c}), behind):
                    cluster._HOLDER[0] = (c, resource)
                    assert compact(model, variant) == direct(model, variant)
                    cache = variant.informers[c].resources[resource]
                    kinds.add((cache.stale, cache.revision <= variant.store.compacted, is_up(variant, c)))
    # (stale, at or below the compacted revision, up): the shortcut taken, and each way it must not be
    assert {(False, True, True), (True, True, True), (False, False, True), (False, True, False)} <= kinds, kinds
