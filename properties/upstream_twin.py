"""Known upstream behaviour under a variant: is the variant part of the violation?

A violation found while checking a variant (`kubeprop check --variant V`) may be a known race of
Kubernetes itself in which the variant plays no part — the Deployment controller's stale
ReplicaSet lister found on a rollout while checking an Endpoints variant. It is decided on the
variant's *correct twin* (`kubeprop.model.cluster.twin.correct_twin`: the same scenario, parameters
and fault budget, the variant's mechanism undone): the violation is not caused by the variant
when its trace replays there — every action enabled in turn, and the same property violated in the
state it ends in — and a known entry (`upstream_behaviour.KNOWN`) recognizes it on the twin's
states. `upstream_behaviour.match` asks `judged` for the first part. A trace that does not replay
on the twin, or replays without the violation, is the variant's.

Everything here is a pure function of the model and the trace (no salted `hash()`, no clock), so a
counterexample file is classified the same way by `kubeprop check`, `kubeprop gate` and
`kubeprop.counterexamples.check` in any process.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from kubeprop.model.cluster.compose import actions, initial_state, step
from kubeprop.model.cluster.drive import continuations
from kubeprop.model.cluster.twin import CORRECT, correct_twin
from kubeprop.model.errors import UnknownName
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import Violation, select

__all__ = ["SETTLES", "Twin", "judged", "on_twin", "states_of", "without_variant"]

SETTLES = "settles"
"""The cycle property a fair continuation that never settles violates (a lasso's; no state property)."""


@attrs.frozen
class Twin:
    """A trace replayed on the correct twin: the twin, its states (initial first) and the violation
    of the same property where the trace ends there."""

    model: ClusterModel
    states: tuple[ClusterState, ...]
    violation: Violation


def states_of(model: ClusterModel, trace: Sequence[Action]) -> list[ClusterState]:
    """The states a trace passes through, the initial state first."""
    states = [initial_state(model)]
    for act in trace:
        states.append(step(model, states[-1], act))
    return states


def judged(model: ClusterModel, violation: Violation, trace: Sequence[Action]) -> Twin | None:
    """What a known entry judges `violation` on: for the correct model, the model itself and the
    states of `trace`; for a variant's, the trace replayed on the correct twin (`on_twin`). None
    when the trace does not replay (an action raises), or does not replay on the twin to the
    violation: the violation stays a violation."""
    try:
        if model.variant == CORRECT:
            return Twin(model, tuple(states_of(model, trace)), violation)
        return on_twin(model, violation, trace)
    except Exception:  # a trace that cannot be replayed is recognized as nothing
        return None


def on_twin(model: ClusterModel, violation: Violation, trace: Sequence[Action]) -> Twin | None:
    """`trace` (from the initial state of `model`, a variant's model) replayed on the model's correct
    twin, when every action is enabled there in turn and `violation`'s property fails where it ends;
    None otherwise (the variant plays a part). The twin is built here, only for a violation."""
    if model.variant == CORRECT:
        raise ValueError("on_twin judges a variant's violation; the correct model is its own twin")
    twin = correct_twin(model)
    try:
        states = [initial_state(twin)]
        for act in trace:
            if act not in actions(twin, states[-1]):
                return None
            states.append(step(twin, states[-1], act))
        found = _violated(twin, violation.property, states[-1])
    except UnknownName:  # a property the registry does not know (a caller's own): no known entry has it
        return None
    return None if found is None else Twin(twin, tuple(states), found)


def _violated(model: ClusterModel, name: str, end: ClusterState) -> Violation | None:
    """The violation of property `name` in state `end`: a registered property's check there, or
    for `settles` (a lasso's cycle property) the fair continuation from `end` still writing when
    it runs out of steps — the convergence check's livelock (`convergence.settled_violation`)."""
    if name != SETTLES:
        return select([name])[0](model, end)
    _, run = next(continuations(model, end))
    return Violation(SETTLES, f"the cluster did not settle within {len(run.trace)} steps") if run.keeps_writing \
        else None


def without_variant(variant: str) -> str:
    """The line that says a variant's violation is known upstream behaviour it plays no part in."""
    return (f"It also happens without the variant: the same trace replays on the correct model (variant {variant} "
            "undone; the same scenario, parameters and fault budget) and violates the same property there.")
