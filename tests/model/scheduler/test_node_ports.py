"""NodePorts: whose host ports count (`kubeprop.model.scheduler.filters.host_ports`).

Upstream `pkg/scheduler/framework/plugins/nodeports/node_ports.go` (getContainerPorts) and
`framework/types.go` (NodeInfo.updateUsedPorts) read `spec.containers` in v1.33.0; kubernetes PR
#132040 (v1.34; v1.33.6 by #133390) adds the restartable init containers through
`pkg/scheduler/util/utils.go` GetHostPorts. A regular init container's host port never counts.
"""

from __future__ import annotations

import attrs

from kubeprop.model.api.core import Node, NodeSpec, NodeStatus
from kubeprop.model.api.defaults import apply_defaults
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.pod import Container, ContainerPort, Pod, PodSpec
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.schema import PARAMETERS
from kubeprop.model.scheduler.component import profile_for
from kubeprop.model.scheduler.decide import SchedulerProfile, build_node_infos, schedule_one
from kubeprop.model.scheduler.filters import REASON_NODE_PORTS, host_ports

PORT = (ContainerPort(container_port=80, host_port=8080),)


def _node(name: str) -> Node:
    alloc = {"cpu": "1", "memory": "1Gi", "pods": "110"}
    return Node(metadata=ObjectMeta(name=name, labels={"kubernetes.io/hostname": name}),
                spec=NodeSpec(), status=NodeStatus(allocatable={k: Quantity.parse(v) for k, v in alloc.items()}))


def _pod(name: str, node_name: str = "", app_port: bool = False, init: str | None = None) -> Pod:
    """A pod with the host port on its app container, or on an init container (`init`: its
    restartPolicy, "" for a regular init container, "Always" for a sidecar)."""
    app = Container(name="app", ports=PORT if app_port else ())
    inits = () if init is None else (Container(name="setup", ports=PORT, restart_policy=init),)
    return Pod(metadata=ObjectMeta(name=name, namespace="default"),
               spec=PodSpec(containers=(app,), init_containers=inits, node_name=node_name))


def test_a_regular_init_containers_host_port_counts_on_neither_side() -> None:
    """The false alarm the audit found: the port of an init container that has finished kept a
    pod wanting it (or a pod holding it kept others) off the node; Kubernetes schedules them."""
    nis = build_node_infos([_node("a")], [_pod("holder", "a", init="")])
    assert host_ports(_pod("x", init="")) == []
    assert schedule_one(_pod("wants", app_port=True), nis).best == ("a",)
    nis = build_node_infos([_node("a")], [_pod("holder", "a", app_port=True)])
    assert schedule_one(_pod("wants", init=""), nis).best == ("a",)


def test_a_sidecars_host_port_counts_from_v1_33_6() -> None:
    """A restartable init container runs beside the app: its port is held (v1.34, v1.33.6+), on
    both sides; v1.33.0 to v1.33.5 (`sidecar_host_ports=False`) looked at the containers only."""
    assert host_ports(_pod("x", init="Always")) == [("0.0.0.0", "TCP", 8080)]
    assert host_ports(_pod("x", init="Always"), sidecars=False) == []
    held_by_sidecar = build_node_infos([_node("a")], [_pod("holder", "a", init="Always")])
    held_by_app = build_node_infos([_node("a")], [_pod("holder", "a", app_port=True)])
    refused = schedule_one(_pod("wants", app_port=True), held_by_sidecar)
    assert refused.best == () and refused.filter_reasons == {"a": REASON_NODE_PORTS}
    assert schedule_one(_pod("wants", init="Always"), held_by_app).filter_reasons == {"a": REASON_NODE_PORTS}
    old = SchedulerProfile(sidecar_host_ports=False)
    assert schedule_one(_pod("wants", app_port=True), held_by_sidecar, old).best == ("a",)
    assert schedule_one(_pod("wants", init="Always"), held_by_app, old).best == ("a",)


def test_the_parameter_selects_the_release() -> None:
    assert profile_for(FrozenMap(PARAMETERS)).sidecar_host_ports
    v1330 = profile_for(FrozenMap({**PARAMETERS, "schedulerSidecarHostPorts": False}))
    assert not v1330.sidecar_host_ports
    assert attrs.evolve(v1330, sidecar_host_ports=True) == profile_for(FrozenMap(PARAMETERS))


def test_a_host_network_pods_defaulted_ports_keep_two_off_a_node() -> None:
    """A host-network Pod's container ports default to host ports (`pkg/apis/core/v1/defaults.go`
    defaultHostNetworkPorts), so NodePorts sees them: a second pod listening on the same port does not
    fit where the first runs; a pod-network one (no host port) does."""
    def host_net(name: str, node_name: str = "", host_network: bool = True) -> Pod:
        pod = Pod(metadata=ObjectMeta(name=name, namespace="default"), spec=PodSpec(
            host_network=host_network, node_name=node_name,
            containers=(Container(name="agent", ports=(ContainerPort(container_port=9100),)),)))
        defaulted = apply_defaults(pod)
        assert isinstance(defaulted, Pod)
        return defaulted

    assert host_ports(host_net("x")) == [("0.0.0.0", "TCP", 9100)]
    assert host_ports(host_net("x", host_network=False)) == []
    nis = build_node_infos([_node("a"), _node("b")], [host_net("holder", "a")])
    placed = schedule_one(host_net("wants"), nis)
    assert placed.best == ("b",) and placed.filter_reasons == {"a": REASON_NODE_PORTS}
    assert not schedule_one(host_net("wants", host_network=False), nis).filter_reasons  # both nodes fit
