"""Validation of the non-workload kinds: Service, Endpoints, EndpointSlice, PersistentVolume(Claim),
ConfigMap, Secret, Node and Namespace finalizers.

Sources: `pkg/apis/core/validation/validation.go` (ValidateService, validateEndpointSubsets,
ValidatePersistentVolumeSpec, ValidatePersistentVolumeClaimSpec, ValidateConfigMap,
ValidateSecret, validateNodeTaints, validateFinalizerName) and
`pkg/apis/discovery/validation/validation.go` (ValidateEndpointSlice).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Final

from kubeprop.model.api.codec import FieldPath
from kubeprop.model.api.core import (
    ConfigMap,
    EndpointAddress,
    Endpoints,
    EndpointSlice,
    PersistentVolumeClaimSpec,
    PersistentVolumeSpec,
    Secret,
    Service,
    Taint,
)
from kubeprop.model.api.meta import FOREGROUND_FINALIZER, ORPHAN_FINALIZER
from kubeprop.model.api.names import is_dns1123_subdomain, is_qualified_name, is_valid_label_value
from kubeprop.model.api.validation_fields import (
    INVALID,
    IP_MSG,
    IS_NOT_POSITIVE_MSG,
    ErrorList,
    FieldError,
    RawValue,
    config_key_messages,
    dns1123_label,
    dns1123_subdomain,
    duplicate,
    forbidden,
    invalid,
    ip_address,
    key,
    label_name,
    label_selector,
    messages,
    non_special_ip,
    not_supported,
    parse_ip,
    port_num_messages,
    port_num_or_name,
    protocol,
    required,
    too_long,
    too_many,
    validate_labels,
)
from kubeprop.model.api.validation_placement import TAINT_EFFECTS
from kubeprop.model.evolve import evolve

SERVICE_TYPES: Final = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
ACCESS_MODES: Final = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
MAX_SECRET_SIZE: Final = 1 << 20
STANDARD_FINALIZERS: Final = frozenset({"kubernetes", ORPHAN_FINALIZER, FOREGROUND_FINALIZER})
"""`standardFinalizers` (`IsStandardFinalizerName`, pkg/apis/core/helper/helpers.go): the finalizer
names that need no domain prefix, on any object and in a Namespace's spec."""
_KUBELET_PORT: Final = 10250


# -- Service ----------------------------------------------------------------------------------


def validate_service_spec(svc: Service) -> ErrorList:
    """ValidateService without the metadata part."""
    spec, path = svc.spec, ("spec",)
    headless = spec.cluster_ip == "None"
    errs: ErrorList = []
    if not spec.ports and not headless and spec.type != "ExternalName":
        errs.append(required((*path, "ports")))
    errs += _service_type_rules(svc)
    names: set[str] = set()
    for i, port in enumerate(spec.ports):
        p = (*path, "ports", i)
        errs += _port_name(port.name, len(spec.ports), (*p, "name"))
        if port.name:
            errs += [duplicate((*p, "name"), port.name)] if port.name in names else []
            names.add(port.name)
        errs += [invalid((*p, "port"), port.port, m) for m in port_num_messages(port.port)]
        errs += protocol(port.protocol, (*p, "protocol"))
        if port.target_port is not None:
            errs += port_num_or_name(port.target_port, (*p, "targetPort"))
    if spec.selector is not None:
        errs += validate_labels(spec.selector, (*path, "selector"))
    errs += _service_enums(svc)
    errs += _service_port_duplicates(svc)
    return errs + _cluster_ips(svc)


def _port_name(name: str, ports: int, path: FieldPath) -> ErrorList:
    """A Service's or an Endpoints subset's port name (validateServicePort, validateEndpointPort):
    required when there are several ports, and a DNS label when given."""
    if ports > 1 and not name:
        return [required(path)]
    return dns1123_label(name, path) if name else []


def _service_type_rules(svc: Service) -> ErrorList:
    spec, path = svc.spec, ("spec",)
    errs: ErrorList = []
    if spec.type in ("LoadBalancer", "NodePort") and spec.cluster_ip == "None":
        errs.append(invalid((*path, "clusterIPs", 0), "None", f"may not be set to 'None' for {spec.type} services"))
    if spec.type == "LoadBalancer":
        errs += [invalid((*path, "ports", i), p.port,
                         f"may not expose port {_KUBELET_PORT} externally since it is used by kubelet")
                 for i, p in enumerate(spec.ports) if p.port == _KUBELET_PORT]
    if spec.type == "ExternalName":
        if spec.cluster_ips:
            errs.append(forbidden((*path, "clusterIPs"), "may not be set for ExternalName services"))
        cname = spec.external_name.removesuffix(".")
        errs += dns1123_subdomain(cname, (*path, "externalName")) if cname else [required((*path, "externalName"))]
    return errs


