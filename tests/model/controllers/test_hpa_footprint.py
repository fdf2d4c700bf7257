"""The HPA controller's memory in the footprints (`kubeprop.model.cluster.footprint`): partial-order
reduction is sound only if every action that reads or writes it says so. Before, the controller
manager's watch handlers, its crash and restart, and `Tick` left it out (`ctl:horizontal-pod-autoscaler`)."""

from __future__ import annotations

import random
from pathlib import Path

import attrs
from cluster_harness import api
from random_runs import random_run_states

from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.footprint import ALL, Footprints
from kubeprop.model.controllers import hpa
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.actions import Action, CrashComponent, Deliver, RestartComponent, Tick
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterState

SCENARIO = Path(__file__).parents[1] / "data" / "hpa" / "linear" / "app.yaml"
TOKEN = f"ctl:{hpa.NAME}"


def _declared(footprints: Footprints, state: ClusterState, act: Action) -> tuple[ClusterState, set[str]]:
    """The state after `act`, and the controller memories it changed that its footprint does not
    declare it writes."""
    after = step(footprints.model, state, act)
    changed = {name for name in {*state.controllers, *after.controllers}
               if state.controllers.get(name) != after.controllers.get(name)}
    writes = footprints.of(act).writes
    return after, set() if ALL in writes else {n for n in changed if f"ctl:{n}" not in writes}


def test_every_step_that_changes_a_controller_memory_declares_it() -> None:
    """On random runs of an HPA scenario, each step's changed `state.controllers` entries (the HPA's
    among them) are among its footprint's writes."""
    model = build_model(load_scenario(SCENARIO))
    footprints, rng = Footprints(model), random.Random(11)
    for state in random_run_states(model, rng, runs=3, length=40):
        for act in rng.sample(actions(model, state), min(8, len(actions(model, state)))):
            assert _declared(footprints, state, act)[1] == set(), act


def test_the_hpa_memory_is_read_by_tick_and_written_by_its_handlers_and_restarts() -> None:
    """An HPA deleted (the watch event forgets its due time: `hpa.on_events`) and the controller
    manager restarted (every HPA due afresh: `hpa.initial_memory`) change the HPA's memory, and those
    steps' footprints say so; `Tick` reads it (`hpa.next_timer`)."""
    model = build_model(load_scenario(SCENARIO))
    footprints = Footprints(model)
    assert TOKEN in footprints.of(Tick(10)).reads
    assert TOKEN in footprints.of(CrashComponent(CONTROLLER_MANAGER)).writes
    state = initial_state(model)
    assert hpa.memory(state).due
    gone = api(state, model, Request(verb="delete", user=ADMIN, resource=hpa.RESOURCE, namespace="default",
                                     name="web"))
    deliver = next(a for a in actions(model, gone) if isinstance(a, Deliver) and a.component == CONTROLLER_MANAGER
                   and a.resource == hpa.RESOURCE)
    after, undeclared = _declared(footprints, gone, deliver)
    assert not hpa.memory(after).due and undeclared == set()
    down = step(model, state, CrashComponent(CONTROLLER_MANAGER))
    restart = next(a for a in actions(model, attrs.evolve(down, clock=30)) if isinstance(a, RestartComponent))
    after, undeclared = _declared(footprints, attrs.evolve(down, clock=30), restart)
    assert hpa.memory(after) != hpa.memory(state) and undeclared == set()
