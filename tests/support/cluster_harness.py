"""A FeastFlow model for driving one component's actions by hand: instant caches, and the node
lifecycle's every-pass `MarkPodsNotReady` (so tests need not stage a Ready transition)."""

from __future__ import annotations

from typing import Any

import attrs

from kubeprop.model.api.server import ApiServerConfig, Request, handle
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.schema import PARAMETERS
from kubeprop.model.state.cluster import ClusterModel, ClusterState


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
