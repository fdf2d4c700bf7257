"""`prompt_work.tick_reaches_timer` (the in-flight guard's "a tick reaches a timer", asking the timers in
turn only until one is within the tick) and `faults.timer_pending` (asking them until one is in the
future) are their definitions: the earliest future timer (`faults.next_timer`) is within the tick
`Tick` would take (`outages.tick_step`), and exists — each asked with the controllers' remembered
next wake-up (`base._NEXT_TIMERS`) forgotten and then remembered.

Over the states of breadth-first searches, each also with the clock moved just before, onto and just
past its earliest timer and a tick before it (so that some timers lie in the past, some just beyond the
tick): a timer that falls on the tick's end not counted as reached fails it. (A timer in the past
counted as reached passes it: the components' timers answer future times only, as far as these
states show; `faults.next_timer` and the guard both ask for future ones.)"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from breadth_first import searched

from kubeprop.model.cluster import faults, prompt_work
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.cluster.outages import tick_step
from kubeprop.model.controllers import base as controllers
from kubeprop.model.evolve import evolve
from kubeprop.model.state.cluster import ClusterModel, ClusterState

DATA = Path(__file__).parents[1] / "data"


def _answers(model: ClusterModel, state: ClusterState) -> tuple[bool, bool]:
    return faults.timer_pending(model, state), prompt_work.tick_reaches_timer(model, state)


def _definition(model: ClusterModel, state: ClusterState) -> tuple[bool, bool]:
    due = faults.next_timer(model, state)
    return due is not None, due is not None and due <= state.clock + tick_step(model, state)


def _clocks(model: ClusterModel, state: ClusterState) -> list[ClusterState]:
    due = faults.next_timer(model, state)
    if due is None:
        return [state]
    return [state, *(evolve(state, clock=at) for at in (due - model.tick_seconds - 1, due - model.tick_seconds,
                                                         due - 1, due, due + 1))]


@pytest.mark.parametrize(("path", "steps"), [(None, 60), (None, 200), (DATA / "variants" / "web.yaml", 0)])
def test_tick_reaches_timer_is_its_definition(path: Path | None, steps: int) -> None:
    model, states = searched(path, steps, 300)
    counts = Counter[tuple[bool, bool]]()
    with memoised(model):  # (the controllers' decisions remembered, as in a search: cheaper)
        for state in states[::5]:
            for asked in _clocks(model, state):
                controllers._NEXT_TIMERS.clear()
                afresh = _answers(model, asked)
                expected = _definition(model, asked)  # (and the controllers' next wake-up remembered)
                assert afresh == expected == _answers(model, asked), asked.clock
                counts[expected] += 1
    assert counts[True, True] >= 30 and counts[True, False] >= 30, counts
