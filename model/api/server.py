"""The API server as a pure function: `handle(store, request, config, now) -> Result`.

The stages run in upstream order (`staging/src/k8s.io/apiserver/pkg/server/config.go`
DefaultBuildHandlerChain, then `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/create.go`,
`update.go`, `patch.go`, `delete.go`): authentication (→ 401) → impersonation (`kubectl --as`, → 403:
`kubeprop.model.api.impersonation`) → authorization (→ 403) → scheme defaults →
mutating admission → PrepareForCreate/Update → validation (→ 422) → validating admission
(→ 403) → persistence with optimistic concurrency (→ 409) → watch event. The write verbs live in
`server_write` and `server_delete`; this module holds the request/response types, the filter chain
and reads.

`handle` never raises on a well-typed request: every problem is an HTTP-style status.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import attrs

from kubeprop.model.api.admission import DEFAULT_PLUGINS, AdmissionPlugin
from kubeprop.model.api.impersonation import impersonate
from kubeprop.model.api.objects import (
    BUILTIN_KINDS,
    ApiObject,
    ClusterRole,
    ClusterRoleBinding,
    CustomResourceDefinition,
    KindInfo,
    ObjectKey,
    Role,
    RoleBinding,
    kind_info,
    qualified_resource,
)
from kubeprop.model.api.rbac import Decision, RbacPolicy, RequestAttributes, authorize
from kubeprop.model.api.rbac_authn import SYSTEM_MASTERS, UserInfo, authenticate
from kubeprop.model.api.rbac_bootstrap import bootstrap_policy
from kubeprop.model.api.rbac_kinds import RBAC_GROUP
from kubeprop.model.api.selectors import LabelSelector, selector_matches
from kubeprop.model.api.store import Store, WatchEvent
from kubeprop.model.api.validation import FieldError
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.memo import LastValues

if TYPE_CHECKING:
    from kubeprop.model.api.scale import Scale

Verb = Literal["create", "get", "list", "update", "update-status", "patch", "patch-status", "delete", "bind",
               "evict", "get-scale", "update-scale", "patch-scale", "finalize"]
VERBS: tuple[str, ...] = ("create", "get", "list", "update", "update-status", "patch", "patch-status", "delete",
                          "bind", "evict", "get-scale", "update-scale", "patch-scale", "finalize")
"""`finalize` is PUT on `namespaces/{name}/finalize` (`server_write.finalize`); `patch-status` is PATCH
on the status subresource (`server_write.patch_status`); `get-scale`, `update-scale` and
`patch-scale` are GET, PUT and PATCH on a workload's scale subresource (`kubeprop.model.api.scale`)."""


PatchType = Literal["merge", "strategic", "apply"]
"""`application/merge-patch+json`, `application/strategic-merge-patch+json` (built-in kinds only),
`application/apply-patch+yaml` (server-side apply: `patch` is the applied configuration)."""


@attrs.frozen
class Request:
    """One API request. `resource` is the qualified plural (`deployments.apps`, `pods`); for
    writes that carry an object it may be left empty and is taken from the object's kind.
    `field_manager` names the writer in managedFields (default: derived from the user, see
    `writes_support.field_manager`); `force` is server-side apply's `force` (take conflicting
    fields). A `list` with a `name` is a LIST with the field selector `metadata.name=NAME`
    (`_list`)."""

    verb: Verb
    user: str
    resource: str = ""
    namespace: str = ""
    name: str = ""
    obj: ApiObject | None = None
    patch: Any = None
    node_name: str = ""
    label_selector: LabelSelector | None = None
    dry_run: bool = False
    grace_period_seconds: int | None = None
    propagation_policy: str | None = None
    precondition_uid: str | None = None
    precondition_resource_version: str | None = None
    patch_type: PatchType = "merge"
    field_manager: str = ""
    force: bool = False
    impersonate: str = attrs.field(default="", metadata={"fingerprint": "omit-if-default"})
    """`kubectl --as USER` (the `Impersonate-User` header): the request acts as USER if `user` may
    impersonate it (`kubeprop.model.api.impersonation`)."""


@attrs.frozen
class StatusCause:
    """One `metav1.StatusCause` of a Status's details that is not a field error: its type (e.g.
    `DisruptionBudget`, policy/v1 DisruptionBudgetCause) and message. Clients print the Status's
    message, not its causes (`StatusError.Error()`)."""

    type: str
    message: str


@attrs.frozen
class Response:
    """An HTTP-style status: code, reason (`Created`, `Conflict`, `Invalid`, …), message, and the
    resulting object (or list items), plus field errors for 422 Invalid and other causes."""

    code: int
    reason: str
    message: str = ""
    obj: ApiObject | None = None
    items: tuple[ApiObject, ...] = ()
    errors: tuple[FieldError, ...] = ()
    causes: tuple[StatusCause, ...] = ()
    scale: Scale | None = None
    """The `autoscaling/v1 Scale` a request on the scale subresource returns (`kubeprop.model.api.scale`)."""

    @property
    def ok(self) -> bool:
        """True for 2xx."""
        return 200 <= self.code < 300


