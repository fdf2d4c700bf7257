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
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet.admission import resource_rejection, sidecar_host_ports
from kubeprop.model.kubelet.component import StartPod, SyncPodStatus
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.component import profile_for
from kubeprop.model.scheduler.filters import node_ports_status
from kubeprop.model.scheduler.nodeinfo import NodeInfo
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
    assert resource_rejection(node(pods="1"), [pod("a", "100m")], pod("b", "100m"), sidecars=True) == (
        "OutOfpods", "Node didn't have enough resource: pods, requested: 1, used: 1, capacity: 1")
    assert resource_rejection(node(), [], pod("a", "1200m", selector={"disk": "ssd"}), sidecars=True)[0] == "OutOfcpu"
    assert resource_rejection(node(), [], pod("a", selector={"disk": "ssd"}), sidecars=True) == (
        "NodeAffinity", "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector")
    ssd = node(labels={"disk": "ssd"})
    assert resource_rejection(ssd, [], pod("a", selector={"disk": "ssd"}), sidecars=True) is None


def test_an_extended_resource_the_node_lacks_is_not_held_against_the_pod() -> None:
    """removeMissingExtendedResources: the kubelet drops a request for an extended resource the
    node does not advertise; a `kubernetes.io/` one it does not drop."""
    assert resource_rejection(node(), [], pod("a", example_com_gpu="1"), sidecars=True) is None
    huge = resource_rejection(node(), [], pod("a", **{"hugepages-2Mi": "2Mi"}), sidecars=True)
    assert huge is not None and huge[0] == "OutOfhugepages-2Mi"


SIDECAR_HOST_PORT = CREATOR_BOUND.parent / "sidecar-host-port.yaml"


@pytest.mark.parametrize(("sidecars", "refused"), [(True, ("Failed", "NodePorts")), (False, ("Running", ""))])
@pytest.mark.parametrize("first", ["holder", "wants"])
def test_the_kubelet_counts_sidecar_host_ports_as_the_schedulers_release_does(
        sidecars: bool, refused: tuple[str, str], first: str) -> None:
    """The kubelet's NodePorts check is the scheduler's (`predicate.go` → `nodeports.Fits`): a
    sidecar's host port counts, on either side, exactly where `schedulerSidecarHostPorts` says so
    (v1.33.6+, v1.34+), and not in v1.33.0 to v1.33.5, where both pods run. (The kubelet used to
    count it whatever the parameter: the `False` rows failed.)"""
    model = build_model(load_scenario(SIDECAR_HOST_PORT), parameters={"schedulerSidecarHostPorts": sidecars})
    state = initial_state(model)
    second = "wants" if first == "holder" else "holder"
    for name in (first, second):
        state = step(model, state, StartPod("small", f"default/{name}"))
        state = step(model, state, SyncPodStatus("small", f"default/{name}"))
    assert phases(state) == {first: ("Running", ""), second: refused}
    if sidecars:
        rejected = next(p for p in state.store.list("pods") if isinstance(p, Pod) and p.metadata.name == second)
        assert rejected.status.message == ("Pod was rejected: Predicate NodePorts failed: node(s) didn't have free "
                                           "ports for the requested pod ports")


@pytest.mark.parametrize("sidecars", [True, False])
def test_admission_and_the_scheduler_read_one_parameter(sidecars: bool) -> None:
    """Whatever `schedulerSidecarHostPorts` says, the kubelet's admission and the scheduler's NodePorts
    filter answer alike for a pod wanting a port a sidecar holds."""
    model = build_model(load_scenario(SIDECAR_HOST_PORT), parameters={"schedulerSidecarHostPorts": sidecars})
    pods = {p.metadata.name: p for p in initial_state(model).store.list("pods") if isinstance(p, Pod)}
    small = node(cpu="2")
    kubelet_refuses = resource_rejection(small, [pods["holder"]], pods["wants"],
                                         sidecars=sidecar_host_ports(model)) is not None
    profile = profile_for(FrozenMap(model.parameters))
    filtered = node_ports_status(pods["wants"], NodeInfo.of(small, [pods["holder"]]),
                                 sidecars=profile.sidecar_host_ports) is not None
    assert kubelet_refuses == filtered == sidecars
