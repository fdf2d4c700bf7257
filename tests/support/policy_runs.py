"""Runs a test drives with a policy until a safety property breaks (the hand-driven catalogue
races: tests/properties/explore/test_contend.py, test_catalogue_reach.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import attrs

from kubeprop.model.cluster.compose import actions, step
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import Property, Violation, first_violation


class Policy(Protocol):
    """What the run asks of a policy: the next action among the enabled ones, and to note it."""

    def choose(self, enabled: Sequence[Action]) -> Action | None: ...

    def taken(self, act: Action) -> None: ...


@attrs.frozen
class Broken:
    """Where the run broke a property: the state, the actions taken to it, the last one, the violation."""

    state: ClusterState
    trace: tuple[Action, ...]
    last: Action
    violation: Violation


def until_violation(model: ClusterModel, state: ClusterState, policy: Policy,
                    properties: tuple[Property, ...], limit: int) -> Broken:
    """Follow `policy` from `state` until one of `properties` breaks; fail the test if the run ends
    or `limit` steps pass first."""
    trace: list[Action] = []
    for _ in range(limit):
        act = policy.choose(actions(model, state))
        assert act is not None, "the run ended without a violation"
        policy.taken(act)
        state = step(model, state, act)
        trace.append(act)
        found = first_violation(model, state, properties)
        if found is not None:
            return Broken(state, tuple(trace), act, found)
    raise AssertionError(f"no violation within {limit} steps")