def _service_enums(svc: Service) -> ErrorList:
    spec, path = svc.spec, ("spec",)
    errs: ErrorList = []
    if not spec.session_affinity:
        errs.append(required((*path, "sessionAffinity")))
    elif spec.session_affinity not in ("ClientIP", "None"):
        errs.append(not_supported((*path, "sessionAffinity"), spec.session_affinity, ("ClientIP", "None")))
    if not spec.type:
        errs.append(required((*path, "type")))
    elif spec.type not in SERVICE_TYPES:
        errs.append(not_supported((*path, "type"), spec.type, SERVICE_TYPES))
    if spec.type == "ClusterIP":
        errs += [forbidden((*path, "ports", i, "nodePort"), "may not be used when `type` is 'ClusterIP'")
                 for i, p in enumerate(spec.ports) if p.node_port]
    return errs


def _service_port_duplicates(svc: Service) -> ErrorList:
    """Duplicate (protocol, nodePort) and (protocol, port) pairs."""
    errs: ErrorList = []
    node_ports: set[tuple[str, int]] = set()
    ports: set[tuple[str, int]] = set()
    for i, p in enumerate(svc.spec.ports):
        if p.node_port:
            if (p.protocol, p.node_port) in node_ports:
                errs.append(duplicate(("spec", "ports", i, "nodePort"), p.node_port))
            node_ports.add((p.protocol, p.node_port))
    for i, p in enumerate(svc.spec.ports):
        if (p.protocol, p.port) in ports:
            errs.append(duplicate(("spec", "ports", i), RawValue(f'{{"port":{p.port},"protocol":"{p.protocol}"}}')))
        ports.add((p.protocol, p.port))
    return errs


def _cluster_ips(svc: Service) -> ErrorList:
    """ValidateServiceClusterIPsRelatedFields, in short: "None" alone or valid IPs; clusterIPs[0] = clusterIP."""
    spec = svc.spec
    if spec.type == "ExternalName":
        return []
    ips = spec.cluster_ips or ((spec.cluster_ip,) if spec.cluster_ip else ())
    errs: ErrorList = []
    if spec.cluster_ip and spec.cluster_ips and spec.cluster_ips[0] != spec.cluster_ip:
        errs.append(invalid(("spec", "clusterIPs"), spec.cluster_ips, "first value must match `clusterIP`"))
    for i, ip in enumerate(ips):
        if ip == "None" and i == 0 and len(ips) == 1:
            continue
        if parse_ip(ip) is None:
            errs.append(invalid(("spec", "clusterIPs", i), ip, IP_MSG))
    return errs


# -- Endpoints and EndpointSlice --------------------------------------------------------------


def validate_endpoints(obj: Endpoints) -> ErrorList:
    """validateEndpointSubsets."""
    errs: ErrorList = []
    for i, subset in enumerate(obj.subsets):
        p = ("subsets", i)
        if not subset.addresses and not subset.not_ready_addresses:
            errs.append(required(p, "must specify `addresses` or `notReadyAddresses`"))
        for field, addresses in (("addresses", subset.addresses), ("notReadyAddresses", subset.not_ready_addresses)):
            for j, address in enumerate(addresses):
                errs += _endpoint_address(address, (*p, field, j))
        for j, port in enumerate(subset.ports):
            pp = (*p, "ports", j)
            errs += _port_name(port.name, len(subset.ports), (*pp, "name"))
            errs += [invalid((*pp, "port"), port.port, m) for m in port_num_messages(port.port)]
            errs += protocol(port.protocol, (*pp, "protocol"))
    return errs


def _endpoint_address(address: EndpointAddress, path: FieldPath) -> ErrorList:
    errs = ip_address(address.ip, (*path, "ip"))
    if address.hostname:
        errs += dns1123_label(address.hostname, (*path, "hostname"))
    if address.node_name is not None:
        errs += dns1123_subdomain(address.node_name, (*path, "nodeName"))
    return errs + non_special_ip(address.ip, (*path, "ip"))


_ADDRESS_TYPES: Final = ("FQDN", "IPv4", "IPv6")


