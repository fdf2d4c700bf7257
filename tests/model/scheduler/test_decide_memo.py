"""`component.decide` remembers its last answers by the model, the instance's memory and its cache
(`_DECISIONS`): along random runs of scenarios with one and two scheduler instances, pods left
unschedulable and preemption, it answers what a scheduling cycle computed afresh answers."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from random_runs import mostly_fair_run

from kubeprop.model.cluster import compose
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import FairPolicy
from kubeprop.model.cluster.incremental import EnabledCache
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.load import feastflow_path, load_scenario
from kubeprop.model.scheduler.component import _decide, decide
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState, view

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize("path", [feastflow_path(), DATA / "binding" / "dual.yaml", DATA / "catalogue" / "tight.yaml"],
                         ids=lambda p: p.stem)
def test_decide_answers_what_a_cycle_computed_afresh_does(path: Path) -> None:
    model = build_model(load_scenario(path))
    rng, decided = random.Random(4), 0
    for _ in range(1 if path == feastflow_path() else 2):
        for state in mostly_fair_run(model, rng, 89, 0.7):
            for instance in model.scheduler_instances:
                if instance in state.schedulers:
                    direct = _decide(model, view(model, state, instance), state.schedulers[instance])
                    assert decide(model, state, instance) == direct
                    decided += direct is not None
    assert decided  # the runs have pods to schedule


def test_the_cache_sees_an_instance_go_down_with_its_memory_kept() -> None:
    """The scheduler's part is keyed on whether each instance is up (not on everything down): an
    instance put down with its memory and cache as they were has no actions, the other one keeps its."""
    model = build_model(load_scenario(DATA / "binding" / "dual.yaml"))
    state, policy = initial_state(model), FairPolicy()
    cache = EnabledCache(model)
    checked = 0
    for _ in range(60):
        for instance in model.scheduler_instances:
            down = evolve(state, down=state.down | {instance})
            for asked in (state, down, state):
                assert cache.actions(asked) == _plain(model, asked)
            checked += any(getattr(a, "scheduler", None) == instance for a in _plain(model, state))
        enabled = _plain(model, state)
        fair = policy.choose(enabled)
        if fair is None:
            break
        policy.taken(fair)
        state = step(model, state, fair)
    assert checked  # an instance had actions to lose


def _plain(model: ClusterModel, state: ClusterState) -> tuple[Action, ...]:
    return tuple(a for component in compose.COMPONENTS for a in component.enabled(model, state))
