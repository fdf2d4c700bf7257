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

from kubeprop.model.api.defaults import default_toleration_seconds
from kubeprop.model.api.objects import ApiObject, Namespace, ObjectKey, Pod, kind_info, qualified_resource
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.rbac import UserInfo
from kubeprop.model.api.store import Store
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
    message (→ 403 Forbidden) or None. Either may be None. Both must be pure."""

    name: str
    mutate: Mutator | None = attrs.field(default=None, eq=False)
    validate: Validator | None = attrs.field(default=None, eq=False)
    options: tuple[tuple[str, int | str], ...] = ()
    """The plug-in's configuration (its flags), so differently configured plug-ins compare unequal."""


SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public")


def _namespace_lifecycle(req: AdmissionRequest) -> str | Denial | None:
    """NamespaceLifecycle (`plugin/pkg/admission/namespace/lifecycle/admission.go`): no objects in a
    missing or terminating namespace; the system namespaces cannot be deleted."""
    if req.operation == "DELETE" and req.resource == "namespaces" and req.name in SYSTEM_NAMESPACES:
        return f'namespace "{req.name}" is immutable and cannot be deleted'
    if req.operation != "CREATE" or not req.namespace or req.obj is None:
        return None
    if not kind_info(req.obj).namespaced:
        return None
    ns = req.store.get(ObjectKey("namespaces", "", req.namespace))
    if ns is None:
        return Denial(404, "NotFound", f'namespaces "{req.namespace}" not found')
    if isinstance(ns, Namespace) and ns.metadata.deletion_timestamp is not None:
        return (
            f"unable to create new content in namespace {req.namespace} because it is being terminated"
        )
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


BUILTIN_PRIORITY_CLASSES = {"system-cluster-critical": 2000000000, "system-node-critical": 2000001000}


def _priority(req: AdmissionRequest) -> ApiObject:
    """Priority (`plugin/pkg/admission/priority/admission.go`): resolve priorityClassName to a
    number. The model knows only the two built-in classes; no class means priority 0."""
    obj = req.obj
    assert obj is not None
    if req.operation != "CREATE" or not isinstance(obj, Pod) or obj.spec.priority is not None:
        return obj
    value = BUILTIN_PRIORITY_CLASSES.get(obj.spec.priority_class_name, 0)
    return evolve(obj, spec=evolve(obj.spec, priority=value))


def _priority_class_exists(req: AdmissionRequest) -> str | None:
    obj = req.obj
    if req.operation != "CREATE" or not isinstance(obj, Pod):
        return None
    name = obj.spec.priority_class_name
    if name and name not in BUILTIN_PRIORITY_CLASSES:
        return f"no PriorityClass with name {name} was found"
    return None


NAMESPACE_LIFECYCLE = AdmissionPlugin("NamespaceLifecycle", validate=_namespace_lifecycle)
DEFAULT_TOLERATION_SECONDS = default_toleration_seconds_plugin()
PRIORITY = AdmissionPlugin("Priority", mutate=_priority, validate=_priority_class_exists)

DEFAULT_PLUGINS: tuple[AdmissionPlugin, ...] = (NAMESPACE_LIFECYCLE, DEFAULT_TOLERATION_SECONDS, PRIORITY)
"""The upstream default-enabled plug-ins the model implements, in upstream order."""


def resource_quota(namespace: str, hard: dict[str, str]) -> AdmissionPlugin:
    """A ResourceQuota-style validating plug-in (`plugin/pkg/admission/resourcequota`): rejects a
    pod create that would take the namespace over `hard` (keys `pods`, `requests.cpu`,
    `requests.memory`). An example of a scenario-supplied plug-in; the model has no
    ResourceQuota kind, so the limits are given to the plug-in directly."""
    limits = {k: Quantity.parse(v) for k, v in hard.items()}

    def validate(req: AdmissionRequest) -> str | None:
        if req.operation != "CREATE" or not isinstance(req.obj, Pod) or req.namespace != namespace:
            return None
        pods = [p for p in req.store.list("pods", namespace) if isinstance(p, Pod)] + [req.obj]
        used = _quota_usage(pods)
        over = [
            f"{key}={used[key]}, limited: {key}={limit}"
            for key, limit in sorted(limits.items())
            if key in used and used[key] > limit
        ]
        if over:
            return f'exceeded quota: {namespace}-quota, requested/used: {"; ".join(over)}'
        return None

    return AdmissionPlugin(f"ResourceQuota({namespace})", validate=validate)


def _quota_usage(pods: list[Pod]) -> dict[str, Quantity]:
    used = {"pods": Quantity.from_int(0), "requests.cpu": Quantity.zero(), "requests.memory": Quantity.zero()}
    for pod in pods:
        if pod.status.phase in ("Succeeded", "Failed"):
            continue
        used["pods"] = used["pods"] + Quantity.from_int(1)
        for container in pod.spec.containers:
            for resource in ("cpu", "memory"):
                q = container.resources.requests.get(resource)
                if q is not None:
                    used[f"requests.{resource}"] = used[f"requests.{resource}"] + q
    return used


def run_mutating(plugins: tuple[AdmissionPlugin, ...], req: AdmissionRequest) -> ApiObject | None:
    """Apply every mutating plug-in in order; returns the final object."""
    obj = req.obj
    for plugin in plugins:
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
    "DEFAULT_PLUGINS", "AdmissionPlugin", "AdmissionRequest", "Denial", "default_toleration_seconds_plugin",
    "qualified_resource", "resource_quota", "run_mutating", "run_validating", "with_default_toleration_seconds",
]
