"""Validation of a pod's containers (upstream `validateContainers`, `validateInitContainers`,
`validateContainerCommon` and what they call, `pkg/apis/core/validation/validation.go`): names,
images, pull policy, ports, env names, volume mounts, probes and resource requirements.

Used by `validation_pod` (`ValidatePodSpec`), which passes in the names of the pod's volumes that
validated. May import the API types (`pod`, `quantity`, `names`, `codec`) and the shared field
checks (`validation_fields`); never `validation_pod` or `validation_placement`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from kubeprop.model.api.codec import FieldPath
from kubeprop.model.api.names import is_qualified_name
from kubeprop.model.api.pod import (
    Container,
    ContainerPort,
    Probe,
    ResourceList,
    ResourceRequirements,
    VolumeMount,
)
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.validation_fields import (
    IS_NEGATIVE_MSG,
    ErrorList,
    dns1123_label,
    duplicate,
    forbidden,
    invalid,
    key,
    messages,
    not_found,
    not_supported,
    optional_nonnegative,
    port_name_messages,
    port_num_messages,
    protocol,
    required,
)

PULL_POLICIES: Final = ("Always", "IfNotPresent", "Never")
_STANDARD_CONTAINER_RESOURCES: Final = frozenset({"cpu", "memory", "ephemeral-storage"})
_STANDARD_RESOURCES: Final = _STANDARD_CONTAINER_RESOURCES | {
    "storage", "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
    "persistentvolumeclaims", "services.nodeports", "services.loadbalancers", "requests.cpu",
    "requests.memory", "requests.storage", "requests.ephemeral-storage", "limits.cpu", "limits.memory",
    "limits.ephemeral-storage",
}
_NO_INIT_PROBES: Final = "may not be set for init containers without restartPolicy=Always"


# -- volume mounts ----------------------------------------------------------------------------


def _volume_mounts(mounts: tuple[VolumeMount, ...], volumes: frozenset[str], path: FieldPath) -> ErrorList:
    """ValidateVolumeMounts: name required and an existing volume, mountPath required and unique."""
    errs: ErrorList = []
    mount_points: set[str] = set()
    for i, mnt in enumerate(mounts):
        if not mnt.name:
            errs.append(required((*path, i, "name")))
        if mnt.name not in volumes:
            errs.append(not_found((*path, i, "name"), mnt.name))
        if not mnt.mount_path:
            errs.append(required((*path, i, "mountPath")))
        if mnt.mount_path in mount_points:
            errs.append(invalid((*path, i, "mountPath"), mnt.mount_path, "must be unique"))
        mount_points.add(mnt.mount_path)
    return errs


# -- containers -------------------------------------------------------------------------------


def validate_containers(containers: tuple[Container, ...], volumes: frozenset[str], path: FieldPath) -> ErrorList:
    """validateContainers: at least one; names unique; probes; no container restartPolicy."""
    errs: ErrorList = [] if containers else [required(path)]
    names: set[str] = set()
    for i, ctr in enumerate(containers):
        errs += _container_common(ctr, volumes, (*path, i))
        if ctr.name in names:
            errs.append(duplicate((*path, i, "name"), ctr.name))
        names.add(ctr.name)
        errs += _probes(ctr, (*path, i))
        if ctr.restart_policy:
            errs.append(forbidden((*path, i, "restartPolicy"), "may not be set for non-init containers"))
    return errs


def validate_init_containers(
    containers: tuple[Container, ...], others: tuple[Container, ...], volumes: frozenset[str], path: FieldPath
) -> ErrorList:
    """validateInitContainers: names unique across init and regular containers; probes only for
    restartable (sidecar) init containers."""
    errs: ErrorList = []
    names = {c.name for c in others}
    for i, ctr in enumerate(containers):
        errs += _container_common(ctr, volumes, (*path, i))
        if ctr.restart_policy and ctr.restart_policy != "Always":
            errs.append(not_supported((*path, i, "restartPolicy"), ctr.restart_policy, ("Always",)))
        if ctr.name in names:
            errs.append(duplicate((*path, i, "name"), ctr.name))
        elif ctr.name:
            names.add(ctr.name)
        if ctr.restart_policy == "Always":
            errs += _probes(ctr, (*path, i))
            continue
        for field, probe in (("livenessProbe", ctr.liveness_probe), ("readinessProbe", ctr.readiness_probe),
                             ("startupProbe", ctr.startup_probe)):
            if probe is not None:
                errs.append(forbidden((*path, i, field), _NO_INIT_PROBES))
    return errs


def _container_common(ctr: Container, volumes: frozenset[str], path: FieldPath) -> ErrorList:
    """validateContainerCommon."""
    errs = [required((*path, "name"))] if not ctr.name else dns1123_label(ctr.name, (*path, "name"))
    if not ctr.image:
        errs.append(required((*path, "image")))
    errs += _ports(ctr.ports, (*path, "ports"))
    for i, env in enumerate(ctr.env):
        if not env.name:
            errs.append(required((*path, "env", i, "name")))
    errs += _volume_mounts(ctr.volume_mounts, volumes, (*path, "volumeMounts"))
    if not ctr.image_pull_policy:
        errs.append(required((*path, "imagePullPolicy")))
    elif ctr.image_pull_policy not in PULL_POLICIES:
        errs.append(not_supported((*path, "imagePullPolicy"), ctr.image_pull_policy, PULL_POLICIES))
    return errs + validate_resources(ctr.resources, (*path, "resources"))


def _ports(ports: tuple[ContainerPort, ...], path: FieldPath) -> ErrorList:
    """validateContainerPorts: unique valid names, ports 1..65535, protocol."""
    errs: ErrorList = []
    names: set[str] = set()
    for i, port in enumerate(ports):
        if port.name:
            msgs = port_name_messages(port.name)
            if msgs:
                errs += messages(port.name, (*path, i, "name"), msgs)
            elif port.name in names:
                errs.append(duplicate((*path, i, "name"), port.name))
            else:
                names.add(port.name)
        if port.container_port == 0:
            errs.append(required((*path, i, "containerPort")))
        else:
            errs += [invalid((*path, i, "containerPort"), port.container_port, m)
                     for m in port_num_messages(port.container_port)]
        if port.host_port:
            errs += [invalid((*path, i, "hostPort"), port.host_port, m) for m in port_num_messages(port.host_port)]
        errs += protocol(port.protocol, (*path, i, "protocol"))
    return errs


# -- probes -----------------------------------------------------------------------------------


def _probes(ctr: Container, path: FieldPath) -> ErrorList:
    """validateLivenessProbe / validateReadinessProbe / validateStartupProbe."""
    errs: ErrorList = []
    for field, probe in (("livenessProbe", ctr.liveness_probe), ("readinessProbe", ctr.readiness_probe),
                         ("startupProbe", ctr.startup_probe)):
        if probe is None:
            continue
        errs += _probe(probe, (*path, field))
        if field != "readinessProbe" and probe.success_threshold is not None and probe.success_threshold != 1:
            errs.append(invalid((*path, field, "successThreshold"), probe.success_threshold, "must be 1"))
        if field == "readinessProbe" and probe.termination_grace_period_seconds is not None:
            errs.append(invalid((*path, field, "terminationGracePeriodSeconds"),
                                probe.termination_grace_period_seconds, "must not be set for readinessProbes"))
    return errs


def _http_get(handler: object, path: FieldPath) -> ErrorList:
    """validateHTTPGetAction (`pkg/apis/core/validation/validation.go`): a path, a port number or
    name, HTTP or HTTPS. The handler is kept as data (`Probe.http_get`), so this also rejects what
    the API server's strict decoding would (`path: true` is not a string)."""
    if not isinstance(handler, Mapping):
        return [invalid(path, handler, "must be an object with path, port and scheme")]
    errs: ErrorList = []
    probe_path, port, scheme = handler.get("path"), handler.get("port"), handler.get("scheme", "HTTP")
    if not isinstance(probe_path, str) or not probe_path:
        errs.append(invalid((*path, "path"), probe_path, "must be a non-empty string"))
    if isinstance(port, bool) or not ((isinstance(port, int) and 1 <= port <= 65535)
                                      or (isinstance(port, str) and port)):
        errs.append(invalid((*path, "port"), port, "must be a port number (1-65535) or name"))
    if scheme not in ("HTTP", "HTTPS"):
        errs.append(not_supported((*path, "scheme"), scheme, ("HTTP", "HTTPS")))
    return errs


