"""A toy system for the generic breadth-first search's tests (tests/properties/explore/test_bfs.py,
test_frontier.py): two counters, each step increments one of them, up to a limit."""

from __future__ import annotations

from collections.abc import Callable, Iterator

Counters = tuple[int, int]
Successors = Callable[[Counters], Iterator[tuple[str, Counters]]]


def counters(limit: int) -> Successors:
    """The successor function of the 2-counter system with both counters in 0..limit
    ((limit + 1)² states)."""

    def successors(state: Counters) -> Iterator[tuple[str, Counters]]:
        a, b = state
        if a < limit:
            yield "a+1", (a + 1, b)
        if b < limit:
            yield "b+1", (a, b + 1)

    return successors
