"""Seeded random runs of a model, for tests that compare a remembered or incremental answer with a
fresh one over many reachable states."""

from __future__ import annotations

import random
from collections.abc import Iterator

from kubeprop.model.cluster.compose import actions, initial_state, step
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