def validate_endpoint_slice(obj: EndpointSlice) -> ErrorList:
    """ValidateEndpointSlice: addressType, at most 1000 endpoints of 1..100 addresses, ports."""
    errs: ErrorList = []
    if not obj.address_type:
        errs.append(required(("addressType",)))
    elif obj.address_type not in _ADDRESS_TYPES:
        errs.append(not_supported(("addressType",), obj.address_type, _ADDRESS_TYPES))
    if len(obj.endpoints) > 1000:
        errs.append(too_many(("endpoints",), len(obj.endpoints), 1000))
    else:
        for i, endpoint in enumerate(obj.endpoints):
            p = ("endpoints", i, "addresses")
            if not endpoint.addresses:
                errs.append(required(p, "must contain at least 1 address"))
            elif len(endpoint.addresses) > 100:
                errs.append(too_many(p, len(endpoint.addresses), 100))
            for j, address in enumerate(endpoint.addresses):
                errs += _slice_address(obj.address_type, address, (*p, j))
            if endpoint.node_name is not None:
                errs += dns1123_subdomain(endpoint.node_name, ("endpoints", i, "nodeName"))
            if endpoint.hostname is not None:
                errs += dns1123_label(endpoint.hostname, ("endpoints", i, "hostname"))
    return errs + _slice_ports(obj)


def _slice_address(address_type: str, address: str, path: FieldPath) -> ErrorList:
    if address_type in ("IPv4", "IPv6"):
        ip = parse_ip(address)
        if ip is None or f"IPv{ip.version}" != address_type:
            return [invalid(path, address, f"must be a valid {address_type} address")]
        return non_special_ip(address, path)
    if address_type != "FQDN":
        return []
    if not address:
        return [required(path)]
    name = address.removesuffix(".")
    msgs = is_dns1123_subdomain(name)
    if msgs:
        return [invalid(path, name, ",".join(msgs))]
    if len(name.split(".")) < 2:
        return [invalid(path, name, "should be a domain with at least two segments separated by dots")]
    return []


def _slice_ports(obj: EndpointSlice) -> ErrorList:
    errs: ErrorList = []
    names: set[str] = set()
    for i, port in enumerate(obj.ports):
        p = ("ports", i)
        name = port.name or ""
        if name:
            errs += dns1123_label(name, (*p, "name"))
        errs += [duplicate((*p, "name"), name)] if name in names else []
        names.add(name)
        if port.protocol is None:
            errs.append(required((*p, "protocol")))
        else:
            errs += protocol(port.protocol, (*p, "protocol"))
    return errs


# -- PersistentVolume and PersistentVolumeClaim -----------------------------------------------


def _access_modes(modes: tuple[str, ...], path: FieldPath, detail: str) -> ErrorList:
    errs = [] if modes else [required(path, detail)]
    errs += [not_supported(path, mode, ACCESS_MODES) for mode in modes if mode not in ACCESS_MODES]
    if "ReadWriteOncePod" in modes and any(m != "ReadWriteOncePod" and m in ACCESS_MODES for m in modes):
        errs.append(forbidden(path, "may not use ReadWriteOncePod with other access modes"))
    return errs


def _volume_mode(mode: str, path: FieldPath) -> ErrorList:
    return [] if mode in ("", "Block", "Filesystem") else [not_supported(path, mode, ("Block", "Filesystem"))]


def validate_pv_spec(spec: PersistentVolumeSpec, path: FieldPath) -> ErrorList:
    """ValidatePersistentVolumeSpec (not the per-source checks)."""
    errs = _access_modes(spec.access_modes, (*path, "accessModes"), "")
    if not spec.capacity:
        errs.append(required((*path, "capacity")))
    if "storage" not in spec.capacity or len(spec.capacity) > 1:
        errs.append(not_supported((*path, "capacity"), spec.capacity, ("storage",)))
    for name, quantity in spec.capacity.items():
        if quantity.sign() <= 0:
            errs.append(invalid((*path, "capacity", key(name)), str(quantity), IS_NOT_POSITIVE_MSG))
    policy = spec.persistent_volume_reclaim_policy
    if policy and policy not in ("Delete", "Recycle", "Retain"):
        errs.append(not_supported((*path, "persistentVolumeReclaimPolicy"), policy, ("Delete", "Recycle", "Retain")))
    if spec.storage_class_name:
        errs += dns1123_subdomain(spec.storage_class_name, (*path, "storageClassName"))
    return errs + _volume_mode(spec.volume_mode, (*path, "volumeMode"))


