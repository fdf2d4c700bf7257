"""API server overload (`kubeprop.model.cluster.overload`, docs/overload.md): the flood and its
limits, on the scenarios `overload.yaml` (API Priority and Fairness) and
`overload-max-inflight.yaml` (APF off)."""

from __future__ import annotations

from pathlib import Path

import attrs

from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import is_progress, settle
from kubeprop.model.cluster.overload import (
    EndOverload,
    Overload,
    StartOverload,
    Starve,
    heartbeat_request,
    heartbeats,
    refusal,
)
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import DropWatch, Quiesce, Relist, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState, kubelet
from kubeprop.properties.explore.bfs import Bounds, bfs
from kubeprop.properties.explore.urgent import bound_holds
from kubeprop.properties.metrics import metrics
from kubeprop.properties.overload import NO_EVICTION_FOR_THROTTLED_HEARTBEATS, OVERLOAD_PROPERTIES
from kubeprop.properties.registry import first_violation, select

DATA = Path(__file__).parents[1] / "data" / "variants"
KCM_CREATE = Request(verb="create", user="system:kube-controller-manager", resource="pods", namespace="default")
BATCH_LIST = Request(verb="list", user="system:serviceaccount:default:batch", resource="pods", namespace="default")


def _model(name: str = "overload", **parameters: object) -> ClusterModel:
    return build_model(load_scenario(DATA / f"{name}.yaml"), parameters=parameters or None)


def _flooded(model: ClusterModel) -> ClusterState:
    return step(model, settle(model, initial_state(model)).state, StartOverload())


def test_start_and_end_within_the_budget() -> None:
    model = _model()
    state = settle(model, initial_state(model)).state
    assert StartOverload() in actions(model, state) and EndOverload() not in actions(model, state)
    flooded = step(model, state, StartOverload())
    assert flooded.overload == Overload(("system:serviceaccount:default:batch",), state.clock)
    assert StartOverload() not in actions(model, flooded) and EndOverload() in actions(model, flooded)
    assert not is_progress(StartOverload()) and is_progress(EndOverload()) and not is_progress(Starve("scheduler"))
    assert step(model, flooded, EndOverload()).overload is None


def test_apf_isolates_the_flood_in_its_priority_level() -> None:
    model = _model()
    state = _flooded(model)
    assert refusal(model, state, "", heartbeat_request("worker-1"), kubelet("worker-1")) is None
    assert refusal(model, state, KCM_CREATE.user, KCM_CREATE, "controller-manager") is None
    refused = refusal(model, state, BATCH_LIST.user, BATCH_LIST, "user")
    assert refused is not None and refused.code == 429 and "Retry-After: 1" in refused.message
    assert "workload-low" in refused.message
    assert not any(isinstance(a, Starve) for a in actions(model, state)), "fair queuing: no race to lose"
    assert first_violation(model, state, OVERLOAD_PROPERTIES) is None


def test_apf_is_fair_within_a_level_a_flooding_node_does_not_starve_another() -> None:
    model = _model(overloadClients=("system:node:worker-1",),
                   overloadRequest="update leases.coordination.k8s.io kube-node-lease")
    state = _flooded(model)
    assert refusal(model, state, "", heartbeat_request("worker-1"), kubelet("worker-1")) is not None
    assert refusal(model, state, "", heartbeat_request("worker-2"), kubelet("worker-2")) is None
    assert "worker-1" in state.heartbeat_lost and "worker-2" not in state.heartbeat_lost


def test_max_in_flight_refuses_whoever_loses_the_race() -> None:
    model = _model("overload-max-inflight")
    state = _flooded(model)
    starve = {a.client for a in actions(model, state) if isinstance(a, Starve)}
    assert starve == {"scheduler", "controller-manager", "kubelet/worker-1", "kubelet/worker-2",
                      "heartbeats/worker-1", "heartbeats/worker-2"}
    assert refusal(model, state, KCM_CREATE.user, KCM_CREATE, "controller-manager") is None, "won a seat"
    state = step(model, state, Starve("controller-manager"))
    assert refusal(model, state, KCM_CREATE.user, KCM_CREATE, "controller-manager") is not None
    root = Request(verb="delete", user="system:admin", resource="pods", namespace="default", name="x")
    assert refusal(model, state, "system:admin", root, "user") is None, "system:masters is exempt"
    state = step(model, state, Starve(heartbeats("worker-1")))
    assert "worker-1" in state.heartbeat_lost
    found = first_violation(model, state, OVERLOAD_PROPERTIES)
    assert found is not None and found.property == "system-flows-not-starved"
    assert "worker-1" not in step(model, state, EndOverload()).heartbeat_lost, "heartbeats resume"


