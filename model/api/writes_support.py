"""Small helpers shared by the API server's write verbs (`server_write`, `server_delete`,
`server_apply`): admission attributes, the upstream status responses, pod grace periods, JSON
merge patch, and the Service allocator (`service_alloc`)."""

from __future__ import annotations

from typing import Any

from kubeprop.model.api.admission import AdmissionRequest, Operation
from kubeprop.model.api.meta import KindInfo
from kubeprop.model.api.objects import ApiObject, Pod, Service, qualified_resource
from kubeprop.model.api.server import Context, Request, Response, describe, status
from kubeprop.model.api.service_alloc import allocate_cluster_ips, allocate_node_ports, needs_node_port
from kubeprop.model.api.store import Store
from kubeprop.model.api.validation import FieldError
from kubeprop.model.evolve import evolve


def admission_request(ctx: Context, store: Store, op: Operation, obj: ApiObject | None, old: ApiObject | None,
                      namespace: str, name: str, subresource: str = "") -> AdmissionRequest:
    """The admission attributes of a write (`admission.NewAttributesRecord`)."""
    return AdmissionRequest(
        operation=op, obj=obj, old_obj=old, user=ctx.user, namespace=namespace, name=name,
        resource=qualified_resource(ctx.info), subresource=subresource, store=store, dry_run=ctx.request.dry_run,
        now=ctx.now,
    )


def invalid(info: KindInfo, name: str, errors: list[FieldError]) -> Response:
    """422 in the upstream form: `Deployment.apps "x" is invalid: [a, b]` (no brackets for one)."""
    group_kind = f"{info.kind}.{info.group}" if info.group else info.kind
    details = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(str(e) for e in errors) + "]"
    return status(422, "Invalid", f'{group_kind} "{name}" is invalid: {details}', errors=tuple(errors))


def forbidden(ctx: Context, name: str, code: int, reason: str, message: str) -> Response:
    """An admission denial; a 403 names the object as upstream's `NewForbidden` does."""
    if code == 403:
        message = f"{describe(ctx.info, name)} is forbidden: {message}"
    return status(code, reason, message)


def conflict(ctx: Context, name: str) -> Response:
    """409 for a stale resourceVersion (`storage.NewResourceVersionConflictsError`)."""
    return status(409, "Conflict", f"Operation cannot be fulfilled on {describe(ctx.info, name)}: the object "
                  "has been modified; please apply your changes to the latest version and try again")


def not_found(ctx: Context, name: str) -> Response:
    """404 for a missing object."""
    return status(404, "NotFound", f"{describe(ctx.info, name)} not found")


def pod_grace_period(pod: Pod, requested: int | None) -> int:
    """The grace period a pod delete gets (`pkg/registry/core/pod/strategy.go` CheckGracefulDelete):
    the request's value, else spec.terminationGracePeriodSeconds; 0 when the pod is not bound or
    already terminal; a negative value becomes 1."""
    period = requested if requested is not None else pod.spec.termination_grace_period_seconds or 0
    if not pod.spec.node_name or pod.status.phase in ("Succeeded", "Failed"):
        period = 0
    return 1 if period < 0 else period


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def allocate_cluster_ip(svc: Service, store: Store) -> Service:
    """The allocation of a created Service (`storage.go` beginCreate: `normalize_cluster_ips`,
    then `alloc.go` allocateCreate): a cluster IP for a ClusterIP/NodePort/LoadBalancer Service
    that names none, node ports for the NodePort and LoadBalancer ports that name none
    (`kubeprop.model.api.service_alloc`, which says how the model picks a free value). Explicit
    values are kept: `allocation_errors` judges them."""
    svc, _ = allocate_cluster_ips(normalize_cluster_ips(svc, None), store)
    svc, _ = allocate_node_ports(svc, None, store)
    return svc


def allocation_errors(svc: Service, old: Service | None, store: Store) -> list[FieldError]:
    """The allocator's refusal of a create (`old` None) or update, as upstream's 422 holds it: at
    most one error, the cluster IP's first (`allocateCreate`/`allocateUpdate`). On update the
    cluster IP is judged only when the Service leaves ExternalName (case A: clusterIP is
    immutable otherwise), and only node ports `old` did not hold."""
    ip_error = None
    if old is None or (old.spec.type == "ExternalName" and svc.spec.type != "ExternalName"):
        _, ip_error = allocate_cluster_ips(svc, store)
    if ip_error is not None:
        return [ip_error]
    _, port_error = allocate_node_ports(svc, old, store)
    return [] if port_error is None else [port_error]


