"""Every engine the discoveries loop drives goes on past a violation its `EngineConfig.excuse`
passes over (known upstream behaviour, `upstream_behaviour_search`): the BFS expands the state and
reports the shortest violation it does not pass over, the random runs take their next step, and
shrinking never shortens a find into one that is passed over."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import attrs
import pytest

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.explore.runner import run_engine
from kubeprop.properties.registry import Violation, as_property

WEB = Path(__file__).resolve().parents[2] / "model" / "data" / "variants" / "web.yaml"


def _replicaset(model: ClusterModel, state: ClusterState) -> str | None:
    found = next(iter(state.store.list("replicasets.apps")), None)
    return None if found is None else f"{found.metadata.name} exists"


NO_RS = as_property("no-replicaset", "No ReplicaSet exists.", "test", "safety", _replicaset)
PAST = 4
"""The stand-in excuse passes over every violation reached in fewer actions than this."""


@attrs.define
class ShortOnes:
    """A stand-in for `SearchPast`: violations at the end of a trace shorter than `PAST` are "known"."""

    names: frozenset[str] = frozenset({"no-replicaset"})
    passed: list[tuple[Action, ...]] = attrs.Factory(list)

    def __call__(self, found: Violation, trace: Sequence[Action], state: ClusterState | None) -> Violation | None:
        if len(trace) < PAST:
            self.passed.append(tuple(trace))
            return None
        return found


ENGINES = ("bfs", "walk", "pct", "around", "perturb", "hypothesis", "portfolio")


@pytest.mark.parametrize("engine", ENGINES)
def test_each_engine_goes_on_past_a_violation_its_excuse_passes_over(engine: str) -> None:
    model = build_model(load_scenario(WEB))
    start = initial_state(model)
    config = EngineConfig(properties=(NO_RS,), budget_seconds=20, max_depth=12, workers=1, seed=0, runs=None,
                          max_shrink_steps=400)
    plain = run_engine(engine, model, start, config)
    assert plain.violation is not None and len(plain.trace) < PAST  # the find the excuse passes over
    excuse = ShortOnes()
    result = run_engine(engine, model, start, attrs.evolve(config, excuse=excuse))
    assert result.violation is not None and result.violation.property == "no-replicaset"
    assert len(result.trace) >= PAST and excuse.passed  # past what it passed over; shrinking stays there
    if engine == "bfs":
        assert len(result.trace) == PAST  # still the shortest it reports


@pytest.mark.parametrize("engine", ["walk", "pct"])
def test_a_run_goes_on_past_the_state_passed_over(engine: str) -> None:
    model = build_model(load_scenario(WEB))
    config = EngineConfig(properties=(NO_RS,), budget_seconds=20, max_depth=12, workers=1, shrink=False,
                          excuse=ShortOnes())
    result = run_engine(engine, model, initial_state(model), config)
    assert result.violation is not None and len(result.trace) == PAST  # the same run, one step past
