"""ClusterRole aggregation as a pure function: the rules the clusterrole-aggregation controller
writes into a ClusterRole that has an aggregationRule
(`pkg/controller/clusterroleaggregation/clusterroleaggregation_controller.go` syncClusterRole, v1.33).

For each selector of the role's `aggregationRule.clusterRoleSelectors`, in order: the ClusterRoles
the selector matches (`metav1.LabelSelectorAsSelector`; an invalid selector is an error, the sync
fails), sorted by name, the role itself skipped; each of their rules appended unless an equal rule
is already there (`ruleExists`: semantic equality). The controller writes the result when it differs
from the role's rules. Used by the controller (`kubeprop.model.controllers.clusterrole_aggregation`)
and to settle the bootstrap policy (`rbac_bootstrap`). May import the RBAC kinds and selectors only.
"""

from __future__ import annotations

from collections.abc import Iterable

from kubeprop.model.api.rbac_kinds import ClusterRole, PolicyRule
from kubeprop.model.api.selectors import _selector_is_invalid, selector_matches


class InvalidSelector(ValueError):
    """A clusterRoleSelector `LabelSelectorAsSelector` refuses (the sync returns the error)."""


def aggregated_rules(role: ClusterRole, cluster_roles: Iterable[ClusterRole]) -> tuple[PolicyRule, ...]:
    """The rules syncClusterRole computes for `role` (which has an aggregationRule) from
    `cluster_roles` (the controller's lister: every ClusterRole). `InvalidSelector` for a selector
    upstream cannot convert."""
    assert role.aggregation_rule is not None
    roles = sorted(cluster_roles, key=lambda r: r.metadata.name)
    rules: list[PolicyRule] = []
    for selector in role.aggregation_rule.cluster_role_selectors:
        if not selector.is_empty() and _selector_is_invalid(selector):
            raise InvalidSelector(role.metadata.name)
        for other in roles:
            if other.metadata.name == role.metadata.name or not selector_matches(selector, other.metadata.labels):
                continue
            rules += [r for r in other.rules if r not in rules]
    return tuple(rules)


def settle(cluster_roles: Iterable[ClusterRole]) -> tuple[ClusterRole, ...]:
    """`cluster_roles` with every aggregated role's rules as the controller leaves them once it has
    nothing left to do (a role aggregated into another is itself settled first: repeated until no
    role changes), in the same order. Roles with an invalid selector keep their rules."""
    roles = {r.metadata.name: r for r in cluster_roles}
    changed = True
    while changed:
        changed = False
        for name, role in roles.items():
            if role.aggregation_rule is None:
                continue
            try:
                rules = aggregated_rules(role, roles.values())
            except InvalidSelector:
                continue
            if rules != role.rules:
                roles[name] = ClusterRole(metadata=role.metadata, rules=rules, aggregation_rule=role.aggregation_rule)
                changed = True
    return tuple(roles.values())
