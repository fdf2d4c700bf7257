"""Admission: the mutating and validating plug-ins between authorization and storage.

Upstream runs mutating plug-ins (in order), then the object's validation, then validating
plug-ins (`staging/src/k8s.io/apiserver/pkg/admission/chain.go`; order in
`pkg/kubeapiserver/options/plugins.go` AllOrderedPlugins). Admission runs on create, update,
delete and connect — never on reads. A plug-in here is a value holding pure functions, so a
scenario can add its own (a ResourceQuota, a user's validating webhook) by import path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import attrs

from kubeprop.model.api import admission_serviceaccount as service_account
from kubeprop.model.api.defaults import default_toleration_seconds
from kubeprop.model.api.objects import (
    ApiObject,
    Ingress,
    IngressClass,
    Namespace,
    ObjectKey,
    PersistentVolume,
    PersistentVolumeClaim,
    Pod,
    kind_info,
    qualified_resource,
)
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.quota import is_pod_quota_resource, missing_requests, pod_usage, pretty, total_usage
from kubeprop.model.api.rbac_authn import UserInfo
from kubeprop.model.api.scheduling import PREEMPT_LOWER_PRIORITY, PriorityClass, system_priority_class
from kubeprop.model.api.storage import RESOURCE as STORAGE_CLASSES
from kubeprop.model.api.storage import StorageClass, cluster_storage_class, default_storage_class
from kubeprop.model.api.store import Store
from kubeprop.model.api.volume import PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER
from kubeprop.model.evolve import evolve

Operation = Literal["CREATE", "UPDATE", "DELETE"]


@attrs.frozen
class AdmissionRequest:
    """What a plug-in sees (`admission.Attributes`): the operation, objects, user and the store."""

    operation: Operation
    obj: ApiObject | None
    old_obj: ApiObject | None
    user: UserInfo
    namespace: str
    name: str
    resource: str
    subresource: str
    store: Store
    dry_run: bool = False
    now: int = 0
    """The model clock at the request (whole seconds), for plug-ins that read time (ResourceQuota)."""


@attrs.frozen
class Denial:
    """A plug-in's rejection with an explicit status (a plain string means 403 Forbidden)."""

    code: int
    reason: str
    message: str


Mutator = Callable[[AdmissionRequest], ApiObject]
Validator = Callable[[AdmissionRequest], "str | Denial | None"]


@attrs.frozen
class AdmissionPlugin:
    """A named plug-in: `mutate` returns the (possibly changed) object; `validate` returns a denial
    message (→ 403 Forbidden) or None; `admit` is the refusal of a mutating plug-in's Admit, asked in
    the mutating phase right before `mutate` — before the object's name is generated and before
    validation, so its 403 names a generateName pod by its generateName and comes before a 422.
    Any may be None. All must be pure."""

    name: str
    mutate: Mutator | None = attrs.field(default=None, eq=False)
    validate: Validator | None = attrs.field(default=None, eq=False)
    options: tuple[tuple[str, int | str], ...] = ()
    """The plug-in's configuration (its flags), so differently configured plug-ins compare unequal."""
    admit: Validator | None = attrs.field(default=None, eq=False)


SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public")
NAMESPACE_TERMINATING_MESSAGE = "because it is being terminated"
"""The tail of NamespaceLifecycle's refusal of a create in a Terminating namespace. Upstream's 403
carries the status cause `NamespaceTerminatingCause` (`errors.NewForbidden` with a
`StatusCause{Type: v1.NamespaceTerminatingCause}`); the model's responses have no causes, and the
plug-in's message is this rule's alone, so `namespace_terminating` reads the cause from it."""


def namespace_terminating(code: int, message: str) -> bool:
    """`apierrors.HasStatusCause(err, v1.NamespaceTerminatingCause)` for a response with this status
    code and message: NamespaceLifecycle's 403 for a create in a Terminating namespace."""
    return code == 403 and NAMESPACE_TERMINATING_MESSAGE in message


