"""Service cluster IP and node port allocation, as the API server's Service storage does it
(`pkg/registry/core/service/storage/alloc.go`, v1.33).

The model keeps no allocator bitmap: the stored Services *are* the allocation. An address or port
is taken while a stored Service holds it, so it is released when that Service is deleted (upstream
`releaseAllocatedResources` in the storage's AfterDelete) or when an update drops it (the type
change of `drop_type_dependent_fields`; `txnUpdateNodePorts` → `releaseNodePorts`), and a rejected
write allocates nothing (upstream reverts the transaction).

Errors are upstream's, 422 `Service "x" is invalid: ...` with one field error, the first found
(clusterIPs before node ports, ports in order):

* `allocIPs`: `spec.clusterIPs: Invalid value: ["10.96.0.2"]: failed to allocate IP 10.96.0.2:
  provided IP is already allocated` / `...: the provided IP (192.168.7.7) is not in the valid
  range. The range of valid IPs is 10.96.0.0/12` (`ipallocator/interfaces.go` ErrAllocated,
  ErrNotInRange); an IPv6 address on this single-stack IPv4 cluster is refused earlier by
  `initIPFamilyFields`: `spec.clusterIPs[0]: ... IPv6 is not configured on this cluster`.
* `initNodePorts` / `updateNodePorts`: `spec.ports[0].nodePort: Invalid value: 30080: provided
  port is already allocated` / `...: 29999: provided port is not in the valid range. The range of
  valid ports is 30000-32767` (`portallocator/allocator.go` ErrAllocated, ErrNotInRange).

Which free value is chosen: upstream draws a random offset in the *dynamic* (upper) band of the
range and scans from it, falling back to the lower *static* band only when the upper is full
(`ServiceNodePortStaticSubrange`, `ServiceIPStaticSubrange`, KEP-3070/3668; `calculateRangeOffset`
in `portallocator/allocator.go` and `ipallocator`). The model takes the lowest free value of the
same band first — deterministic, and the band is what a verdict can depend on: an explicit value
in the static band (30000-30085, 10.96.0.1-10.96.1.0) never collides with an automatic one while
the dynamic band has room, as upstream guarantees. An explicit value in the dynamic band collides
upstream only if the random draw hit it; the model's lowest-first choice makes that one of
upstream's possible outcomes, never one it cannot have. No property reads the values themselves.

Not modelled: `healthCheckNodePort` (a LoadBalancer with externalTrafficPolicy Local takes one more
port upstream, `allocHealthCheckNodePort`): the model drops externalTrafficPolicy and
healthCheckNodePort at decoding (`ServiceSpec.IGNORED_JSON_FIELDS`), so it can only matter when
the 2,768-port range is exhausted; and `allocateLoadBalancerNodePorts: false` (dropped likewise:
the default true is modelled, `shouldAllocateNodePorts`).
"""

from __future__ import annotations

import ipaddress

from kubeprop.model.api.objects import Service
from kubeprop.model.api.store import Store
from kubeprop.model.api.validation import FieldError
from kubeprop.model.evolve import evolve

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
"""The default `--service-cluster-ip-range` of kubeadm clusters; 10.96.0.1 is the `kubernetes` Service."""
KUBERNETES_SERVICE_IP = ipaddress.ip_address("10.96.0.1")
"""The first address, held by the `default/kubernetes` Service (which the model does not store)."""
NODE_PORT_BASE = 30000
NODE_PORT_SIZE = 2768
"""`--service-node-port-range` default 30000-32767."""
NODE_PORT_RANGE_TEXT = f"{NODE_PORT_BASE}-{NODE_PORT_BASE + NODE_PORT_SIZE - 1}"


