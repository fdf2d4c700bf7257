"""The composition holds its components' hooks as data of the model (no import-time registration)."""

from __future__ import annotations

import attrs

from kubeprop.model.cluster import faults
from kubeprop.model.cluster.compose import HOOKS, actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Tick
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.model.state.component import Component, Hooks


def test_every_model_carries_the_composition_hooks() -> None:
    model = build_model(load_scenario())
    assert model.hooks is HOOKS
    assert HOOKS.on_events and HOOKS.resetters and HOOKS.tick_hooks and HOOKS.timers


def test_components_follow_the_contract() -> None:
    from kubeprop.model.cluster.compose import COMPONENTS

    assert all(isinstance(c, Component) for c in COMPONENTS)


def test_the_hooks_a_model_carries_are_the_ones_that_run() -> None:
    model = build_model(load_scenario())
    state = settle(model, initial_state(model)).state
    seen: list[int] = []

    def tick_hook(_m: ClusterModel, before: ClusterState, after: ClusterState) -> ClusterState:
        seen.append(after.clock - before.clock)
        return after

    timer_model = attrs.evolve(model, hooks=attrs.evolve(HOOKS, timers=(lambda _m, s: s.clock + 30,),
                                                           tick_hooks=(tick_hook,)))
    tick = next(a for a in actions(timer_model, state) if isinstance(a, Tick))
    step(timer_model, state, tick)
    assert seen == [tick.seconds]
    assert faults.next_timer(attrs.evolve(model, hooks=Hooks()), state) is None
