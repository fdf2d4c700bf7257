"""Validation of pod specs and pod templates (upstream `ValidatePodSpec`, `ValidatePodTemplateSpec`).

Follows `pkg/apis/core/validation/validation.go`: volumes, containers and init containers
(names, images, pull policy, ports, env names, volume mounts, resources, probes), restart
policy, node selector, affinity, topology spread constraints, names of service account / node /
priority class, hostname/subdomain, tolerations and overhead, in upstream's order. Only fields
the model keeps are checked; see `kubeprop.model.api.validation` for what is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from kubeprop.model.api.codec import FieldPath
from kubeprop.model.api.names import is_dns1123_label, is_qualified_name, is_valid_label_value
from kubeprop.model.api.pod import (
    Affinity,
    Container,
    ContainerPort,
    NodeAffinity,
    PodAffinity,
    PodAffinityTerm,
    PodSpec,
    PodTemplateSpec,
    Probe,
    ResourceList,
    ResourceRequirements,
    Toleration,
    TopologySpreadConstraint,
    Volume,
    VolumeMount,
)
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import NodeSelector, validate_node_selector
from kubeprop.model.api.validation_annotations import validate_pod_specific_annotations
from kubeprop.model.api.validation_fields import (
    IS_NEGATIVE_MSG,
    IS_NOT_POSITIVE_MSG,
    ErrorList,
    dns1123_label,
    dns1123_subdomain,
    duplicate,
    forbidden,
    from_problem,
    invalid,
    key,
    label_name,
    label_selector,
    messages,
    not_found,
    not_supported,
    optional_nonnegative,
    port_name_messages,
    port_num_messages,
    protocol,
    required,
    validate_annotations,
    validate_labels,
)
from kubeprop.model.api.validation_gates import validate_readiness_gates, validate_scheduling_gates

MAX_INT32: Final = 2**31 - 1
"""`math.MaxInt32`: the upper bound of `activeDeadlineSeconds` (an int64 field)."""
RESTART_POLICIES: Final = ("Always", "OnFailure", "Never")
POD_OS_NAMES: Final = ("linux", "windows")
"""`validOS` (`pkg/apis/core/validation/validation.go`): core.Linux, core.Windows."""
PULL_POLICIES: Final = ("Always", "IfNotPresent", "Never")
TAINT_EFFECTS: Final = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_STANDARD_CONTAINER_RESOURCES: Final = frozenset({"cpu", "memory", "ephemeral-storage"})
_STANDARD_RESOURCES: Final = _STANDARD_CONTAINER_RESOURCES | {
    "storage", "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
    "persistentvolumeclaims", "services.nodeports", "services.loadbalancers", "requests.cpu",
    "requests.memory", "requests.storage", "requests.ephemeral-storage", "limits.cpu", "limits.memory",
    "limits.ephemeral-storage",
}
_EMPTY_KEY_MSG: Final = 'operator must be Exists when `key` is empty, which means "match all values and all keys"'
_SECONDS_MSG: Final = "effect must be 'NoExecute' when `tolerationSeconds` is set"
_NO_INIT_PROBES: Final = "may not be set for init containers without restartPolicy=Always"


# -- template and spec ------------------------------------------------------------------------


def validate_pod_template(template: PodTemplateSpec, path: FieldPath) -> ErrorList:
    """ValidatePodTemplateSpec (labels/annotations are checked at `<path>.labels`, as upstream)."""
    errs = validate_labels(template.metadata.labels, (*path, "labels"))
    errs += validate_annotations(template.metadata.annotations, (*path, "annotations"))
    errs += validate_pod_specific_annotations(template.metadata.annotations, (*path, "annotations"))
    return errs + validate_pod_spec(template.spec, (*path, "spec"))


def validate_pod_spec(spec: PodSpec, path: FieldPath) -> ErrorList:
    """ValidatePodSpec for the fields the model keeps."""
    volume_errs, volumes = _volumes(spec.volumes, (*path, "volumes"))
    errs = volume_errs
    errs += _containers(spec.containers, volumes, (*path, "containers"))
    errs += _init_containers(spec.init_containers, spec.containers, volumes, (*path, "initContainers"))
    errs += _restart_policy(spec.restart_policy, (*path, "restartPolicy"))
    errs += validate_labels(spec.node_selector, (*path, "nodeSelector"))
    if spec.affinity is not None:
        errs += _affinity(spec.affinity, (*path, "affinity"))
    errs += validate_scheduling_gates(spec.scheduling_gates, (*path, "schedulingGates"))
    errs += validate_readiness_gates(spec.readiness_gates, (*path, "readinessGates"))
    errs += _topology_spread(spec.topology_spread_constraints, (*path, "topologySpreadConstraints"))
    return errs + _pod_spec_names(spec, path)


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
        errs += _quantity_value(name, quantity, (*path, "overhead", key(name)))
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


def _containers(containers: tuple[Container, ...], volumes: frozenset[str], path: FieldPath) -> ErrorList:
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


def _init_containers(
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


def _quantity_value(name: str, value: Quantity, path: FieldPath) -> ErrorList:
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
        errs += _quantity_value(name, quantity, (*lim_path, key(name)))
    for name, quantity in resources.requests.items():
        errs += _container_resource_name(name, (*req_path, key(name)))
        errs += _quantity_value(name, quantity, (*req_path, key(name)))
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


# -- scheduling constraints -------------------------------------------------------------------


def validate_tolerations(tolerations: tuple[Toleration, ...], path: FieldPath) -> ErrorList:
    """ValidateTolerations."""
    errs: ErrorList = []
    for i, tol in enumerate(tolerations):
        p = (*path, i)
        if tol.key:
            errs += label_name(tol.key, (*p, "key"))
        if not tol.key and tol.operator != "Exists":
            errs.append(invalid((*p, "operator"), tol.operator, _EMPTY_KEY_MSG))
        if tol.toleration_seconds is not None and tol.effect != "NoExecute":
            errs.append(invalid((*p, "effect"), tol.effect, _SECONDS_MSG))
        if tol.operator in ("Equal", ""):
            value_errs = is_valid_label_value(tol.value)
            if value_errs:
                errs.append(invalid((*p, "operator"), tol.value, ";".join(value_errs)))
        elif tol.operator == "Exists":
            if tol.value:
                errs.append(invalid((*p, "operator"), tol, "value must be empty when `operator` is 'Exists'"))
        else:
            errs.append(not_supported((*p, "operator"), tol.operator, ("Equal", "Exists")))
        if tol.effect and tol.effect not in TAINT_EFFECTS:
            errs.append(not_supported((*p, "effect"), tol.effect, TAINT_EFFECTS))
    return errs


def _topology_spread(constraints: tuple[TopologySpreadConstraint, ...], path: FieldPath) -> ErrorList:
    """validateTopologySpreadConstraints."""
    errs: ErrorList = []
    for i, c in enumerate(constraints):
        p = (*path, i)
        if c.max_skew <= 0:
            errs.append(invalid((*p, "maxSkew"), c.max_skew, IS_NOT_POSITIVE_MSG))
        if not c.topology_key:
            errs.append(required((*p, "topologyKey"), "can not be empty"))
        if c.when_unsatisfiable not in ("DoNotSchedule", "ScheduleAnyway"):
            errs.append(not_supported((*p, "whenUnsatisfiable"), c.when_unsatisfiable,
                                      ("DoNotSchedule", "ScheduleAnyway")))
        if any((o.topology_key, o.when_unsatisfiable) == (c.topology_key, c.when_unsatisfiable)
               for o in constraints[i + 1:]):
            errs.append(duplicate((*p, "{topologyKey, whenUnsatisfiable}"),
                                  f"{{{c.topology_key}, {c.when_unsatisfiable}}}"))
        errs += _min_domains(c, (*p, "minDomains"))
        for field, policy in (("nodeAffinityPolicy", c.node_affinity_policy),
                              ("nodeTaintsPolicy", c.node_taints_policy)):
            if policy and policy not in ("Honor", "Ignore"):
                errs.append(not_supported((*p, field), policy, ("Honor", "Ignore")))
        errs += label_selector(c.label_selector, (*p, "labelSelector"))
    return errs


def _min_domains(c: TopologySpreadConstraint, path: FieldPath) -> ErrorList:
    if c.min_domains is None:
        return []
    errs = [invalid(path, c.min_domains, IS_NOT_POSITIVE_MSG)] if c.min_domains <= 0 else []
    if c.when_unsatisfiable != "DoNotSchedule":
        errs.append(invalid(path, c.min_domains,
                            f"can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {c.when_unsatisfiable}"))
    return errs


def _affinity(affinity: Affinity, path: FieldPath) -> ErrorList:
    """validateAffinity."""
    errs: ErrorList = []
    if affinity.node_affinity is not None:
        errs += _node_affinity(affinity.node_affinity, (*path, "nodeAffinity"))
    if affinity.pod_affinity is not None:
        errs += _pod_affinity(affinity.pod_affinity, (*path, "podAffinity"))
    if affinity.pod_anti_affinity is not None:
        errs += _pod_affinity(affinity.pod_anti_affinity, (*path, "podAntiAffinity"))
    return errs


def _node_affinity(affinity: NodeAffinity, path: FieldPath) -> ErrorList:
    """validateNodeAffinity: the required node selector and weighted preferred terms."""
    errs: ErrorList = []
    required_selector = affinity.required_during_scheduling_ignored_during_execution
    if required_selector is not None:
        base = (*path, "requiredDuringSchedulingIgnoredDuringExecution")
        errs += [from_problem(base, s, m) for s, m in validate_node_selector(required_selector)]
    for i, term in enumerate(affinity.preferred_during_scheduling_ignored_during_execution):
        p = (*path, "preferredDuringSchedulingIgnoredDuringExecution", i)
        if not 1 <= term.weight <= 100:
            errs.append(invalid((*p, "weight"), term.weight, "must be in the range 1-100"))
        for suffix, msg in validate_node_selector(NodeSelector(node_selector_terms=(term.preference,))):
            errs.append(from_problem((*p, "preference"), suffix.removeprefix("nodeSelectorTerms[0]"), msg))
    return errs


def _pod_affinity(affinity: PodAffinity, path: FieldPath) -> ErrorList:
    """validatePodAffinity / validatePodAntiAffinity."""
    errs: ErrorList = []
    for i, term in enumerate(affinity.required_during_scheduling_ignored_during_execution):
        errs += _pod_affinity_term(term, (*path, "requiredDuringSchedulingIgnoredDuringExecution", i))
    for i, weighted in enumerate(affinity.preferred_during_scheduling_ignored_during_execution):
        p = (*path, "preferredDuringSchedulingIgnoredDuringExecution", i)
        if not 1 <= weighted.weight <= 100:
            errs.append(invalid((*p, "weight"), weighted.weight, "must be in the range 1-100"))
        errs += _pod_affinity_term(weighted.pod_affinity_term, (*p, "podAffinityTerm"))
    return errs


def _pod_affinity_term(term: PodAffinityTerm, path: FieldPath) -> ErrorList:
    """validatePodAffinityTerm: selectors, namespaces (DNS labels), topologyKey required."""
    errs = label_selector(term.label_selector, (*path, "labelSelector"))
    errs += label_selector(term.namespace_selector, (*path, "namespaceSelector"))
    for name in term.namespaces:
        errs += messages(name, (*path, "namespace"), is_dns1123_label(name))
    if not term.topology_key:
        errs.append(required((*path, "topologyKey"), "can not be empty"))
    return errs + label_name(term.topology_key, (*path, "topologyKey"))
