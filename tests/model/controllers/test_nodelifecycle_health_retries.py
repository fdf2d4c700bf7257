"""monitorNodeHealth's retries of a node's health update (audit 21b, F3), against upstream
`pkg/controller/nodelifecycle/node_lifecycle_controller.go` (v1.33) updateNodeFunc:
`wait.PollImmediate(retrySleepTime, retrySleepTime*scheduler.NodeHealthUpdateRetry)` (20 ms, 5) around
tryUpdateNodeHealth, a fresh GET of the node after any failed try, the retries ended by a failed GET, the
node skipped when every try fails. The model retried once, on a 409 only: an update that failed with a
500 left the silent node Ready for the zone counts until the next pass."""

from __future__ import annotations

import attrs
from cluster_harness import make_model
from nodelifecycle_harness import at, node, partition, running_pod, step

from kubeprop.model.api.core import Node
from kubeprop.model.api.meta import find_condition
from kubeprop.model.api.server import Request, Response
from kubeprop.model.controllers import nodelifecycle as nlc
from kubeprop.model.controllers import nodelifecycle_health as health
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState
from kubeprop.model.state.component import Hooks


def _ready(state: ClusterState) -> str:
    cond = find_condition(node(state).status.conditions, "Ready")
    assert cond is not None
    return cond.status


def test_an_update_failing_with_500_is_retried_on_a_fresh_node() -> None:
    model = make_model()
    state = at(partition(running_pod(model)), 60)
    state = attrs.evolve(state, armed_failures=state.armed_failures.set(CONTROLLER_MANAGER, 500))
    state = step(model, state, nlc.MonitorNodeHealth())
    assert _ready(state) == "Unknown"
    assert CONTROLLER_MANAGER not in state.armed_failures


def _refusing(verbs: set[str], seen: list[str]) -> Hooks:
    """An API server that refuses (429) the node controller's requests of `verbs`, noting each request."""
    def gate(model: ClusterModel, state: ClusterState, user: str, request: Request, component: str
             ) -> Response | None:
        if component != CONTROLLER_MANAGER or not (isinstance(request.obj, Node) or request.resource == "nodes"):
            return None
        seen.append(request.verb)
        return Response(429, "TooManyRequests") if request.verb in verbs else None
    return Hooks(request_gates=(gate,))


def test_five_failed_tries_skip_the_node() -> None:
    seen: list[str] = []
    model = make_model(hooks=_refusing({"update-status"}, seen))
    state = at(partition(running_pod(model)), 60)
    del seen[:]
    state = step(model, state, nlc.MonitorNodeHealth())
    assert _ready(state) == "True", "every try failed: the node is skipped"
    assert seen == ["update-status", "get"] * health.NODE_HEALTH_UPDATE_RETRY


def test_a_failed_get_ends_the_retries() -> None:
    seen: list[str] = []
    model = make_model(hooks=_refusing({"update-status", "get"}, seen))
    state = at(partition(running_pod(model)), 60)
    del seen[:]
    state = step(model, state, nlc.MonitorNodeHealth())
    assert _ready(state) == "True"
    assert seen == ["update-status", "get"]
