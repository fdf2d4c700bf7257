"""Explicit-state breadth-first search over `actions`/`step`.

Breadth-first order makes the first violation found a shortest one. Visited states are kept in
an in-process set keyed by the states themselves (exact equality, no collision risk); nothing
derived from Python's salted `hash()` leaves the process. The search stops when the frontier is
exhausted, a bound is reached (depth, distinct states, seconds), or a property fails.

`action_filter` restricts which enabled actions are explored — a scenario-specific abstraction
(e.g. "no faults but partitions"): the report says the search is exhaustive only *for that
restriction*.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Literal

import attrs

from kubeprop.model.actions import Action
from kubeprop.model.cluster import actions, step
from kubeprop.model.cluster_state import ClusterModel, ClusterState

from ..registry import Property, Violation, first_violation

ExitReason = Literal["exhausted", "depth-bound", "state-bound", "time-bound", "violation"]
ActionFilter = Callable[[Action], bool]
Progress = Callable[["SearchStats"], None]


@attrs.frozen
class SearchStats:
    """Counters of a search so far."""

    states: int
    distinct: int
    depth: int
    seconds: float

    @property
    def states_per_second(self) -> float:
        """Distinct states discovered per second."""
        return self.distinct / self.seconds if self.seconds > 0 else 0.0


@attrs.frozen
class Report:
    """The outcome: why the search stopped, what it covered, and a shortest violating trace."""

    exit_reason: ExitReason
    stats: SearchStats
    violation: Violation | None = None
    trace: tuple[Action, ...] = ()

    @property
    def complete(self) -> bool:
        """True when every state within the (filtered) action space was explored."""
        return self.exit_reason == "exhausted"


@attrs.frozen
class Bounds:
    """Search bounds; None means unbounded."""

    max_depth: int | None = None
    max_states: int | None = None
    max_seconds: float | None = None


def _trace(parents: dict[ClusterState, tuple[ClusterState, Action] | None], state: ClusterState
           ) -> tuple[Action, ...]:
    out: list[Action] = []
    link = parents[state]
    while link is not None:
        prev, act = link
        out.append(act)
        link = parents[prev]
    return tuple(reversed(out))


def bfs(model: ClusterModel, start: ClusterState, properties: Iterable[Property], bounds: Bounds = Bounds(),
        action_filter: ActionFilter | None = None, progress: Progress | None = None,
        progress_every: float = 1.0) -> Report:
    """Breadth-first search from `start`, checking every safety property on every new state."""
    props = tuple(properties)
    began = time.perf_counter()
    parents: dict[ClusterState, tuple[ClusterState, Action] | None] = {start: None}
    frontier: deque[tuple[ClusterState, int]] = deque([(start, 0)])
    generated, depth_seen, last_report = 1, 0, began

    def stats() -> SearchStats:
        return SearchStats(generated, len(parents), depth_seen, time.perf_counter() - began)

    violation = first_violation(model, start, props)
    if violation is not None:
        return Report("violation", stats(), violation, ())
    cut: ExitReason | None = None
    while frontier:
        state, depth = frontier.popleft()
        if bounds.max_depth is not None and depth >= bounds.max_depth:
            cut = "depth-bound"
            continue
        for act in actions(model, state):
            if action_filter is not None and not action_filter(act):
                continue
            nxt = step(model, state, act)
            generated += 1
            if nxt in parents:
                continue
            parents[nxt] = (state, act)
            depth_seen = max(depth_seen, depth + 1)
            violation = first_violation(model, nxt, props)
            if violation is not None:
                return Report("violation", stats(), violation, _trace(parents, nxt))
            frontier.append((nxt, depth + 1))
            if bounds.max_states is not None and len(parents) >= bounds.max_states:
                return Report("state-bound", stats())
        now = time.perf_counter()
        if bounds.max_seconds is not None and now - began >= bounds.max_seconds:
            return Report("time-bound", stats())
        if progress is not None and now - last_report >= progress_every:
            progress(stats())
            last_report = now
    return Report(cut or "exhausted", stats())
