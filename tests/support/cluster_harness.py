"""A FeastFlow model for driving one component's actions by hand: instant caches, and the node
lifecycle's every-pass `MarkPodsNotReady` (so tests need not stage a Ready transition); and a
scenario's model with the state it settles in (`settled`); a stored object of a known kind (`stored`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import attrs

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.server import ApiServerConfig, Request, handle
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.informers import deliver_instantly
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.schema import PARAMETERS
from kubeprop.model.state.cluster import ClusterModel, ClusterState

T = TypeVar("T")


def make_model(**overrides: Any) -> ClusterModel:
    """The FeastFlow scenario's nodes and API server; model parameters as above, then `overrides`."""
    scenario = load_scenario()
    params = {**PARAMETERS, "instantCaches": True, "markPodsNotReadyOnTransitionOnly": False, **overrides}
    return ClusterModel(scenario=scenario, api=ApiServerConfig(users=scenario.users, admission=scenario.admission),
                        nodes=tuple(n.name for n in scenario.spec.topology.nodes), parameters=FrozenMap(params))


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
