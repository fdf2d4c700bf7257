"""What a swarm walk lists at each of its states (`walk._enabled`) is what its definition lists —
every enabled action, through the filter, of a kind the walk enables — and the kinds it reports are
the kinds it met, though a walk without `Tick` never computes `Tick`'s part."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import pytest

from kubeprop.model.cluster import faults
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.scenario.load import feastflow_path, load_scenario
from kubeprop.model.state.actions import Action, Deliver, Tick
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.engine import ActionFilter
from kubeprop.properties.explore.walk import SWARM_PROBABILITY, _enabled, _Kinds

CATALOGUE = Path(__file__).parents[2] / "model" / "data" / "catalogue"
SCENARIOS = (feastflow_path(), CATALOGUE / "web.yaml", CATALOGUE / "web-flap.yaml")


def takes(seed: int, index: int, kind: str) -> bool:
    """The swarm's decision on `kind` for walk `index` (the module docstring's definition)."""
    return random.Random(f"{seed}/{index}/{kind}").random() < SWARM_PROBABILITY


def states(model: ClusterModel, start: ClusterState, rng: random.Random) -> list[ClusterState]:
    """States of random runs from the start and from along the fair run (where time may pass), in
    the order a search would ask for them."""
    fair, ticking = [start], []
    for act in fair_run(model, start).trace:
        if isinstance(act, Tick):
            ticking.append(fair[-1])
        fair.append(step(model, fair[-1], act))
    out = []
    for origin in (start, *rng.sample(fair, 3), *ticking[:2], fair[-1]):
        state = origin
        for _ in range(10):
            out.append(state)
            enabled = actions(model, state)
            if not enabled:
                break
            state = step(model, state, rng.choice(enabled))
    return out


def direct(model: ClusterModel, state: ClusterState, seed: int, index: int, flt: ActionFilter | None,
           met: set[str]) -> list[Action]:
    """The walk's list by its definition: every enabled action `flt` lets through, of a kind the
    walk takes (`met` gets every kind seen through the filter)."""
    enabled = [a for a in actions(model, state) if flt is None or flt(a)]
    met.update(type(a).__name__ for a in enabled)
    return [a for a in enabled if takes(seed, index, type(a).__name__)]


def no_deliveries(act: Action) -> bool:
    """An action filter (`EngineConfig.action_filter`): no watch deliveries."""
    return not isinstance(act, Deliver)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_a_walk_lists_what_its_definition_lists(path: Path) -> None:
    model = build_model(load_scenario(path))
    start = initial_state(model)
    rng = random.Random(path.name)
    reached = states(model, start, rng)
    assert any(isinstance(a, Tick) for s in reached for a in actions(model, s))  # some state lets time pass
    seed, walks = 5, range(4)
    assert {takes(seed, i, "Tick") for i in walks} == {True, False}  # walks with and without `Tick`
    for memo in (False, True):
        for index in walks:
            kinds, met = _Kinds(seed, index, True), set[str]()
            flt = no_deliveries if memo and index % 2 else None
            with memoised(model) if memo else contextlib.nullcontext():
                order = reached if index % 2 else list(reversed(reached))  # (the cache's answers out of order)
                for state in order:
                    assert _enabled(model, state, flt, kinds) == direct(model, state, seed, index, flt, met)
            assert kinds.enabled() == tuple(sorted(k for k in met if takes(seed, index, k)))


def test_a_walk_without_tick_never_asks_for_its_part(monkeypatch: pytest.MonkeyPatch) -> None:
    model = build_model(load_scenario(feastflow_path()))
    start = initial_state(model)
    without = next(i for i in range(50) if not takes(0, i, "Tick"))
    with_tick = next(i for i in range(50) if takes(0, i, "Tick"))

    def asked(*_: object) -> None:
        raise AssertionError("Tick's part was computed")

    monkeypatch.setattr(faults, "tick_enabled", asked)
    assert _enabled(model, start, None, _Kinds(0, without, True))
    assert "Tick" not in _Kinds(0, without, True).enabled()
    with pytest.raises(AssertionError, match="Tick's part"):
        _enabled(model, start, None, _Kinds(0, with_tick, True))