def test_a_relist_storm_waits_for_the_flood_to_end() -> None:
    model = _model("overload-max-inflight")
    state = step(model, _flooded(model), Starve("controller-manager"))
    state = step(model, state, DropWatch("controller-manager", "pods"))
    stuck = step(model, state, Relist("controller-manager", "pods"))
    assert stuck.informers["controller-manager"].resources["pods"].stale, "the LIST was refused"
    table = metrics(model, state, [Relist("controller-manager", "pods"), EndOverload(),
                                   Relist("controller-manager", "pods")])
    assert table.requests == (("list", 200, 1), ("list", 429, 1)), "the refused relist, then the one after the flood"
    done = step(model, step(model, stuck, EndOverload()), Relist("controller-manager", "pods"))
    assert not done.informers["controller-manager"].resources["pods"].stale


def test_heartbeats_starved_for_six_minutes_evict_a_healthy_nodes_pod() -> None:
    """Max-in-flight, worker-1's heartbeats lose the race: Unknown at 60 s, tainted, its pod
    evicted at 360 s although the node and its kubelet are fine (urgent search, instant caches)."""
    model = _model("overload-max-inflight", instantCaches=True)
    state = step(model, _flooded(model), Starve(heartbeats("worker-1")))
    result = bound_holds(model, state, NO_EVICTION_FOR_THROTTLED_HEARTBEATS, Bounds(max_states=20_000),
                         avoid=(EndOverload, UserStep, Quiesce), horizon=400)
    assert not result.holds and result.violation is not None
    assert str(result.trace[-1]).startswith("TaintEvictPod(")
    assert sum(getattr(a, "seconds", 0) for a in result.trace) == 360


def test_no_mass_eviction_when_every_heartbeat_is_starved() -> None:
    """Both workers silent: the zone is in full disruption and the node lifecycle controller stops
    evicting (handleDisruption) — every urgent run to 400 s, exhaustively."""
    model = _model("overload-max-inflight", instantCaches=True)
    state = _flooded(model)
    for node in ("worker-1", "worker-2"):
        state = step(model, state, Starve(heartbeats(node)))
    result = bound_holds(model, state, NO_EVICTION_FOR_THROTTLED_HEARTBEATS, Bounds(max_states=20_000),
                         avoid=(EndOverload, UserStep, Quiesce), horizon=400)
    assert result.holds and result.exit_reason == "exhausted", result.violation


def test_apf_keeps_system_flows_and_no_eviction_on_every_run() -> None:
    model = _model()
    report = bfs(model, initial_state(model), OVERLOAD_PROPERTIES, Bounds(max_depth=5, max_states=30_000))
    assert report.violation is None


def test_controllers_converge_once_the_flood_ends() -> None:
    for name in ("overload", "overload-max-inflight"):
        model = _model(name)
        state = _flooded(model)
        if name == "overload-max-inflight":
            state = step(model, step(model, state, Starve("controller-manager")), Starve("scheduler"))
        state = step(model, step(model, state, UserStep(0)), Quiesce())
        end = settle(model, state)
        assert not end.exhausted and EndOverload() in end.trace
        assert first_violation(model, end.state, select(kind="convergence")) is None, name
        assert attrs.evolve(end.state).overload is None


def test_the_flooded_level_borrows_the_seats_other_levels_lend() -> None:
    for borrowing, seats in ((True, 368), (False, 245)):
        model = _model(apfBorrowing=borrowing)
        refused = refusal(model, _flooded(model), BATCH_LIST.user, BATCH_LIST, "")
        assert refused is not None and refused.code == 429
        held = f"priority level workload-low ({seats} seats, all held by the flood's 1-seat requests)"
        assert held in refused.message
    model = _model(apfBorrowing=False)  # fixed limits: the other levels are as isolated as with borrowing
    assert refusal(model, _flooded(model), "", heartbeat_request("worker-1"), kubelet("worker-1")) is None


def test_a_starved_leader_election_renewal_names_the_user_and_no_stored_object() -> None:
    """Trial 8: the violation listed `system:kube-scheduler (no longer stored)` among the objects
    involved; a user is not a stored object (nor is the Lease: the model keeps none)."""
    model = _model("overload-max-inflight")
    state = step(model, _flooded(model), Starve("scheduler"))
    found = first_violation(model, state, OVERLOAD_PROPERTIES)
    assert found is not None and found.property == "system-flows-not-starved"
    assert found.message.startswith("user system:kube-scheduler's leader-election renewal (update of Lease "
                                    "kube-system/kube-scheduler) is refused during the flood: 429 ")
    assert found.objects == ()
