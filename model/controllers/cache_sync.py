"""Whether a controller's informers can sync: the LIST its reflector sends, authorized as its identity.

Upstream an operator builds its informers with its own credentials
(`informers.NewSharedInformerFactory(client, …)`: every namespace, so each reflector LISTs and
WATCHes at the cluster scope), and a controller starts its workers only once every informer it
reads has synced (`staging/src/k8s.io/client-go/tools/cache/shared_informer.go`
WaitForNamedCacheSync → WaitForCacheSync polls each `HasSynced` until all are true or the stop
channel closes: no timeout). An informer has synced when its DeltaFIFO was populated by the
reflector's first successful LIST (`Replace`) and those items were popped.

The reflector (`staging/src/k8s.io/client-go/tools/cache/reflector.go`) runs ListAndWatch under
`wait.BackoffUntil` with `NewExponentialBackoffManager(800ms, 30s, 2m, 2.0, 1.0)`:

- a refused LIST (403 Forbidden, 401 Unauthorized) makes `list` log
  `"%s: failed to list %v: %v"` and return `failed to list <type>: <err>`; `DefaultWatchErrorHandler`
  reports it and the reflector tries again after the back-off, for ever (retries settle at one
  every 30–60 s). The informer never syncs, WaitForCacheSync never returns, the controller never
  reconciles — controller-runtime's manager gives up after its `CacheSyncTimeout` (2 minutes by
  default) and exits with `failed to wait for <name> caches to sync`, to be restarted and fail the
  same way. Once the bindings allow the LIST, the next retry succeeds and the informer syncs;
- a LIST of a resource the server does not serve (404) is an "emergency sync" with an empty list:
  the informer syncs (the model: an unserved resource is an empty cache, `resolve_resource`);
- a refused WATCH after a successful LIST does *not* keep the informer from syncing: the LIST
  already populated the store (`syncWith` → `Replace`), so HasSynced is true; the WATCH error
  (not retriable: `isWatchErrorRetriable` is only connection refused and 429) ends ListAndWatch,
  and the reflector LISTs again after the back-off. Such a cache is refreshed by a full LIST every
  30–60 s instead of by watch events. The model does not tell that apart (its controller manager
  cache is shared and watched, see docs/controllers.md): only the LIST is authorized here.

The check is `authorize` of `RequestAttributes(verb="list", namespace="")` — a Role that grants
list in one namespace does not allow the cluster-scope LIST (`plugin/pkg/auth/authorizer/rbac/
rbac.go`: RoleBindings are visited only for a namespaced request) — and the message is the one the
API server's 403 carries (`forbidden_status_message`).

**Namespace-scoped informers.** An operator that watches some namespaces only builds its informers
with them (the controller's optional `namespaces`, `kubeprop.model.state.component.
controller_namespaces`): client-go's `NewSharedInformerFactoryWithOptions(client, resync,
WithNamespace(ns))` (`staging/src/k8s.io/client-go/informers/factory.go`; the generated informers
then LIST and WATCH `client.CoreV1().ConfigMaps(ns)`, `/api/v1/namespaces/NS/configmaps`), or
controller-runtime's `cache.Options{DefaultNamespaces: …}`, one informer per namespace and type
(`pkg/cache/multi_namespace_cache.go`: GetInformer; its HasSynced is true once each namespace's
has synced). So each watched namespaced resource has one informer per namespace
(`informer_name`: `namespaces/NS/<resource>`), each authorized on its own as a LIST in NS — which a
Role bound in NS allows — and the controller's workers start once all of them have synced.

A cluster-scoped resource (nodes, namespaces, persistentvolumes, a cluster-scoped custom resource)
keeps one informer at the cluster scope: the generated informers ignore the factory's namespace
for it (`staging/src/k8s.io/client-go/informers/core/v1/interface.go`: `Nodes()`,
`Namespaces()`, `PersistentVolumes()` build theirs without it; `node.go` lists
`client.CoreV1().Nodes()`), and controller-runtime's multi-namespace cache keeps such types in a
cluster-wide cache (`multi_namespace_cache.go` clusterCache, `if !isNamespaced`). Its LIST needs
a ClusterRole, as for every controller. Upstream refuses no such declaration: controller-runtime
errors only for a per-type namespace list on a cluster-scoped type (`pkg/cache/cache.go`
defaultOpts: `type %T is not namespaced, but its ByObject.Namespaces setting is not nil`), which
the model has no counterpart of. Left out: client-go's *dynamic* informer factory
(`staging/src/k8s.io/client-go/dynamic/dynamicinformer/informer.go`, with a namespace) does send a
cluster-scoped custom resource's LIST to the namespaced path, which the API server answers with 404
(`staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/customresource_handler.go`: a request
whose scope does not match the CRD's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.rbac import RequestAttributes, authorize, forbidden_status_message
from kubeprop.model.api.rbac_authn import SYSTEM_MASTERS, UserInfo, authenticate
from kubeprop.model.api.server import rbac_policy, resolve_resource
from kubeprop.model.api.store import Store
from kubeprop.model.state.component import controller_namespaces

__all__ = ["blockable", "informer_name", "informer_of", "informer_refusal", "informer_target", "informers",
           "list_refusal", "refused_informers", "trusted"]

_PREFIX = "namespaces/"


def trusted(identity: str, users: Mapping[str, UserInfo]) -> bool:
    """True if `identity` is a declared member of `system:masters`: every request of it is
    allowed, so its informers always sync (the controller manager's, the built-in controllers')."""
    user = users.get(identity)
    return user is not None and SYSTEM_MASTERS in user.groups


def blockable(controllers: Iterable[object], users: Mapping[str, UserInfo]) -> tuple[str, ...]:
    """The names of the controllers whose informers may fail to sync: those whose identity is not
    trusted (`trusted`), whose LISTs RBAC decides."""
    return tuple(str(getattr(c, "name", "")) for c in controllers
                 if not trusted(str(getattr(c, "identity", "")), users))


def informer_name(resource: str, namespace: str = "") -> str:
    """The name of the informer of `resource` in `namespace` (`namespaces/NS/<resource>`, the tail of
    the path it LISTs), or of `resource` at the cluster scope (the resource itself)."""
    return f"{_PREFIX}{namespace}/{resource}" if namespace else resource


def informer_target(informer: str) -> tuple[str, str]:
    """(resource, namespace) of an informer's name (`informer_name`); the namespace is "" at the
    cluster scope."""
    if informer.startswith(_PREFIX):
        namespace, _, resource = informer[len(_PREFIX):].partition("/")
        return resource, namespace
    return informer, ""


def informer_of(namespaces: tuple[str, ...], key: ObjectKey) -> str:
    """The informer that an event about `key` reaches a controller through, given its `namespaces`
    (the caller has checked that the object is cluster-scoped or in one of them)."""
    return informer_name(key.resource, key.namespace) if namespaces else key.resource


def informers(store: Store, controller: Any) -> tuple[str, ...]:
    """A controller's informers, in the order of its `watches`: one per resource, at the cluster
    scope; for a controller with `namespaces`, one per namespace of each namespaced resource (and of
    a custom resource not served yet: its scope is not known) and one for each cluster-scoped one."""
    namespaces = controller_namespaces(controller)
    if not namespaces:
        return tuple(controller.watches)
    out: list[str] = []
    for resource in controller.watches:
        info = resolve_resource(store, resource)
        if info is not None and not info.namespaced:
            out.append(resource)
        else:
            out.extend(informer_name(resource, namespace) for namespace in namespaces)
    return tuple(out)


def list_refusal(store: Store, users: Mapping[str, UserInfo], identity: str, resource: str,
                 namespace: str = "") -> str | None:
    """The error a reflector's LIST of `resource` as `identity` gets now — at the cluster scope, or
    in `namespace` for a namespaced resource — or None if the LIST succeeds (or is a 404, after
    which the informer syncs empty)."""
    if trusted(identity, users):
        return None
    service_accounts = frozenset((k.namespace, k.name) for k in store.objects if k.resource == "serviceaccounts")
    user = authenticate(identity, users, service_accounts)
    if user is None:
        return "Unauthorized"
    info = resolve_resource(store, resource)
    if info is None:
        return None
    request = RequestAttributes(verb="list", api_group=info.group, resource=info.resource,
                                namespace=namespace if info.namespaced else "")
    decision = authorize(user, request, rbac_policy(store))
    return None if decision.allowed else forbidden_status_message(request, decision.reason)


def informer_refusal(store: Store, users: Mapping[str, UserInfo], identity: str, informer: str) -> str | None:
    """`list_refusal` of the LIST that `informer` (`informer_name`) sends."""
    return list_refusal(store, users, identity, *informer_target(informer))


def refused_informers(store: Store, users: Mapping[str, UserInfo], controller: Any) -> tuple[str, ...]:
    """Those of the controller's `informers` whose LIST as its identity is refused now, in order."""
    identity = str(controller.identity)
    if trusted(identity, users):
        return ()
    return tuple(i for i in informers(store, controller) if informer_refusal(store, users, identity, i) is not None)
