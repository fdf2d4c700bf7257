"""The generic breadth-first search: shortest traces, bounds, and the two visited-set modes."""

from __future__ import annotations

import pytest
from counter_system import counters

from kubeprop.properties.explore.bfs import Bounds, search

successors = counters(6)
"""A 2-counter system: increment either counter, up to 6."""


@pytest.mark.parametrize("visited", ["states", "hashes"])
def test_exhausts_and_counts_distinct_states(visited: str) -> None:
    result = search((0, 0), successors, lambda s: None, visited=visited)  # type: ignore[arg-type]
    assert result.exit_reason == "exhausted"
    assert result.stats.distinct == 49


@pytest.mark.parametrize("visited", ["states", "hashes"])
def test_finds_a_shortest_violation_with_its_trace(visited: str) -> None:
    result = search((0, 0), successors, lambda s: "hit" if s == (2, 3) else None, visited=visited)  # type: ignore[arg-type]
    assert result.exit_reason == "violation"
    assert len(result.trace) == 5
    state = (0, 0)
    for act in result.trace:
        state = dict(successors(state))[act]
    assert state == (2, 3)


def test_depth_bound_is_reported() -> None:
    result = search((0, 0), successors, lambda s: None, Bounds(max_depth=2))
    assert result.exit_reason == "depth-bound"
    assert result.stats.distinct == 6


def test_pinned_state_counts_of_a_small_cluster() -> None:
    """Model drift shows here: the number of distinct states of web.yaml (lagging caches, correct
    model) to depth 3, and of its ReplicaSet/Deployment sub-space (exhausted). If a model change
    moves these on purpose, update the numbers in the same commit and say why. (431/712 → 447/739:
    the scheduler watches Services, ReplicaSets and StatefulSets for its default spreading, so the
    ReplicaSet the Deployment controller creates is one more event to deliver to it. 447/739 →
    511/825: the controller manager may crash between two requests of one reconcile,
    `CrashDuringReconcile`, with web.yaml's one `componentCrash`. 511/825 → 478/782: the clock waits
    for prompt work — no `Tick` while a controller can reconcile a queued key or the scheduler can
    attempt a pod, no tick that reaches no timer with an event in flight; docs/engines.md, Time.)"""
    from pathlib import Path

    from kubeprop.model.cluster.compose import build_model, initial_state
    from kubeprop.model.scenario.load import load_scenario
    from kubeprop.properties.explore.bfs import bfs
    from kubeprop.properties.explore.catalogue import REPLICASET_RACE

    scenario = load_scenario(Path(__file__).resolve().parents[2] / "model" / "data" / "variants" / "web.yaml")
    model = build_model(scenario, parameters={"instantCaches": False})
    start = initial_state(model)
    exact = bfs(model, start, (), Bounds(max_depth=3), visited="states")
    hashed = bfs(model, start, (), Bounds(max_depth=3), visited="hashes")
    assert (exact.stats.distinct, exact.stats.states) == (478, 782)
    assert hashed.stats.distinct == exact.stats.distinct
    sub = bfs(model, start, (), action_filter=REPLICASET_RACE)
    assert (sub.exit_reason, sub.stats.distinct) == ("exhausted", 29)


def test_a_sliced_search_pauses_resumes_and_stops() -> None:
    """The checkpoint between expansions: a search run a few states at a time gives the result of
    the unsliced one, and the STOP slice ends it at once with what it had (time-bound)."""
    from kubeprop.properties.explore.bfs import search_steps
    from kubeprop.properties.explore.slicing import STOP, Limit

    def check(s: tuple[int, int]) -> str | None:
        return "hit" if s == (4, 5) else None

    whole = search((0, 0), successors, check, visited="hashes")
    gen = search_steps((0, 0), successors, check, visited="hashes")
    next(gen)
    pauses = 0
    with pytest.raises(StopIteration) as stop:
        while True:
            gen.send(Limit(steps=3))
            pauses += 1
    sliced = stop.value.value
    assert pauses > 5
    assert (sliced.exit_reason, sliced.stats.distinct, sliced.stats.states, sliced.trace) == \
        (whole.exit_reason, whole.stats.distinct, whole.stats.states, whole.trace)
    gen = search_steps((0, 0), successors, check, visited="hashes")
    next(gen)
    gen.send(Limit(steps=3))
    with pytest.raises(StopIteration) as stopped:
        gen.send(STOP)
    assert stopped.value.value.exit_reason == "time-bound" and stopped.value.value.stats.distinct < whole.stats.distinct


def test_a_time_budget_stops_the_search_and_progress_is_reported_after_each_expansion() -> None:
    checked: list[tuple[int, int]] = []
    stopped = search((0, 0), successors, checked.append, Bounds(budget_seconds=0.0), visited="hashes")
    # a budget spent before the search began: nothing checked, not even the start (the user trial:
    # `kubeprop gate --budget 1e-9` passed on a BFS that had expanded its start before looking)
    assert stopped.exit_reason == "time-bound" and checked == []
    assert (stopped.stats.states, stopped.stats.distinct, stopped.stats.depth) == (0, 0, 0)
    seen: list[int] = []
    search((0, 0), successors, lambda s: None, progress=lambda stats: seen.append(stats.distinct),
           progress_every=0.0, visited="hashes")
    assert len(seen) == 49 and seen == sorted(seen) and seen[-1] == 49
