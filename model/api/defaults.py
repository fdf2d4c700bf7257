"""Scheme defaulting: the values the API server fills in for unset fields on create and update.

Upstream decodes every request body through the versioned scheme's defaulters
(`SetDefaults_*` in `pkg/apis/core/v1/defaults.go`, `pkg/apis/apps/v1/defaults.go`,
`pkg/apis/discovery/v1/defaults.go`, `pkg/apis/rbac/v1/defaults.go`, plus `+default=` markers,
walked by the generated `zz_generated.defaults.go`). `apply_defaults` does the same for the
kinds the model knows; it is idempotent (`apply_defaults(apply_defaults(x)) == apply_defaults(x)`).

Not done here, as upstream does not do them in defaulting either: pod priority (the Priority
admission plug-in), service-account and toleration admission (`default_toleration_seconds`
below is the DefaultTolerationSeconds plug-in, applied to Pods only), cluster IP allocation and
the namespace `kubernetes` finalizer (the registries' PrepareForCreate). Namespace
`status.phase: Active` *is* a scheme default (`SetDefaults_NamespaceStatus`) and is set here.

Left out: defaults of fields the model ignores (dnsPolicy, securityContext, enableServiceLinks,
terminationMessagePath/Policy, internalTrafficPolicy, volume-source defaultMode, ...); the
volume default `emptyDir: {}` for a volume without a source, because the model drops sources it
does not model and so cannot tell an empty volume from, say, a CSI one; rounding quantities up
to milli scale (`SetDefaults_ResourceList`); structural defaults of CustomResourceDefinitions.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from kubeprop.model.api.apps import (
    DaemonSet,
    RollingUpdateDaemonSet,
    RollingUpdateDeployment,
    RollingUpdateStatefulSetStrategy,
)
from kubeprop.model.api.autoscaling import HorizontalPodAutoscaler
from kubeprop.model.api.batch import Job
from kubeprop.model.api.batch_cronjob import CronJob
from kubeprop.model.api.core import TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE
from kubeprop.model.api.networking import NetworkPolicy
from kubeprop.model.api.objects import (
    ApiObject,
    ClusterRoleBinding,
    Deployment,
    Endpoints,
    EndpointSlice,
    Namespace,
    Node,
    PersistentVolume,
    PersistentVolumeClaim,
    Pod,
    PodSpec,
    PodTemplateSpec,
    ReplicaSet,
    RoleBinding,
    RoleRef,
    Secret,
    Service,
    StatefulSet,
    Subject,
)
from kubeprop.model.api.pod import Container, ContainerPort, Probe, Toleration
from kubeprop.model.api.policy import PodDisruptionBudget
from kubeprop.model.api.rbac_kinds import RBAC_GROUP
from kubeprop.model.api.scheduling import PriorityClass
from kubeprop.model.api.storage import CSIDriver, StorageClass, default_csi_driver, default_storage_class_object
from kubeprop.model.api.validation_networking import default_network_policy
from kubeprop.model.api.validation_policy import default_hpa, default_pdb
from kubeprop.model.api.validation_scheduling import default_priority_class
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap

DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30
DEFAULT_SCHEDULER_NAME = "default-scheduler"
T = TypeVar("T")


def apply_defaults(obj: ApiObject) -> ApiObject:
    """`obj` with the upstream scheme defaults filled in (unchanged for kinds without any)."""
    defaulter = _DEFAULTERS.get(type(obj))
    return obj if defaulter is None else defaulter(obj)


def _unset(value: T | None, default: T) -> T:
    """`default` if `value` is unset (None, Go's nil pointer)."""
    return default if value is None else value


def _defaulted(obj: T, **changes: Any) -> T:
    """`evolve(obj, **changes)`, or `obj` itself when no change changes anything (each value the very
    one `obj` holds, or one of the same type equal to it): an object whose defaults are filled in
    already — every object a client read and writes back — comes out of defaulting as that very
    object, sub-objects and all, instead of as an equal copy whose hashes and comparisons would all
    be computed again (no value differs: only which of two equal objects is kept)."""
    for name, value in changes.items():
        current = getattr(obj, name)
        if value is not current and (type(value) is not type(current) or value != current):
            return evolve(obj, **changes)  # type: ignore[misc]
    return obj


# --- pods and pod templates (pkg/apis/core/v1/defaults.go) ----------------------------------------

# The reference grammar of github.com/distribution/reference (`ParseNormalizedNamed`).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:]+\])"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"(?:{_DOMAIN}(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    rf"(?::(?P<tag>\w[\w.-]{{0,127}}))?(?:@(?P<digest>{_DIGEST}))?",
    re.ASCII,
)


