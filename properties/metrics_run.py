"""A run observed for metrics: every state of a trace, its clock, and the API responses of each step.

The metrics of `kubeprop.properties.metrics` are computed from a *run*: the states s0 … sn of a
trace (s0 the start state, s(i+1) = step(si, ai)), the model time (`ClusterState.clock`) of each,
and what every API request of each step returned. Responses are not part of the state; they are
seen by replaying the trace on a copy of the model whose `Hooks.on_response` records them (an
observer changes nothing, so the states are the same as the engines'). Model time advances only
by `Tick`: every other action takes no model time, which is why each interval metric also counts
the *steps* it spanned.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from kubeprop.model.api.server import Request, Response
from kubeprop.model.cluster.compose import actions, step
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState

__all__ = ["ApiCall", "Run", "observe"]


@attrs.frozen
class ApiCall:
    """One API request a step sent and what it got: the client component, verb, resource, code."""

    component: str
    verb: str
    resource: str
    code: int


@attrs.frozen
class Run:
    """A trace with its states (`states[i]` is the state before `actions[i]`; one more state than
    actions) and, for each step, the API calls it made."""

    model: ClusterModel
    states: tuple[ClusterState, ...]
    actions: tuple[Action, ...]
    calls: tuple[tuple[ApiCall, ...], ...]

    def clock(self, index: int) -> int:
        """Model time (seconds) of state `index`."""
        return self.states[index].clock

    @property
    def last(self) -> int:
        """The index of the last state."""
        return len(self.states) - 1

    def written_at(self) -> dict[int, int]:
        """Store revision → model time it was written (revisions at or before the start: the start's
        clock), for the revisions this run wrote."""
        out: dict[int, int] = {}
        for i in range(1, len(self.states)):
            before, after = self.states[i - 1].store.revision, self.states[i].store.revision
            for rev in range(before + 1, after + 1):
                out[rev] = self.states[i].clock
        return out


def _resource(request: Request) -> str:
    if request.resource:
        return request.resource
    obj = request.obj
    return type(obj).__name__.lower() + "s" if obj is not None else ""


def observe(model: ClusterModel, start: ClusterState, trace: Iterable[Action], check_enabled: bool = False) -> Run:
    """Replay `trace` from `start`, recording every state and the API calls of each step. With
    `check_enabled`, a ValueError names the first action that is not enabled where it is taken."""
    log: list[ApiCall] = []

    def record(component: str, request: Request, response: Response) -> None:
        log.append(ApiCall(component, request.verb, _resource(request), response.code))

    hooks = attrs.evolve(model.hooks, on_response=(*model.hooks.on_response, record))
    observing = attrs.evolve(model, hooks=hooks)
    states, calls, taken = [start], [], []
    state = start
    for i, act in enumerate(trace):
        if check_enabled and act not in actions(model, state):
            raise ValueError(f"step {i + 1}: {act} is not enabled")
        log.clear()
        state = step(observing, state, act)
        states.append(state)
        calls.append(tuple(log))
        taken.append(act)
    return Run(model, tuple(states), tuple(taken), tuple(calls))

