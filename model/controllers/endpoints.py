"""The Endpoints controller: one Endpoints object per Service with a selector, listing the
addresses of the pods the selector matches.

Upstream: `pkg/controller/endpoint/endpoints_controller.go` (syncService, addEndpointSubset,
podToEndpointAddressForService, the pod/service/endpoints event handlers),
`staging/src/k8s.io/endpointslice/util/controller_utils.go` (ShouldPodBeInEndpoints,
ShouldSetHostname, getServicesToUpdateOnPodChange), `pkg/api/v1/pod/util.go` (FindPort),
`pkg/api/v1/endpoints/util.go` (RepackSubsets, SortSubsets).

- Services of type ExternalName or without a selector are left alone; a deleted Service's
  Endpoints are deleted.
- A pod is included iff it is not terminal, has a podIP, and is not terminating — unless the
  Service publishes not-ready addresses (ShouldPodBeInEndpoints).
- It goes to `addresses` iff the Service publishes not-ready addresses or the pod is Ready (the
  Ready condition: readiness probes, never liveness probes), else to `notReadyAddresses`.
- Ports come from each service port's targetPort, a named one resolved through the pod's
  container ports; a pod without the port is left out of that port's subset. Headless services
  without ports get addresses without ports.
- An address is the pod's `status.podIP` — a host-network pod's is its node's, so pods on one
  node share an IP and stay two addresses, told apart by UID (RepackSubsets' addressKey: "two
  endpoints that are identical addresses but may have come from different hosts").
- Subsets are repacked (addresses sharing a port set merged) and sorted: addresses by (IP, UID),
  ports by (name, port, protocol), subsets by their content. Upstream sorts ports and subsets by
  a hash of their content — deterministic but arbitrary; the model's order is a different
  deterministic one.
- Labels: the Service's, plus `service.kubernetes.io/headless` for a headless Service.

Left out: the `endpoints.kubernetes.io/last-change-trigger-time` annotation and the
over-capacity truncation at 1000 addresses (`endpoints.kubernetes.io/over-capacity`). A deleted
Service's Endpoints are deleted whether or not the controller's cache has them, a 404 taken as
done (syncService: `Endpoints(namespace).Delete` with `!errors.IsNotFound(err)`), so an Endpoints
object a stale cache missed does not outlive its Service.

Stale-cache tracking (`track_stale`, parameter `endpointsStaleCacheTracking`, since v1.31:
kubernetes PR #125675, `pkg/controller/endpoint/endpoints_tracker.go`): after an update that
changed the resourceVersion the controller remembers the version it *replaced*; a later sync that
finds exactly that version in its cache knows the cache does not have its own write yet, and
fails ("endpoints informer cache is out of date") so the key is retried (rate-limited upstream;
here the key stays queued) instead of comparing desired subsets with an outdated object. Without
it (v1.30 and before, catalogue `endpoints-stale-cache`, kubernetes#125638, #127429) a readiness
flap compared against the stale object looks already written, the update is skipped, and nothing
wakes the Service again: the Endpoints keep the flap's first state. The memory maps a Service key
to the replaced resourceVersion; it is dropped when the Service is gone (`staleEndpointsTracker.
Delete`) and lost on a crash (a restarted controller lists afresh). Equality, as upstream: an
informer cache never goes back, so a cached version equal to the replaced one is the only stale
one the controller can meet.

Variants (catalogue `endpoints-terminating`, `endpoints-liveness`) are constructor arguments:
- `include_terminating=True`: terminating pods stay included (and in `addresses` while they
  report Ready), as before kubernetes#54723 was fixed;
- `readiness_source="containers-running"`: a pod counts as ready iff it is Running and all its
  containers are running (i.e. alive: what the liveness probe decides), ignoring the Ready
  condition — "the controller follows liveness instead of readiness".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from kubeprop.model.api.core import EndpointAddress, EndpointPort, Endpoints, EndpointSubset, Service, ServicePort
from kubeprop.model.api.meta import ObjectMeta, ObjectReference
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import ContainerStatus, Pod
from kubeprop.model.api.server import Request, Response
from kubeprop.model.controllers.base import Change, ChangeHandlers, Reconciliation
from kubeprop.model.controllers.podutil import (
    CONTROLLER_MANAGER_USER,
    is_pod_ready,
    is_pod_terminal,
    pods_in,
    split_key,
)
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.state.informer import ObjectView


def _gone(request: Request, response: Response) -> Literal["ignore"] | None:
    """syncService's delete of a deleted Service's Endpoints: a 404 is no error."""
    return "ignore" if request.verb == "delete" and response.code == 404 else None


ReadinessSource = Literal["ready-condition", "containers-running"]
HEADLESS_LABEL = "service.kubernetes.io/headless"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def _container_running(status: ContainerStatus) -> bool:
    state = status.state
    return bool(status.started) or (isinstance(state, Mapping) and "running" in state)


def containers_running(pod: Pod) -> bool:
    """Running, with a status for every container and every container running (alive)."""
    statuses = pod.status.container_statuses
    return (pod.status.phase == "Running" and len(statuses) >= len(pod.spec.containers) > 0
            and all(_container_running(s) for s in statuses))


def pod_serving(pod: Pod, source: ReadinessSource) -> bool:
    """Whether the controller treats the pod as ready (IsPodReady upstream)."""
    return is_pod_ready(pod) if source == "ready-condition" else containers_running(pod)


def should_be_in_endpoints(pod: Pod, include_terminating: bool) -> bool:
    """ShouldPodBeInEndpoints: not terminal, has an IP, and not terminating unless included."""
    if is_pod_terminal(pod) or not pod.status.pod_ip:
        return False
    return include_terminating or pod.metadata.deletion_timestamp is None


def should_set_hostname(pod: Pod, svc: Service) -> bool:
    """ShouldSetHostname: the pod has a hostname and its subdomain is this Service's name."""
    return bool(pod.spec.hostname) and pod.spec.subdomain == svc.metadata.name \
        and pod.metadata.namespace == svc.metadata.namespace


