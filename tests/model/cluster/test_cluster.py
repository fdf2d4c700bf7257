"""The composed cluster: FeastFlow end to end, partitions, and properties of actions/step."""

from __future__ import annotations

import json
import pickle

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeprop.model.api.objects import Endpoints, Node, ObjectKey, Pod
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.component import Schedule, decide
from kubeprop.model.state.actions import (
    INJECTED_FAULTS,
    Action,
    Heal,
    Partition,
    Quiesce,
    Tick,
    action_from_json,
    to_json,
)
from kubeprop.model.state.cluster import ClusterModel, ClusterState

SCENARIO = load_scenario()


def model(instant: bool = True, **parameters: object) -> ClusterModel:
    return build_model(SCENARIO, parameters={"instantCaches": instant, **parameters})


INSTANT = model()
LAGGING = model(instant=False)
SETTLED = settle(INSTANT, initial_state(INSTANT)).state


def pods(state: ClusterState) -> list[Pod]:
    return [p for p in state.store.list("pods") if isinstance(p, Pod)]


def ready(pod: Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)


@pytest.mark.parametrize("m", [INSTANT, LAGGING], ids=["instant-caches", "lagging-caches"])
def test_feastflow_reaches_a_steady_state_with_every_pod_running_and_ready(m: ClusterModel) -> None:
    result = settle(m, initial_state(m))
    assert not result.exhausted
    running = pods(result.state)
    assert len(running) == 6  # 3 backend, 2 frontend, postgres-0
    assert all(p.status.phase == "Running" and ready(p) for p in running)
    endpoints = result.state.store.get(ObjectKey("endpoints", "default", "feastflow-backend"))
    assert isinstance(endpoints, Endpoints)
    addresses = {a.target_ref.name for s in endpoints.subsets for a in s.addresses if a.target_ref}
    assert addresses == {p.metadata.name for p in running if p.metadata.name.startswith("feastflow-backend")}


def test_seed_scheduling_example_first_backend_pod_lands_on_worker_3() -> None:
    """Seed §3: a backend pod (100m/128Mi) — worker-2 is filtered for CPU, worker-3 scores highest."""
    state = initial_state(INSTANT)
    while not any(isinstance(a, Schedule) for a in actions(INSTANT, state)):
        state = step(INSTANT, state, next(a for a in actions(INSTANT, state) if "Reconcile" in type(a).__name__))
    decision = decide(INSTANT, state, "scheduler")
    assert decision is not None
    pod, result = decision
    assert pod.metadata.name.startswith("feastflow-backend-")
    assert "Insufficient cpu" in result.filter_reasons["worker-2"]
    assert result.best == ("worker-3",)
    assert result.scores["worker-3"] > result.scores["worker-1"]


