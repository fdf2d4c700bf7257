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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kubeprop.model.api.rbac import (
    SYSTEM_MASTERS,
    RequestAttributes,
    UserInfo,
    authenticate,
    authorize,
    forbidden_status_message,
)
from kubeprop.model.api.server import rbac_policy, resolve_resource
from kubeprop.model.api.store import Store

__all__ = ["blockable", "list_refusal", "refused_lists", "trusted"]


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


def list_refusal(store: Store, users: Mapping[str, UserInfo], identity: str, resource: str) -> str | None:
    """The error a reflector's cluster-scope LIST of `resource` as `identity` gets now, or None if
    the LIST succeeds (or is a 404, after which the informer syncs empty)."""
    if trusted(identity, users):
        return None
    service_accounts = frozenset((k.namespace, k.name) for k in store.objects if k.resource == "serviceaccounts")
    user = authenticate(identity, users, service_accounts)
    if user is None:
        return "Unauthorized"
    info = resolve_resource(store, resource)
    if info is None:
        return None
    request = RequestAttributes(verb="list", api_group=info.group, resource=info.resource)
    decision = authorize(user, request, rbac_policy(store))
    return None if decision.allowed else forbidden_status_message(request, decision.reason)


def refused_lists(store: Store, users: Mapping[str, UserInfo], identity: str,
                  resources: Iterable[str]) -> tuple[str, ...]:
    """Those of `resources` whose LIST as `identity` is refused now, in the order given."""
    if trusted(identity, users):
        return ()
    return tuple(r for r in resources if list_refusal(store, users, identity, r) is not None)
