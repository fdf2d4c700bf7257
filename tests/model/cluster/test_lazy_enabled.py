"""`lazy_enabled.Lazy` lists exactly what `actions` lists, whenever its parts are computed (states
asked for out of order, from their predecessors' partial answers); `choose` chooses what the fair
policy chooses among them: the parts it skips give only faults, and `Tick` comes from its own part
only."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kubeprop.model.cluster import compose, faults
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import FairPolicy, expected_policy
from kubeprop.model.cluster.incremental import NEVER_CHOSEN, EnabledCache
from kubeprop.model.cluster.lazy_enabled import Lazy, choose, lazy_actions
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import (
    INJECTED_FAULTS,
    Action,
    Quiesce,
    Tick,
)
from kubeprop.model.state.cluster import ClusterModel, ClusterState

DATA = Path(__file__).parents[1] / "data" / "variants"


def plain(model: ClusterModel, state: ClusterState) -> list[Action]:
    return [a for component in compose.COMPONENTS for a in component.enabled(model, state)]


@pytest.mark.parametrize(("scenario", "parameters", "variant"), [
    (None, {}, None), ("web", {}, None), ("db", {}, "sts-split-brain"), ("tight", {}, "dual-scheduler"),
    ("web", {"instantCaches": True}, None),
])
def test_lazy_lists_what_actions_lists(scenario: str | None, parameters: dict[str, object],
                                       variant: str | None) -> None:
    """Random runs (mostly fair, faults between) in a tree: each state's `Lazy` built from its
    predecessor's partial answers, its parts computed at random times, later, in any order."""
    path = None if scenario is None else DATA / f"{scenario}.yaml"
    model = build_model(load_scenario(path), parameters=parameters or None, variant=variant)
    cache, rng = EnabledCache(model), random.Random(7)
    flt = None if rng.random() < 0.5 else (lambda a: not isinstance(a, Quiesce))
    pending: list[tuple[Lazy, ClusterState, FairPolicy]] = []
    frontier: list[tuple[ClusterState, tuple[ClusterState, list[tuple[Action, ...] | None]] | None, FairPolicy]] = [
        (initial_state(model), None, expected_policy())]
    for _ in range(300):
        if not frontier:
            break
        state, near, policy = frontier.pop(rng.randrange(len(frontier)))
        lazy = lazy_actions(cache, state, near, flt)
        answers = (state, lazy.answers)
        expected = [a for a in plain(model, state) if flt is None or flt(a)]
        assert choose(policy, lazy) == policy.choose(expected)
        pending.append((lazy, state, policy))
        if rng.random() < 0.5 and pending:  # some states' lists completed long after they were asked
            old, old_state, _ = pending.pop(rng.randrange(len(pending)))
            assert list(old) == [a for a in plain(model, old_state) if flt is None or flt(a)]
            assert all(isinstance(a, tuple(INJECTED_FAULTS)) for fn in NEVER_CHOSEN for a in old.among(fn))
            assert [a for a in old.among(faults.tick_enabled) if isinstance(a, Tick)] == [
                a for a in old if isinstance(a, Tick)]
            assert old.full() == list(old)
        if not expected:
            continue
        for act in rng.sample(expected, min(2, len(expected))):
            branch = policy.copy()
            branch.taken(act)
            frontier.append((step(model, state, act), answers, branch))