@attrs.frozen
class Result:
    """What `handle` returns: the new store, the response and the watch events it caused."""

    store: Store
    response: Response
    events: tuple[WatchEvent, ...] = ()


@attrs.frozen
class ApiServerConfig:
    """Who may authenticate and which admission plug-ins run (in order)."""

    users: FrozenMap[str, UserInfo] = EMPTY
    admission: tuple[AdmissionPlugin, ...] = DEFAULT_PLUGINS
    max_unavailable_stateful_set: bool = attrs.field(default=False, metadata={"fingerprint": "omit-if-default"})
    """The MaxUnavailableStatefulSet feature gate (parameter `maxUnavailableStatefulSet`; off in
    v1.33): whether StatefulSets keep `rollingUpdate.maxUnavailable` (`feature_gates`)."""
    match_label_keys_in_pod_affinity: bool = attrs.field(default=True, metadata={"fingerprint": "omit-if-default"})
    """The MatchLabelKeysInPodAffinity feature gate (parameter `matchLabelKeysInPodAffinity`; on from
    v1.31, locked on in v1.33): whether pod (anti-)affinity matchLabelKeys / mismatchLabelKeys are
    kept and merged into the selector on create (`pod_affinity`)."""


@attrs.frozen
class Context:
    """A request after authentication and resource resolution: passed to the verb handlers."""

    request: Request
    user: UserInfo
    info: KindInfo
    config: ApiServerConfig
    now: int


def status(code: int, reason: str, message: str = "", **kw: Any) -> Response:
    """Build a Response."""
    return Response(code, reason, message, **kw)


def describe(info: KindInfo, name: str) -> str:
    """`deployments.apps "x"`: how upstream status messages name an object."""
    return f'{qualified_resource(info)} "{name}"'


_BUILTIN_RESOURCES: dict[str, KindInfo] = {}
for _cls in reversed(BUILTIN_KINDS):  # (the first kind of a resource wins, as a walk in order finds it)
    _BUILTIN_RESOURCES[qualified_resource(_cls.INFO)] = _cls.INFO
"""The built-in kinds by qualified resource (`resolve_resource` is asked at every request)."""


def resolve_resource(store: Store, resource: str) -> KindInfo | None:
    """The kind served at a qualified resource: built in, or defined by a stored CRD."""
    info: KindInfo | None = _BUILTIN_RESOURCES.get(resource)
    if info is not None:
        return info
    for crd in store.list("customresourcedefinitions.apiextensions.k8s.io"):
        if isinstance(crd, CustomResourceDefinition) and crd.metadata.deletion_timestamp is None:
            for info in crd.kind_infos():
                if qualified_resource(info) == resource:
                    return info
    return None


SHORT_NAMES: dict[str, str] = {
    "po": "pods", "svc": "services", "deploy": "deployments", "rs": "replicasets", "sts": "statefulsets",
    "cm": "configmaps", "ns": "namespaces", "no": "nodes", "pvc": "persistentvolumeclaims",
    "pv": "persistentvolumes", "ep": "endpoints", "sa": "serviceaccounts", "crd": "customresourcedefinitions",
    "pc": "priorityclasses", "ing": "ingresses", "netpol": "networkpolicies", "hpa": "horizontalpodautoscalers",
    "pdb": "poddisruptionbudgets",
}
"""The built-in kinds' shortNames (discovery) that kubectl accepts as resource types."""


def resolve_type(name: str, crds: Iterable[CustomResourceDefinition]) -> KindInfo | None:
    """The kind `kubectl delete <type> …` means by `name`, as kubectl's RESTMapper resolves it
    (`staging/src/k8s.io/client-go/restmapper`): a kind, a plural or singular resource or a short
    name, case-insensitively, optionally qualified by its group (`deployments.apps`,
    `Widget.example.com`); built-in kinds first, then the kinds of the given CRDs."""
    text = name.lower()
    candidates: list[tuple[KindInfo, set[str]]] = [
        (cls.INFO, {cls.INFO.kind.lower(), cls.INFO.resource,
                    *(short for short, resource in SHORT_NAMES.items() if resource == cls.INFO.resource)})
        for cls in BUILTIN_KINDS
    ]
    for crd in crds:
        names = crd.spec.names
        forms = {names.kind.lower(), names.plural, names.singular or names.kind.lower(), *names.short_names}
        candidates += [(info, forms) for info in crd.kind_infos()[:1]]
    for info, forms in candidates:
        if text in forms or (info.group and any(text == f"{form}.{info.group}" for form in forms)):
            return info
    return None