def _namespace_lifecycle(req: AdmissionRequest) -> str | Denial | None:
    """NamespaceLifecycle's Admit (`staging/src/k8s.io/apiserver/pkg/admission/plugin/namespace/
    lifecycle/admission.go` Lifecycle.Admit, v1.33): the immortal namespaces (`default`,
    `kube-system`, `kube-public`: `plugin.go` Register) cannot be deleted (`namespaces "default" is
    forbidden: this namespace may not be deleted`); no namespaced object is created in a missing
    namespace (the live GET's 404, `namespaces "x" not found`) or in a Terminating one (403, `unable
    to create new content in namespace x because it is being terminated`).

    Lifecycle is a mutating plug-in (Admit, no Validate): the model runs it as `AdmissionPlugin.admit`,
    so on a create it refuses before the object's name is generated (its 403 names a generateName
    object by its prefix: `admission.NewForbidden` → extractResourceName) and before validation (a
    refusal comes before a 422), and before every later mutating plug-in's refusal. On a delete,
    Admit runs where the validating plug-ins do (`rest.AdmissionToValidateObjectDeleteFunc`: Admit,
    then Validate, once the stored object is read). Upstream also answers an UPDATE in a missing
    namespace with the 404; the model's namespaces go only once empty, so no stored object can be
    updated there, and that branch is left out."""
    if req.operation == "DELETE" and req.resource == "namespaces" and req.name in SYSTEM_NAMESPACES:
        return "this namespace may not be deleted"
    if req.operation != "CREATE" or not req.namespace or req.obj is None:
        return None
    if not kind_info(req.obj).namespaced:
        return None
    ns = req.store.get(ObjectKey("namespaces", "", req.namespace))
    if ns is None:
        return Denial(404, "NotFound", f'namespaces "{req.namespace}" not found')
    if isinstance(ns, Namespace) and ns.metadata.deletion_timestamp is not None:
        return f"unable to create new content in namespace {req.namespace} {NAMESPACE_TERMINATING_MESSAGE}"
    return None


DEFAULT_TOLERATION_SECONDS_NAME = "DefaultTolerationSeconds"


def default_toleration_seconds_plugin(not_ready: int = 300, unreachable: int = 300) -> AdmissionPlugin:
    """DefaultTolerationSeconds (`plugin/pkg/admission/defaulttolerationseconds/admission.go`): on
    pod create and update (not subresources), add the not-ready / unreachable NoExecute
    tolerations with `--default-not-ready-toleration-seconds` / `--default-unreachable-toleration-
    seconds` (300 each by default) unless the pod already tolerates those taints."""

    def mutate(req: AdmissionRequest) -> ApiObject:
        assert req.obj is not None
        if req.operation in ("CREATE", "UPDATE") and isinstance(req.obj, Pod) and not req.subresource:
            return default_toleration_seconds(req.obj, not_ready, unreachable)
        return req.obj

    options = (("default-not-ready-toleration-seconds", not_ready), ("default-unreachable-toleration-seconds",
                                                                       unreachable))
    return AdmissionPlugin(DEFAULT_TOLERATION_SECONDS_NAME, mutate=mutate, options=options)


def with_default_toleration_seconds(plugins: tuple[AdmissionPlugin, ...], seconds: int) -> tuple[AdmissionPlugin, ...]:
    """`plugins` with DefaultTolerationSeconds configured for `seconds` (both flags), in place."""
    configured = default_toleration_seconds_plugin(seconds, seconds)
    return tuple(configured if p.name == DEFAULT_TOLERATION_SECONDS_NAME else p for p in plugins)


PRIORITY_CLASSES_RESOURCE = "priorityclasses.scheduling.k8s.io"


def _priority_class(store: Store, name: str) -> PriorityClass | None:
    """The class a pod's priorityClassName names: a system class, else a stored one."""
    system = system_priority_class(name)
    if system is not None:
        return system
    found = store.get(ObjectKey(PRIORITY_CLASSES_RESOURCE, "", name))
    return found if isinstance(found, PriorityClass) else None


def default_priority_class(store: Store) -> PriorityClass | None:
    """getDefaultPriorityClass: the globalDefault class; if a race left several, the one with the
    lowest value (the first in name order among equals)."""
    found: PriorityClass | None = None
    for obj in store.list(PRIORITY_CLASSES_RESOURCE):
        if isinstance(obj, PriorityClass) and obj.global_default and (found is None or found.value > obj.value):
            found = obj
    return found


@attrs.frozen
class ResolvedPriority:
    """What the Priority plug-in writes into a new pod: class name, priority, preemption policy
    (None: left unset, see `resolve_priority`)."""

    class_name: str
    priority: int
    preemption_policy: str | None


