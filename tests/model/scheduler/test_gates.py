"""Scheduling gates in the cluster (trial 5, false alarm F1): a gated pod never enters the
scheduler's active queue (the SchedulingGates PreEnqueue plugin), so it stays Pending with
PodScheduled=False reason SchedulingGated, takes no node, and is scheduled once its last gate is
removed. The trial's scenarios are the test data (tests/model/data/gates)."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run, settle
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import USER_COMPONENT, ClusterModel, ClusterState, send
from kubeprop.properties.convergence import settled_violation
from kubeprop.properties.explore.bfs import Bounds, ExitReason, bfs
from kubeprop.properties.registry import Property, Violation, select

DATA = Path(__file__).parents[1] / "data" / "gates"
GATED = ObjectKey("pods", "default", "queued-job-0")
CONVERGENCE = ("deployments-complete", "workloads-ready", "schedulable-pods-bound")


def model_of(name: str, instant: bool) -> ClusterModel:
    return build_model(load_scenario(DATA / name / "scenario.yaml"), parameters={"instantCaches": instant})


def pod(state: ClusterState, key: ObjectKey = GATED) -> Pod:
    obj = state.store.get(key)
    assert isinstance(obj, Pod), key
    return obj


def scheduled_condition(p: Pod) -> tuple[str, str]:
    [cond] = [c for c in p.status.conditions if c.type == "PodScheduled"]
    return cond.status, cond.reason


@pytest.mark.parametrize("name", ["always", "never"])
@pytest.mark.parametrize("instant", [True, False])
def test_the_gated_pod_stays_pending_and_the_deployment_completes(name: str, instant: bool) -> None:
    """Before the fix the codec dropped the gates: the gated pod (created first) took n1 and api's
    pod could never fit, so `deployments-complete` and `workloads-ready` were VIOLATED."""
    model = model_of(name, instant)
    start = initial_state(model)
    end = fair_run(model, start).state
    gated = pod(end)
    assert (gated.spec.node_name, gated.status.phase) == ("", "Pending")
    assert scheduled_condition(gated) == ("False", "SchedulingGated")
    api = [p for p in end.store.list("pods") if isinstance(p, Pod) and p.metadata.labels.get("app") == "api"]
    assert [(p.spec.node_name, p.status.phase) for p in api] == [("n1", "Running")]
    assert settled_violation(model, start, select(list(CONVERGENCE))) is None


def _gated_unbound(model: ClusterModel, state: ClusterState) -> Violation | None:
    gated = state.store.get(GATED)
    if not isinstance(gated, Pod):
        return None
    tried = any(c.type == "PodScheduled" and c.reason != "SchedulingGated" for c in gated.status.conditions)
    if gated.spec.node_name or tried:
        return Violation("gated-pod-untouched", f"the gated pod was scheduled: {gated.spec.node_name!r}")
    return None


UNTOUCHED = Property("gated-pod-untouched", "The scheduler leaves a gated pod alone.", "", _gated_unbound)


def test_no_state_within_reach_schedules_the_gated_pod() -> None:
    """Every safety property, and the gated pod neither bound nor marked, over the first levels of
    the search (lagging caches, so the scheduler may also act on a stale view)."""
    model = model_of("always", False)
    report = bfs(model, initial_state(model), (*select(kind="safety"), UNTOUCHED), Bounds(max_depth=6))
    assert report.violation is None and report.stats.distinct > 100
    assert report.exit_reason in (ExitReason.DEPTH_BOUND, ExitReason.EXHAUSTED)


@pytest.mark.parametrize("instant", [True, False])
def test_removing_the_last_gate_lets_the_scheduler_try_the_pod(instant: bool) -> None:
    """The gate's removal queues the pod (UpdatePodSchedulingGatesEliminated); api holds 500m of
    n1's 1 CPU, so the 800m pod is now found unschedulable — tried, unlike before."""
    model = model_of("always", instant)
    state = settle(model, initial_state(model)).state
    ungated = attrs.evolve(pod(state), spec=attrs.evolve(pod(state).spec, scheduling_gates=()))
    state, response = send(model, state, "admin", Request(verb="update", user="admin", obj=ungated), USER_COMPONENT)
    assert response.ok, response.message
    end = settle(model, state).state
    assert scheduled_condition(pod(end)) == ("False", "Unschedulable")
    assert pod(end).spec.node_name == ""
