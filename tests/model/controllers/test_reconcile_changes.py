"""`base.reconcile_changes` (the clock guard's "does this reconcile change anything", stopping at the
first request that writes or consumes the armed failure) is its definition: the whole reconcile run
on a copy (`base._reconcile_now`) leaves a state other than the one it started from.

Over the states of breadth-first searches, every queued key, in the state and in copies with the
controller manager's request failure armed (500: nothing written; 504: written, the client sees a
failure), with etcd's quorum lost (every request fails with 500: a stutter when the key goes back
to its queue) and with a flood in progress. Stopping on a request that did not write (a failure, a
no-op) or not looking at the armed failure fails it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from breadth_first import searched

from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.controllers import base as controllers
from kubeprop.model.evolve import evolve
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ETCD_PREFIX, ClusterModel, ClusterState, is_up

DATA = Path(__file__).parents[1] / "data"
STRIDE = 6
"""Every so many searched states are asked (with their copies): the test stays cheap."""


def _copies(model: ClusterModel, state: ClusterState) -> list[ClusterState]:
    etcd = frozenset(f"{ETCD_PREFIX}{member}" for member in model.etcd_members)
    armed = state.armed_failures
    return [state, evolve(state, armed_failures=armed.set(CONTROLLER_MANAGER, 500)),
            evolve(state, armed_failures=armed.set(CONTROLLER_MANAGER, 504)), evolve(state, down=state.down | etcd)]


def _compare(model: ClusterModel, states: list[ClusterState]) -> Counter[bool]:
    counts = Counter[bool]()
    with memoised(model):  # (the store's objects interned: the comparisons stop at identity)
        for state in states:
            if not is_up(state, CONTROLLER_MANAGER):
                continue
            for name, key in controllers.queued(model, state):
                act = controllers.Reconcile(name, key)
                expected = controllers._reconcile_now(model, state, act, observed=False) != state
                assert controllers.reconcile_changes(model, state, act) == expected, (name, key)
                counts[expected] += 1
    return counts


@pytest.mark.parametrize(("path", "steps"), [(None, 0), (None, 60), (DATA / "variants" / "web.yaml", 0)])
def test_reconcile_changes_is_its_definition(path: Path | None, steps: int) -> None:
    model, states = searched(path, steps, 300)
    counts = _compare(model, [copy for state in states[::STRIDE] for copy in _copies(model, state)])
    assert counts[True] >= 100 and counts[False] >= 10, counts


def test_during_a_flood() -> None:
    """overload-max-inflight.yaml's states with a flood in progress: a request that loses the race
    for a seat fails with 429 and writes nothing."""
    model, states = searched(DATA / "variants" / "overload-max-inflight.yaml", 0, 600)
    counts = _compare(model, [state for state in states if state.overload is not None])
    assert counts[True] >= 10 and counts[False] >= 1, counts
