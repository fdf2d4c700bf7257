"""Validation of pod specs and pod templates (upstream `ValidatePodSpec`, `ValidatePodTemplateSpec`).

Follows `pkg/apis/core/validation/validation.go`: volumes, containers and init containers
(names, images, pull policy, ports, env names, volume mounts, resources, probes), the
host-network ports (validatePodHostNetworkDeps), restart policy, node selector, affinity,
topology spread constraints, names of service account / node / priority class,
hostname/subdomain, tolerations and overhead, in upstream's order. Only fields
the model keeps are checked; see `kubeprop.model.api.validation` for what is left out.

The containers' rules live in `validation_containers`, where a pod may run (tolerations, affinity,
topology spread) in `validation_placement`; this module holds the spec's own fields and volumes and
calls them in upstream's order. May import both and the shared field checks; neither imports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from kubeprop.model.api.codec import FieldPath
from kubeprop.model.api.pod import Container, PodSpec, PodTemplateSpec, Volume
from kubeprop.model.api.validation_annotations import validate_pod_specific_annotations
from kubeprop.model.api.validation_containers import (
    validate_containers,
    validate_init_containers,
    validate_quantity_value,
)
from kubeprop.model.api.validation_fields import (
    ErrorList,
    dns1123_label,
    dns1123_subdomain,
    duplicate,
    forbidden,
    invalid,
    key,
    not_supported,
    required,
    validate_annotations,
    validate_labels,
)
from kubeprop.model.api.validation_gates import validate_readiness_gates, validate_scheduling_gates
from kubeprop.model.api.validation_placement import validate_affinity, validate_tolerations, validate_topology_spread

MAX_INT32: Final = 2**31 - 1
"""`math.MaxInt32`: the upper bound of `activeDeadlineSeconds` (an int64 field)."""
RESTART_POLICIES: Final = ("Always", "OnFailure", "Never")
POD_OS_NAMES: Final = ("linux", "windows")
"""`validOS` (`pkg/apis/core/validation/validation.go`): core.Linux, core.Windows."""


# -- template and spec ------------------------------------------------------------------------


def validate_pod_template(template: PodTemplateSpec, path: FieldPath) -> ErrorList:
    """ValidatePodTemplateSpec (labels/annotations are checked at `<path>.labels`, as upstream)."""
    errs = validate_labels(template.metadata.labels, (*path, "labels"))
    errs += validate_annotations(template.metadata.annotations, (*path, "annotations"))
    errs += validate_pod_specific_annotations(template.metadata.annotations, (*path, "annotations"))
    return errs + validate_pod_spec(template.spec, (*path, "spec"), resource_is_pod=False)


def validate_pod_spec(spec: PodSpec, path: FieldPath, *, resource_is_pod: bool = True) -> ErrorList:
    """ValidatePodSpec for the fields the model keeps; `resource_is_pod` is upstream's
    `opts.ResourceIsPod` (set by the pod strategy, not for a template)."""
    volume_errs, volumes = _volumes(spec.volumes, (*path, "volumes"))
    errs = volume_errs
    errs += validate_containers(spec.containers, volumes, (*path, "containers"))
    errs += validate_init_containers(spec.init_containers, spec.containers, volumes, (*path, "initContainers"))
    errs += _host_network_deps(spec, path, resource_is_pod)
    errs += _restart_policy(spec.restart_policy, (*path, "restartPolicy"))
    errs += validate_labels(spec.node_selector, (*path, "nodeSelector"))
    if spec.affinity is not None:
        errs += validate_affinity(spec.affinity, (*path, "affinity"))
    errs += validate_scheduling_gates(spec.scheduling_gates, (*path, "schedulingGates"))
    errs += validate_readiness_gates(spec.readiness_gates, (*path, "readinessGates"))
    errs += validate_topology_spread(spec.topology_spread_constraints, (*path, "topologySpreadConstraints"))
    return errs + _pod_spec_names(spec, path)


def _host_network_deps(spec: PodSpec, path: FieldPath, resource_is_pod: bool) -> ErrorList:
    """validatePodHostNetworkDeps: under `hostNetwork`, each (regular) container's hostPort equals
    its containerPort — in a Pod always (defaulting filled an unset one in), in a template unless
    unset (0: "it will be defaulted when the Pod is ultimately created")."""
    if not spec.host_network:
        return []
    errs: ErrorList = []
    for i, container in enumerate(spec.containers):
        for j, port in enumerate(container.ports):
            host_port = port.host_port or 0
            if (resource_is_pod or host_port) and host_port != port.container_port:
                errs.append(invalid((*path, "containers", i, "ports", j, "hostPort"), host_port,
                                    "must match `containerPort` when `hostNetwork` is true"))
    return errs


def _pod_spec_names(spec: PodSpec, path: FieldPath) -> ErrorList:
    """The tail of ValidatePodSpec: referenced names, activeDeadlineSeconds (1 to MaxInt32), hostname,
    tolerations, priority, overhead."""
    errs: ErrorList = []
    if spec.service_account_name:
        errs += dns1123_subdomain(spec.service_account_name, (*path, "serviceAccountName"))
    if spec.node_name:
        errs += dns1123_subdomain(spec.node_name, (*path, "nodeName"))
    deadline = spec.active_deadline_seconds
    if deadline is not None and not 1 <= deadline <= MAX_INT32:
        errs.append(invalid((*path, "activeDeadlineSeconds"), deadline,
                            f"must be between 1 and {MAX_INT32}, inclusive"))
    if spec.hostname:
        errs += dns1123_label(spec.hostname, (*path, "hostname"))
    if spec.subdomain:
        errs += dns1123_label(spec.subdomain, (*path, "subdomain"))
    errs += validate_tolerations(spec.tolerations, (*path, "tolerations"))
    if spec.priority_class_name:
        errs += dns1123_subdomain(spec.priority_class_name, (*path, "priorityClassName"))
    for name, quantity in spec.overhead.items():
        errs += validate_quantity_value(name, quantity, (*path, "overhead", key(name)))
    if spec.preemption_policy and spec.preemption_policy not in ("Never", "PreemptLowerPriority"):
        errs.append(not_supported((*path, "preemptionPolicy"), spec.preemption_policy,
                                  ("Never", "PreemptLowerPriority")))
    return errs + _pod_os(spec, (*path, "os"))


def _pod_os(spec: PodSpec, path: FieldPath) -> ErrorList:
    """ValidatePodSpec's validateOS: a set `os` names `linux` or `windows` (the error is on `spec.os`
    itself, as upstream). validateLinux/validateWindows check securityContext fields, which the model drops."""
    if spec.os is None:
        return []
    if not spec.os.name:
        return [required((*path, "name"), "cannot be empty")]
    if spec.os.name not in POD_OS_NAMES:
        return [not_supported(path, spec.os.name, POD_OS_NAMES)]
    return []


def validate_containers_only_for_pod(containers: Iterable[Container], path: FieldPath) -> ErrorList:
    """validateContainersOnlyForPod: a pod's images have no surrounding whitespace."""
    return [
        invalid((*path, i, "image"), c.image, "must not have leading or trailing whitespace")
        for i, c in enumerate(containers)
        if c.image != c.image.strip()
    ]


