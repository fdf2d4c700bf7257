"""The Service allocator (`kubeprop.model.api.service_alloc`, upstream
`pkg/registry/core/service/storage/alloc.go`, `portallocator/allocator.go`, `ipallocator/`): node
port and cluster IP range and duplicate refusals with upstream's messages, allocation of a missing
node port, release on delete and on type change (svc14, from the trial14 networking user)."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_harness import ApiHarness, bare_scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Service, ServicePort, ServiceSpec
from kubeprop.model.api.server import Request, Result, handle
from kubeprop.model.api.store import ObjectKey, Store
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.properties.cli.main import main

API = ApiHarness(bare_scenario())
CONFIG, BASE = API.config, API.base

TRIAL = """\
apiVersion: v1
kind: Service
metadata: {name: np, namespace: default}
spec: {type: NodePort, selector: {app: a}, ports: [{port: 80, nodePort: 30080}]}
---
apiVersion: v1
kind: Service
metadata: {name: np-dup, namespace: default}
spec: {type: NodePort, selector: {app: a}, ports: [{port: 80, nodePort: 30080}]}
---
apiVersion: v1
kind: Service
metadata: {name: np-range, namespace: default}
spec: {type: NodePort, selector: {app: a}, ports: [{port: 80, nodePort: 29999}]}
---
apiVersion: v1
kind: Service
metadata: {name: ip-dup, namespace: default}
spec: {clusterIP: 10.96.0.2, selector: {app: a}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: ip-range, namespace: default}
spec: {clusterIP: 192.168.7.7, selector: {app: a}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: np-auto, namespace: default}
spec: {type: NodePort, selector: {app: a}, ports: [{port: 80}]}
"""


def send(store: Store, request: Request) -> Result:
    return handle(store, request, CONFIG, 100)


def service(name: str, type_: str = "", node_ports: tuple[int | None, ...] = (None,), ip: str = "") -> Service:
    ports = tuple(ServicePort(port=80 + i, name=f"p{i}", node_port=np) for i, np in enumerate(node_ports))
    return Service(metadata=ObjectMeta(name=name, namespace="default"),
                   spec=ServiceSpec(type=type_, selector=FrozenMap({"app": name}), ports=ports, cluster_ip=ip))


def create(store: Store, svc: Service) -> Result:
    return send(store, Request(verb="create", user="admin", obj=svc))


def update(store: Store, name: str, **spec: object) -> Result:
    current = store.get(ObjectKey("services", "default", name))
    assert isinstance(current, Service)
    return send(store, Request(verb="update", user="admin", obj=evolve(current, spec=evolve(current.spec, **spec))))


def delete(store: Store, name: str) -> Result:
    return send(store, Request(verb="delete", user="admin", resource="services", namespace="default", name=name))


def stored(result: Result) -> Service:
    assert result.response.code in (200, 201), result.response.message
    assert isinstance(result.response.obj, Service)
    return result.response.obj


def test_the_trial_services_are_refused_at_load_as_upstream(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """trial14 `net/min-nodeport`: the model admitted all five. Upstream refuses the duplicate and
    out-of-range nodePort and the clusterIP outside 10.96.0.0/12; ip-dup's 10.96.0.2 is in the
    static band, which no automatic allocation takes while the dynamic band has room, so upstream
    admits it (np's address is drawn from 10.96.1.1 up), and so does the model now."""
    (tmp_path / "svcs.yaml").write_text(TRIAL)
    assert main(["validate", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert ('svcs.yaml:9: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated'
            in out)
    assert ('svcs.yaml:14: spec.ports[0].nodePort: Invalid value: 29999: provided port is not in the valid range. '
            'The range of valid ports is 30000-32767') in out
    assert ('spec.clusterIPs: Invalid value: ["192.168.7.7"]: failed to allocate IP 192.168.7.7: the provided IP '
            '(192.168.7.7) is not in the valid range. The range of valid IPs is 10.96.0.0/12') in out
    assert "created  Service default/ip-dup" in out and "created  Service default/np-auto" in out
    assert "3 rejected" in out


def test_a_node_port_service_without_one_is_given_one_from_the_dynamic_band() -> None:
    """initNodePorts → AllocateNext: the dynamic band (30086-32767, `calculateRangeOffset`) first."""
    first = create(BASE, service("a", "NodePort", (None, None)))
    a = stored(first)
    assert [p.node_port for p in a.spec.ports] == [30086, 30087]
    lb = stored(create(first.store, service("lb", "LoadBalancer")))
    assert lb.spec.ports[0].node_port == 30088
    assert a.spec.cluster_ip == "10.96.1.1" and lb.spec.cluster_ip == "10.96.1.2"


def test_tcp_and_udp_entries_of_one_port_share_the_node_port_requested() -> None:
    """findRequestedNodePort: an entry without a nodePort takes the one its `port` requested."""
    svc = service("dns", "NodePort")
    svc = evolve(svc, spec=evolve(svc.spec, ports=(ServicePort(port=53, name="tcp", protocol="TCP"),
                                                   ServicePort(port=53, name="udp", protocol="UDP", node_port=30053))))
    assert [p.node_port for p in stored(create(BASE, svc)).spec.ports] == [30053, 30053]


def test_a_deleted_service_releases_its_node_port_and_cluster_ip() -> None:
    store = create(BASE, service("a", "NodePort", (30080,), ip="10.96.0.20")).store
    assert create(store, service("b", "NodePort", (30080,))).response.code == 422
    assert create(store, service("b", ip="10.96.0.20")).response.message.endswith(
        "failed to allocate IP 10.96.0.20: provided IP is already allocated")
    store = delete(store, "a").store
    assert create(store, service("b", "NodePort", (30080,), ip="10.96.0.20")).response.code == 201


def test_a_type_change_releases_and_allocates_node_ports() -> None:
    """NodePort → ClusterIP releases (`releaseNodePorts`); ClusterIP → NodePort allocates
    (`updateNodePorts`); an update adding a port another Service holds is refused."""
    store = create(BASE, service("a", "NodePort", (30080,))).store
    store = stored_store(update(store, "a", type="ClusterIP"))
    store = create(store, service("b", "NodePort", (30080,))).store
    back = update(store, "a", type="NodePort")
    assert stored(back).spec.ports[0].node_port == 30086
    moved = ServicePort(port=80, name="p0", protocol="TCP", target_port=80, node_port=30080)
    taken = update(back.store, "a", ports=(moved,))
    assert taken.response.code == 422
    assert taken.response.message == ('Service "a" is invalid: spec.ports[0].nodePort: Invalid value: 30080: '
                                      'provided port is already allocated')
    kept = update(back.store, "a", selector=FrozenMap({"app": "other"}))
    assert stored(kept).spec.ports[0].node_port == 30086  # its own port is no conflict


def stored_store(result: Result) -> Store:
    stored(result)
    return result.store


@pytest.mark.parametrize(("ip", "message"), [
    ("10.96.0.1", "failed to allocate IP 10.96.0.1: provided IP is already allocated"),
    ("10.96.0.0", "failed to allocate IP 10.96.0.0: the provided IP (10.96.0.0) is not in the valid range. "
                  "The range of valid IPs is 10.96.0.0/12"),
    ("10.112.0.1", "the provided IP (10.112.0.1) is not in the valid range"),
])
def test_cluster_ips_the_allocator_refuses(ip: str, message: str) -> None:
    """10.96.0.1 is the `kubernetes` Service's; the network address is outside the allocator's range."""
    result = create(BASE, service("a", ip=ip))
    assert result.response.code == 422 and message in result.response.message


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(
    st.sampled_from(["create", "update", "delete"]), st.sampled_from(["a", "b", "c"]),
    st.sampled_from(["", "NodePort", "LoadBalancer", "ExternalName"]),
    st.lists(st.sampled_from([None, 30080, 30086, 30087, 29999]), min_size=1, max_size=2),
    st.sampled_from(["", "10.96.0.2", "10.96.1.1", "10.96.1.2"])), max_size=8))
def test_two_stored_services_never_share_a_node_port_or_cluster_ip(
        ops: list[tuple[str, str, str, list[int | None], str]]) -> None:
    """Whatever writes are made, no two stored Services hold one node port or one cluster IP, every
    node port is in range, and every NodePort/LoadBalancer port has one."""
    store = BASE
    for verb, name, type_, node_ports, ip in ops:
        svc = service(name, type_, tuple(node_ports), ip)
        if type_ == "ExternalName":
            svc = evolve(svc, spec=evolve(svc.spec, external_name="x.example.com", cluster_ip="",
                                          ports=tuple(evolve(p, node_port=None) for p in svc.spec.ports)))
        if verb == "create":
            store = create(store, svc).store
        elif verb == "delete":
            store = delete(store, name).store
        elif store.get(ObjectKey("services", "default", name)) is not None:
            store = update(store, name, type=svc.spec.type, ports=svc.spec.ports,
                           external_name=svc.spec.external_name).store
        services = [s for s in store.list("services") if isinstance(s, Service)]
        ports = [p.node_port for s in services for p in s.spec.ports if p.node_port]
        owners = {(s.metadata.name, p.node_port) for s in services for p in s.spec.ports if p.node_port}
        assert len({port for _, port in owners}) == len(owners)  # one Service per port
        assert all(30000 <= p <= 32767 for p in ports)
        ips = [s.spec.cluster_ip for s in services if s.spec.cluster_ip not in ("", "None")]
        assert len(set(ips)) == len(ips)
        assert all(p.node_port for s in services if s.spec.type in ("NodePort", "LoadBalancer")
                   for p in s.spec.ports)


def put(store: Store, svc: Service) -> Result:
    """PUT `svc` over the stored Service of its name (its resourceVersion), as `kubectl replace`."""
    current = store.get(ObjectKey("services", "default", svc.metadata.name))
    assert isinstance(current, Service)
    return send(store, Request(verb="update", user="admin", obj=evolve(svc, metadata=current.metadata)))


def test_a_put_of_the_original_manifest_keeps_the_allocated_cluster_ip_and_node_ports() -> None:
    """patchAllocatedValues (storage.go beginUpdate; audit15 svc_put_repro): the model stored
    clusterIP "" (a headless Service) and allocated a second node port."""
    store = create(BASE, service("np", "NodePort", (None, None))).store
    before = store.get(ObjectKey("services", "default", "np"))
    assert isinstance(before, Service)
    after = stored(put(store, service("np", "NodePort", (None, None))))
    assert (after.spec.cluster_ip, after.spec.cluster_ips) == ("10.96.1.1", ("10.96.1.1",))
    assert [p.node_port for p in after.spec.ports] == [p.node_port for p in before.spec.ports] == [30086, 30087]


def test_node_ports_are_kept_by_port_name_and_never_twice() -> None:
    """Upstream matches the old port by name alone: reordered ports keep theirs, a renamed port
    gets a new one, and an old value another new port already holds is not copied."""
    store = create(BASE, service("np", "NodePort", (None, None))).store  # p0: 30086, p1: 30087
    swapped = service("np", "NodePort", (None, None))
    swapped = evolve(swapped, spec=evolve(swapped.spec, ports=swapped.spec.ports[::-1]))
    assert [(p.name, p.node_port) for p in stored(put(store, swapped)).spec.ports] == [("p1", 30087), ("p0", 30086)]
    taken = service("np", "NodePort", (None, 30086))  # p1 asks for p0's old port: p0 may not copy it
    assert [p.node_port for p in stored(put(store, taken)).spec.ports] == [30088, 30086]
    renamed = service("np", "NodePort", (None,))
    renamed = evolve(renamed, spec=evolve(renamed.spec, ports=(evolve(renamed.spec.ports[0], name="web"),)))
    assert [p.node_port for p in stored(put(store, renamed)).spec.ports] == [30088]


def test_a_put_to_cluster_ip_keeps_the_ip_and_a_put_from_external_name_gets_one() -> None:
    """Both types need a cluster IP: NodePort → ClusterIP keeps it (the node ports are released);
    an ExternalName Service had none to keep."""
    store = create(BASE, service("np", "NodePort")).store
    moved = stored(put(store, service("np", "ClusterIP")))
    assert moved.spec.cluster_ip == "10.96.1.1" and moved.spec.ports[0].node_port is None
    ext = evolve(service("ext", "ExternalName"), spec=evolve(service("ext", "ExternalName").spec,
                                                             external_name="db.example.com"))
    store = create(BASE, ext).store
    assert stored(put(store, service("ext", "ClusterIP"))).spec.cluster_ip == "10.96.1.1"


def test_an_external_name_service_with_a_cluster_ip_is_refused_for_its_normalized_cluster_ips() -> None:
    """normalizeClusterIPs (beginCreate) makes clusterIPs [clusterIP] before validation, which
    forbids clusterIPs on an ExternalName Service (audit15: the model accepted it)."""
    base = service("ext", "ExternalName", ip="10.96.0.50")
    result = create(BASE, evolve(base, spec=evolve(base.spec, external_name="db.example.com")))
    assert result.response.code == 422
    assert result.response.message == ('Service "ext" is invalid: spec.clusterIPs: Forbidden: may not be set for '
                                       'ExternalName services')


def test_a_headless_service_gets_clusterips_none() -> None:
    """normalizeClusterIPs on create: clusterIP "None" alone gives clusterIPs ["None"]."""
    headless = stored(create(BASE, service("h", ip="None")))
    assert (headless.spec.cluster_ip, headless.spec.cluster_ips) == ("None", ("None",))
