"""The EndpointSlice controller: a Service's endpoints in slices of at most
`maxEndpointsPerSlice` endpoints.

Upstream: `pkg/controller/endpointslice/endpointslice_controller.go` (syncService),
`staging/src/k8s.io/endpointslice/reconciler.go` (reconcile, reconcileByAddressType,
reconcileByPortMapping, finalize, the placeholder slice), `staging/src/k8s.io/endpointslice/utils.go`
(podToEndpoint, getEndpointPorts, newEndpointSlice, setEndpointSliceLabels, getSliceToFill).

- An endpoint's address is the pod's `status.podIP` (a host-network pod's: its node's); two pods
  with one IP are two endpoints (`staging/src/k8s.io/endpointslice/util/endpointset.go`
  hashEndpoint keys by addresses, hostname and targetRef; `endpoint_key` below).
- Terminating pods are included (ShouldPodBeInEndpoints with includeTerminating=true); each
  endpoint's conditions: serving = Ready, terminating = deletionTimestamp set,
  ready = publishNotReadyAddresses OR (serving AND NOT terminating).
- Endpoints are grouped by their resolved port set; per group the existing slices are kept
  (undesired endpoints dropped, changed ones updated), new endpoints fill the slices being
  updated (fullest first), then one unchanged slice with room for all of them, then new
  slices. Slices of port sets no longer wanted are deleted; a create is turned into an update of
  a slice that would be deleted; a Service without endpoints keeps one empty placeholder slice.
  Requests go out as upstream's finalize sends them: creates, updates, deletes (no creates while
  the Service is being deleted). Slices are owned by the Service (the garbage collector removes
  them with it) and labelled `kubernetes.io/service-name` and
  `endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io`.

Model choices: new slices are named `<service>-<n>` with the smallest n no cached slice of the
namespace uses (upstream uses generateName `<service>-` and an endpointSliceTracker to avoid
acting on a stale cache; with deterministic names a duplicate create fails with 409 and an
update of a stale slice fails on its resourceVersion, so the key is retried instead). Where
upstream pops endpoints from a set in random order, the model takes them in pod-name order.
Only IPv4 is modelled. A pod whose Node is missing from the controller's node cache (a lagging
cache, or a node deleted before the pod GC removed its pods) is left out of the slices — unless
the Service publishes not-ready addresses, then it is kept without a zone — and the sync fails so
the Service is retried (`reconcileByAddressType`: "skipping Pod ... Node ... Not Found", the
aggregated error requeues the key) instead of waiting forever for an event that never comes (a
Node event enqueues no Service). Upstream sends the sync's writes first and then returns the
aggregated error, and handleErr re-adds the key with `AddRateLimited` (`endpointslice_controller.go`:
defaultSyncBackOff 1 s doubling to maxSyncBackOff 1000 s, with a 10 qps bucket; dropped after
maxRetries 15). The model's retry once the slices are written sends nothing and changes nothing — a
stutter, which holds no clock (`queued_work`) and the fair run sets aside (`drive.follow`), as a
retry waiting on its back-off; once the cache has the Node, the model's retry changes the state and
is taken promptly, where upstream's waits out the back-off it reached (up to 1000 s). A Service
whose syncs keep failing is dropped out of the queue once its retry budget is spent, 6,023 s after
the first failure for upstream's 15 retries (`endpointSliceMaxRetries`,
`kubeprop.model.controllers.endpointslice_retries`): its memory is the failing Services' streaks.
The pod's port group is kept even when all its pods are skipped, as upstream creates it before the
node lookup. Topology hints and trigger-time annotations are
left out.

`include_terminating` and `readiness_source` mirror EndpointsController's variants: the first
makes `ready` ignore `terminating`, the second decides `serving` from running containers instead
of the Ready condition.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.core import (
    LABEL_TOPOLOGY_ZONE,
    Endpoint,
    EndpointConditions,
    EndpointSlice,
    EndpointSlicePort,
    Node,
    Service,
)
from kubeprop.model.api.meta import ObjectMeta, OwnerReference
from kubeprop.model.api.objects import ApiObject, ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.server import Request, Response
from kubeprop.model.controllers import endpointslice_retries as retries
from kubeprop.model.controllers.base import Change, ChangeHandlers, Reconciliation
from kubeprop.model.controllers.endpoints import (
    HEADLESS_LABEL,
    SERVICE_NAME_LABEL,
    ReadinessSource,
    find_port,
    is_headless,
    pod_reference,
    pod_serving,
    selected_pods,
    services_for_pod_change,
    should_be_in_endpoints,
    should_set_hostname,
)
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER, new_controller_ref, split_key
from kubeprop.model.evolve import evolve
from kubeprop.model.state.informer import ObjectView

MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
CONTROLLER_NAME = "endpointslice-controller.k8s.io"
SLICES = "endpointslices.discovery.k8s.io"

PortsKey = tuple[EndpointSlicePort, ...]
EndpointKey = tuple[str, str]


def endpoint_key(ep: Endpoint) -> EndpointKey:
    """Which pod an endpoint stands for (upstream hashes addresses, hostname and targetRef)."""
    return (ep.addresses[0] if ep.addresses else "", ep.target_ref.name if ep.target_ref is not None else "")


def endpoint_ports(svc: Service, pod: Pod) -> PortsKey:
    """getEndpointPorts: each service port resolved on the pod (unresolvable ones skipped)."""
    out = []
    for port in svc.spec.ports:
        number = find_port(pod, port)
        if number is not None:
            out.append(EndpointSlicePort(name=port.name, port=number, protocol=port.protocol or "TCP",
                                         app_protocol=port.app_protocol or None))
    return tuple(out)


@attrs.define
class _Plan:
    """What finalize sends: new slices' endpoints (with their ports), updated and deleted slices."""

    create: list[tuple[PortsKey, list[Endpoint]]] = attrs.field(factory=list)
    update: list[EndpointSlice] = attrs.field(factory=list)
    delete: list[EndpointSlice] = attrs.field(factory=list)
    unchanged: list[EndpointSlice] = attrs.field(factory=list)


