"""Seeded random runs of a model, for tests that compare a remembered or incremental answer with a
fresh one over many reachable states."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from kubeprop.model.cluster import compose
from kubeprop.model.cluster.compose import actions, initial_state, step
from kubeprop.model.cluster.drive import FairPolicy
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState


def random_run_states(model: ClusterModel, rng: random.Random, runs: int, length: int) -> Iterator[ClusterState]:
    """The states of `runs` runs from the initial state, each taking up to `length` uniformly drawn
    enabled actions: every state is yielded before the step from it, and a run ends early where
    nothing is enabled (its last state is yielded; the state after the last step is not)."""
    for _ in range(runs):
        state = initial_state(model)
        for _ in range(length):
            yield state
            enabled = actions(model, state)
            if not enabled:
                break
            state = step(model, state, enabled[rng.randrange(len(enabled))])


def plain_actions(model: ClusterModel, state: ClusterState) -> tuple[Action, ...]:
    """The enabled actions asked of every component afresh (no cache of enabled actions)."""
    return tuple(a for component in compose.COMPONENTS for a in component.enabled(model, state))


def mostly_fair_run(model: ClusterModel, rng: random.Random, length: int, fair_share: float,
                    allow: Callable[[int, Action], bool] | None = None) -> Iterator[ClusterState]:
    """The states of one run from the initial state (yielded first) of up to `length` steps, each
    the fair policy's choice with probability `fair_share` (so the clock moves on), else a
    uniformly drawn enabled action (`plain_actions`; `allow(i, action)` may leave some out at the
    i-th step); it ends early where nothing is enabled."""
    state, policy = initial_state(model), FairPolicy()
    yield state
    for i in range(length):
        enabled = tuple(a for a in plain_actions(model, state) if allow is None or allow(i, a))
        if not enabled:
            return
        fair = policy.choose(enabled)
        act = fair if fair is not None and rng.random() < fair_share else enabled[rng.randrange(len(enabled))]
        policy.taken(act)
        state = step(model, state, act)
        yield state