def _probe(probe: Probe, path: FieldPath) -> ErrorList:
    """validateProbe: exactly one handler, non-negative timings, positive grace period."""
    errs: ErrorList = []
    count = 0
    for name, handler in (("exec", probe.exec_), ("httpGet", probe.http_get), ("tcpSocket", probe.tcp_socket),
                          ("grpc", probe.grpc)):
        if handler is None:
            continue
        if count:
            errs.append(forbidden((*path, name), "may not specify more than 1 handler type"))
        count += 1
        if name == "httpGet":
            errs += _http_get(handler, (*path, name))
    if not count:
        errs.append(required(path, "must specify a handler type"))
    for name, value in (("initialDelaySeconds", probe.initial_delay_seconds), ("timeoutSeconds", probe.timeout_seconds),
                        ("periodSeconds", probe.period_seconds), ("successThreshold", probe.success_threshold),
                        ("failureThreshold", probe.failure_threshold)):
        errs += optional_nonnegative(value, (*path, name))
    grace = probe.termination_grace_period_seconds
    if grace is not None and grace <= 0:
        errs.append(invalid((*path, "terminationGracePeriodSeconds"), grace, "must be greater than 0"))
    return errs


# -- resources --------------------------------------------------------------------------------


def _is_native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _overcommit_allowed(name: str) -> bool:
    """helper.IsOvercommitAllowed: native and not hugepages."""
    return _is_native(name) and not name.startswith("hugepages-")