def _managed(obj: ApiObject) -> bool:
    """ManagedByController: the slice's managed-by label names this controller."""
    return obj.metadata.labels.get(MANAGED_BY_LABEL) == CONTROLLER_NAME


def _slice_service(obj: ApiObject) -> tuple[str, ...]:
    """queueServiceForEndpointSlice: the key of the Service the slice's service-name label names."""
    service = obj.metadata.labels.get(SERVICE_NAME_LABEL)
    return (f"{obj.metadata.namespace}/{service}",) if service else ()


@attrs.frozen
class EndpointSliceController(ChangeHandlers):
    """The EndpointSlice controller as a `Controller` (see the module docstring). Its memory is the
    retry budget's (`endpointslice_retries.RetryMemory`, None while no Service's sync is failing);
    the endpointSliceTracker is replaced by deterministic names."""

    max_endpoints_per_slice: int = 100
    include_terminating: bool = False
    readiness_source: ReadinessSource = "ready-condition"
    max_retries: int = retries.MAX_RETRIES
    """Upstream's `maxRetries`: the retries of a failing Service before it is dropped out of the queue."""
    name: str = "endpointslice"
    watches: tuple[str, ...] = ("services", "pods", SLICES, "nodes")
    identity: str = CONTROLLER_MANAGER_USER

    def keys_for_change(self, change: Change, view: ObjectView) -> Iterable[str]:
        """The handlers NewController registers (`pkg/controller/endpointslice/endpointslice_controller.go`).
        Services: onServiceUpdate (AddFunc, UpdateFunc) and onServiceDelete enqueue the Service. Pods:
        addPod, updatePod, deletePod (`endpoints.services_for_pod_change`). EndpointSlices:
        onEndpointSliceAdd and onEndpointSliceDelete queue the Service of a slice this controller
        manages; onEndpointSliceUpdate queues the Services of both the old and the new slice when its
        service-name label changed, else the new slice's when the managed-by label changed or the slice
        is managed here and is not unchanged (the endpointSliceTracker's ShouldSync, which the model has
        not: every change of a managed slice counts, the controller's own writes too). Nodes: handlers
        only with topology-aware hints (the topology cache), which the model has not."""
        obj, old = change.object, change.old
        if isinstance(obj, Service):
            return (f"{obj.metadata.namespace}/{obj.metadata.name}",)
        if isinstance(obj, Pod):
            return services_for_pod_change(change, view)
        if not isinstance(obj, EndpointSlice):
            return ()
        if change.type != "update" or not isinstance(old, EndpointSlice):
            return _slice_service(obj) if _managed(obj) else ()
        if old.metadata.labels.get(SERVICE_NAME_LABEL) != obj.metadata.labels.get(SERVICE_NAME_LABEL):
            return tuple(sorted({*_slice_service(obj), *_slice_service(old)}))
        managed_by_changed = old.metadata.labels.get(MANAGED_BY_LABEL) != obj.metadata.labels.get(MANAGED_BY_LABEL)
        if managed_by_changed or (_managed(obj) and old != obj):
            return _slice_service(obj)
        return ()

    def initial_memory(self) -> Any:
        """No Service failing."""
        return None

    def observe(self, memory: Any, request: Request, response: Response) -> Any:
        """A response settles the retry budget of the sync being sent (`endpointslice_retries.observe`)."""
        return retries.observe(memory, request, response)

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """syncService → reconciler.reconcile for the IPv4 address type; handleErr's retry budget
        (`endpointslice_retries.outcome`)."""
        namespace, name = split_key(key)
        svc = view.get(ObjectKey("services", namespace, name))
        if not isinstance(svc, Service) or svc.spec.type == "ExternalName" or svc.spec.selector is None:
            return Reconciliation(memory=retries.forgotten(memory, key))
        desired, missing_node = self._desired(view, svc)
        existing = [s for s in view.list(SLICES, namespace) if isinstance(s, EndpointSlice)
                    and s.metadata.labels.get(SERVICE_NAME_LABEL) == name
                    and s.metadata.labels.get(MANAGED_BY_LABEL) == CONTROLLER_NAME]
        plan = _Plan()
        by_ports: dict[PortsKey, list[EndpointSlice]] = {}
        for sl in existing:
            if sl.address_type != "IPv4":
                plan.delete.append(sl)
            else:
                by_ports.setdefault(sl.ports, []).append(sl)
        labels = self._labels(svc)
        for ports, endpoints in sorted(desired.items(), key=lambda kv: _ports_order(kv[0])):
            self._by_port_mapping(plan, ports, by_ports.pop(ports, []), endpoints, labels)
        for slices in by_ports.values():
            plan.delete.extend(slices)
        requests = self._finalize(view, svc, plan, existing, labels)
        budget = retries.retry_budget_seconds(self.max_retries)
        outcome = retries.outcome(memory, key, now, budget, requests, missing_node)
        return Reconciliation(requests, outcome.memory, requeue=outcome.requeue, tolerate=outcome.tolerate)

    def _desired(self, view: ObjectView, svc: Service) -> tuple[dict[PortsKey, dict[EndpointKey, Endpoint]], bool]:
        """The wanted endpoints by port set, and whether a pod was skipped for a Node missing
        from the cache (then the sync reports an error and the Service is retried)."""
        desired: dict[PortsKey, dict[EndpointKey, Endpoint]] = {}
        missing_node = False
        for pod in selected_pods(view, svc):
            if not should_be_in_endpoints(pod, True):
                continue
            ports = () if not svc.spec.ports and svc.spec.cluster_ip == "None" else endpoint_ports(svc, pod)
            group = desired.setdefault(ports, {})
            node = view.get(ObjectKey("nodes", "", pod.spec.node_name))
            if not isinstance(node, Node):
                node = None
                if not svc.spec.publish_not_ready_addresses:
                    missing_node = True
                    continue
            endpoint = self._endpoint(svc, pod, node)
            group[endpoint_key(endpoint)] = endpoint
        return desired, missing_node

    def _endpoint(self, svc: Service, pod: Pod, node: ApiObject | None) -> Endpoint:
        """podToEndpoint."""
        serving = pod_serving(pod, self.readiness_source)
        terminating = pod.metadata.deletion_timestamp is not None
        ready = svc.spec.publish_not_ready_addresses or (serving and (not terminating or self.include_terminating))
        zone = node.metadata.labels.get(LABEL_TOPOLOGY_ZONE) if node is not None else None
        return Endpoint(
            addresses=(pod.status.pod_ip,),
            conditions=EndpointConditions(ready=ready, serving=serving, terminating=terminating),
            hostname=pod.spec.hostname if should_set_hostname(pod, svc) else None,
            node_name=pod.spec.node_name or None, zone=zone, target_ref=pod_reference(pod),
        )

    @staticmethod
    def _labels(svc: Service) -> dict[str, str]:
        """setEndpointSliceLabels: the Service's labels plus the controller's own."""
        labels = {k: v for k, v in svc.metadata.labels.items() if k not in (SERVICE_NAME_LABEL, MANAGED_BY_LABEL)}
        labels[SERVICE_NAME_LABEL] = svc.metadata.name
        labels[MANAGED_BY_LABEL] = CONTROLLER_NAME
        if is_headless(svc):
            labels[HEADLESS_LABEL] = ""
        else:
            labels.pop(HEADLESS_LABEL, None)
        return labels

    def _by_port_mapping(self, plan: _Plan, ports: PortsKey, existing: list[EndpointSlice],
                         desired: dict[EndpointKey, Endpoint], labels: dict[str, str]) -> None:
        """reconcileByPortMapping, steps 1-3."""
        remaining = dict(sorted(desired.items(), key=lambda kv: kv[0][1]))
        updated: list[EndpointSlice] = []
        unchanged: list[EndpointSlice] = []
        for sl in sorted(existing, key=lambda s: s.metadata.name):
            kept = [remaining.pop(endpoint_key(e)) for e in sl.endpoints if endpoint_key(e) in remaining]
            if kept != list(sl.endpoints):
                if kept:
                    updated.append(_with(sl, kept, labels))
                else:
                    plan.delete.append(sl)
            elif dict(sl.metadata.labels) != labels:
                updated.append(_with(sl, kept, labels))
            else:
                unchanged.append(sl)
        for i, sl in sorted(enumerate(updated), key=lambda t: -len(t[1].endpoints)):
            room = self.max_endpoints_per_slice - len(sl.endpoints)
            extra = [remaining.pop(k) for k in list(remaining)[:max(room, 0)]]
            updated[i] = _with(sl, [*sl.endpoints, *extra], labels)
        while remaining:
            target = None
            if len(remaining) < self.max_endpoints_per_slice:
                target = _slice_to_fill(unchanged, len(remaining), self.max_endpoints_per_slice)
            room = self.max_endpoints_per_slice - (len(target.endpoints) if target is not None else 0)
            extra = [remaining.pop(k) for k in list(remaining)[:room]]
            if target is None:
                plan.create.append((ports, extra))
            else:
                unchanged.remove(target)
                updated.append(_with(target, [*target.endpoints, *extra], labels))
        plan.update.extend(updated)
        plan.unchanged.extend(unchanged)

    def _finalize(self, view: ObjectView, svc: Service, plan: _Plan, existing: list[EndpointSlice],
                  labels: dict[str, str]) -> tuple[Request, ...]:
        """The placeholder rule, creates turned into updates of deleted slices, then the requests."""
        if len(existing) == len(plan.delete) and not plan.create:
            placeholder = [d for d in plan.delete if not d.endpoints and not d.ports]
            if len(plan.delete) == 1 and placeholder and dict(placeholder[0].metadata.labels) == labels:
                plan.delete = []
            else:
                plan.create.append(((), []))
        owner = new_controller_ref(svc)
        news: list[EndpointSlice] = []
        for ports, endpoints in plan.create:
            reuse = next((d for d in plan.delete if d.address_type == "IPv4"), None)
            if reuse is not None:
                plan.delete.remove(reuse)
                plan.update.append(evolve(_with(reuse, endpoints, labels), ports=ports))
            else:
                news.append(_new_slice(svc, ports, endpoints, labels, owner))
        names = _names(view, svc, len(news))
        requests = [] if svc.metadata.deletion_timestamp is not None else [
            Request(verb="create", user=self.identity, obj=evolve(sl, metadata=evolve(sl.metadata, name=n)))
            for sl, n in zip(news, names, strict=True)
        ]
        requests += [Request(verb="update", user=self.identity, obj=sl) for sl in plan.update]
        requests += [Request(verb="delete", user=self.identity, resource=SLICES, namespace=sl.metadata.namespace,
                             name=sl.metadata.name) for sl in plan.delete]
        return tuple(requests)


