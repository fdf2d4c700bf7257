"""Shrinking's cheap enabledness (`shrink_enabled`) answers what the whole list of enabled actions
answers, on random runs of several scenarios (Hypothesis: the scenario, the run, the actions
asked about), for actions enabled and not: those of other states of the run, watch deliveries
with another revision (`enabled_as` stands in the enabled one of the same watch) and actions of a
class no part lists."""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeprop.model.cluster import compose
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action, Deliver, Quiesce, Tick
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.shrink_enabled import enabled_as, enabled_in, is_enabled, sources

DATA = Path(__file__).parents[2] / "model" / "data"
SCENARIOS = (
    (None, None), (DATA / "variants" / "web.yaml", None), (DATA / "variants" / "db.yaml", "sts-split-brain"),
    (DATA / "variants" / "tight.yaml", "dual-scheduler"), (DATA / "variants" / "node-loss.yaml", None),
    (DATA / "catalogue" / "web-flap.yaml", "endpoints-stale-cache"), (DATA / "hpa" / "linear.yaml", None),
    (DATA / "maintenance" / "drained.yaml", None),
)


@cache
def _model(index: int) -> ClusterModel:
    path, variant = SCENARIOS[index]
    return build_model(load_scenario(path), variant=variant)


def _plain(model: ClusterModel, state: ClusterState) -> tuple[Action, ...]:
    """Every enabled action, with no cache."""
    return tuple(a for component in compose.COMPONENTS for a in component.enabled(model, state))


def _asked(rng: random.Random, enabled: tuple[Action, ...], others: list[Action], seconds: int) -> list[Action]:
    """Actions to ask about at a state: its enabled ones, some of other states', its deliveries
    with other revisions, and time and quiescence (enabled or not)."""
    moved = [attrs.evolve(a, revision=a.revision + rng.choice((-2, -1, 1, 5))) for a in enabled
             if isinstance(a, Deliver)]
    return [*enabled, *rng.sample(others, min(len(others), 30)), *moved, Tick(seconds), Tick(1), Quiesce()]


@settings(max_examples=12, deadline=None)
@given(st.integers(0, len(SCENARIOS) - 1), st.integers(0, 2**32 - 1), st.integers(20, 120))
def test_cheap_enabledness_answers_as_the_whole_list(index: int, seed: int, length: int) -> None:
    model, rng = _model(index), random.Random(seed)
    others: list[Action] = []
    with memoised(model):
        state = initial_state(model)
        for _ in range(length):
            enabled = _plain(model, state)
            for act in _asked(rng, enabled, others, model.tick_seconds):
                assert enabled_in(model, state, act) == enabled_as(act, enabled), act
                assert is_enabled(model, state, act) == (act in enabled), act
            others = (others + list(enabled))[-400:]
            if not enabled:
                break
            state = step(model, state, enabled[rng.randrange(len(enabled))])


@settings(max_examples=8, deadline=None)
@given(st.integers(0, len(SCENARIOS) - 1), st.integers(0, 2**32 - 1))
def test_each_enabled_action_is_in_a_part_it_is_routed_to(index: int, seed: int) -> None:
    """The claim the cheap path rests on: every action a part lists is of a class that part's
    component handles, of that part's node or component, and `Tick` and `Quiesce` of their own part."""
    model, rng = _model(index), random.Random(seed)
    with memoised(model) as cached:
        routes = sources(model)
        assert routes is not None and routes.by_class  # (laid out as expected: the cheap path is taken)
        state = initial_state(model)
        for _ in range(80):
            listed = cached.actions(state)
            for i, part in enumerate(cached.answers_for(state)):
                for act in part or ():
                    parts = routes.parts(act)
                    assert parts is not None and i in parts, (act, i, parts)
            if not listed:
                break
            state = step(model, state, listed[rng.randrange(len(listed))])


def test_without_a_cache_the_whole_list_answers() -> None:
    model = _model(1)
    state = initial_state(model)
    enabled = _plain(model, state)
    assert sources(model) is None
    assert [enabled_in(model, state, a) for a in enabled] == list(enabled)
    assert not is_enabled(model, state, Quiesce()) or Quiesce() in enabled
