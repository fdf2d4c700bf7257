"""`hostNetwork: true` through the API server (upstream v1.33): accepted (it used to be refused as
not modelled), a Pod's container ports defaulted to host ports (`pkg/apis/core/v1/defaults.go`
SetDefaults_Pod → defaultHostNetworkPorts; a template's are not), and hostPort = containerPort
enforced by validation (`pkg/apis/core/validation/validation.go` validatePodHostNetworkDeps: in a Pod
always, in a template unless unset); `dnsPolicy: ClusterFirstWithHostNet` accepted."""

from __future__ import annotations

from typing import Any

from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.apps import DaemonSet
from kubeprop.model.api.objects import ObjectKey, Pod, decode_object
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.store import Store
from kubeprop.model.scenario.load import ADMIN

API = ApiHarness(bare_scenario())


def _spec(*ports: dict[str, Any], init_ports: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    spec: dict[str, Any] = {"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet",
                            "containers": [{"name": "agent", "image": "agent:1", "ports": list(ports)}]}
    if init_ports:
        spec["initContainers"] = [{"name": "setup", "image": "setup:1", "ports": list(init_ports)}]
    return spec


def _pod(spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "agent", "namespace": "default"}, "spec": spec}


def _daemon_set(spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "template": {"metadata": {"labels": {"app": "agent"}}, "spec": spec}}}


def _create(body: dict[str, Any]) -> tuple[Store, Response]:
    return API.send(API.base, Request(verb="create", user=ADMIN, obj=decode_object(body)))


def test_a_host_network_pods_ports_default_to_host_ports() -> None:
    store, response = _create(_pod(_spec({"containerPort": 9099}, {"containerPort": 53, "protocol": "UDP",
                                                                     "hostPort": 53},
                                         init_ports=({"containerPort": 8080},))))
    assert response.ok, response.message
    pod = store.get(ObjectKey("pods", "default", "agent"))
    assert isinstance(pod, Pod) and pod.spec.host_network
    assert [(p.container_port, p.host_port, p.protocol) for p in pod.spec.containers[0].ports] == [
        (9099, 9099, "TCP"), (53, 53, "UDP")]
    assert [(p.container_port, p.host_port) for p in pod.spec.init_containers[0].ports] == [(8080, 8080)]


def test_a_template_keeps_its_ports_unset() -> None:
    """Since v1.28 only a Pod is defaulted (DefaultHostNetworkHostPortsInPodTemplates off): the
    DaemonSet's template is stored without host ports, and its pods get them when created."""
    store, response = _create(_daemon_set(_spec({"containerPort": 9099})))
    assert response.ok, response.message
    ds = store.get(ObjectKey("daemonsets.apps", "default", "agent"))
    assert isinstance(ds, DaemonSet) and ds.spec.template.spec.host_network
    assert [(p.container_port, p.host_port) for p in ds.spec.template.spec.containers[0].ports] == [(9099, None)]


def test_a_host_port_other_than_the_container_port_is_refused() -> None:
    for body in (_pod(_spec({"containerPort": 9099, "hostPort": 9100})),
                 _daemon_set(_spec({"containerPort": 9099, "hostPort": 9100}))):
        _, response = _create(body)
        assert response.code == 422, response.message
        assert "containers[0].ports[0].hostPort: Invalid value: 9100: must match `containerPort` when " \
               "`hostNetwork` is true" in response.message


def test_without_host_network_a_different_host_port_is_fine() -> None:
    spec = _spec({"containerPort": 9099, "hostPort": 9100})
    spec["hostNetwork"] = False
    _, response = _create(_pod(spec))
    assert response.ok, response.message