def _container_resource_name(name: str, path: FieldPath) -> ErrorList:
    """validateContainerResourceName (after validateResourceName)."""
    errs = messages(name, path, is_qualified_name(name))
    if errs:
        return errs
    if "/" not in name:
        standard = name in _STANDARD_RESOURCES or name.startswith("hugepages-")
        if not standard:
            errs.append(invalid(path, name, "must be a standard resource type or fully qualified"))
        if name not in _STANDARD_CONTAINER_RESOURCES and not name.startswith("hugepages-"):
            errs.append(invalid(path, name, "must be a standard resource for containers"))
    elif not _is_native(name) and (name.startswith("requests.") or is_qualified_name("requests." + name)):
        errs.append(invalid(path, name, "doesn't follow extended resource name standard"))
    return errs


def validate_quantity_value(name: str, value: Quantity, path: FieldPath) -> ErrorList:
    """ValidateResourceQuantityValue: non-negative; extended resources are whole numbers."""
    errs = [invalid(path, str(value), IS_NEGATIVE_MSG)] if value.sign() < 0 else []
    if not _is_native(name) and value.milli_value() % 1000:
        errs.append(invalid(path, value, "must be an integer"))
    return errs


def validate_resources(resources: ResourceRequirements, path: FieldPath) -> ErrorList:
    """ValidateContainerResourceRequirements: names, quantities, requests vs limits."""
    lim_path, req_path = (*path, "limits"), (*path, "requests")
    errs: ErrorList = []
    for name, quantity in resources.limits.items():
        errs += _container_resource_name(name, (*lim_path, key(name)))
        errs += validate_quantity_value(name, quantity, (*lim_path, key(name)))
    for name, quantity in resources.requests.items():
        errs += _container_resource_name(name, (*req_path, key(name)))
        errs += validate_quantity_value(name, quantity, (*req_path, key(name)))
        errs += _request_vs_limit(name, quantity, resources.limits, lim_path, req_path)
    return errs


def _request_vs_limit(name: str, request: Quantity, limits: ResourceList, lim_path: FieldPath,
                      req_path: FieldPath) -> ErrorList:
    limit = limits.get(name)
    if limit is None:
        return [] if _overcommit_allowed(name) else [
            required(lim_path, "Limit must be set for non overcommitable resources")]
    if request != limit and not _overcommit_allowed(name):
        return [invalid(req_path, str(request), f"must be equal to {name} limit of {limit}")]
    if request > limit:
        return [invalid(req_path, str(request), f"must be less than or equal to {name} limit of {limit}")]
    return []