def test_partitioned_node_pods_go_not_ready_then_are_evicted_but_keep_running() -> None:
    state = step(INSTANT, SETTLED, Partition("worker-1"))
    state = step(INSTANT, state, Quiesce())
    on_worker_1 = {p.metadata.name for p in pods(state) if p.spec.node_name == "worker-1"}
    assert on_worker_1
    grace = INSTANT.parameter("nodeMonitorGracePeriodSeconds")
    # Before the grace period: still Ready.
    early = settle(INSTANT, state, avoid=(Heal,), max_ticks=(grace // INSTANT.tick_seconds) - 1).state
    assert all(ready(p) for p in pods(early) if p.metadata.name in on_worker_1)
    # After it: the node is Unknown and its pods NotReady, not yet evicted (tolerationSeconds 300).
    later = settle(INSTANT, state, avoid=(Heal,), max_ticks=(grace // INSTANT.tick_seconds) + 2).state
    node = later.store.get(ObjectKey("nodes", "", "worker-1"))
    assert isinstance(node, Node)
    assert any(c.type == "Ready" and c.status == "Unknown" for c in node.status.conditions)
    assert any(t.key == "node.kubernetes.io/unreachable" and t.effect == "NoExecute" for t in node.spec.taints)
    marked = [p for p in pods(later) if p.metadata.name in on_worker_1]
    assert marked and not any(ready(p) for p in marked)
    assert all(p.metadata.deletion_timestamp is None for p in marked)
    # After tolerationSeconds: evicted — terminating in the API, still running in kubelet state.
    final = settle(INSTANT, state, avoid=(Heal,), max_ticks=100).state
    terminating = [p for p in pods(final) if p.metadata.name in on_worker_1]
    assert terminating and all(p.metadata.deletion_timestamp is not None for p in terminating)
    assert final.clock >= 300
    running_locally = set(final.kubelets["worker-1"].pods)
    assert {f"default/{name}" for name in on_worker_1} <= running_locally
    replacements = [p for p in pods(final) if p.metadata.deletion_timestamp is None]
    assert sum(p.metadata.name.startswith("feastflow-backend") for p in replacements) == 3


def test_user_step_scales_backend_to_five() -> None:
    from kubeprop.model.state.actions import UserStep

    state = step(INSTANT, SETTLED, UserStep(0))
    state = settle(INSTANT, state).state
    backend = [p for p in pods(state) if p.metadata.name.startswith("feastflow-backend")]
    # worker-1 400m, worker-2 50m, worker-3 600m: 5 backend pods of 100m fit (2 frontend 50m, postgres 200m).
    assert len(backend) == 5
    assert all(p.spec.node_name for p in backend)


def _walk(m: ClusterModel, choices: list[int]) -> list[tuple[ClusterState, Action]]:
    state = initial_state(m)
    out = []
    for choice in choices:
        enabled = actions(m, state)
        if not enabled:
            break
        act = enabled[choice % len(enabled)]
        out.append((state, act))
        state = step(m, state, act)
    return out


CHOICES = st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=25)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CHOICES, st.booleans())
def test_step_never_mutates_its_input_and_actions_are_deterministic(choices: list[int], instant: bool) -> None:
    m = INSTANT if instant else LAGGING
    for state, act in _walk(m, choices):
        before = pickle.dumps(state)
        assert actions(m, state) == actions(m, state)
        first = step(m, state, act)
        second = step(m, state, act)
        assert pickle.dumps(state) == before
        assert first == second and hash(first) == hash(second)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CHOICES)
def test_every_reachable_action_round_trips_through_json(choices: list[int]) -> None:
    for state, _ in _walk(LAGGING, choices):
        for act in actions(LAGGING, state):
            text = json.dumps(to_json(act))
            assert action_from_json(json.loads(text)) == act
            assert str(act).startswith(type(act).__name__ + "(")


def test_equal_states_hash_equal_across_construction() -> None:
    a, b = initial_state(INSTANT), initial_state(INSTANT)
    assert a == b and hash(a) == hash(b)


def test_tick_is_not_enabled_in_a_quiet_settled_cluster() -> None:
    assert not any(isinstance(a, Tick) for a in actions(INSTANT, SETTLED))


def test_the_api_server_needs_an_etcd_quorum() -> None:
    """FeastFlow's API server writes go through its 3 etcd members: one member down, the cluster
    still works; two down (seed §6 "Master-2 + etcd-2 crash" after etcd-1), every write fails."""
    from kubeprop.model.state.actions import CrashComponent, CrashNode, UserStep
    from kubeprop.model.state.cluster import etcd_available

    def backend_replicas(state: ClusterState) -> int | None:
        from kubeprop.model.api.objects import Deployment

        d = state.store.get(ObjectKey("deployments.apps", "default", "feastflow-backend"))
        assert isinstance(d, Deployment)
        return d.spec.replicas

    one_down = step(INSTANT, SETTLED, CrashComponent("etcd/etcd-1"))
    assert etcd_available(INSTANT, one_down)
    assert backend_replicas(step(INSTANT, one_down, UserStep(0))) == 5
    two_down = step(INSTANT, one_down, CrashNode("master-2"))  # master-2 hosts etcd-2
    assert not etcd_available(INSTANT, two_down)
    after = step(INSTANT, two_down, UserStep(0))
    assert backend_replicas(after) == 3 and after.store == two_down.store
    ceil = model(etcdQuorum="ceil")
    assert etcd_available(ceil, step(ceil, step(ceil, initial_state(ceil), CrashComponent("etcd/etcd-1")),
                                     CrashNode("master-2"))) is False  # ⌈3/2⌉ = 2: the same for 3 members


def test_each_injected_fault_spends_its_own_budget_kind() -> None:
    """`INJECTED_FAULTS` names the budget kind each fault spends (the ample sets, the progress
    rule and the timeline's faults lane read it): taking the fault spends that kind and no other."""
    seen = set()
    for m, state in ((LAGGING, initial_state(LAGGING)), (INSTANT, SETTLED)):  # watches lag; containers run
        for act in actions(m, state):
            kind = INJECTED_FAULTS.get(type(act))
            if kind is None:
                continue
            after = step(m, state, act).faults
            spent = {f.name: getattr(after, f.name) - getattr(state.faults, f.name) for f in attrs.fields(type(after))}
            assert spent == {name: int(name == kind) for name in spent}, act
            seen.add(type(act))
    assert seen == set(INJECTED_FAULTS)
