"""Deterministic drivers over `actions`/`step`: run a cluster until it settles, or replay a trace.

Used by tests, benchmarks and the CLI to reach well-defined states without a search engine:
`settle` repeatedly takes a *progress* action — no fault, no user step, no `Quiesce`, no
environment outcome that makes things worse (a failing probe, memory pressure) — until none is
left or a step limit is hit: the one taken least recently (weak fairness), first in enumeration
order among never-taken ones. `Tick` is taken only when nothing else is enabled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from kubeprop.model.cluster.compose import actions, step
from kubeprop.model.cluster.overload import StartOverload, Starve
from kubeprop.model.cluster.restore import RestoreEtcd, SnapshotEtcd
from kubeprop.model.state.actions import (
    Action,
    CrashComponent,
    CrashContainer,
    CrashNode,
    DropWatch,
    FailNextRequest,
    Partition,
    Quiesce,
    Tick,
    UserStep,
)
from kubeprop.model.state.cluster import ClusterModel, ClusterState

FAULTS: tuple[type[Action], ...] = (
    CrashNode, Partition, CrashContainer, CrashComponent, DropWatch, FailNextRequest, Quiesce, UserStep,
    SnapshotEtcd, RestoreEtcd, StartOverload, Starve,
)


def is_progress(act: Action) -> bool:
    """True for actions a healthy cluster takes on its own (no faults, no bad luck, no choice of
    the environment: an action class with `PROGRESS = False`)."""
    if isinstance(act, FAULTS) or getattr(type(act), "PROGRESS", True) is False:
        return False
    if getattr(act, "success", True) is False:
        return False
    return "Pressure" not in type(act).__name__


@attrs.frozen
class Settled:
    """Where `settle` stopped: the state, the actions taken, and whether it ran out of steps."""

    state: ClusterState
    trace: tuple[Action, ...]
    exhausted: bool


def settle(model: ClusterModel, state: ClusterState, max_steps: int = 2000, allow_ticks: bool = True,
           max_ticks: int = 60, avoid: tuple[type[Action], ...] = ()) -> Settled:
    """Take progress actions fairly until none is left (Tick only when nothing else is).
    Actions of the classes in `avoid` are never taken (e.g. `Heal`, to keep a partition)."""
    trace: list[Action] = []
    ticks = 0
    last_taken: dict[Action, int] = {}
    for n in range(max_steps):
        enabled = [a for a in actions(model, state) if is_progress(a) and not isinstance(a, avoid)]
        moves = [a for a in enabled if not isinstance(a, Tick)]
        if not moves:
            ticking: list[Action] = [a for a in enabled if isinstance(a, Tick)]
            if not (allow_ticks and ticking and ticks < max_ticks):
                return Settled(state, tuple(trace), exhausted=False)
            moves, ticks = ticking, ticks + 1
        # Weak fairness: the enabled action taken least recently goes first (never taken: in
        # enumeration order), so an action that stays enabled cannot be starved by others.
        act = min(moves, key=lambda a: last_taken.get(a, -1))
        last_taken[act] = n
        state = step(model, state, act)
        trace.append(act)
    return Settled(state, tuple(trace), exhausted=True)


def run(model: ClusterModel, state: ClusterState, trace: Iterable[Action]) -> ClusterState:
    """Apply `trace` in order, checking each action is enabled (ValueError names the first that is not)."""
    for i, act in enumerate(trace):
        if act not in actions(model, state):
            raise ValueError(f"step {i + 1}: {act} is not enabled")
        state = step(model, state, act)
    return state


def first(candidates: Sequence[Action], kind: type[Action]) -> Action | None:
    """The first action of a class among `candidates`."""
    return next((a for a in candidates if isinstance(a, kind)), None)