@lru_cache(maxsize=256)
def _policy(rbac_objects: tuple[ApiObject, ...]) -> RbacPolicy:
    bootstrap = bootstrap_policy()
    objs = (*bootstrap, *rbac_objects)
    return RbacPolicy.from_objects(
        [o for o in objs if isinstance(o, Role)],
        [o for o in objs if isinstance(o, ClusterRole)],
        [o for o in objs if isinstance(o, RoleBinding)],
        [o for o in objs if isinstance(o, ClusterRoleBinding)],
    )


_RBAC_RESOURCES = frozenset(f"{resource}.{RBAC_GROUP}"
                            for resource in ("roles", "clusterroles", "rolebindings", "clusterrolebindings"))
_POLICIES: LastValues[RbacPolicy] = LastValues()
"""The policy for the last few stored-object maps (by identity): a request that writes nothing,
or several requests of one state (the engines try many actions from one state), find it."""


def rbac_policy(store: Store) -> RbacPolicy:
    """The RBAC policy in force: the bootstrap policy plus every stored Role/Binding."""
    return _POLICIES.get1(store.objects, _stored_policy, store.objects)


def _stored_policy(objects: FrozenMap[ObjectKey, ApiObject]) -> RbacPolicy:
    # One pass in key order: each kind's objects in key order, as `RbacPolicy.from_objects` takes them.
    return _policy(tuple(obj for key, obj in objects.sorted_items() if key.resource in _RBAC_RESOURCES))


_AUTHZ_VERB = {
    "create": ("create", ""), "get": ("get", ""), "list": ("list", ""), "update": ("update", ""),
    "update-status": ("update", "status"), "patch": ("patch", ""), "patch-status": ("patch", "status"),
    "delete": ("delete", ""),
    "bind": ("create", "binding"), "evict": ("create", "eviction"), "get-scale": ("get", "scale"),
    "update-scale": ("update", "scale"), "patch-scale": ("patch", "scale"),
    "finalize": ("update", "finalize"),
}


AUTHORIZED_LIMIT = 4_096
"""Authorization decisions `_authorize` keeps before it forgets them all (bounded memory: each keeps
its policy alive)."""
_AUTHORIZED: dict[tuple[Any, ...], tuple[RbacPolicy | None, Decision]] = {}
"""Decisions by the policy's identity (None for `system:masters`), the user and the request's attributes
as plain values."""


def _authorize(store: Store, ctx: Context, namespace: str, name: str) -> Response | None:
    decision = _decision(ctx.user, ctx.request.verb, ctx.info, namespace, "" if ctx.request.verb == "create" else name,
                         store)
    if decision.allowed:
        return None
    target = describe(ctx.info, name) if name else qualified_resource(ctx.info)
    return status(403, "Forbidden", f"{target} is forbidden: {decision.reason}")


def _decision(user: UserInfo, verb: str, info: KindInfo, namespace: str, name: str, store: Store) -> Decision:
    """`rbac.authorize` of the request `verb` (a `Request`'s) on `info`'s resource by `user` under
    the policy of `store` (`rbac_policy`), remembered: the decision is a function of the user, the
    request's attributes and the policy alone — of the first two only for a member of
    `system:masters`, whom `authorize` allows before it reads the policy, as upstream's privileged-group
    authorizer comes first in the chain (`pkg/kubeapiserver/authorizer/reload.go`) —, and a search sends the
    same few requests (a controller's status update of one object, a kubelet's of one pod) under the
    same policy again and again: `rbac_policy` gives the very same object while the stored RBAC
    objects are the same. By the policy's identity (each entry keeps its policy alive, so no
    identity is reused while it is kept) and the rest by value; in-process only."""
    policy = None if SYSTEM_MASTERS in user.groups else rbac_policy(store)
    key = (id(policy), user, verb, info.group, info.resource, namespace, name)
    found = _AUTHORIZED.get(key)
    if found is not None and found[0] is policy:
        return found[1]
    authz_verb, subresource = _AUTHZ_VERB[verb]
    attributes = RequestAttributes(verb=authz_verb, api_group=info.group, resource=info.resource,
                                   subresource=subresource, name=name, namespace=namespace)
    decision = authorize(user, attributes, rbac_policy(store) if policy is None else policy)
    if len(_AUTHORIZED) >= AUTHORIZED_LIMIT:
        _AUTHORIZED.clear()
    _AUTHORIZED[key] = (policy, decision)
    return decision


_SERVICE_ACCOUNTS: LastValues[frozenset[tuple[str, str]]] = LastValues()
"""The stored ServiceAccounts for the last few stored-object maps (by identity), as `_POLICIES`."""


