"""A FeastFlow model for driving one component's actions by hand (`make_model`: instant caches, and
the node lifecycle's every-pass `MarkPodsNotReady`, so tests need not stage a Ready transition; no
hooks unless given, `compose.HOOKS` for the runner's); and a
scenario's model with the state it settles in (`settled`); a stored object of a known kind (`stored`);
a fair run's states (`fair_states`) and the state an object disappears in (`gone_at`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import attrs

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.server import ApiServerConfig, Request, handle
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run, settle
from kubeprop.model.cluster.informers import deliver_instantly
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.schema import PARAMETERS
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.model.state.component import Hooks
from kubeprop.properties.upstream_behaviour import states_of

T = TypeVar("T")


def make_model(hooks: Hooks = Hooks(), **overrides: Any) -> ClusterModel:
    """The FeastFlow scenario's nodes and API server; model parameters as above, then `overrides`.
    `hooks`: what informer delivery, restarts and `Tick` run for the components — none by default,
    so a test drives one component alone; `compose.HOOKS` for the composition's, which `build_model`
    gives every model the runner explores (the node event handler, the controllers' timers, …)."""
    scenario = load_scenario()
    params = {**PARAMETERS, "instantCaches": True, "markPodsNotReadyOnTransitionOnly": False, **overrides}
    return ClusterModel(scenario=scenario, api=ApiServerConfig(users=scenario.users, admission=scenario.admission),
                        nodes=tuple(n.name for n in scenario.spec.topology.nodes), parameters=FrozenMap(params),
                        hooks=hooks)


def api(state: ClusterState, model: ClusterModel, request: Request) -> ClusterState:
    """One request that must succeed, at the state's clock: the state with the new store."""
    result = handle(state.store, request, model.api, state.clock)
    assert result.response.ok, result.response
    return attrs.evolve(state, store=result.store)


def api_seen(state: ClusterState, model: ClusterModel, request: Request) -> ClusterState:
    """`api`, then the write's events handed to every component's handlers (instant caches), as
    a step does: the scheduler's nominator, for one, learns of a nomination from them."""
    revision = state.store.revision
    state = api(state, model, request)
    return deliver_instantly(model, state, (e for e in state.store.events if e.revision > revision))


def settled(scenario: Path, **parameters: object) -> tuple[ClusterModel, ClusterState]:
    """The scenario's model (with `parameters`) and the state its fair run settles in from the
    initial state (at most 3,000 steps)."""
    model = build_model(load_scenario(scenario), parameters=parameters or None)
    return model, settle(model, initial_state(model), max_steps=3000).state


def stored(state: ClusterState, key: ObjectKey, kind: type[T]) -> T:
    """The object stored at `key`, which must be there and of `kind`."""
    obj = state.store.get(key)
    assert isinstance(obj, kind), (key, obj)
    return obj


def fair_states(model: ClusterModel, max_steps: int = 3000) -> tuple[list[ClusterState], tuple[Action, ...]]:
    """The model's fair run from its initial state, which must end within `max_steps`: the states it
    passes through (the initial one first) and its actions."""
    run = fair_run(model, initial_state(model), max_steps=max_steps)
    assert not run.exhausted and not run.interrupted
    return states_of(model, run.trace), tuple(run.trace)


def gone_at(states: Sequence[ClusterState], key: ObjectKey) -> int | None:
    """The index of the first state without `key` after one with it (None if it never goes)."""
    seen = False
    for i, state in enumerate(states):
        present = state.store.get(key) is not None
        if seen and not present:
            return i
        seen = seen or present
    return None
