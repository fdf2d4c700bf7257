"""The clock's guards read the enabled-actions answers of the state `Tick` is computed for.

`clock_guards.held` answers the scheduler's and the in-flight guards from the answers an active
enabled-actions cache has for the very state asked (`EnabledCache.answered`). Two ways a search
asks `Tick` for a state its cache did not answer last: the portfolio's members each run within
their own `memoised` block, in turns (the innermost cache need not be the one computing), and
`lazy_enabled.Lazy` computes a state's parts after the cache has answered other states. Answers of
another state would give another `Tick` — the in-flight guard lets go where that state has no
work in flight — so each test asks for pairs of states whose plain in-flight guards differ, and
checks that the guards were answered from the state's own answers, not listed afresh.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from kubeprop.model.cluster import clock_guards, faults, informers
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.cluster.incremental import Held, memoised
from kubeprop.model.cluster.lazy_enabled import lazy_actions
from kubeprop.model.cluster.outages import tick_step
from kubeprop.model.cluster.prompt_work import in_flight_holds_clock
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Tick
from kubeprop.model.state.cluster import ClusterModel, ClusterState

DATA = Path(__file__).parents[1] / "data" / "variants"


def _fair_states(model: ClusterModel) -> list[ClusterState]:
    out = [initial_state(model)]
    for act in fair_run(model, out[0]).trace:
        out.append(step(model, out[-1], act))
    return out


def _plain_tick(model: ClusterModel, state: ClusterState) -> list[Tick]:
    """`Tick` as defined: a pending timer and no guard holding, every guard asked directly."""
    if faults.timer_pending(model, state) and not any(guard(model, state) for guard in model.hooks.tick_guards):
        return [Tick(tick_step(model, state))]
    return []


def _pairs(model: ClusterModel) -> list[tuple[ClusterState, ClusterState]]:
    """(state, other) over the fair run, `other` a state further on: many pairs differ in the
    in-flight guard."""
    states = _fair_states(model)
    return [(states[i], states[(i * 7 + 3) % len(states)]) for i in range(len(states))]


@pytest.mark.parametrize("path", [None, DATA / "web.yaml"])
def test_tick_reads_the_answers_of_the_cache_computing_it(path: Path | None) -> None:
    """An outer search's cache computes `Tick` for `state` while the innermost cache answered
    `other` last: the guards read the outer cache's answers (old code: the innermost only, so it
    listed every kubelet action again), and `Tick` is the plain definition's."""
    model = build_model(load_scenario(path))
    counts = Counter[str]()
    with memoised(model) as outer, memoised(model) as inner:
        for state, other in _pairs(model):
            inner.actions(other)
            ticks = [a for a in outer.actions(state) if isinstance(a, Tick)]
            assert ticks == _plain_tick(model, state)
            assert clock_guards._answered(model, state, informers.component_enabled) is not None
            assert clock_guards._answered(model, other, informers.component_enabled) is not None
            differ = in_flight_holds_clock(model, state) != in_flight_holds_clock(model, other)
            counts["in-flight guards differ" if differ else "same"] += 1
            counts[f"tick {bool(ticks)}"] += 1
    assert counts["in-flight guards differ"] >= 5 and counts["tick True"] and counts["tick False"], counts


@pytest.mark.parametrize("path", [None, DATA / "web.yaml"])
def test_lazy_tick_reads_its_own_state_answers(path: Path | None) -> None:
    """A `Lazy` for `state` whose `Tick` part is computed after the cache answered `other` (a
    search coming back to a state): `Tick` is `state`'s, computed with `state` made the state
    answered last again, so the guards read and fill in `state`'s own answers."""
    model = build_model(load_scenario(path))
    counts = Counter[str]()
    with memoised(model) as cache:
        for state, other in _pairs(model):
            lazy = lazy_actions(cache, state)
            kept = type(lazy.answers[cache.tick]) is Held  # (a guard that held before still holds)
            cache.actions(other)
            assert cache.last is other
            ticks = [a for a in lazy.part(cache.tick) if isinstance(a, Tick)]
            assert kept or (cache.last is state and cache.answers is lazy.answers)
            assert ticks == _plain_tick(model, state)
            assert list(lazy) == list(cache.actions(state))
            differ = in_flight_holds_clock(model, state) != in_flight_holds_clock(model, other)
            counts["in-flight guards differ" if differ else "same"] += 1
            counts[f"tick {bool(ticks)}"] += 1
            counts["kept" if kept else "computed"] += 1
    assert counts["in-flight guards differ"] >= 5 and counts["tick True"] and counts["tick False"], counts
    assert counts["computed"] >= 5, counts


def test_the_asking_order_puts_the_scheduler_guard_first_and_keeps_every_guard() -> None:
    """`asking_order`: the same guards, the scheduler's first, the others in their order (`Tick`
    through the cache in that order is the plain definition's: the tests above and
    test_clock_guard_memo.py)."""
    model = build_model(load_scenario(None))
    guards = model.hooks.tick_guards
    ordered = clock_guards.asking_order(guards)
    assert sorted(ordered, key=guards.index) == list(guards)
    assert ordered[0] is clock_guards.prompt_work.scheduler_holds_clock
    assert [g for g in ordered if g not in clock_guards.ASKED_FIRST] == [g for g in guards
                                                                         if g not in clock_guards.ASKED_FIRST]
