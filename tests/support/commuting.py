"""The check that partial-order reduction rests on, for tests of the footprints
(`kubeprop.model.cluster.footprint`): two actions called independent commute — each stays enabled
after the other, and both orders reach the same state."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

from kubeprop.model.cluster.compose import actions, step
from kubeprop.model.cluster.footprint import Footprints
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState


def independent_pairs(footprints: Footprints, enabled: Sequence[Action]) -> list[tuple[Action, Action]]:
    """The pairs of `enabled` actions the footprints call independent, in `itertools.combinations` order."""
    return [p for p in itertools.combinations(enabled, 2) if footprints.independent(*p)]


def assert_commute(model: ClusterModel, state: ClusterState, pairs: Iterable[tuple[Action, Action]]) -> int:
    """Each pair (a, b) commutes at `state`: b is enabled after a and a after b, and a-then-b reaches
    the state b-then-a does. Returns how many pairs were checked."""
    checked = 0
    for a, b in pairs:
        after_a, after_b = step(model, state, a), step(model, state, b)
        assert b in actions(model, after_a) and a in actions(model, after_b), (a, b)
        assert step(model, after_a, b) == step(model, after_b, a), (a, b)
        checked += 1
    return checked