def image_tag(image: str) -> str:
    """The tag `parsers.ParseImageName` (`pkg/util/parsers/parsers.go`) reports: the explicit tag,
    `latest` if there is neither tag nor digest, and "" if the reference does not parse."""
    match = _REFERENCE.fullmatch(image)
    if match is None:
        return ""
    tag, digest = match.group("tag") or "", match.group("digest") or ""
    return "latest" if not tag and not digest else tag


def _probe(probe: Probe | None) -> Probe | None:
    """`SetDefaults_Probe` (0 counts as unset) and `SetDefaults_HTTPGetAction`."""
    if probe is None:
        return None
    http_get = probe.http_get
    if isinstance(http_get, Mapping):
        http_get = FrozenMap(http_get).update(
            {"path": http_get.get("path") or "/", "scheme": http_get.get("scheme") or "HTTP"}
        )
    return _defaulted(
        probe,
        http_get=http_get,
        timeout_seconds=probe.timeout_seconds or 1,
        period_seconds=probe.period_seconds or 10,
        success_threshold=probe.success_threshold or 1,
        failure_threshold=probe.failure_threshold or 3,
    )


def _port(port: ContainerPort) -> ContainerPort:
    """ContainerPort's `+default="TCP"` protocol."""
    return port if port.protocol else _defaulted(port, protocol="TCP")


def _container(container: Container, *, in_pod: bool) -> Container:
    """`SetDefaults_Container`, plus (Pods only, `SetDefaults_Pod`) requests defaulted to limits."""
    policy = container.image_pull_policy
    if not policy:
        policy = "Always" if image_tag(container.image) == "latest" else "IfNotPresent"
    resources = container.resources
    if in_pod and resources.limits:
        missing = {k: v for k, v in resources.limits.items() if k not in resources.requests}
        if missing:
            resources = _defaulted(resources, requests=resources.requests.update(missing))
    return _defaulted(
        container,
        image_pull_policy=policy,
        ports=tuple(_port(p) for p in container.ports),
        resources=resources,
        readiness_probe=_probe(container.readiness_probe),
        liveness_probe=_probe(container.liveness_probe),
        startup_probe=_probe(container.startup_probe),
    )


def _pod_spec(spec: PodSpec, *, in_pod: bool) -> PodSpec:
    """`SetDefaults_PodSpec` and the defaults of its containers."""
    grace = spec.termination_grace_period_seconds
    return _defaulted(
        spec,
        restart_policy=spec.restart_policy or "Always",
        termination_grace_period_seconds=_unset(grace, DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS),
        scheduler_name=spec.scheduler_name or DEFAULT_SCHEDULER_NAME,
        containers=tuple(_container(c, in_pod=in_pod) for c in spec.containers),
        init_containers=tuple(_container(c, in_pod=in_pod) for c in spec.init_containers),
    )


def _host_network_ports(containers: tuple[Container, ...]) -> tuple[Container, ...]:
    """`defaultHostNetworkPorts` ("With host networking default all container ports to host ports"):
    each port without a host port (0, unset) gets hostPort = containerPort."""
    return tuple(
        _defaulted(c, ports=tuple(p if p.host_port or not p.container_port else evolve(p, host_port=p.container_port)
                                  for p in c.ports))
        for c in containers
    )


def _pod(pod: Pod) -> Pod:
    """`SetDefaults_Pod` + `SetDefaults_PodSpec` (priority and tolerations are admission's). A
    host-network Pod's container and init-container ports default to host ports
    (`defaultHostNetworkPorts`, in SetDefaults_Pod only since v1.28: a pod template keeps its ports,
    DefaultHostNetworkHostPortsInPodTemplates being off and gone)."""
    spec = _pod_spec(pod.spec, in_pod=True)
    if spec.host_network:
        spec = _defaulted(spec, containers=_host_network_ports(spec.containers),
                          init_containers=_host_network_ports(spec.init_containers))
    return _defaulted(pod, spec=spec)


def _template(template: PodTemplateSpec) -> PodTemplateSpec:
    """A PodTemplateSpec gets the PodSpec defaults but not `SetDefaults_Pod`'s."""
    return _defaulted(template, spec=_pod_spec(template.spec, in_pod=False))


# --- apps/v1 (pkg/apis/apps/v1/defaults.go) -------------------------------------------------------