def find_port(pod: Pod, port: ServicePort) -> int | None:
    """FindPort: a numeric targetPort as is; a named one through the containers' ports with the
    same protocol (sidecar init containers included); None if there is none."""
    target = port.target_port if port.target_port not in (None, 0, "") else port.port
    if isinstance(target, int):
        return target
    protocol = port.protocol or "TCP"
    containers = (*pod.spec.containers, *(c for c in pod.spec.init_containers if c.restart_policy == "Always"))
    for container in containers:
        for cport in container.ports:
            if cport.name == target and (cport.protocol or "TCP") == protocol:
                return cport.container_port
    return None


def is_headless(svc: Service) -> bool:
    """Not IsServiceIPSet: clusterIP empty or None."""
    return svc.spec.cluster_ip in ("", "None")


def pod_reference(pod: Pod) -> ObjectReference:
    """The targetRef of a pod's address."""
    return ObjectReference(kind="Pod", namespace=pod.metadata.namespace, name=pod.metadata.name, uid=pod.metadata.uid)


def selected_pods(view: ObjectView, svc: Service) -> tuple[Pod, ...]:
    """The cached pods in the Service's namespace that its selector (a label map) matches."""
    selector: Mapping[str, str] = svc.spec.selector or {}
    return tuple(p for p in pods_in(view, svc.metadata.namespace)
                 if all(p.metadata.labels.get(k) == v for k, v in selector.items()))


def services_for_pod(pod: Pod, view: ObjectView) -> set[str]:
    """Keys of the Services whose selector matches the pod (getPodServiceMemberships)."""
    out = set()
    for svc in view.list("services", pod.metadata.namespace):
        if isinstance(svc, Service) and svc.spec.selector is not None and all(
                pod.metadata.labels.get(k) == v for k, v in svc.spec.selector.items()):
            out.add(f"{svc.metadata.namespace}/{svc.metadata.name}")
    return out


def services_for_pod_change(change: Change, view: ObjectView) -> tuple[str, ...]:
    """The Services a pod's add, update or delete enqueues, in the Endpoints and the EndpointSlice
    controllers alike: addPod and deletePod the Services selecting the pod (GetPodServiceMemberships;
    deletePod takes the tombstone's pod, GetPodFromDeleteAction), updatePod
    `GetServicesToUpdateOnPodChange` (`staging/src/k8s.io/endpointslice/util/controller_utils.go`):
    nothing on equal resourceVersions, nor when neither the pod's endpoint nor its labels changed
    (`pod_endpoints_changed`); else the new pod's Services, and when the labels changed also the old
    pod's — all of both when the endpoint changed too, else those of only one of them
    (determineNeededServiceUpdates).

    Both controllers' handlers get the very same `change` and view for a pod's event (`notify`), so
    the answer for the last (change, view) pair, by identity, is kept for the second
    (`_LAST_POD_CHANGE`; each is a value, kept alive with its answer)."""
    last = _LAST_POD_CHANGE[0]
    if last[0] is change and last[1] is view:
        return last[2]
    found = _services_for_pod_change(change, view)
    _LAST_POD_CHANGE[0] = (change, view, found)
    return found


