"""The ReplicaSet's requeue after minReadySeconds in a whole run: a Deployment whose pods cannot all
be scheduled still counts its ready ones available (audit22a's false alarm)."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.api.apps import Deployment, ReplicaSet
from kubeprop.model.cluster import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.scenario.load import load_scenario

DATA = Path(__file__).parents[1] / "data" / "replicaset"


def test_ready_pods_become_available_while_a_replica_stays_pending() -> None:
    """Upstream v1.33 (`pkg/controller/replicaset/replica_set.go` updatePod: `enqueueRSAfter(rs,
    minReadySeconds + 1 s)` for each pod turning Ready): both ready pods are available and the
    Deployment Available (2 >= 3 - maxUnavailable 1) though the third pod never fits the node."""
    model = build_model(load_scenario(DATA / "min-ready.yaml"))
    end = fair_run(model, initial_state(model)).state
    (rs,) = [r for r in end.store.list("replicasets.apps") if isinstance(r, ReplicaSet)]
    (deployment,) = [d for d in end.store.list("deployments.apps") if isinstance(d, Deployment)]
    assert (rs.status.replicas, rs.status.ready_replicas, rs.status.available_replicas) == (3, 2, 2)
    assert deployment.status.available_replicas == 2
    available = [c for c in deployment.status.conditions if c.type == "Available"]
    assert [c.status for c in available] == ["True"]