def validate_pvc_spec(spec: PersistentVolumeClaimSpec, path: FieldPath) -> ErrorList:
    """ValidatePersistentVolumeClaimSpec."""
    errs = _access_modes(spec.access_modes, (*path, "accessModes"), "at least 1 access mode is required")
    errs += label_selector(spec.selector, (*path, "selector"))
    storage_path = (*path, "resources", key("storage"))
    storage = spec.resources.requests.get("storage")
    if storage is None:
        errs.append(required(storage_path))
    elif storage.sign() <= 0:
        errs.append(invalid(storage_path, str(storage), IS_NOT_POSITIVE_MSG))
    if spec.storage_class_name:
        errs += dns1123_subdomain(spec.storage_class_name, (*path, "storageClassName"))
    return errs + _volume_mode(spec.volume_mode, (*path, "volumeMode"))


# -- ConfigMap and Secret ---------------------------------------------------------------------


def _decoded(value: str) -> bytes | str:
    """Standard base64 (as Go's json decodes []byte), or the upstream decode error."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        bad = next((i for i, ch in enumerate(value) if not (ch.isascii() and (ch.isalnum() or ch in "+/="))), None)
        return f"illegal base64 data at input byte {len(value) // 4 * 4 if bad is None else bad}"


def _base64_map(entries: Mapping[str, str], field: str) -> tuple[ErrorList, int]:
    """A map of base64 values (a ConfigMap's binaryData, a Secret's data): each key a valid
    config key, each value decodable; and the decoded size (an undecodable value counts as is)."""
    errs: ErrorList = []
    size = 0
    for name, value in entries.items():
        errs += messages(name, (field, key(name)), config_key_messages(name))
        decoded = _decoded(value)
        if isinstance(decoded, str):
            errs.append(FieldError((field, key(name)), INVALID, decoded))
        size += len(decoded) if isinstance(decoded, bytes) else len(value)
    return errs, size


def validate_config_map(obj: ConfigMap) -> ErrorList:
    """ValidateConfigMap: keys, no key in both data and binaryData, total size <= 1 MiB."""
    errs: ErrorList = []
    size = 0
    for name, value in obj.data.items():
        errs += messages(name, ("data", key(name)), config_key_messages(name))
        if name in obj.binary_data:
            errs.append(invalid(("data", key(name)), name, "duplicate of key present in binaryData"))
        size += len(value.encode())
    binary_errs, binary_size = _base64_map(obj.binary_data, "binaryData")
    errs += binary_errs
    size += binary_size
    if size > MAX_SECRET_SIZE:
        errs.append(too_long((), MAX_SECRET_SIZE))
    return errs


def validate_secret(obj: Secret) -> ErrorList:
    """ValidateSecret: keys, base64 data, total size <= 1 MiB, per-type required keys."""
    errs, size = _base64_map(obj.data, "data")
    for name, value in obj.string_data.items():
        errs += messages(name, ("stringData", key(name)), config_key_messages(name))
        size += len(value.encode())
    if size > MAX_SECRET_SIZE:
        errs.append(too_long(("data",), MAX_SECRET_SIZE))
    if obj.type == "kubernetes.io/service-account-token":
        if not obj.metadata.annotations.get("kubernetes.io/service-account.name"):
            errs.append(required(("metadata", "annotations", key("kubernetes.io/service-account.name"))))
    elif obj.type == "kubernetes.io/tls":
        errs += [required(("data", key(k))) for k in ("tls.crt", "tls.key") if k not in obj.data]
    return errs


# -- Node and Namespace -----------------------------------------------------------------------


def validate_taints(taints: tuple[Taint, ...], path: FieldPath) -> ErrorList:
    """validateNodeTaints: key, value, effect, unique (key, effect)."""
    errs: ErrorList = []
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(taints):
        p = (*path, i)
        errs += label_name(taint.key, (*p, "key"))
        value_msgs = is_valid_label_value(taint.value)
        if value_msgs:
            errs.append(invalid((*p, "value"), taint.value, ";".join(value_msgs)))
        if not taint.effect:
            errs.append(required((*p, "effect")))
        elif taint.effect not in TAINT_EFFECTS:
            errs.append(not_supported((*p, "effect"), taint.effect, TAINT_EFFECTS))
        if (taint.key, taint.effect) in seen:
            errs.append(evolve(duplicate(p, taint), detail="taints must be unique by key and effect pair"))
            continue
        seen.add((taint.key, taint.effect))
    return errs


def namespace_finalizer_messages(finalizers: tuple[str, ...]) -> Mapping[int, list[str]]:
    """validateFinalizerName: qualified names, and a name without "/" must be a standard one."""
    out: dict[int, list[str]] = {}
    for i, name in enumerate(finalizers):
        msgs = is_qualified_name(name)
        if "/" not in name and name not in STANDARD_FINALIZERS:
            msgs.append("name is neither a standard finalizer name nor is it fully qualified")
        if msgs:
            out[i] = msgs
    return out