def _deployment(obj: Deployment) -> Deployment:
    """`SetDefaults_Deployment`: 1 replica, RollingUpdate 25%/25%, history 10, deadline 600 s."""
    spec = obj.spec
    strategy = spec.strategy
    if not strategy.type:
        strategy = _defaulted(strategy, type="RollingUpdate")
    if strategy.type == "RollingUpdate":
        rolling = strategy.rolling_update or RollingUpdateDeployment()
        rolling = _defaulted(
            rolling,
            max_unavailable="25%" if rolling.max_unavailable is None else rolling.max_unavailable,
            max_surge="25%" if rolling.max_surge is None else rolling.max_surge,
        )
        strategy = _defaulted(strategy, rolling_update=rolling)
    spec = _defaulted(
        spec,
        replicas=_unset(spec.replicas, 1),
        strategy=strategy,
        revision_history_limit=_unset(spec.revision_history_limit, 10),
        progress_deadline_seconds=_unset(spec.progress_deadline_seconds, 600),
        template=_template(spec.template),
    )
    return _defaulted(obj, spec=spec)


def _replica_set(obj: ReplicaSet) -> ReplicaSet:
    """`SetDefaults_ReplicaSet`: 1 replica."""
    spec = obj.spec
    spec = _defaulted(spec, replicas=_unset(spec.replicas, 1), template=_template(spec.template))
    return _defaulted(obj, spec=spec)


def _stateful_set(obj: StatefulSet) -> StatefulSet:
    """`SetDefaults_StatefulSet`: OrderedReady, RollingUpdate with partition 0 (only when the type
    was unset or rollingUpdate was given), PVC retention Retain/Retain (StatefulSetAutoDeletePVC,
    on by default), 1 replica, history 10; volumeClaimTemplates get the PVC defaults."""
    spec = obj.spec
    strategy = spec.update_strategy
    if not strategy.type:
        rolling = strategy.rolling_update or RollingUpdateStatefulSetStrategy()
        strategy = _defaulted(strategy, type="RollingUpdate", rolling_update=rolling)
    rolling_update = strategy.rolling_update
    if strategy.type == "RollingUpdate" and rolling_update is not None and rolling_update.partition is None:
        strategy = _defaulted(strategy, rolling_update=_defaulted(rolling_update, partition=0))
    retention = spec.persistent_volume_claim_retention_policy
    if retention is None or isinstance(retention, Mapping):
        retention = FrozenMap(retention or {})
        retention = retention.update({k: retention.get(k) or "Retain" for k in ("whenDeleted", "whenScaled")})
    spec = _defaulted(
        spec,
        pod_management_policy=spec.pod_management_policy or "OrderedReady",
        update_strategy=strategy,
        persistent_volume_claim_retention_policy=retention,
        replicas=_unset(spec.replicas, 1),
        revision_history_limit=_unset(spec.revision_history_limit, 10),
        template=_template(spec.template),
        volume_claim_templates=tuple(_pvc(t) for t in spec.volume_claim_templates),
    )
    return _defaulted(obj, spec=spec)


def _daemon_set(obj: DaemonSet) -> DaemonSet:
    """`SetDefaults_DaemonSet`: RollingUpdate with maxUnavailable 1 and maxSurge 0 (each only when
    unset, and only for a RollingUpdate strategy), history 10; the pod template gets the pod defaults."""
    spec = obj.spec
    strategy = spec.update_strategy
    if not strategy.type:
        strategy = _defaulted(strategy, type="RollingUpdate")
    if strategy.type == "RollingUpdate":
        rolling = strategy.rolling_update or RollingUpdateDaemonSet()
        rolling = _defaulted(rolling, max_unavailable=1 if rolling.max_unavailable is None else rolling.max_unavailable,
                         max_surge=0 if rolling.max_surge is None else rolling.max_surge)
        strategy = _defaulted(strategy, rolling_update=rolling)
    spec = _defaulted(spec, update_strategy=strategy, revision_history_limit=_unset(spec.revision_history_limit, 10),
                  template=_template(spec.template))
    return _defaulted(obj, spec=spec)


