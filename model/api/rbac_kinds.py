"""`rbac.authorization.k8s.io/v1` kinds (`staging/src/k8s.io/api/rbac/v1/types.go`).

Evaluation (which rules grant a request) is in `kubeprop.model.api.rbac`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from kubeprop.model.api.meta import KindInfo, ObjectMeta

RBAC_GROUP = "rbac.authorization.k8s.io"
"""The API group's name (`GroupName`, `staging/src/k8s.io/api/rbac/v1/register.go`): of the kinds
below and of every roleRef and subject that names a Role, ClusterRole, User or Group."""


@attrs.frozen
class PolicyRule:
    """Verbs allowed on resources (or non-resource URLs); `*` is a wildcard."""

    verbs: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = attrs.field(default=(), metadata={"json": "nonResourceURLs"})


@attrs.frozen(cache_hash=True)
class Role:
    """A namespaced set of rules."""

    INFO: ClassVar[KindInfo] = KindInfo(RBAC_GROUP, "v1", "Role", "roles", namespaced=True, status_subresource=False)

    metadata: ObjectMeta = ObjectMeta()
    rules: tuple[PolicyRule, ...] = ()


@attrs.frozen(cache_hash=True)
class ClusterRole:
    """A cluster-wide set of rules; bound by a RoleBinding it grants only in that namespace."""

    INFO: ClassVar[KindInfo] = KindInfo(
        RBAC_GROUP, "v1", "ClusterRole", "clusterroles", namespaced=False, status_subresource=False
    )

    metadata: ObjectMeta = ObjectMeta()
    rules: tuple[PolicyRule, ...] = ()
    aggregation_rule: Any = None


@attrs.frozen
class Subject:
    """User, Group or ServiceAccount a binding applies to."""

    kind: str = ""
    name: str = ""
    namespace: str = ""
    api_group: str = ""


@attrs.frozen
class RoleRef:
    """The Role or ClusterRole a binding grants."""

    api_group: str = ""
    kind: str = ""
    name: str = ""


@attrs.frozen(cache_hash=True)
class RoleBinding:
    """Grants a Role or ClusterRole to subjects within the binding's namespace."""

    INFO: ClassVar[KindInfo] = KindInfo(
        RBAC_GROUP, "v1", "RoleBinding", "rolebindings", namespaced=True, status_subresource=False
    )

    metadata: ObjectMeta = ObjectMeta()
    subjects: tuple[Subject, ...] = ()
    role_ref: RoleRef = RoleRef()


@attrs.frozen(cache_hash=True)
class ClusterRoleBinding:
    """Grants a ClusterRole to subjects cluster-wide."""

    INFO: ClassVar[KindInfo] = KindInfo(
        RBAC_GROUP, "v1", "ClusterRoleBinding", "clusterrolebindings", namespaced=False, status_subresource=False
    )

    metadata: ObjectMeta = ObjectMeta()
    subjects: tuple[Subject, ...] = ()
    role_ref: RoleRef = RoleRef()
