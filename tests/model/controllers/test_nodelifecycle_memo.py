"""Node lifecycle's remembered `pass_enabled` answers what computing it afresh answers, state
after state of random runs with faults (partitions and node crashes make passes due)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.controllers import nodelifecycle_health as health
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Quiesce, Tick

DATA = Path(__file__).parents[1] / "data" / "variants"


@pytest.mark.parametrize("path", [None, DATA / "node-loss.yaml", DATA / "web.yaml"])
def test_remembered_pass_answers_like_a_fresh_one(path: Path | None) -> None:
    model = build_model(load_scenario(path))
    rng = random.Random(11)
    for _ in range(4):
        state = initial_state(model)
        for _ in range(120):
            assert health.pass_enabled(model, state) == health._pass_enabled(model, state)
            enabled = [a for a in actions(model, state) if not isinstance(a, Quiesce)]
            if not enabled:
                break
            ticks = [a for a in enabled if isinstance(a, Tick)]  # let time pass: grace periods run out
            act = ticks[0] if ticks and rng.random() < 0.3 else enabled[rng.randrange(len(enabled))]
            state = step(model, state, act)
