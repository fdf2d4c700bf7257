"""`compact` with the lowest revision the live caches need remembered by the caches' identity
(`cluster._LOWEST`): it compacts every state as the direct definition does — the lowest revision
of a non-stale cache of a component that is up, else the store's revision — whatever states were
compacted in between (the memo's entries those of other states), and with other components down."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
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


@pytest.mark.parametrize("scenario", [None, DATA / "catalogue" / "web.yaml"])
def test_compact_is_the_direct_definition(scenario: Path | None) -> None:
    """Random runs with faults (crashes put components down, watch faults make caches stale);
    each state reached, and each state with its log as it was before the step's compaction
    (the predecessor's log), compacted in random order against the direct definition."""
    model = build_model(load_scenario(scenario))
    rng = random.Random(3)
    reached: list[ClusterState] = []
    state = initial_state(model)
    for _ in range(400):
        enabled = actions(model, state)
        if not enabled:
            break
        before = state
        state = step(model, state, enabled[rng.randrange(len(enabled))])
        reached += [state, evolve(state, store=evolve(state.store, events=before.store.events,
                                                      compacted=before.store.compacted))]
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
