"""The generic breadth-first search: shortest traces, bounds, and the two visited-set modes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubeprop.properties.explore.bfs import Bounds, search


def successors(state: tuple[int, int]) -> Iterator[tuple[str, tuple[int, int]]]:
    """A 2-counter system: increment either counter, up to 6."""
    a, b = state
    if a < 6:
        yield "a+1", (a + 1, b)
    if b < 6:
        yield "b+1", (a, b + 1)


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