def _service_accounts(store: Store) -> frozenset[tuple[str, str]]:
    return _SERVICE_ACCOUNTS.get1(store.objects, _stored_service_accounts, store.objects)


def _stored_service_accounts(objects: FrozenMap[ObjectKey, ApiObject]) -> frozenset[tuple[str, str]]:
    return frozenset((k.namespace, k.name) for k in objects if k.resource == "serviceaccounts")


def _target(request: Request, info: KindInfo) -> tuple[str, str]:
    """(namespace, name) the request addresses, from the request or its object. A namespaced
    write without one goes to `default`; a LIST without one lists every namespace; a GET without
    one stays without (`_get`)."""
    namespace, name = request.namespace, request.name
    if request.obj is not None:
        namespace = namespace or request.obj.metadata.namespace
        name = name or request.obj.metadata.name
    if not info.namespaced:
        namespace = ""
    elif not namespace and request.verb not in ("list", "get"):
        namespace = "default"
    return namespace, name


def handle(store: Store, request: Request, config: ApiServerConfig, now: int) -> Result:
    """Run one request through the filter chain and its verb handler."""
    from kubeprop.model.api.server_write import WRITE_HANDLERS

    user = authenticate(request.user, config.users, _service_accounts(store))
    if user is None:
        return Result(store, status(401, "Unauthorized", "Unauthorized"))
    if request.impersonate:
        acting = impersonate(user, request.impersonate, rbac_policy(store))
        if isinstance(acting, str):
            return Result(store, status(403, "Forbidden", acting))
        user = acting
    resource = request.resource or (qualified_resource(kind_info(request.obj)) if request.obj is not None else "")
    info = resolve_resource(store, resource)
    if info is None:
        return Result(store, status(404, "NotFound", f'the server could not find the requested resource "{resource}"'))
    if request.obj is not None and kind_info(request.obj) != info:
        message = f"the body of the request is a {kind_info(request.obj).kind}, not a {info.kind} ({resource})"
        return Result(store, status(400, "BadRequest", message))
    ctx = Context(request, user, info, config, now)
    namespace, name = _target(request, info)
    denied = _authorize(store, ctx, namespace, name)
    if denied is not None:
        return Result(store, denied)
    if request.verb == "get":
        return Result(store, _get(store, info, namespace, name))
    if request.verb == "list":
        return Result(store, _list(store, info, namespace, request.label_selector, name))
    if request.verb in SUBRESOURCE_VERBS:
        return _subresource(store, ctx, namespace, name)
    return WRITE_HANDLERS[request.verb](store, ctx, namespace, name)


SUBRESOURCE_VERBS = ("evict", "get-scale", "update-scale", "patch-scale")


def _subresource(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """pods/eviction (`kubeprop.model.api.eviction`) and <workload>/scale (`kubeprop.model.api.scale`)."""
    from kubeprop.model.api import scale
    from kubeprop.model.api.eviction import evict

    handlers = {"evict": evict, "get-scale": scale.read_scale, "update-scale": scale.update_scale,
                "patch-scale": scale.patch_scale}
    return handlers[ctx.request.verb](store, ctx, namespace, name)


def _get(store: Store, info: KindInfo, namespace: str, name: str) -> Response:
    """A GET. Of a namespaced kind without a namespace it is a 404: the API server serves such a
    kind's objects at `/namespaces/{namespace}/{resource}/{name}` only (its cluster-wide path
    `/{resource}` lists; `staging/src/k8s.io/apiserver/pkg/endpoints/installer.go` registerResourceHandlers),
    so `/{resource}/{name}` matches no route, and client-go reads the bare 404 as "the server could
    not find the requested resource" (`rest/request.go` newUnstructuredResponseError)."""
    if info.namespaced and not namespace:
        return status(404, "NotFound", "the server could not find the requested resource")
    obj = store.get(ObjectKey(qualified_resource(info), namespace, name))
    if obj is None:
        return status(404, "NotFound", f"{describe(info, name)} not found")
    return status(200, "OK", obj=obj)


def _list(store: Store, info: KindInfo, namespace: str, selector: LabelSelector | None, name: str = "") -> Response:
    """A LIST; a `name` is the field selector `metadata.name=NAME` (a client's ListWatch of one object,
    as `kubectl rollout status` and `kubectl wait` send: only that object is listed, and the request's
    RBAC attributes carry the name, as `RequestInfoFactory.NewRequestInfo` sets it from the selector,
    `staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go`)."""
    if name:
        found = store.get(ObjectKey(qualified_resource(info), namespace, name))
        candidates: Iterable[ApiObject] = () if found is None else (found,)
    else:
        candidates = store.list(qualified_resource(info), namespace)
    items = tuple(obj for obj in candidates if selector is None or selector_matches(selector, obj.metadata.labels))
    return status(200, "OK", f"resourceVersion {store.revision}", items=items)
