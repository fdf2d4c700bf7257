"""Kubelet admission (`pkg/kubelet/lifecycle/predicate.go` Admit): the scheduler's AdmissionCheck
against the pods the kubelet admitted — resources, node affinity, node name, ports — before the
NoExecute taints. It keeps a node whole when pods bypass the scheduler (`spec.nodeName`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.model.api.core import Node, NodeSpec, NodeStatus
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.pod import Container, Pod, PodSpec, ResourceRequirements
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.kubelet.admission import resource_rejection
from kubeprop.model.kubelet.component import StartPod, SyncPodStatus
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterState

CREATOR_BOUND = Path(__file__).resolve().parents[1] / "data" / "kubelet" / "creator-bound.yaml"


def node(cpu: str = "1", pods: str = "10", labels: dict[str, str] | None = None) -> Node:
    capacity = {"cpu": Quantity.parse(cpu), "memory": Quantity.parse("2Gi"), "pods": Quantity.parse(pods)}
    return Node(metadata=ObjectMeta(name="small", labels=labels or {}), spec=NodeSpec(),
                status=NodeStatus(capacity=capacity, allocatable=capacity))


def pod(name: str, cpu: str = "600m", selector: dict[str, str] | None = None, **extra: str) -> Pod:
    requests = {"cpu": Quantity.parse(cpu), **{k.replace("_", "/"): Quantity.parse(v) for k, v in extra.items()}}
    container = Container(name="c", image="busybox", resources=ResourceRequirements(requests=requests))
    return Pod(metadata=ObjectMeta(name=name, namespace="default"),
               spec=PodSpec(containers=(container,), node_name="small", node_selector=selector or {}))


def phases(state: ClusterState) -> dict[str, tuple[str, str]]:
    return {p.metadata.name: (p.status.phase, p.status.reason) for p in state.store.list("pods")
            if isinstance(p, Pod)}


@pytest.mark.parametrize(("first", "second"), [("a", "b"), ("b", "a")])
def test_the_kubelet_refuses_the_creator_bound_pod_that_does_not_fit(first: str, second: str) -> None:
    """The user trial's scenario: 2 × 600m on a 1-CPU node. Whichever pod the kubelet starts
    first runs; the other is Failed, OutOfcpu, with predicate.go's message."""
    model = build_model(load_scenario(CREATOR_BOUND))
    state = initial_state(model)
    for name in (first, second):
        state = step(model, state, StartPod("small", f"default/{name}"))
        state = step(model, state, SyncPodStatus("small", f"default/{name}"))
    assert phases(state) == {first: ("Running", ""), second: ("Failed", "OutOfcpu")}
    refused = next(p for p in state.store.list("pods") if isinstance(p, Pod) and p.metadata.name == second)
    assert refused.status.message == ("Pod was rejected: Node didn't have enough resource: cpu, requested: 600, "
                                      "used: 600, capacity: 1000")


def test_the_fair_run_settles_with_one_pod_running() -> None:
    model = build_model(load_scenario(CREATOR_BOUND))
    done = settle(model, initial_state(model), 500)
    assert not done.exhausted
    assert sorted(phases(done.state).values()) == [("Failed", "OutOfcpu"), ("Running", "")]


def test_resources_come_first_then_the_predicates_in_admission_check_order() -> None:
    assert resource_rejection(node(pods="1"), [pod("a", "100m")], pod("b", "100m")) == (
        "OutOfpods", "Node didn't have enough resource: pods, requested: 1, used: 1, capacity: 1")
    assert resource_rejection(node(), [], pod("a", "1200m", selector={"disk": "ssd"}))[0] == "OutOfcpu"
    assert resource_rejection(node(), [], pod("a", selector={"disk": "ssd"})) == (
        "NodeAffinity", "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector")
    assert resource_rejection(node(labels={"disk": "ssd"}), [], pod("a", selector={"disk": "ssd"})) is None


def test_an_extended_resource_the_node_lacks_is_not_held_against_the_pod() -> None:
    """removeMissingExtendedResources: the kubelet drops a request for an extended resource the
    node does not advertise; a `kubernetes.io/` one it does not drop."""
    assert resource_rejection(node(), [], pod("a", example_com_gpu="1")) is None
    assert resource_rejection(node(), [], pod("a", **{"hugepages-2Mi": "2Mi"}))[0] == "OutOfhugepages-2Mi"
