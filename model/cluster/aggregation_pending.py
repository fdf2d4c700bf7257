"""Why a workload step's 403 may be the clusterrole-aggregation controller not having run yet.

A ClusterRole labelled `rbac.authorization.k8s.io/aggregate-to-edit: "true"` grants nothing through
`edit` until the clusterrole-aggregation controller
(`pkg/controller/clusterroleaggregation/clusterroleaggregation_controller.go`,
`kubeprop.model.controllers.clusterrole_aggregation`) has written its rules into `edit`: until then
the API server authorizes by `edit`'s older rules, and a user bound to `edit` is refused — an
interleaving upstream has as well (the controller acts on its own schedule, after the ClusterRole's
event reaches its informer). The 403 alone does not say so, so the step's failure adds it
(`pending_note`): which labelled ClusterRole had not yet been aggregated into which role, and the
controller's queue. It is added only when the refused request would have been allowed with every
aggregated role as the controller leaves it (`rbac_aggregation.settle`), checked by sending the
same request to the API server over a store holding those roles; nothing else changes.

May import the API server, the RBAC kinds and aggregation, and the cluster state.
"""

from __future__ import annotations

from kubeprop.model.api.rbac_aggregation import settle
from kubeprop.model.api.rbac_bootstrap import policy_cluster_roles
from kubeprop.model.api.rbac_kinds import ClusterRole
from kubeprop.model.api.selectors import selector_matches
from kubeprop.model.api.server import Request, handle
from kubeprop.model.api.store import Store
from kubeprop.model.state.cluster import ClusterModel, ClusterState

__all__ = ["NOTE", "pending_note"]

CONTROLLER = "clusterrole-aggregation"
CLUSTER_ROLES = "clusterroles.rbac.authorization.k8s.io"
NOTE = "the clusterrole-aggregation controller had not yet aggregated"
"""How the note begins (`kubeprop.counterexamples.reliance` finds it in a step's failure)."""


def _with_rules(store: Store, roles: list[ClusterRole]) -> Store:
    """`store` with each of `roles` written as the controller would leave it."""
    for role in roles:
        store = store.put(role, "MODIFIED")[0]
    return store


def _allowed(model: ClusterModel, state: ClusterState, request: Request, roles: list[ClusterRole]) -> bool:
    response = handle(_with_rules(state.store, roles), request, model.api, state.clock).response
    return response.code != 403


def _missing(role: ClusterRole, roles: dict[str, ClusterRole]) -> list[str]:
    """The ClusterRoles `role`'s selectors match whose rules `role` does not hold yet, by name."""
    assert role.aggregation_rule is not None
    selectors = role.aggregation_rule.cluster_role_selectors
    return sorted(name for name, other in roles.items() if name != role.metadata.name
                  and any(selector_matches(s, other.metadata.labels) for s in selectors)
                  and any(rule not in role.rules for rule in other.rules))


def pending_note(model: ClusterModel, state: ClusterState, request: Request) -> str:
    """The note for a step's request the API server refused (403) in `state`: `the clusterrole-
    aggregation controller had not yet aggregated ClusterRole caches-edit into edit; its queue:
    [admin, edit, view]`, or "" when aggregation would not have let it through."""
    if next(state.store.list(CLUSTER_ROLES), None) is None:
        return ""  # the default policy alone: its aggregated roles start settled
    roles = policy_cluster_roles(state.store.list(CLUSTER_ROLES))
    behind = [r for r in settle(roles.values()) if r.rules != roles[r.metadata.name].rules]
    if not behind or not _allowed(model, state, request, behind):
        return ""
    deciding = [r for r in behind if _allowed(model, state, request, [r])] or behind
    parts = []
    for settled in deciding:
        current = roles[settled.metadata.name]
        missing = _missing(current, roles)
        names = f"ClusterRole{'s' if len(missing) > 1 else ''} {', '.join(missing)}" if missing else \
            "the ClusterRoles its selectors match"
        parts.append(f"{names} into {settled.metadata.name}")
    queue = sorted(getattr(state.controllers.get(CONTROLLER), "queue", ()))
    waiting = f"; its queue: [{', '.join(queue)}]" if queue else ""
    return f"{NOTE} {' and '.join(parts)}{waiting}"