def resolve_priority(pod: Pod, store: Store) -> ResolvedPriority | str:
    """admitPod on create (`plugin/pkg/admission/priority/admission.go`): the named class (system
    or stored), or the globalDefault class when no name is given (its name is written into the
    pod), or priority 0; a denial message for an unknown name, or for a `priority` /
    `preemptionPolicy` the pod sets that differs from the class's.

    With no class and no default class upstream computes `PreemptLowerPriority`
    (getDefaultPriority) and refuses a pod that sets `preemptionPolicy: Never` against it; the
    model refuses the same. Model choice: it then leaves the field unset where upstream writes
    `PreemptLowerPriority`, which every reader treats alike (the scheduler tests only for Never),
    so scenarios without PriorityClasses keep their states."""
    name = pod.spec.priority_class_name
    if name:
        pc = _priority_class(store, name)
        if pc is None:
            return f"no PriorityClass with name {name} was found"
    else:
        pc = default_priority_class(store)
    resolved = (ResolvedPriority("", 0, None) if pc is None
                else ResolvedPriority(pc.metadata.name, pc.value, pc.preemption_policy))
    if pod.spec.priority is not None and pod.spec.priority != resolved.priority:
        return (f"the integer value of priority ({pod.spec.priority}) must not be provided in pod spec; "
                f"priority admission controller computed {resolved.priority} from the given PriorityClass name")
    policy = resolved.preemption_policy or PREEMPT_LOWER_PRIORITY  # getDefaultPriority's, without a class
    if pod.spec.preemption_policy and pod.spec.preemption_policy != policy:
        return (f"the string value of PreemptionPolicy ({pod.spec.preemption_policy}) must not be provided in "
                f"pod spec; priority admission controller computed {policy} from the given PriorityClass name")
    return resolved


def _priority_kept(pod: Pod, old: ApiObject | None) -> Pod:
    """admitPod on update (`plugin/pkg/admission/priority/admission.go`): a `priority` or
    `preemptionPolicy` the new pod leaves unset is copied from the stored pod, so a client that
    omits the fields the plug-in wrote on create does not change them. Nothing else: a changed
    value, or a changed or omitted `priorityClassName`, is left for ValidatePodUpdate to refuse
    (pod spec updates are immutable but for images, tolerations and a few more)."""
    if not isinstance(old, Pod):
        return pod
    spec = pod.spec
    priority = old.spec.priority if spec.priority is None else spec.priority
    policy = spec.preemption_policy or old.spec.preemption_policy
    if (priority, policy) == (spec.priority, spec.preemption_policy):
        return pod
    return evolve(pod, spec=evolve(spec, priority=priority, preemption_policy=policy))


def _priority(req: AdmissionRequest) -> ApiObject:
    """Priority's mutating half: a new pod gets its class's priority and preemption policy (and
    the default class's name); an updated pod keeps the stored ones it omits (`_priority_kept`).
    A pod the plug-in refuses is left as it is; `_priority_validate` then denies it (upstream
    denies in the mutating phase, before object validation)."""
    obj = req.obj
    assert obj is not None
    if not isinstance(obj, Pod) or req.subresource:
        return obj
    if req.operation == "UPDATE":
        return _priority_kept(obj, req.old_obj)
    if req.operation != "CREATE":
        return obj
    resolved = resolve_priority(obj, req.store)
    if isinstance(resolved, str):
        return obj
    policy = resolved.preemption_policy or obj.spec.preemption_policy
    return evolve(obj, spec=evolve(obj.spec, priority_class_name=resolved.class_name, priority=resolved.priority,
                                   preemption_policy=policy))


def _priority_validate(req: AdmissionRequest) -> str | Denial | None:
    """Priority's refusals: a pod `resolve_priority` refuses; a second globalDefault class
    (validatePriorityClass: "Only one default can exist"); a class named like a system class,
    which upstream's store already holds (409 AlreadyExists)."""
    obj = req.obj
    if req.subresource or req.operation not in ("CREATE", "UPDATE"):
        return None
    if isinstance(obj, Pod) and req.operation == "CREATE":
        resolved = resolve_priority(obj, req.store)
        return resolved if isinstance(resolved, str) else None
    if not isinstance(obj, PriorityClass):
        return None
    if req.operation == "CREATE" and system_priority_class(obj.metadata.name) is not None:
        return Denial(409, "AlreadyExists", f'{PRIORITY_CLASSES_RESOURCE} "{obj.metadata.name}" already exists')
    current = default_priority_class(req.store) if obj.global_default else None
    if current is not None and (req.operation == "CREATE" or current.metadata.name != obj.metadata.name):
        return f"PriorityClass {current.metadata.name} is already marked as default. Only one default can exist"
    return None


