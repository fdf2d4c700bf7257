"""The clock guard's remembered verdicts (`queued_work._Verdicts`) are the verdicts: over every
state of a breadth-first search (siblings share most of their parts, so the memo answers across
states), each queued key's remembered verdict equals the reconcile run on a copy; and in states that
differ from one asked before only in what is down or in a flood. (Each would fail with that part
left out of the key, as with the store, the decision or the armed failure; the controller's memory
and the clock come with the decision — the decision memo's key — and a requeued key goes back
to its place in the sorted queue, so no search tells those apart: they are in the key to be sound.)"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from breadth_first import along_fair_run, breadth_first, searched

from kubeprop.model.cluster.compose import build_model
from kubeprop.model.controllers import base as controllers
from kubeprop.model.controllers import queued_work
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ETCD_PREFIX, ClusterModel, ClusterState, is_up

DATA = Path(__file__).parents[1] / "data"


def _compare(model: ClusterModel, states: list[ClusterState]) -> Counter[str]:
    """Ask a fresh memo for every queued key's verdict in every state, and the reconcile directly."""
    memo, counts = queued_work._Verdicts(), Counter[str]()
    for state in states:
        if not is_up(state, CONTROLLER_MANAGER):
            continue
        for name, key in controllers.queued(model, state):
            decision = controllers.decide(model, state, name, key)
            if not decision.requests:
                continue
            kept = len(memo.entries)
            remembered = memo.changes(model, state, name, key, state.controllers[name], decision)
            direct = queued_work._reconcile_changes(model, state, name, key)
            assert remembered == direct, (name, key)
            counts["hit" if len(memo.entries) == kept else "computed"] += 1
            counts[str(direct)] += 1
    return counts


def test_a_lost_quorum_is_no_remembered_change() -> None:
    """Each state of FeastFlow's search, then the same state with its etcd members down: the same
    decisions, store and memories, but every request fails with 500 and writes nothing, so a
    reconcile that changed the state may be a stutter now (what is down is part of the key)."""
    model, states = searched(None, 0, 300)
    etcd = frozenset(f"{ETCD_PREFIX}{member}" for member in model.etcd_members)
    counts = _compare(model, [s for state in states for s in (state, evolve(state, down=state.down | etcd))])
    assert counts["False"] >= 50 and counts["hit"] >= 50, counts


def test_a_flood_is_no_remembered_change() -> None:
    """Each state of overload-max-inflight.yaml's search with a flood in progress, after the same
    state without it: the same decisions and store, but a request of a client that loses the race
    for a seat (`Starve`) fails with 429 and writes nothing (the flood, and the informers it
    counts seats by, are in the key)."""
    model, states = searched(DATA / "variants" / "overload-max-inflight.yaml", 0, 600)
    flooded = [state for state in states if state.overload is not None]
    counts = _compare(model, [s for state in flooded for s in (evolve(state, overload=None), state)])
    assert counts["False"] >= 20 and counts["hit"] >= 50, counts


@pytest.mark.parametrize(("path", "steps"), [
    (None, 0), (None, 60), (DATA / "variants" / "web.yaml", 0), (DATA / "variants" / "overload.yaml", 0),
    (DATA / "variants" / "restore.yaml", 40),
])
def test_remembered_verdicts_are_the_reconciles_verdicts(path: Path | None, steps: int) -> None:
    """From the initial state, or from a state along the fair run (faults, floods and restores
    then meet queued keys); the memo must have answered from another state many times."""
    model, states = searched(path, steps, 600)
    counts = _compare(model, states)
    assert counts["hit"] >= 50 and counts["computed"] >= 10, counts


def test_stutters_are_remembered_as_stutters(tmp_path: Path, monkeypatch: Any) -> None:
    """refused/quota.yaml with faults: the ReplicaSet controller's retry of a create refused for
    good is a stutter (False), from the memo too, and a change (True) where the search armed a
    request failure the retry would consume, or crashed and restarted the controller manager."""
    monkeypatch.syspath_prepend(str(DATA / "refused"))
    shutil.copytree(DATA / "refused" / "manifests", tmp_path / "manifests")
    scenario = (DATA / "refused" / "quota.yaml").read_text()
    (tmp_path / "quota.yaml").write_text(f"{scenario}faults: {{requestFailure: 1, componentCrash: 1}}\n")
    model = build_model(load_scenario(tmp_path / "quota.yaml"))
    counts = _compare(model, breadth_first(model, along_fair_run(model, 10), 600))
    assert counts["False"] >= 10 and counts["True"] >= 10 and counts["hit"] >= 10, counts


@pytest.mark.parametrize(("path", "steps"), [(None, 100), (None, 200), (DATA / "variants" / "web.yaml", 40)])
def test_remembered_next_timer_is_the_next_timer(path: Path | None, steps: int) -> None:
    """The controllers' next wake-up (`base.next_timer`, remembered for the last few states by
    what it reads) equals the earliest future wake-up computed afresh, over a search's states and
    the same states with the controller manager down or the clock moved on to that wake-up."""
    model, states = searched(path, steps, 300)
    controllers.forget_decisions()
    pending = 0
    for state in states:
        due = _next_wakeup(model, state)
        assert controllers.next_timer(model, state) == due
        pending += due is not None
        down = state.down | {CONTROLLER_MANAGER}
        for later in (evolve(state, clock=due or state.clock + 1), evolve(state, down=down)):
            assert controllers.next_timer(model, later) == _next_wakeup(model, later)
    assert pending >= 50, pending


def _next_wakeup(model: ClusterModel, state: ClusterState) -> int | None:
    times = [at for _, _, at in controllers._wakeups(model, state, state.clock) if at > state.clock]
    return min(times) if times else None