def _job(obj: Job) -> Job:
    """`SetDefaults_Job` (`pkg/apis/batch/v1/defaults.go`, v1.33): completions and parallelism 1 when
    both are unset, else parallelism 1 when unset; backoffLimit 6 (the per-index limit is not
    modelled); the Job's labels from the template's when it has none; completionMode NonIndexed;
    suspend false; podReplacementPolicy TerminatingOrFailed (JobPodReplacementPolicy, on by default;
    Failed only with a pod failure policy, not modelled); manualSelector false. The template gets
    the pod defaults."""
    spec = obj.spec
    if spec.completions is None and spec.parallelism is None:
        spec = evolve(spec, completions=1, parallelism=1)
    spec = evolve(spec, parallelism=_unset(spec.parallelism, 1), backoff_limit=_unset(spec.backoff_limit, 6),
                  completion_mode=_unset(spec.completion_mode, "NonIndexed"), suspend=_unset(spec.suspend, False),
                  pod_replacement_policy=_unset(spec.pod_replacement_policy, "TerminatingOrFailed"),
                  manual_selector=_unset(spec.manual_selector, False), template=_template(spec.template))
    meta = obj.metadata
    if spec.template.metadata.labels and not meta.labels:
        meta = evolve(meta, labels=spec.template.metadata.labels)
    return evolve(obj, metadata=meta, spec=spec)


def _cron_job(obj: CronJob) -> CronJob:
    """`SetDefaults_CronJob` (`pkg/apis/batch/v1/defaults.go`, v1.33): concurrencyPolicy Allow,
    suspend false, successfulJobsHistoryLimit 3, failedJobsHistoryLimit 1. The Job template gets no
    Job defaults (`SetDefaults_Job` takes a Job: each Job gets them when created), its pod template
    the PodSpec defaults (the generated SetObjectDefaults_CronJob)."""
    spec = obj.spec
    job_spec = spec.job_template.spec
    template = evolve(spec.job_template, spec=_defaulted(job_spec, template=_template(job_spec.template)))
    return _defaulted(obj, spec=_defaulted(
        spec, concurrency_policy=spec.concurrency_policy or "Allow", suspend=_unset(spec.suspend, False),
        successful_jobs_history_limit=_unset(spec.successful_jobs_history_limit, 3),
        failed_jobs_history_limit=_unset(spec.failed_jobs_history_limit, 1),
        job_template=template if template != spec.job_template else spec.job_template))


# --- other core/v1 and discovery/v1 kinds ---------------------------------------------------------


def _service(obj: Service) -> Service:
    """`SetDefaults_Service`: sessionAffinity None, type ClusterIP, ports TCP, targetPort = port."""
    ports = tuple(
        _defaulted(
            p,
            protocol=p.protocol or "TCP",
            target_port=p.port if p.target_port in (None, 0, "") else p.target_port,
        )
        for p in obj.spec.ports
    )
    affinity = obj.spec.session_affinity or "None"
    spec = _defaulted(obj.spec, session_affinity=affinity, type=obj.spec.type or "ClusterIP", ports=ports)
    return _defaulted(obj, spec=spec)


def _endpoints(obj: Endpoints) -> Endpoints:
    """`SetDefaults_Endpoints`: port protocol TCP."""
    subsets = tuple(
        _defaulted(s, ports=tuple(_defaulted(p, protocol=p.protocol or "TCP") for p in s.ports))
        for s in obj.subsets
    )
    return _defaulted(obj, subsets=subsets)


def _endpoint_slice(obj: EndpointSlice) -> EndpointSlice:
    """discovery/v1 `SetDefaults_EndpointPort`: name "" and protocol TCP when unset (nil)."""
    ports = tuple(
        _defaulted(p, name=_unset(p.name, ""), protocol=_unset(p.protocol, "TCP")) for p in obj.ports
    )
    return _defaulted(obj, ports=ports)


def _pv(obj: PersistentVolume) -> PersistentVolume:
    """`SetDefaults_PersistentVolume`: phase Pending, reclaim policy Retain, volumeMode Filesystem."""
    spec = _defaulted(
        obj.spec,
        persistent_volume_reclaim_policy=obj.spec.persistent_volume_reclaim_policy or "Retain",
        volume_mode=obj.spec.volume_mode or "Filesystem",
    )
    return _defaulted(obj, spec=spec, status=_defaulted(obj.status, phase=obj.status.phase or "Pending"))


def _pvc(obj: PersistentVolumeClaim) -> PersistentVolumeClaim:
    """`SetDefaults_PersistentVolumeClaim(Spec)`: phase Pending, volumeMode Filesystem."""
    spec = _defaulted(obj.spec, volume_mode=obj.spec.volume_mode or "Filesystem")
    return _defaulted(obj, spec=spec, status=_defaulted(obj.status, phase=obj.status.phase or "Pending"))