IS_DEFAULT_INGRESS_CLASS = "ingressclass.kubernetes.io/is-default-class"
INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"


def default_ingress_class(store: Store) -> IngressClass | None:
    """getDefaultClass: the IngressClass annotated `is-default-class: "true"`; of several, the
    newest (latest creationTimestamp, then the first by name)."""
    defaults = [c for c in store.list("ingressclasses.networking.k8s.io")
                if isinstance(c, IngressClass) and c.metadata.annotations.get(IS_DEFAULT_INGRESS_CLASS) == "true"]
    defaults.sort(key=lambda c: (-(c.metadata.creation_timestamp or 0), c.metadata.name))
    return defaults[0] if defaults else None


def _default_ingress_class(req: AdmissionRequest) -> ApiObject:
    """DefaultIngressClass (`plugin/pkg/admission/network/defaultingressclass/admission.go`): an
    Ingress created with neither `spec.ingressClassName` nor the `kubernetes.io/ingress.class`
    annotation gets the default class's name, if there is a default class."""
    obj = req.obj
    assert obj is not None
    if (req.operation != "CREATE" or not isinstance(obj, Ingress) or req.subresource
            or obj.spec.ingress_class_name is not None or INGRESS_CLASS_ANNOTATION in obj.metadata.annotations):
        return obj
    default = default_ingress_class(req.store)
    if default is None:
        return obj
    return evolve(obj, spec=evolve(obj.spec, ingress_class_name=default.metadata.name))


DEFAULT_STORAGE_CLASS_NAME = "DefaultStorageClass"


def default_storage_class_plugin(builtin: StorageClass | None) -> AdmissionPlugin:
    """DefaultStorageClass (`plugin/pkg/admission/storage/persistentvolume/defaultstorageclass/
    admission.go`): a PersistentVolumeClaim created with `spec.storageClassName` unset (nil; an
    explicit "" asks for no class) gets the default class's name (`storage.default_storage_class`:
    the newest class annotated as default, the cluster's own `builtin` among them), if there is one."""

    def mutate(req: AdmissionRequest) -> ApiObject:
        obj = req.obj
        assert obj is not None
        if (req.operation != "CREATE" or not isinstance(obj, PersistentVolumeClaim) or req.subresource
                or obj.spec.storage_class_name is not None):
            return obj
        default = default_storage_class(req.store.list(STORAGE_CLASSES), builtin)
        if default is None:
            return obj
        return evolve(obj, spec=evolve(obj.spec, storage_class_name=default.metadata.name))

    options = (("cluster-default-class", f"{builtin.metadata.name} ({builtin.provisioner})" if builtin else ""),)
    return AdmissionPlugin(DEFAULT_STORAGE_CLASS_NAME, mutate=mutate, options=options)


def with_default_storage_class(plugins: tuple[AdmissionPlugin, ...], choice: str) -> tuple[AdmissionPlugin, ...]:
    """`plugins` with DefaultStorageClass seeing the cluster's own class for `defaultStorageClass`
    = `choice`, in place."""
    configured = default_storage_class_plugin(cluster_storage_class(choice))
    return tuple(configured if p.name == DEFAULT_STORAGE_CLASS_NAME else p for p in plugins)


def _storage_object_in_use_protection(req: AdmissionRequest) -> ApiObject:
    """StorageObjectInUseProtection (`plugin/pkg/admission/storage/storageobjectinuseprotection/
    admission.go`, on by default): every PersistentVolumeClaim created gets the finalizer
    `kubernetes.io/pvc-protection`, every PersistentVolume `kubernetes.io/pv-protection` (appended,
    unless already there), so that a claim a pod uses and a bound volume outlive their deletion
    until the protection controllers (`kubeprop.model.controllers.volume_protection`) see them unused."""
    obj = req.obj
    assert obj is not None
    if req.operation != "CREATE" or req.subresource:
        return obj
    if isinstance(obj, PersistentVolumeClaim):
        finalizer = PVC_PROTECTION_FINALIZER
    elif isinstance(obj, PersistentVolume):
        finalizer = PV_PROTECTION_FINALIZER
    else:
        return obj
    if finalizer in obj.metadata.finalizers:
        return obj
    return evolve(obj, metadata=evolve(obj.metadata, finalizers=(*obj.metadata.finalizers, finalizer)))


