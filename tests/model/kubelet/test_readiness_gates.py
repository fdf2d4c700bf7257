"""Readiness gates (`spec.readinessGates`): the kubelet's Ready condition waits for each gate's
condition to be True in `status.conditions` (`pkg/kubelet/status/generate.go`
GeneratePodReadyCondition, reason ReadinessGatesNotReady); someone else sets those conditions, and
the kubelet's status writes keep them (`status_manager.go` mergePodStatus). The sixth user trial's
rg1 (a gate nobody sets) ended Ready=True and a ready endpoint."""

from __future__ import annotations

from pathlib import Path

import attrs
from cluster_harness import settled

from kubeprop.model.api.codec import decode
from kubeprop.model.api.meta import Condition, ObjectMeta, find_condition, set_condition
from kubeprop.model.api.objects import (
    Container,
    Deployment,
    Endpoints,
    EndpointSlice,
    ObjectKey,
    Pod,
    PodReadinessGate,
    PodSpec,
)
from kubeprop.model.api.server import Request
from kubeprop.model.api.validation import validate_create, validate_update
from kubeprop.model.cluster.compose import actions, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.workload import USER_COMPONENT
from kubeprop.model.kubelet.component import SyncPodStatus, kubelet_state
from kubeprop.model.kubelet.status import merged_conditions, ready_condition
from kubeprop.model.state.actions import CrashContainer
from kubeprop.model.state.cluster import ClusterModel, ClusterState, send
from kubeprop.properties.convergence import deployments_complete, endpoints_match_ready_pods, workloads_ready

DATA = Path(__file__).resolve().parents[1] / "data" / "kubelet" / "readiness-gates"
GATE = "example.com/lb-registered"
KEY = ObjectKey("pods", "default", "gated")
MISSING = f'corresponding condition of pod readiness gate "{GATE}" does not exist.'


def _pod(state: ClusterState, key: ObjectKey = KEY) -> Pod:
    pod = state.store.get(key)
    assert isinstance(pod, Pod), key
    return pod


def _ready(pod: Pod) -> tuple[str, str, str]:
    cond = find_condition(pod.status.conditions, "Ready")
    assert cond is not None
    return cond.status, cond.reason, cond.message


def _set_gate(model: ClusterModel, state: ClusterState, status: str, user: str = "admin") -> ClusterState:
    """A status update of the pod, as a controller sends it: the gate's condition set to `status`
    on the stored pod, with its resourceVersion."""
    pod = _pod(state)
    cond = Condition(type=GATE, status=status, reason="Test", last_transition_time=state.clock)
    updated = attrs.evolve(pod, status=attrs.evolve(pod.status, conditions=set_condition(pod.status.conditions, cond)))
    state, response = send(model, state, user, Request(verb="update-status", user=user, obj=updated), USER_COMPONENT)
    assert response.ok, response
    return state


def test_the_trial_pod_with_a_gate_nobody_sets_is_never_ready_nor_a_ready_endpoint() -> None:
    model, state = settled(DATA)
    pod = _pod(state)
    assert pod.status.phase == "Running"
    assert find_condition(pod.status.conditions, "ContainersReady").status == "True"  # type: ignore[union-attr]
    assert _ready(pod) == ("False", "ReadinessGatesNotReady", MISSING)
    endpoints = state.store.get(ObjectKey("endpoints", "default", "gated"))
    assert isinstance(endpoints, Endpoints)
    assert [a.target_ref.name for s in endpoints.subsets for a in s.not_ready_addresses if a.target_ref] == ["gated"]
    assert not [a for s in endpoints.subsets for a in s.addresses]
    slices = [s for s in state.store.list("endpointslices.discovery.k8s.io", "default") if isinstance(s, EndpointSlice)]
    conditions = [(e.conditions.ready, e.conditions.serving) for s in slices for e in s.endpoints]
    assert conditions == [(False, False)]
    assert endpoints_match_ready_pods(model, state) is None


def test_a_condition_set_true_makes_the_pod_ready_and_a_ready_endpoint() -> None:
    model, state = settled(DATA)
    state = settle(model, _set_gate(model, state, "False")).state
    assert _ready(_pod(state)) == ("False", "ReadinessGatesNotReady",
                                   f'the status of pod readiness gate "{GATE}" is not "True", but False')
    state = settle(model, _set_gate(model, state, "True")).state
    assert _ready(_pod(state)) == ("True", "", "")
    assert find_condition(_pod(state).status.conditions, GATE).status == "True"  # type: ignore[union-attr]
    endpoints = state.store.get(ObjectKey("endpoints", "default", "gated"))
    assert isinstance(endpoints, Endpoints)
    assert [a.target_ref.name for s in endpoints.subsets for a in s.addresses if a.target_ref] == ["gated"]
    assert endpoints_match_ready_pods(model, state) is None