def _secret(obj: Secret) -> Secret:
    """`SetDefaults_Secret`: type Opaque; and the v1 → internal conversion that merges `stringData`
    into `data` as base64, stringData winning (`pkg/apis/core/v1/conversion.go`
    Convert_v1_Secret_To_core_Secret), so a stored Secret never has stringData."""
    data = dict(obj.data)
    for key, value in obj.string_data.items():
        data[key] = base64.b64encode(value.encode()).decode()
    return _defaulted(obj, type=obj.type or "Opaque", data=FrozenMap(data), string_data=FrozenMap())


def _namespace(obj: Namespace) -> Namespace:
    """`SetDefaults_Namespace` (label `kubernetes.io/metadata.name`) and `SetDefaults_NamespaceStatus`."""
    meta = obj.metadata
    if meta.name:
        meta = _defaulted(meta, labels=meta.labels.set("kubernetes.io/metadata.name", meta.name))
    status = _defaulted(obj.status, phase=obj.status.phase or "Active")
    return _defaulted(obj, metadata=meta, status=status)


def _node(obj: Node) -> Node:
    """`SetDefaults_NodeStatus`: allocatable = capacity when allocatable is unset (here: empty)."""
    status = obj.status
    if status.allocatable or not status.capacity:
        return obj
    return _defaulted(obj, status=_defaulted(status, allocatable=status.capacity))


# --- rbac/v1 (pkg/apis/rbac/v1/defaults.go) -------------------------------------------------------


def _subject(subject: Subject) -> Subject:
    """`SetDefaults_Subject`: User and Group subjects get apiGroup rbac.authorization.k8s.io."""
    if subject.api_group or subject.kind not in ("User", "Group"):
        return subject
    return _defaulted(subject, api_group=RBAC_GROUP)


def _role_ref(ref: RoleRef) -> RoleRef:
    return ref if ref.api_group else _defaulted(ref, api_group=RBAC_GROUP)


def _binding(obj: RoleBinding | ClusterRoleBinding) -> RoleBinding | ClusterRoleBinding:
    """`SetDefaults_(Cluster)RoleBinding` and `SetDefaults_Subject`."""
    subjects = tuple(_subject(s) for s in obj.subjects)
    return _defaulted(obj, role_ref=_role_ref(obj.role_ref), subjects=subjects)


_DEFAULTERS: dict[type[Any], Callable[[Any], Any]] = {
    Pod: _pod,
    Deployment: _deployment,
    ReplicaSet: _replica_set,
    StatefulSet: _stateful_set,
    DaemonSet: _daemon_set,
    Job: _job,
    CronJob: _cron_job,
    Service: _service,
    Endpoints: _endpoints,
    EndpointSlice: _endpoint_slice,
    PersistentVolume: _pv,
    PersistentVolumeClaim: _pvc,
    Secret: _secret,
    Namespace: _namespace,
    Node: _node,
    RoleBinding: _binding,
    ClusterRoleBinding: _binding,
    HorizontalPodAutoscaler: default_hpa,
    PodDisruptionBudget: default_pdb,
    PriorityClass: default_priority_class,
    StorageClass: default_storage_class_object,
    CSIDriver: default_csi_driver,
    NetworkPolicy: default_network_policy,
}


# --- admission: DefaultTolerationSeconds ----------------------------------------------------------


def default_toleration_seconds(pod: Pod, seconds: int = 300, unreachable_seconds: int | None = None) -> Pod:
    """The DefaultTolerationSeconds admission plug-in
    (`plugin/pkg/admission/defaulttolerationseconds/admission.go`), for pods on create and update.

    Adds `node.kubernetes.io/not-ready` and `node.kubernetes.io/unreachable` NoExecute
    tolerations (operator Exists) unless the pod already has a toleration whose key is that
    taint's or empty and whose effect is NoExecute or empty — operator and value are not looked
    at, exactly as upstream. `seconds` is `--default-not-ready-toleration-seconds`,
    `unreachable_seconds` `--default-unreachable-toleration-seconds` (default: `seconds`);
    upstream's defaults are 300 each.
    """
    per_key = {TAINT_NODE_NOT_READY: seconds,
               TAINT_NODE_UNREACHABLE: seconds if unreachable_seconds is None else unreachable_seconds}
    tolerations = pod.spec.tolerations
    added = tuple(
        Toleration(key=key, operator="Exists", effect="NoExecute", toleration_seconds=per_key[key])
        for key in (TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE)
        if not any(t.key in (key, "") and t.effect in ("NoExecute", "") for t in tolerations)
    )
    if not added:
        return pod
    return evolve(pod, spec=evolve(pod.spec, tolerations=(*tolerations, *added)))
