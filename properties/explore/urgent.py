"""Time bounds and worst-case metrics by exhaustive search, under the urgency assumption.

A time bound means nothing if a component may wait arbitrarily long before acting on work it
has: an explorer that ticks the clock while a controller's key sits in its queue can make any
interval as long as the clock goes. The search here is *urgent*: `Tick` is taken only when no
other progress action is enabled (the fair driver's rule, `kubeprop.model.cluster.drive`), so
model time moves only by the timers upstream has (grace periods, tolerations, back-offs,
resyncs), and every order of the zero-time steps in between is explored. Steps that change
nothing (requests an overloaded API server refuses, retried) are left out. A cycle of zero-time
steps that do change the state holds the clock (a Zeno run): e.g. a kubelet that still writes its
pods Ready while the node lifecycle controller, reconciling, marks them not Ready
(`markPodsNotReadyOnTransitionOnly: false`). Faults are left out
(`is_progress`): the search starts where the faults under study have happened.

- `bound_holds(model, start, prop)`: breadth-first, does a `within(...)` bound hold on every
  urgent run from `start` (within the search bounds)? The violating trace if not.
- `worst_open(model, start, metric)`: the longest an interval of `metric` stays open on any urgent
  run, and a shortest trace reaching it (a search for the peak, then one for a state showing it).
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from kubeprop.model.cluster.compose import actions, step
from kubeprop.model.cluster.drive import is_progress
from kubeprop.model.state.actions import Action, Tick
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.bfs import Bounds, search
from kubeprop.properties.explore.engine import ExitReason
from kubeprop.properties.metrics_within import open_intervals, within
from kubeprop.properties.registry import Property, Violation

__all__ = ["BoundResult", "WorstOpen", "bound_holds", "urgent_successors", "worst_open"]


def urgent_successors(model: ClusterModel, state: ClusterState, avoid: tuple[type[Action], ...] = (),
                      horizon: int | None = None) -> Iterator[tuple[Action, ClusterState]]:
    """Every progress action's successor; `Tick` only when no other progress action changes the
    state. A step that changes nothing (a request refused by an overloaded API server and retried)
    is left out: retrying must not hold the clock. Actions of the classes in `avoid` are never
    taken (e.g. `RestartNode`, to keep a node down). A state at or past the `horizon` (model
    seconds) has no successors: timers can run the clock forever, a horizon makes the search finite."""
    if horizon is not None and state.clock >= horizon:
        return
    enabled = [a for a in actions(model, state) if is_progress(a) and not isinstance(a, avoid)]
    moves = [(a, nxt) for a in enabled if not isinstance(a, Tick) and (nxt := step(model, state, a)) != state]
    if not moves:
        moves = [(a, step(model, state, a)) for a in enabled if isinstance(a, Tick)]
    yield from moves


@attrs.frozen
class BoundResult:
    """Whether a bound held on every urgent run explored, how the search ended, its counters, and
    the violation with a shortest trace to it."""

    holds: bool
    exit_reason: ExitReason
    distinct: int
    violation: Violation | None = None
    trace: tuple[Action, ...] = ()


def bound_holds(model: ClusterModel, start: ClusterState, prop: Property, bounds: Bounds = Bounds(),
                avoid: tuple[type[Action], ...] = (), horizon: int | None = None) -> BoundResult:
    """Breadth-first search of the urgent runs from `start` (up to the `horizon`, in model
    seconds), checking `prop` on every state."""
    result = search(start, lambda s: urgent_successors(model, s, avoid, horizon), lambda s: prop(model, s), bounds,
                    visited="states")
    return BoundResult(result.violation is None, result.exit_reason, result.stats.distinct, result.violation,
                       tuple(result.trace))


@attrs.frozen
class WorstOpen:
    """The longest `metric` interval seen open on any urgent run explored: its seconds, subject,
    a shortest trace to a state showing it, and whether the search was exhaustive."""

    metric: str
    seconds: int
    subject: str
    trace: tuple[Action, ...]
    exhaustive: bool


def worst_open(model: ClusterModel, start: ClusterState, metric: str, bounds: Bounds = Bounds(),
               avoid: tuple[type[Action], ...] = (), horizon: int | None = None) -> WorstOpen | None:
    """The peak of `metric`'s open intervals over the urgent runs from `start` (None if no
    interval ever opens). An interval is open until the state that closes it, so the peak is the
    worst closed value, or a lower bound when a run ends with it still open."""
    peak: list[tuple[int, str]] = []

    def probe(state: ClusterState) -> None:
        for subject, seconds in open_intervals(metric, state):
            if not peak or seconds > peak[0][0]:
                peak[:] = [(seconds, subject)]

    first = search(start, lambda s: urgent_successors(model, s, avoid, horizon), probe, bounds, visited="states")
    if not peak:
        return None
    seconds, subject = peak[0]
    witness = bound_holds(model, start, within(metric, seconds - 1) if seconds else _at_least_open(metric),
                          bounds, avoid, horizon)
    return WorstOpen(metric, seconds, subject, witness.trace, first.exit_reason == "exhausted")


def _at_least_open(metric: str) -> Property:
    """A property failing where some `metric` interval is open (for a peak of 0 s)."""
    from kubeprop.properties.registry import as_property

    return as_property(f"{metric}-open", f"No {metric} interval is open.", "docs/metrics.md", "safety",
                       lambda model, state: "open" if open_intervals(metric, state) else None)
