"""Host-network pods through the control plane (upstream v1.33), on tests/model/data/hostnet:

- agents.yaml: a CNI-like DaemonSet tolerating everything and a node exporter, both `hostNetwork`,
  two host-network probes bound to one node, Services over the exporter and the probes. Each pod's
  IP is its node's (`pkg/kubelet/kubelet_pods.go` generateAPIPodStatus: "HostNetwork Pods inherit
  the node IPs as PodIPs"), which the Endpoints and EndpointSlice controllers publish — twice for two
  pods on one node (`pkg/api/v1/endpoints/util.go` RepackSubsets keys an address by IP and UID); the
  daemon pods carry the network-unavailable toleration (`pkg/controller/daemon/util/daemonset_util.go`
  AddOrUpdateDaemonPodTolerations, `if spec.HostNetwork`); the correct model checks it clean.
- web.yaml: three replicas of a host-network Deployment on two nodes: the defaulted host port keeps
  them on distinct nodes (`pkg/scheduler/framework/plugins/nodeports`) and the third stays Pending.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from kubeprop.model.api.apps import DaemonSet
from kubeprop.model.api.core import Endpoints, EndpointSlice, Node, NodeSpec, Taint
from kubeprop.model.api.meta import ObjectMeta, find_condition
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.cluster import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.controllers.daemonset_util import NETWORK_UNAVAILABLE_TOLERATION, node_should_run
from kubeprop.model.kubelet.admission import node_ip
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.filters import REASON_NODE_PORTS
from kubeprop.properties.cli.main import main

DATA = Path(__file__).parents[1] / "data" / "hostnet"
AGENTS, WEB = DATA / "agents.yaml", DATA / "web.yaml"


@pytest.fixture(scope="module")
def agents() -> tuple[object, object]:
    model = build_model(load_scenario(AGENTS))
    return model, fair_run(model, initial_state(model)).state


def _pods(state: object, app: str) -> list[Pod]:
    pods = state.store.list("pods", "default")  # type: ignore[attr-defined]
    return [p for p in pods if isinstance(p, Pod) and p.metadata.labels.get("app") == app]


def test_a_host_network_pods_ip_is_its_nodes(agents: tuple[object, object]) -> None:
    model, state = agents
    pods = _pods(state, "cni-agent") + _pods(state, "node-exporter") + _pods(state, "probe")
    assert sorted(p.spec.node_name for p in _pods(state, "cni-agent")) == ["db-1", "worker-1", "worker-2"]
    assert len(pods) == 7 and all(p.status.phase == "Running" for p in pods)
    for pod in pods:
        assert pod.status.pod_ip == node_ip(model, pod.spec.node_name)  # type: ignore[arg-type]
    assert len({node_ip(model, n) for n in ("db-1", "worker-1", "worker-2")}) == 3  # type: ignore[arg-type]


def test_endpoints_publish_the_node_addresses_once_per_pod(agents: tuple[object, object]) -> None:
    model, state = agents
    store = state.store  # type: ignore[attr-defined]
    worker_1 = node_ip(model, "worker-1")  # type: ignore[arg-type]
    exporter = store.get(ObjectKey("endpoints", "default", "node-exporter"))
    assert isinstance(exporter, Endpoints)
    (subset,) = exporter.subsets
    assert [(a.ip, a.node_name) for a in subset.addresses] == [
        (worker_1, "worker-1"), (node_ip(model, "worker-2"), "worker-2")]  # type: ignore[arg-type]
    assert [p.port for p in subset.ports] == [9100]
    probe = store.get(ObjectKey("endpoints", "default", "probe"))
    assert isinstance(probe, Endpoints)
    (subset,) = probe.subsets
    assert [(a.ip, a.target_ref.name if a.target_ref else "") for a in subset.addresses] == [
        (worker_1, "probe-a"), (worker_1, "probe-b")]
    slices = [s for s in store.list("endpointslices.discovery.k8s.io", "default")
              if isinstance(s, EndpointSlice) and s.metadata.labels.get("kubernetes.io/service-name") == "probe"]
    assert sorted(e.addresses for s in slices for e in s.endpoints) == [(worker_1,), (worker_1,)]


def test_host_network_daemon_pods_tolerate_an_unavailable_network(agents: tuple[object, object]) -> None:
    _, state = agents
    for app in ("cni-agent", "node-exporter"):
        assert all(NETWORK_UNAVAILABLE_TOLERATION in p.spec.tolerations for p in _pods(state, app))
    ds = state.store.get(ObjectKey("daemonsets.apps", "default", "node-exporter"))  # type: ignore[attr-defined]
    assert isinstance(ds, DaemonSet)
    node = Node(metadata=ObjectMeta(name="n1"), spec=NodeSpec(taints=(
        Taint(key="node.kubernetes.io/network-unavailable", effect="NoSchedule"),)))
    assert node_should_run(node, ds) == (True, True)  # a CNI's node: its network is not up yet
    pod_network = attrs.evolve(ds, spec=attrs.evolve(ds.spec, template=attrs.evolve(
        ds.spec.template, spec=attrs.evolve(ds.spec.template.spec, host_network=False))))
    assert node_should_run(node, pod_network) == (False, True)  # no toleration added: waits for the network


def test_the_agents_scenario_checks_clean() -> None:
    assert main(["check", str(AGENTS), "--engine", "walk", "--runs", "6", "--max-depth", "100",
                 "--budget", "60"]) == 0


def test_two_host_network_pods_with_one_port_never_share_a_node() -> None:
    model = build_model(load_scenario(WEB))
    state = fair_run(model, initial_state(model)).state
    pods = _pods(state, "web")
    bound = sorted(p.spec.node_name for p in pods if p.spec.node_name)
    assert bound == ["worker-1", "worker-2"] and len(pods) == 3
    (pending,) = [p for p in pods if not p.spec.node_name]
    condition = find_condition(pending.status.conditions, "PodScheduled")
    assert condition is not None and condition.reason == "Unschedulable"
    assert REASON_NODE_PORTS in condition.message