def normalize_cluster_ips(new: Service, old: Service | None) -> Service:
    """normalizeClusterIPs (`pkg/registry/core/service/storage/storage.go`): keep clusterIP and
    clusterIPs in step before anything looks at them. On create, a clusterIP alone gives
    clusterIPs `[clusterIP]`. On update, clusterIPs left out with clusterIP unchanged are the old
    ones; a clusterIP cleared with clusterIPs as they were clears them too; a clusterIP changed
    with clusterIPs as they were makes them `[clusterIP]` (validation judges the rest: an
    ExternalName Service given a clusterIP is refused for its clusterIPs)."""
    spec = new.spec
    ips = spec.cluster_ips
    if old is None:
        ips = (spec.cluster_ip,) if spec.cluster_ip and not ips else ips
    else:
        if old.spec.cluster_ips and not ips and old.spec.cluster_ip == spec.cluster_ip:
            ips = old.spec.cluster_ips
        if old.spec.cluster_ip != spec.cluster_ip and ips == old.spec.cluster_ips:  # sameClusterIPs
            ips = () if old.spec.cluster_ip and not spec.cluster_ip else (spec.cluster_ip,)
    return new if ips == spec.cluster_ips else evolve(new, spec=evolve(spec, cluster_ips=ips))


def patch_allocated_values(new: Service, old: Service) -> Service:
    """patchAllocatedValues (`pkg/registry/core/service/storage/storage.go`, beginUpdate, before
    `normalize_cluster_ips`): a PUT that leaves out what the server allocated (`kubectl replace`
    of the manifest the Service was created from) keeps it. While both need a cluster IP (not
    ExternalName), an empty clusterIP and empty clusterIPs take the old ones; while both need node
    ports (NodePort, LoadBalancer), a port without one takes the node port of the old port of the
    same name (upstream matches by name alone), unless another new port already holds that value.
    The model has no health-check node port to keep."""
    spec = new.spec
    if old.spec.type != "ExternalName" and spec.type != "ExternalName":
        spec = evolve(spec, cluster_ip=spec.cluster_ip or old.spec.cluster_ip,
                      cluster_ips=spec.cluster_ips or old.spec.cluster_ips)
    if needs_node_port(old) and needs_node_port(new):
        used = {p.node_port for p in old.spec.ports if p.node_port} & {p.node_port for p in spec.ports if p.node_port}
        by_name = {p.name: p.node_port for p in old.spec.ports}
        spec = evolve(spec, ports=tuple(
            evolve(p, node_port=by_name.get(p.name)) if not p.node_port and by_name.get(p.name) not in used else p
            for p in spec.ports))
    return new if spec == new.spec else evolve(new, spec=spec)


def drop_type_dependent_fields(new: Service, old: Service) -> Service:
    """dropTypeDependentFields (`pkg/registry/core/service/strategy.go`, PrepareForUpdate): a
    Service switched to a type that needs no cluster IP (ExternalName) loses the clusterIP and
    clusterIPs it was given, and one switched to a type without node ports (ClusterIP,
    ExternalName) loses its node ports — each only when the update left them as they were (a
    value the user also changed is kept, and validation judges it). The model has no IP families,
    health-check node port, load-balancer class or traffic policies to drop."""
    spec = new.spec
    if old.spec.type != "ExternalName" and spec.type == "ExternalName" \
            and (spec.cluster_ip, spec.cluster_ips) == (old.spec.cluster_ip, old.spec.cluster_ips):
        spec = evolve(spec, cluster_ip="", cluster_ips=())
    old_ports = {p.node_port for p in old.spec.ports if p.node_port}
    if needs_node_port(old) and not needs_node_port(new) \
            and {p.node_port for p in spec.ports if p.node_port} <= old_ports:
        spec = evolve(spec, ports=tuple(evolve(p, node_port=None) for p in spec.ports))
    return new if spec is new.spec else evolve(new, spec=spec)


def allocate_on_update(new: Service, old: Service, store: Store) -> Service:
    """The allocator on update (`pkg/registry/core/service/storage/alloc.go` allocateUpdate):
    a Service switched from ExternalName to another type is given a cluster IP, as on create (its
    old one, if any, was released by case B: `drop_type_dependent_fields`), and a NodePort or
    LoadBalancer Service node ports for its ports that name none (`updateNodePorts`; a ClusterIP
    Service switched to NodePort gets them here). Ports the update dropped are released with the
    stored object they leave (`service_alloc`); explicit values are judged by `allocation_errors`."""
    if old.spec.type == "ExternalName" and new.spec.type != "ExternalName":
        new, _ = allocate_cluster_ips(new, store)
    new, _ = allocate_node_ports(new, old, store)
    return new


def field_manager(request: Request) -> str:
    """The manager a write is recorded under: the request's `fieldManager`, else what upstream
    derives from the client's User-Agent (`managerOrUserAgent`): the program name of the
    control-plane components, and here the user's name for everyone else."""
    if request.field_manager:
        return request.field_manager
    user = request.user
    if user.startswith("system:node:"):
        return "kubelet"
    if user == "system:kube-scheduler":
        return "kube-scheduler"
    if user == "system:kube-controller-manager" or user.startswith("system:serviceaccount:kube-system:"):
        return "kube-controller-manager"
    return user
