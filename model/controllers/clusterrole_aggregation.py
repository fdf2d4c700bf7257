"""The clusterrole-aggregation controller (kube-controller-manager's `clusterrole-aggregation`,
`pkg/controller/clusterroleaggregation/clusterroleaggregation_controller.go`, v1.33): it writes
into every ClusterRole that has an aggregationRule the rules of the ClusterRoles its selectors
match (`kubeprop.model.api.rbac_aggregation.aggregated_rules`: rule order and deduplication as
upstream's syncClusterRole).

Its informer watches ClusterRoles; every add, update and delete enqueues every ClusterRole that
has an aggregationRule (`enqueue`: "since the set of all clusterroles is small and we don't know the
dependency graph, just queue up every thing each time"). A sync whose rules differ from the role's
sends a server-side apply of the rules alone (`applyClusterRoles`: field manager
`clusterrole-aggregation-controller`, force); one equal to them sends nothing. A role aggregated into
another (view into edit, edit into admin) changes in one sync, the other in a later one, each
enqueued by the write before it: between a labelled ClusterRole's creation and the aggregated
role's update, and between the steps of a chain, requests are authorized by the older rules — an
interleaving upstream has as well.

The model keeps the default policy (`kubeprop.model.api.rbac_bootstrap`) out of the store: the API
server authorizes by it, and a stored ClusterRole of the same name replaces it. The controller's
lister is the same union (the default roles, then its cache's ClusterRoles by name). The default
aggregated roles start settled (`rbac_aggregation.settle`), so a scenario without ClusterRoles gives
the controller nothing to do. Approximated: upstream the default roles are stored from the API
server's start (its bootstrap post-start hook), and the controller's apply only sets their rules; in
the model a default role is stored by the first apply the controller sends for it, which carries the
default role's labels, annotations and aggregationRule as well, so managedFields name the
controller's manager for them too. What the API server authorizes by is the same.

Runs where a scenario's manifests or workload steps hold a ClusterRole, or a user's controller runs
(`uses_cluster_roles`, `kubeprop.model.cluster.compose`). With no ClusterRole stored, its initial
LIST enqueues nothing, so a scenario whose controllers never create one gains no step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ApiObject, ObjectKey, encode_object
from kubeprop.model.api.rbac_aggregation import InvalidSelector, aggregated_rules
from kubeprop.model.api.rbac_bootstrap import policy_cluster_roles
from kubeprop.model.api.rbac_kinds import ClusterRole
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.base import ChangeHandlers, Memoryless
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER
from kubeprop.model.state.component import Change, Reconciliation
from kubeprop.model.state.informer import ObjectView

CLUSTER_ROLES = "clusterroles.rbac.authorization.k8s.io"
FIELD_MANAGER = "clusterrole-aggregation-controller"
"""The field manager of the controller's apply (`applyClusterRoles`)."""


def uses_cluster_roles(objects: Iterable[Any], controllers: Iterable[Any] = ()) -> bool:
    """Whether a scenario can have a ClusterRole (the controller has work only then): one of its
    objects is one, or a user's controller runs (an operator may create aggregated roles for its
    custom resources, labelled `rbac.authorization.k8s.io/aggregate-to-edit`, as many do)."""
    return any(True for _ in controllers) or any(isinstance(obj, ClusterRole) for obj in objects)


def cluster_roles(view: ObjectView) -> Mapping[str, ClusterRole]:
    """The controller's lister: the default ClusterRoles, each replaced by the cached one of its
    name, and the other cached ones."""
    return policy_cluster_roles(view.list(CLUSTER_ROLES))


@attrs.frozen
class ClusterRoleAggregationController(ChangeHandlers, Memoryless):
    """The clusterrole-aggregation controller as a `Controller` (module docstring)."""

    name: str = "clusterrole-aggregation"
    watches: tuple[str, ...] = (CLUSTER_ROLES,)
    identity: str = CONTROLLER_MANAGER_USER

    def keys_for_change(self, change: Change, view: ObjectView) -> Iterable[str]:
        """`enqueue`, on every add, update and delete: every ClusterRole with an aggregationRule."""
        return tuple(sorted(name for name, role in cluster_roles(view).items() if role.aggregation_rule is not None))

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """`syncClusterRole`: the apply of the aggregated rules when they differ from the role's; an
        invalid selector fails the sync (requeued)."""
        roles = cluster_roles(view)
        shared = roles.get(key)
        if shared is None or shared.aggregation_rule is None:
            return Reconciliation(memory=memory)
        try:
            rules = aggregated_rules(shared, roles.values())
        except InvalidSelector:
            return Reconciliation(memory=memory, requeue=True)
        if rules == shared.rules:
            return Reconciliation(memory=memory)
        return Reconciliation((self._apply(shared, rules, stored=view.get(ObjectKey(CLUSTER_ROLES, "", key))),), memory)

    def _apply(self, role: ClusterRole, rules: tuple[Any, ...], stored: ApiObject | None) -> Request:
        """`applyClusterRoles`: `ClusterRole(name).WithRules(rules)`; for a default role not stored
        yet, its whole content (module docstring)."""
        body = role if stored is None else ClusterRole(metadata=ObjectMeta(name=role.metadata.name))
        patch = encode_object(attrs.evolve(body, rules=rules))
        return Request(verb="patch", user=self.identity, resource=CLUSTER_ROLES, name=role.metadata.name,
                       patch=patch, patch_type="apply", field_manager=FIELD_MANAGER, force=True)