def _ports_order(ports: PortsKey) -> tuple[tuple[str, int, str], ...]:
    return tuple((p.name or "", p.port or 0, p.protocol or "") for p in ports)


def _with(sl: EndpointSlice, endpoints: Iterable[Endpoint], labels: dict[str, str]) -> EndpointSlice:
    return evolve(sl, endpoints=tuple(endpoints), metadata=evolve(sl.metadata, labels=labels))


def _slice_to_fill(slices: list[EndpointSlice], count: int, max_endpoints: int) -> EndpointSlice | None:
    """getSliceToFill: the fullest slice that still has room for `count` more endpoints."""
    best = None
    for sl in slices:
        if len(sl.endpoints) + count <= max_endpoints and (best is None or len(sl.endpoints) > len(best.endpoints)):
            best = sl
    return best


def _new_slice(svc: Service, ports: PortsKey, endpoints: list[Endpoint], labels: dict[str, str],
               owner: OwnerReference) -> EndpointSlice:
    """newEndpointSlice (named later)."""
    meta = ObjectMeta(namespace=svc.metadata.namespace, labels=labels, owner_references=(owner,))
    return EndpointSlice(metadata=meta, address_type="IPv4", endpoints=tuple(endpoints), ports=ports)


def _names(view: ObjectView, svc: Service, count: int) -> list[str]:
    """`<service>-<n>` for the `count` smallest n no cached slice of the namespace uses."""
    used = {s.metadata.name for s in view.list(SLICES, svc.metadata.namespace)}
    out: list[str] = []
    n = 0
    while len(out) < count:
        candidate = f"{svc.metadata.name}-{n}"
        if candidate not in used:
            out.append(candidate)
        n += 1
    return out