def test_a_condition_set_while_the_kubelets_cache_is_behind_survives_its_status_write() -> None:
    """The status manager GETs the pod and keeps the conditions it does not own: a gate condition
    the kubelet has not seen yet is not overwritten by its write from the older copy."""
    model, state = settled(DATA)
    state = _set_gate(model, state, "True")
    node = _pod(state).spec.node_name
    crash = CrashContainer(node, "default/gated", "app")
    state = step(model, state, crash)  # a status to write, from a cache that has not seen the update
    sync = SyncPodStatus(node, "default/gated")
    assert sync in actions(model, state)
    state = step(model, state, sync)
    pod = _pod(state)
    assert find_condition(pod.status.conditions, GATE).status == "True"  # type: ignore[union-attr]
    assert _ready(pod)[:2] == ("False", "ContainersNotReady")
    assert kubelet_state(state, node).pods["default/gated"].containers[0].running is False
    done = settle(model, state)
    assert _ready(_pod(done.state)) == ("True", "", "")


def test_ready_follows_containers_ready_first_and_names_every_unmet_gate_in_order() -> None:
    gates = (PodReadinessGate("a.example/one"), PodReadinessGate("two"), PodReadinessGate("three"))
    unready = Condition(type="ContainersReady", status="False", reason="ContainersNotReady",
                        message="containers with unready status: [app]")
    assert ready_condition(unready, gates, ()) == attrs.evolve(unready, type="Ready")
    ok = Condition(type="ContainersReady", status="True")
    have = (Condition(type="two", status="Unknown"), Condition(type="three", status="True"))
    assert ready_condition(ok, gates, have) == Condition(
        type="Ready", status="False", reason="ReadinessGatesNotReady",
        message='corresponding condition of pod readiness gate "a.example/one" does not exist., '
                'the status of pod readiness gate "two" is not "True", but Unknown')
    assert ready_condition(ok, gates[2:], have) == Condition(type="Ready", status="True")
    assert ready_condition(ok, (), ()) == Condition(type="Ready", status="True")


def test_the_merge_keeps_the_apis_other_conditions_and_the_kubelets_own() -> None:
    generated = (Condition(type="PodScheduled", status="True"), Condition(type="x", status="False"),
                 Condition(type="Ready", status="True"), Condition(type="gone", status="True"))
    fresh = (Condition(type="x", status="True"), Condition(type="Ready", status="False"),
             Condition(type="new", status="True"))
    assert merged_conditions(fresh, generated, evicted=False) == (
        generated[0], fresh[0], generated[2], fresh[2])
    assert merged_conditions(generated, generated, evicted=False) == generated
    evicting = (Condition(type="DisruptionTarget", status="True", reason="TerminationByKubelet"),)
    api_set = (Condition(type="DisruptionTarget", status="True", reason="EvictionByEvictionAPI"),)
    assert merged_conditions(api_set, evicting, evicted=True) == evicting
    assert merged_conditions(api_set, (), evicted=False) == api_set


def _gated_pod(condition_type: str) -> Pod:
    container = Container(name="a", image="b", image_pull_policy="IfNotPresent")
    return Pod(metadata=ObjectMeta(name="web", namespace="default"),
               spec=PodSpec(containers=(container,), restart_policy="Always", termination_grace_period_seconds=30,
                            readiness_gates=(PodReadinessGate(condition_type),)))


def test_validation_wants_qualified_condition_types_and_the_gates_are_immutable() -> None:
    """validateReadinessGates; ValidatePodUpdate leaves a pod's gates as created."""
    assert validate_create(_gated_pod(GATE)) == []
    errs = validate_create(_gated_pod("bad gate!"))
    assert [".".join(map(str, e.path)) for e in errs] == ["spec.readinessGates.0.conditionType"]
    old = _gated_pod(GATE)
    new = attrs.evolve(old, spec=attrs.evolve(old.spec, readiness_gates=()))
    assert [e.path[0] for e in validate_update(new, old)] == ["spec"]
    spec = decode(PodSpec, {"containers": [{"name": "a", "image": "b"}],
                            "readinessGates": [{"conditionType": GATE}]}, ())
    assert spec.readiness_gates == (PodReadinessGate(GATE),)


def test_a_rollout_waiting_for_an_unset_gate_says_so() -> None:
    """Nothing sets a gate but its controller: the rollout never completes, and the convergence
    properties say why."""
    model, state = settled(DATA / "deployment")
    deployment = state.store.get(ObjectKey("deployments.apps", "default", "web"))
    assert isinstance(deployment, Deployment) and deployment.status.available_replicas == 0
    for prop in (deployments_complete, workloads_ready):
        found = prop(model, state)
        assert found is not None
        assert MISSING in found.message and "readiness gate's condition is set by the controller" in found.message