def _restart_policy(policy: str, path: FieldPath) -> ErrorList:
    if not policy:
        return [required(path)]
    return [] if policy in RESTART_POLICIES else [not_supported(path, policy, RESTART_POLICIES)]


# -- volumes ----------------------------------------------------------------------------------


def _volumes(volumes: tuple[Volume, ...], path: FieldPath) -> tuple[ErrorList, frozenset[str]]:
    """ValidateVolumes: the errors and the names of the volumes that validated cleanly."""
    errs: ErrorList = []
    valid: set[str] = set()
    for i, vol in enumerate(volumes):
        name_path = (*path, i, "name")
        el = _volume_source(vol, (*path, i))
        el += [required(name_path)] if not vol.name else dns1123_label(vol.name, name_path)
        if vol.name in valid:
            el.append(duplicate(name_path, vol.name))
        if el:
            errs += el
        else:
            valid.add(vol.name)
    return errs, frozenset(valid)


def _volume_source(vol: Volume, path: FieldPath) -> ErrorList:
    """validateVolumeSource for the modelled sources (upstream's order); a volume whose source
    the model does not keep is not reported as sourceless."""
    sources = (
        ("hostPath", vol.host_path), ("emptyDir", vol.empty_dir), ("secret", vol.secret),
        ("persistentVolumeClaim", vol.persistent_volume_claim), ("configMap", vol.config_map),
        ("projected", vol.projected),
    )
    errs: ErrorList = []
    count = 0
    for name, source in sources:
        if source is None:
            continue
        if count:
            errs.append(forbidden((*path, name), "may not specify more than 1 volume type"))
            continue
        count += 1
        pvc = vol.persistent_volume_claim
        if name == "persistentVolumeClaim" and pvc is not None and not pvc.claim_name:
            errs.append(required((*path, name, "claimName")))
    return errs