NAMESPACE_LIFECYCLE = AdmissionPlugin("NamespaceLifecycle", admit=_namespace_lifecycle)
"""NamespaceLifecycle: a mutating plug-in's refusal only (`_namespace_lifecycle`)."""
DEFAULT_TOLERATION_SECONDS = default_toleration_seconds_plugin()
PRIORITY = AdmissionPlugin("Priority", mutate=_priority, validate=_priority_validate)

DEFAULT_INGRESS_CLASS = AdmissionPlugin("DefaultIngressClass", mutate=_default_ingress_class)

DEFAULT_STORAGE_CLASS = default_storage_class_plugin(cluster_storage_class("zonal"))

STORAGE_OBJECT_IN_USE_PROTECTION = AdmissionPlugin("StorageObjectInUseProtection",
                                                   mutate=_storage_object_in_use_protection)

RUNTIME_CLASS_OVERHEAD_MESSAGE = "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead"


def _runtime_class_validate(req: AdmissionRequest) -> str | None:
    """RuntimeClass's Validate (`plugin/pkg/admission/runtimeclass/admission.go` validateOverhead;
    its handler answers CREATE only, `NewRuntimeClass`, and shouldIgnore skips subresources and
    every resource but pods): a pod created with a non-empty `spec.overhead` and no RuntimeClass
    that defines one is refused (403). The model has no RuntimeClass kind and refuses
    `runtimeClassName` as unmodelled input (`kubeprop.model.api.pod`), so a pod's class is always
    absent here and any overhead is refused; the plug-in's Admit (which copies a class's overhead,
    nodeSelector and tolerations onto the pod) has nothing to do. A controller creating pods from a
    template that sets `overhead` is refused the same way, as upstream."""
    pod = req.obj
    if req.operation != "CREATE" or req.subresource or not isinstance(pod, Pod):
        return None
    return RUNTIME_CLASS_OVERHEAD_MESSAGE if pod.spec.overhead else None


RUNTIME_CLASS = AdmissionPlugin("RuntimeClass", validate=_runtime_class_validate)

SERVICE_ACCOUNT = AdmissionPlugin(service_account.NAME, validate=service_account.validate,
                                  admit=service_account.validate)
"""ServiceAccount (`kubeprop.model.api.admission_serviceaccount`): refuses a pod whose
ServiceAccount (`default` when it names none) does not exist, in Admit (mutating) and again in
Validate, as upstream."""

DEFAULT_PLUGINS: tuple[AdmissionPlugin, ...] = (NAMESPACE_LIFECYCLE, SERVICE_ACCOUNT, PRIORITY,
                                                DEFAULT_TOLERATION_SECONDS, DEFAULT_STORAGE_CLASS,
                                                STORAGE_OBJECT_IN_USE_PROTECTION, RUNTIME_CLASS, DEFAULT_INGRESS_CLASS)
"""The upstream default-enabled plug-ins the model implements, in upstream order
(`pkg/kubeapiserver/options/plugins.go` AllOrderedPlugins; ResourceQuota, last there, is a
scenario's own plug-in here, appended after these)."""