_LAST_POD_CHANGE: list[tuple[object, object, tuple[str, ...]]] = [(None, None, ())]
"""`services_for_pod_change`'s last (change, view, answer)."""


def _services_for_pod_change(change: Change, view: ObjectView) -> tuple[str, ...]:
    pod, old = change.object, change.old
    if not isinstance(pod, Pod):
        return ()
    if change.type != "update" or not isinstance(old, Pod):
        return tuple(sorted(services_for_pod(pod, view)))
    if old.metadata.resource_version == pod.metadata.resource_version:
        return ()  # "Periodic resync will send update events for all known pods"
    pod_changed, labels_changed = pod_endpoints_changed(old, pod)
    if not pod_changed and not labels_changed:
        return ()
    services = services_for_pod(pod, view)
    if labels_changed:
        before = services_for_pod(old, view)
        services = services | before if pod_changed else services ^ before
    return tuple(sorted(services))


def pod_endpoints_changed(old: Pod, new: Pod) -> tuple[bool, bool]:
    """podEndpointsChanged: (the pod changed in a way that may change its endpoint, its labels — or its
    hostname or subdomain — changed). The first: a deletion timestamp on either side (upstream compares
    the two `*metav1.Time` pointers, which differ unless both are nil), a changed readiness, changed pod
    IPs ("NodeName is immutable once initially set, which happens before the pod gets an IP")."""
    labels_changed = dict(old.metadata.labels) != dict(new.metadata.labels) or (
        old.spec.hostname, old.spec.subdomain) != (new.spec.hostname, new.spec.subdomain)
    pod_changed = (old.metadata.deletion_timestamp is not None or new.metadata.deletion_timestamp is not None
                   or is_pod_ready(old) != is_pod_ready(new) or old.status.pod_ip != new.status.pod_ip)
    return pod_changed, labels_changed


_Entry = tuple[EndpointAddress, EndpointPort | None, bool]


def _address_key(addr: EndpointAddress) -> tuple[str, str]:
    return addr.ip, addr.target_ref.uid if addr.target_ref is not None else ""


def _port_key(port: EndpointPort) -> tuple[str, int, str]:
    return port.name, port.port, port.protocol


def repack(entries: Iterable[_Entry]) -> tuple[EndpointSubset, ...]:
    """RepackSubsets + SortSubsets: group addresses by port, then ports by identical address
    sets (an address ready under a port in any entry is ready), and sort everything."""
    by_port: dict[tuple[str, int, str] | None, dict[tuple[str, str], tuple[EndpointAddress, bool]]] = {}
    ports: dict[tuple[str, int, str], EndpointPort] = {}
    for addr, port, ready in entries:
        pkey = None if port is None else _port_key(port)
        if port is not None and pkey is not None:
            ports[pkey] = port
        addrs = by_port.setdefault(pkey, {})
        akey = _address_key(addr)
        previous = addrs.get(akey)
        addrs[akey] = (addr if previous is None else previous[0], ready or (previous is not None and previous[1]))
    groups: dict[tuple[tuple[tuple[str, str], bool], ...], list[EndpointPort]] = {}
    members: dict[tuple[tuple[tuple[str, str], bool], ...], list[tuple[EndpointAddress, bool]]] = {}
    for pkey, addrs in by_port.items():
        gkey = tuple(sorted((k, r) for k, (_, r) in addrs.items()))
        groups.setdefault(gkey, [])
        members[gkey] = list(addrs.values())
        if pkey is not None:
            groups[gkey].append(ports[pkey])
    subsets = []
    for gkey, group_ports in groups.items():
        ready_addrs = tuple(sorted((a for a, r in members[gkey] if r), key=_address_key))
        not_ready_addrs = tuple(sorted((a for a, r in members[gkey] if not r), key=_address_key))
        subsets.append(EndpointSubset(ready_addrs, not_ready_addrs, tuple(sorted(group_ports, key=_port_key))))
    return tuple(sorted(subsets, key=_subset_key))


def _tracker(memory: Any) -> FrozenMap[str, str]:
    return memory if isinstance(memory, FrozenMap) else EMPTY


def _subset_key(subset: EndpointSubset) -> tuple[Any, ...]:
    return (tuple(_address_key(a) for a in (*subset.addresses, *subset.not_ready_addresses)),
            tuple(_port_key(p) for p in subset.ports))