def _range_offset(size: int, low: int, high: int, step: int) -> int:
    """`calculateRangeOffset`: min(max(low, size/step), high), 0 for a range of at most `low`."""
    if size <= low:
        return 0
    return min(max(low, size // step), high)


PORT_OFFSET = _range_offset(NODE_PORT_SIZE, 16, 128, 32)
"""86: node ports 30000-30085 are the static band, 30086-32767 the dynamic one."""
IP_OFFSET = _range_offset(SERVICE_CIDR.num_addresses, 16, 256, 16)
"""256: from the first usable address, 10.96.0.1-10.96.1.0 are the static band."""

_ALLOCATED_IP = "provided IP is already allocated"
_ALLOCATED_PORT = "provided port is already allocated"


def needs_node_port(svc: Service) -> bool:
    """needsNodePort / shouldAllocateNodePorts: types NodePort and LoadBalancer."""
    return svc.spec.type in ("NodePort", "LoadBalancer")


def _others(store: Store, svc: Service) -> list[Service]:
    """The stored Services other than `svc` (same namespace and name) itself."""
    key = (svc.metadata.namespace, svc.metadata.name)
    return [o for o in store.list("services")
            if isinstance(o, Service) and (o.metadata.namespace, o.metadata.name) != key]


def taken_ips(store: Store, svc: Service) -> set[str]:
    """The cluster IPs other stored Services hold, and the `kubernetes` Service's."""
    ips = {str(KUBERNETES_SERVICE_IP)}
    for other in _others(store, svc):
        ips.update(ip for ip in (other.spec.cluster_ip, *other.spec.cluster_ips) if ip and ip != "None")
    return ips


def taken_ports(store: Store, svc: Service) -> set[int]:
    """The node ports other stored Services hold (one pool for every protocol, as upstream)."""
    return {p.node_port for other in _others(store, svc) for p in other.spec.ports if p.node_port}


def next_free_ip(taken: set[str]) -> str | None:
    """The lowest free address of the dynamic band, else of the static band; None when full."""
    first = int(SERVICE_CIDR.network_address) + 1
    last = int(SERVICE_CIDR.broadcast_address) - 1
    for lo, hi in ((first + IP_OFFSET, last), (first, first + IP_OFFSET - 1)):
        for value in range(lo, hi + 1):
            ip = str(ipaddress.IPv4Address(value))
            if ip not in taken:
                return ip
    return None


def next_free_port(taken: set[int]) -> int | None:
    """The lowest free node port of the dynamic band, else of the static band; None when full."""
    split = NODE_PORT_BASE + PORT_OFFSET
    for lo, hi in ((split, NODE_PORT_BASE + NODE_PORT_SIZE), (NODE_PORT_BASE, split)):
        free = next((port for port in range(lo, hi) if port not in taken), None)
        if free is not None:
            return free
    return None


def ip_error(svc: Service, ip: str, taken: set[str]) -> FieldError | None:
    """The allocator's refusal of an explicit cluster IP (`allocIPs` → `Allocate`), or None.
    A value that is no IP at all is left to validation (`ValidateServiceClusterIPsRelatedFields`)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    shown = list(svc.spec.cluster_ips) or [ip]
    if address.version == 6:
        return FieldError(("spec", "clusterIPs", 0), "Invalid value", "IPv6 is not configured on this cluster", shown)
    if address not in SERVICE_CIDR or address in (SERVICE_CIDR.network_address, SERVICE_CIDR.broadcast_address):
        reason = (f"the provided IP ({ip}) is not in the valid range. The range of valid IPs is {SERVICE_CIDR}")
    elif ip in taken:
        reason = _ALLOCATED_IP
    else:
        return None
    return FieldError(("spec", "clusterIPs"), "Invalid value", f"failed to allocate IP {ip}: {reason}", shown)


def port_error(index: int, port: int, taken: set[int]) -> FieldError | None:
    """The allocator's refusal of an explicit node port (`nodePortOp.Allocate`), or None."""
    if not NODE_PORT_BASE <= port < NODE_PORT_BASE + NODE_PORT_SIZE:
        reason = f"provided port is not in the valid range. The range of valid ports is {NODE_PORT_RANGE_TEXT}"
    elif port in taken:
        reason = _ALLOCATED_PORT
    else:
        return None
    return FieldError(("spec", "ports", index, "nodePort"), "Invalid value", reason, port)


def allocate_node_ports(svc: Service, old: Service | None, store: Store) -> tuple[Service, FieldError | None]:
    """`initNodePorts` (create) and `updateNodePorts` (update) of a NodePort/LoadBalancer Service:
    each explicit node port not already held by `old` must be in range and free; a port without
    one shares the node port another entry of the same `port` requested (`findRequestedNodePort`,
    so TCP and UDP 53 may share one) or is given the next free one. Returns the Service and the
    first refusal."""
    if not needs_node_port(svc):
        return svc, None
    taken = taken_ports(store, svc)
    kept = {p.node_port for p in old.spec.ports if p.node_port} if old is not None else set()
    by_port: dict[int, int] = {}
    ports = list(svc.spec.ports)
    for i, p in enumerate(ports):
        wanted = p.node_port or by_port.get(p.port) or next(
            (q.node_port for q in ports if q.port == p.port and q.node_port), 0)
        if wanted and wanted not in kept and by_port.get(p.port) != wanted:
            error = port_error(i, wanted, taken)
            if error is not None:
                return svc, error
        if not wanted:
            free = next_free_port(taken | kept)
            if free is None:  # upstream: an InternalError "range is full"; the model leaves it unset
                continue
            wanted = free
        taken.add(wanted)
        by_port.setdefault(p.port, wanted)
        if p.node_port != wanted:
            ports[i] = evolve(p, node_port=wanted)
    return evolve(svc, spec=evolve(svc.spec, ports=tuple(ports))), None


def allocate_cluster_ips(svc: Service, store: Store) -> tuple[Service, FieldError | None]:
    """`allocClusterIPs`: a ClusterIP/NodePort/LoadBalancer Service keeps an explicit cluster IP
    if the allocator accepts it, else gets the next free one; headless (`None`) and ExternalName
    Services get none. Returns the Service and the refusal."""
    spec = svc.spec
    if spec.type == "ExternalName" or spec.cluster_ip == "None" or spec.cluster_ips[:1] == ("None",):
        return svc, None
    taken = taken_ips(store, svc)
    requested = spec.cluster_ip or (spec.cluster_ips[0] if spec.cluster_ips else "")
    if requested:
        return evolve(svc, spec=evolve(spec, cluster_ip=requested, cluster_ips=(requested, *spec.cluster_ips[1:]))), \
            ip_error(svc, requested, taken)
    ip = next_free_ip(taken)
    if ip is None:  # upstream: an InternalError "failed to allocate a serviceIP: range is full"
        return svc, None
    return evolve(svc, spec=evolve(spec, cluster_ip=ip, cluster_ips=(ip,))), None
