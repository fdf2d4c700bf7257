"""`kubeprop schedule` with host-network pods: the pods it builds go through the model's API server,
whose defaults give a host-network Pod's container ports host ports (`pkg/apis/core/v1/defaults.go`
defaultHostNetworkPorts), so both the one-at-a-time replay and Z3 keep two of them listening on one
port off a node (`pkg/scheduler/framework/plugins/nodeports`)."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.api.core import Node
from kubeprop.model.cluster import build_model, initial_state
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.decide import build_node_infos
from kubeprop.model.scheduler.filters import REASON_NODE_PORTS, host_ports
from kubeprop.properties.scheduling.encode import Problem
from kubeprop.properties.scheduling.solver import SchedulingSolver
from kubeprop.properties.scheduling.workloads import desired_pods, greedy

WEB = Path(__file__).parents[2] / "model" / "data" / "hostnet" / "web.yaml"


def _problem() -> Problem:
    model = build_model(load_scenario(WEB))
    store = initial_state(model).store
    desired = desired_pods(store, model.api)
    assert len(desired.pending) == 3 and not desired.refused
    nodes = [n for n in store.list("nodes") if isinstance(n, Node)]
    return Problem(build_node_infos(nodes, desired.bound), desired.pending)


def test_three_host_network_replicas_on_two_nodes_leave_one_pending() -> None:
    problem = _problem()
    assert all(host_ports(p) == [("0.0.0.0", "TCP", 8080)] for p in problem.pending)
    placed = greedy(problem.nodes, problem.pending)
    assert sorted(placed.placement.values()) == ["worker-1", "worker-2"]
    (message,) = placed.pending.values()
    assert REASON_NODE_PORTS in message
    assert SchedulingSolver(problem).check().status == "unsat"


def test_two_replicas_fit_one_per_node() -> None:
    problem = _problem()
    two = Problem(problem.nodes, problem.pending[:2])
    outcome = SchedulingSolver(two).check()
    assert outcome.status == "sat" and sorted(outcome.placement.values()) == ["worker-1", "worker-2"]
