"""`clock_guards`: `Tick` asked at less cost is the same `Tick`.

The controllers' guard remembered by what it reads (`clock_guards.held`) equals
`queued_work.holds_clock` asked afresh, over every state of breadth-first searches (siblings share
most of their parts, so the memo answers across states) and the same states with a part of the key
changed alone: etcd's quorum or the controller manager lost, a flood gone, the clock moved on, a
request failure armed, the store of the search's first state (each fails a test when left out of
the key). And `faults.tick_enabled` through the enabled-actions cache (guards first, the
scheduler's and in-flight guards from the cache's answers) equals the plain definition — a pending
timer and no guard holding, each asked directly — in every state of those searches."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from breadth_first import searched

from kubeprop.model.cluster import clock_guards, faults
from kubeprop.model.cluster.compose import initial_state, step
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.cluster.outages import tick_step
from kubeprop.model.controllers import queued_work
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.actions import Tick
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ETCD_PREFIX, ClusterModel, ClusterState

DATA = Path(__file__).parents[1] / "data"
SCENARIOS = [(None, 0), (None, 60), (None, 200), (DATA / "variants" / "web.yaml", 0),
             (DATA / "variants" / "overload.yaml", 0), (DATA / "variants" / "restore.yaml", 40)]


def _fair_states(model: ClusterModel) -> list[ClusterState]:
    """Every state of the fair run from the initial state (time passes on it)."""
    out = [initial_state(model)]
    for act in fair_run(model, out[0]).trace:
        out.append(step(model, out[-1], act))
    return out


def _variants(model: ClusterModel, state: ClusterState, other: ClusterState) -> list[ClusterState]:
    """Copies of `state` differing in one part of the guard's key each, each asked right after
    `state` (which a key without that part would answer for it)."""
    etcd = frozenset(f"{ETCD_PREFIX}{member}" for member in model.etcd_members)
    out = [state, evolve(state, down=state.down | etcd), evolve(state, down=state.down | {CONTROLLER_MANAGER}),
           evolve(state, clock=state.clock + 10 * model.tick_seconds), evolve(state, store=other.store)]
    if state.overload is not None:
        out.append(evolve(state, overload=None))
    if CONTROLLER_MANAGER not in state.armed_failures:
        out.append(evolve(state, armed_failures=FrozenMap({**dict(state.armed_failures), CONTROLLER_MANAGER: 500})))
    return [s for variant in out[1:] for s in (state, variant)]


def _compare_holds_clock(model: ClusterModel, states: list[ClusterState]) -> Counter[str]:
    clock_guards.forget()
    counts = Counter[str]()
    recent = clock_guards._HOLDS_CLOCK.recent
    for state in states:
        first = recent[0] if recent else None
        remembered = clock_guards.held(model, state, queued_work.holds_clock)
        counts["hit" if recent and recent[0] is first else "computed"] += 1
        direct = queued_work.holds_clock(model, state)
        assert remembered == direct
        counts[str(direct)] += 1
    return counts


@pytest.mark.parametrize(("path", "steps"), SCENARIOS)
def test_remembered_holds_clock_is_holds_clock(path: Path | None, steps: int) -> None:
    """Over a search's states in its order, each followed by its variants (`_variants`), the memo
    must answer from an earlier state many times, and the guard hold and let go."""
    model, found = searched(path, steps, 400)
    states = [v for state in found for v in _variants(model, state, found[0])]
    counts = _compare_holds_clock(model, states)
    assert counts["hit"] >= 50 and counts["computed"] >= 50, counts
    assert counts["True"] >= 10 and counts["False"] >= 10, counts


def test_a_flood_is_no_remembered_verdict() -> None:
    """overload-max-inflight.yaml's flooded states after the same states without the flood."""
    model, found = searched(DATA / "variants" / "overload-max-inflight.yaml", 0, 600)
    flooded = [state for state in found if state.overload is not None]
    counts = _compare_holds_clock(model, [s for state in flooded for s in (evolve(state, overload=None), state)])
    assert counts["hit"] >= 10, counts


def _plain_tick(model: ClusterModel, state: ClusterState) -> list[Tick]:
    """`Tick` as defined: a pending timer and no guard holding, every guard asked directly."""
    if faults.timer_pending(model, state) and not any(guard(model, state) for guard in model.hooks.tick_guards):
        return [Tick(tick_step(model, state))]
    return []


@pytest.mark.parametrize(("path", "steps"), SCENARIOS)
def test_tick_through_the_cache_is_tick(path: Path | None, steps: int) -> None:
    """`Tick` among the cached enabled actions of each state of the fair run and of a search (asked
    in their order, as the engines ask) is the plain definition's, and both answers occur."""
    model, found = searched(path, steps, 300)
    states = [*_fair_states(model), *found]
    counts = Counter[bool]()
    with memoised(model) as cache:
        for state in states:
            ticks = [a for a in cache.actions(state) if isinstance(a, Tick)]
            plain = _plain_tick(model, state)
            assert ticks == plain
            assert list(faults.tick_enabled(model, state)) == plain  # (out of the cache's order too)
            counts[bool(plain)] += 1
    assert counts[True] and counts[False], counts
