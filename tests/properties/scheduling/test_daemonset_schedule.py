"""`kubeprop schedule` with DaemonSets: each adds one pending pod per node that should run it, which
only that node fits (the model's DaemonSet controller's pod: `matchFields metadata.name`), and a
removed Node takes its daemon pods with it (the controller makes none for a node that is gone)."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.api.core import Node
from kubeprop.model.cluster import build_model, initial_state
from kubeprop.model.controllers.daemonset_util import target_node_name
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.decide import build_node_infos, pod_key
from kubeprop.properties.scheduling.drain import remove
from kubeprop.properties.scheduling.encode import Problem
from kubeprop.properties.scheduling.workloads import desired_count, desired_pods, greedy

AGENTS = Path(__file__).parents[2] / "model" / "data" / "daemonset" / "agents.yaml"


def _problem() -> Problem:
    model = build_model(load_scenario(AGENTS))
    store = initial_state(model).store
    nodes = [n for n in store.list("nodes") if isinstance(n, Node)]
    desired = desired_pods(store, model.api)
    assert desired_count(store) == len(desired.pending) == 5 and not desired.refused
    return Problem(build_node_infos(nodes, desired.bound), desired.pending)


def test_one_pod_per_eligible_node_placed_on_it() -> None:
    problem = _problem()
    assert sorted(pod_key(p) for p in problem.pending) == [
        "default/exporter-worker-1", "default/exporter-worker-2", "default/log-shipper-db-1",
        "default/log-shipper-worker-1", "default/log-shipper-worker-2"]
    placed = greedy(problem.nodes, problem.pending)
    assert not placed.pending
    assert all(key.endswith(f"-{node}") for key, node in placed.placement.items())  # <daemonset>-<node>


def test_removing_a_node_drops_its_daemon_pods() -> None:
    change = remove(_problem(), ["worker-1"])
    assert sorted(target_node_name(p) or "" for p in change.problem.pending) == ["db-1", "worker-2", "worker-2"]
    assert sorted(pod_key(p) for p in change.deleted) == ["default/exporter-worker-1", "default/log-shipper-worker-1"]