def resource_quota(namespace: str, hard: dict[str, str], name: str = "") -> AdmissionPlugin:
    """The ResourceQuota admission plug-in for one quota on pods, given its `spec.hard` directly
    (the model has no ResourceQuota kind): `plugin/pkg/admission/resourcequota/admission.go` and
    `staging/src/k8s.io/apiserver/pkg/admission/plugin/resourcequota/controller.go` CheckRequest,
    with the pod evaluator of `kubeprop.model.api.quota` (`pkg/quota/v1/evaluator/core/pods.go`).

    On a pod create in `namespace` (pod updates, only for resize upstream, are not charged): a
    pod missing a cpu / memory request or limit the quota tracks is refused (`failed quota: NAME:
    must specify requests.cpu for: main`); else each tracked resource the pod uses (non-zero)
    must fit, the pod included (`exceeded quota: NAME, requested: pods=1, used: pods=1, limited:
    pods=1`). Keys: `pods`, `count/pods`, `cpu` / `memory` / `ephemeral-storage` (the same as
    `requests.*`), `requests.*`, `limits.*`, `hugepages-*`, `requests.<domain>/<extended>`; any
    other key (`services`, `count/deployments.apps`) is a ValueError: this plug-in counts pods only.

    Model choice: upstream compares with the quota's `status.used`, which the quota controller
    recomputes on pod changes and on its resync; the model recomputes it from the stored pods at
    each request, at the model clock (a pod past its deletion grace period stops counting at
    once, upstream at the next resync), so it never refuses a create upstream's fresher
    `status.used` would admit. `NAME` is `name`, `<namespace>-quota` by default."""
    unknown = sorted(key for key in hard if not is_pod_quota_resource(key))
    if unknown:
        raise ValueError(f"resource_quota: {', '.join(unknown)}: not a pod resource; this plug-in counts pods only "
                         "(pods, count/pods, cpu, memory, ephemeral-storage, requests.*, limits.*, hugepages-*)")
    limits = {k: Quantity.parse(v) for k, v in hard.items()}
    quota_name = name or f"{namespace}-quota"

    def validate(req: AdmissionRequest) -> str | None:
        pod = req.obj
        if req.operation != "CREATE" or not isinstance(pod, Pod) or req.subresource or req.namespace != namespace:
            return None
        missing = missing_requests(limits, pod)
        if missing is not None:
            return f"failed quota: {quota_name}: {missing}"
        return _exceeded(quota_name, limits, pod, req)

    return AdmissionPlugin(f"ResourceQuota({namespace})", validate=validate,
                           options=(*sorted(hard.items()), ("name", quota_name)))


def _exceeded(quota_name: str, hard: dict[str, Quantity], pod: Pod, req: AdmissionRequest) -> str | None:
    """CheckRequest's comparison: the pod's non-zero usage of the tracked resources, added to what
    the stored pods of the namespace use, against `hard`."""
    requested = {k: q for k, q in pod_usage(pod, req.now).items() if k in hard and not q.is_zero()}
    stored = [p for p in req.store.list("pods", req.namespace) if isinstance(p, Pod)]
    used = total_usage(stored, req.now)
    used = {k: used.get(k, Quantity.zero()) for k in hard}
    exceeded = sorted(k for k, q in requested.items() if used[k] + q > hard[k])
    if not exceeded:
        return None
    return (f"exceeded quota: {quota_name}, requested: {pretty({k: requested[k] for k in exceeded})}, "
            f"used: {pretty({k: used[k] for k in exceeded})}, limited: {pretty({k: hard[k] for k in exceeded})}")


def run_mutating(plugins: tuple[AdmissionPlugin, ...], req: AdmissionRequest) -> ApiObject | Denial | None:
    """Run every mutating plug-in in order (`chain.go` Admit): a refusal (`admit`) ends the chain
    with its Denial; otherwise the final object."""
    obj = req.obj
    for plugin in plugins:
        if plugin.admit is not None:
            verdict = plugin.admit(evolve(req, obj=obj))
            if verdict:
                return verdict if isinstance(verdict, Denial) else Denial(403, "Forbidden", verdict)
        if plugin.mutate is not None and obj is not None:
            obj = plugin.mutate(evolve(req, obj=obj))
    return obj


def run_validating(plugins: tuple[AdmissionPlugin, ...], req: AdmissionRequest) -> Denial | None:
    """The first denial (a plain message becomes 403 Forbidden), or None if every plug-in admits."""
    for plugin in plugins:
        if plugin.validate is not None:
            verdict = plugin.validate(req)
            if isinstance(verdict, Denial):
                return verdict
            if verdict:
                return Denial(403, "Forbidden", verdict)
    return None


__all__ = [
    "DEFAULT_PLUGINS", "RUNTIME_CLASS", "SERVICE_ACCOUNT",
    "AdmissionPlugin", "AdmissionRequest", "Denial", "ResolvedPriority", "default_ingress_class",
    "default_priority_class", "default_storage_class_plugin", "default_toleration_seconds_plugin",
    "qualified_resource", "resolve_priority", "resource_quota", "run_mutating", "run_validating",
    "with_default_storage_class", "with_default_toleration_seconds",
]