@attrs.frozen
class EndpointsController(ChangeHandlers):
    """The Endpoints controller as a `Controller` (see the module docstring for the variants)."""

    include_terminating: bool = False
    readiness_source: ReadinessSource = "ready-condition"
    track_stale: bool = True
    name: str = "endpoints"
    watches: tuple[str, ...] = ("services", "pods", "endpoints")
    identity: str = CONTROLLER_MANAGER_USER

    def initial_memory(self) -> Any:
        """The stale-resourceVersion tracker: Service key → the Endpoints version last replaced."""
        return EMPTY

    def observe(self, memory: Any, request: Request, response: Response) -> Any:
        """After an update that changed the resourceVersion, remember the replaced one
        (`staleEndpointsTracker.Stale(currentEndpoints)`)."""
        old, new = request.obj, response.obj
        if not (self.track_stale and request.verb == "update" and response.ok and isinstance(old, Endpoints)
                and new is not None and new.metadata.resource_version != old.metadata.resource_version):
            return memory
        return _tracker(memory).set(f"{old.metadata.namespace}/{old.metadata.name}", old.metadata.resource_version)

    def keys_for_change(self, change: Change, view: ObjectView) -> Iterable[str]:
        """The handlers NewEndpointController registers (`pkg/controller/endpoint/endpoints_controller.go`).
        Services: onServiceUpdate (AddFunc and UpdateFunc) and onServiceDelete enqueue the Service. Pods:
        addPod, updatePod, deletePod (`services_for_pod_change`). Endpoints: only
        `DeleteFunc: e.onEndpointsDelete`, which enqueues the Service of the deleted object's name."""
        obj = change.object
        if isinstance(obj, Service) or (isinstance(obj, Endpoints) and change.type == "delete"):
            return (f"{obj.metadata.namespace}/{obj.metadata.name}",)
        return services_for_pod_change(change, view)

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """syncService."""
        namespace, name = split_key(key)
        svc = view.get(ObjectKey("services", namespace, name))
        current = view.get(ObjectKey("endpoints", namespace, name))
        current_ep = current if isinstance(current, Endpoints) else None
        if not isinstance(svc, Service):  # deleted blindly, whatever the cache holds; a 404 is done
            memory = _tracker(memory).delete(key)
            delete = Request(verb="delete", user=self.identity, resource="endpoints", namespace=namespace, name=name)
            return Reconciliation((delete,), memory, tolerate=_gone)
        if svc.spec.type == "ExternalName" or svc.spec.selector is None:
            return Reconciliation(memory=memory)
        if current_ep is not None and _tracker(memory).get(key) == current_ep.metadata.resource_version:
            return Reconciliation(memory=memory, requeue=True)  # the cache is older than our own write
        subsets = repack(self._entries(svc, selected_pods(view, svc)))
        request = self._write(svc, current_ep, subsets)
        return Reconciliation(() if request is None else (request,), memory)

    def _entries(self, svc: Service, pods: Iterable[Pod]) -> list[_Entry]:
        publish = svc.spec.publish_not_ready_addresses
        entries: list[_Entry] = []
        for pod in pods:
            if not should_be_in_endpoints(pod, publish or self.include_terminating):
                continue
            addr = EndpointAddress(
                ip=pod.status.pod_ip, node_name=pod.spec.node_name or None, target_ref=pod_reference(pod),
                hostname=pod.spec.hostname if should_set_hostname(pod, svc) else "",
            )
            ready = publish or pod_serving(pod, self.readiness_source)
            if not svc.spec.ports:
                if svc.spec.cluster_ip == "None":
                    entries.append((addr, None, ready))
                continue
            for port in svc.spec.ports:
                number = find_port(pod, port)
                if number is not None:
                    endpoint_port = EndpointPort(port=number, name=port.name, protocol=port.protocol or "TCP",
                                                 app_protocol=port.app_protocol)
                    entries.append((addr, endpoint_port, ready))
        return entries

    def _write(self, svc: Service, current: Endpoints | None, subsets: tuple[EndpointSubset, ...]) -> Request | None:
        """Create or update the Endpoints unless subsets and labels already match."""
        labels = dict(svc.metadata.labels)
        if current is not None:
            compare = {k: v for k, v in current.metadata.labels.items() if k != HEADLESS_LABEL}
            if current.subsets == subsets and compare == labels:
                return None
        if is_headless(svc):
            labels[HEADLESS_LABEL] = ""
        if current is None:
            meta = ObjectMeta(name=svc.metadata.name, namespace=svc.metadata.namespace, labels=labels)
            return Request(verb="create", user=self.identity, obj=Endpoints(metadata=meta, subsets=subsets))
        updated = Endpoints(metadata=evolve(current.metadata, labels=labels), subsets=subsets)
        return Request(verb="update", user=self.identity, obj=updated)
