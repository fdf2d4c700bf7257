"""`controllers-caches-synced`: every controller's informers sync, so its workers start.

A controller runs its workers only once every informer it reads has synced
(`staging/src/k8s.io/client-go/tools/cache/shared_informer.go` WaitForCacheSync, no timeout;
controller-runtime's manager waits `CacheSyncTimeout`, two minutes by default, then exits with an
error). An informer syncs with the reflector's first successful LIST
(`staging/src/k8s.io/client-go/tools/cache/reflector.go`); a LIST the API server refuses — most
often RBAC: the operator's user may write a kind but not list it, or may list it only in one
namespace while its informer lists every namespace — is retried with back-off for ever, logging
`failed to list <type>: <the 403's message>`, and the controller never reconciles anything. The
model keeps such an informer unsynced (`kubeprop.model.controllers.cache_sync`) until a LIST would
succeed. A controller whose informers watch some namespaces only (its `namespaces`, as upstream's
`informers.WithNamespace`) has one informer per namespace, each LISTing in its namespace, which a
Role bound there allows.

Convergence: it is judged where a fair run settles, so an informer still unsynced there can never
sync without a change to the RBAC objects. Opt-in (`registry.OPT_IN`), and checked by default on
every scenario with a controller whose identity RBAC decides (a user the scenario declares and
does not put in `system:masters`): for the built-in controllers it could not fail.
"""

from __future__ import annotations

from typing import Any

from kubeprop.model.controllers.cache_sync import blockable, informer_refusal, informer_target
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import CheckResult, Property, as_property, register_opt_in_when

__all__ = ["CACHES_SYNCED", "never_synced"]


def never_synced(model: ClusterModel, state: ClusterState) -> CheckResult:
    """The first controller (in the model's order) with an informer that has not synced, and why.
    An informer of one namespace (a controller's `namespaces`) is named with it."""
    for controller in model.controllers:
        unsynced = getattr(state.controllers.get(controller.name), "unsynced", ())
        for informer in unsynced:
            resource, namespace = informer_target(informer)
            error = informer_refusal(state.store, model.api.users, controller.identity, informer) or "(allowed now)"
            which = f"{resource} informer of namespace {namespace!r}" if namespace else f"{resource} informer"
            return (f"controller {controller.name!r} never reconciles: its {which} never syncs "
                    f"(WaitForCacheSync does not return) because the reflector's LIST as {controller.identity!r} "
                    f"fails: failed to list {resource}: {error}", (f"controller {controller.name}",))
    return None


def _applies(scenario: Any) -> bool:
    return bool(blockable(scenario.controllers, scenario.users))


CACHES_SYNCED: Property = register_opt_in_when(__name__, _applies, as_property(
    "controllers-caches-synced",
    "Every controller's informers sync (their LIST is allowed), so its workers start.",
    "staging/src/k8s.io/client-go/tools/cache/reflector.go ListAndWatch; shared_informer.go WaitForCacheSync",
    "convergence", never_synced, reads=("controllers", "objects")))
"""Opt-in built-in (`registry.OPT_IN`), checked by default on scenarios with a controller whose
identity is not trusted (`cache_sync.blockable`)."""
