"""The default RBAC policy the API server reconciles at start-up
(`plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`): ClusterRoles and their
ClusterRoleBindings, as data (`bootstrap_policy`).

Used by the API server when it builds a cluster's initial objects. May import the RBAC kinds
(`rbac_kinds`, `meta`) and the well-known group names (`rbac_authn`); nothing of authorization
(`rbac`), which judges requests against whatever policy a state holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.rbac_aggregation import settle
from kubeprop.model.api.rbac_authn import ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, NODES_GROUP, SYSTEM_MASTERS
from kubeprop.model.api.rbac_kinds import (
    RBAC_GROUP,
    AggregationRule,
    ClusterRole,
    ClusterRoleBinding,
    PolicyRule,
    RoleRef,
    Subject,
)
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.frozen import FrozenMap

READ = "get list watch"
WRITE = "create update patch delete deletecollection"
_LABELS = FrozenMap({"kubernetes.io/bootstrapping": "rbac-defaults"})
_ANNOTATIONS = FrozenMap({"rbac.authorization.kubernetes.io/autoupdate": "true"})


def _rule(verbs: str, groups: str, resources: str, names: str = "") -> PolicyRule:
    """`NewRule(verbs...).Groups(groups...).Resources(resources...).Names(names...)`, each list
    written space-separated (groups comma-separated: `""` is the core group)."""
    return PolicyRule(verbs=tuple(verbs.split()), api_groups=tuple(groups.split(",")),
                      resources=tuple(resources.split()), resource_names=tuple(names.split()))


def _urls(urls: str) -> PolicyRule:
    """`NewRule("get").URLs(urls...)`."""
    return PolicyRule(verbs=("get",), non_resource_urls=tuple(urls.split()))


_EVENTS = _rule("create update patch", ",events.k8s.io", "events")
_REVIEWS = (_rule("create", "authentication.k8s.io", "tokenreviews"),
            _rule("create", "authorization.k8s.io", "subjectaccessreviews"))
_AGGREGATE_TO_VIEW_RULES = (
    _rule(READ, "", "pods replicationcontrollers replicationcontrollers/scale serviceaccounts services "
          "services/status endpoints persistentvolumeclaims persistentvolumeclaims/status configmaps"),
    _rule(READ, "", "limitranges resourcequotas bindings events pods/status resourcequotas/status "
          "namespaces/status replicationcontrollers/status pods/log"),
    _rule(READ, "", "namespaces"),
    _rule(READ, "discovery.k8s.io", "endpointslices"),
    _rule(READ, "apps", "controllerrevisions statefulsets statefulsets/status statefulsets/scale daemonsets "
          "daemonsets/status deployments deployments/status deployments/scale replicasets "
          "replicasets/status replicasets/scale"),
    _rule(READ, "autoscaling", "horizontalpodautoscalers horizontalpodautoscalers/status"),
    _rule(READ, "batch", "jobs cronjobs cronjobs/status jobs/status"),
    _rule(READ, "extensions", "daemonsets daemonsets/status deployments deployments/scale deployments/status "
          "ingresses ingresses/status replicasets replicasets/scale replicasets/status "
          "replicationcontrollers/scale networkpolicies"),
    _rule(READ, "policy", "poddisruptionbudgets poddisruptionbudgets/status"),
    _rule(READ, "networking.k8s.io", "networkpolicies ingresses ingresses/status"),
)
_AGGREGATE_TO_EDIT_RULES = (
    _rule(READ, "", "pods/attach pods/proxy pods/exec pods/portforward secrets services/proxy"),
    _rule("impersonate", "", "serviceaccounts"),
    _rule(WRITE, "", "pods pods/attach pods/proxy pods/exec pods/portforward"),
    _rule("create", "", "pods/eviction"),
    _rule(WRITE, "", "replicationcontrollers replicationcontrollers/scale serviceaccounts services "
          "services/proxy persistentvolumeclaims configmaps secrets"),
    _rule(WRITE, "apps", "statefulsets statefulsets/scale daemonsets deployments deployments/scale "
          "deployments/rollback replicasets replicasets/scale"),
    _rule(WRITE, "autoscaling", "horizontalpodautoscalers"),
    _rule(WRITE, "batch", "jobs cronjobs"),
    _rule(WRITE, "extensions", "daemonsets deployments deployments/scale deployments/rollback ingresses "
          "replicasets replicasets/scale replicationcontrollers/scale networkpolicies"),
    _rule(WRITE, "policy", "poddisruptionbudgets"),
    _rule(WRITE, "networking.k8s.io", "networkpolicies ingresses"),
)
_AGGREGATE_TO_ADMIN_RULES = (
    _rule("create", "authorization.k8s.io", "localsubjectaccessreviews"),
    _rule(f"{READ} {WRITE}", RBAC_GROUP, "roles rolebindings"),
)
AGGREGATE_TO = "rbac.authorization.k8s.io/aggregate-to-"
"""The labels the bootstrap aggregated roles select (`aggregate-to-admin`, `-edit`, `-view`)."""
_SCHEDULER_RULES = (
    _EVENTS, _rule("create", "coordination.k8s.io", "leases"),
    _rule("get update", "coordination.k8s.io", "leases", names="kube-scheduler"),
    _rule(READ, "", "nodes"), _rule("get list watch delete", "", "pods"),
    _rule("create", "", "pods/binding bindings"), _rule("patch update", "", "pods/status"),
    _rule(READ, "", "services replicationcontrollers"), _rule(READ, "apps,extensions", "replicasets"),
    _rule(READ, "apps", "statefulsets"), _rule(READ, "policy", "poddisruptionbudgets"),
    _rule(READ, "", "persistentvolumeclaims persistentvolumes"), *_REVIEWS,
    _rule(READ, "storage.k8s.io", "csinodes csidrivers csistoragecapacities"), _rule(READ, "", "namespaces"),
)
_VOLUME_SCHEDULER_RULES = (
    _rule(f"{READ} update patch", "", "persistentvolumes persistentvolumeclaims"),
    _rule(READ, "storage.k8s.io", "storageclasses"),
)
_CONTROLLER_MANAGER_RULES = (
    _EVENTS, _rule("create", "coordination.k8s.io", "leases"),
    _rule("get update", "coordination.k8s.io", "leases", names="kube-controller-manager"),
    _rule("create", "", "secrets serviceaccounts"), _rule("delete", "", "secrets"),
    _rule("get", "", "namespaces secrets serviceaccounts configmaps"),
    _rule("update", "", "secrets serviceaccounts"), *_REVIEWS,
    _rule("list watch", "*", "*"), _rule("create", "", "serviceaccounts/token"),
)
_NODE_RULES = (
    _rule("create", "authentication.k8s.io", "tokenreviews"),
    _rule("create", "authorization.k8s.io", "subjectaccessreviews localsubjectaccessreviews"),
    _rule(READ, "", "services"), _rule("create get list watch", "", "nodes"),
    _rule("update patch", "", "nodes/status"), _rule("update patch", "", "nodes"),
    _rule("create update patch", "", "events"), _rule(READ, "", "pods"), _rule("create delete", "", "pods"),
    _rule("update patch", "", "pods/status"), _rule("create", "", "pods/eviction"),
    _rule(READ, "", "secrets configmaps"), _rule("get", "", "persistentvolumeclaims persistentvolumes"),
    _rule("get", "", "endpoints"),
    _rule("create get list watch", "certificates.k8s.io", "certificatesigningrequests"),
    _rule("get create update patch delete", "coordination.k8s.io", "leases"),
    _rule("get", "storage.k8s.io", "volumeattachments"),
    _rule("get update patch", "", "persistentvolumeclaims/status"),
    _rule("create", "", "serviceaccounts/token"),
    _rule("get watch list", "storage.k8s.io", "csidrivers"),
    _rule("get create update patch delete", "storage.k8s.io", "csinodes"),
    _rule(READ, "node.k8s.io", "runtimeclasses"),
)
_CLUSTER_ROLES: tuple[tuple[str, tuple[PolicyRule, ...]], ...] = (
    ("cluster-admin", (_rule("*", "*", "*"), PolicyRule(verbs=("*",), non_resource_urls=("*",)))),
    ("system:discovery", (_urls("/livez /readyz /healthz /version /version/ /openapi /openapi/* /api /api/* "
                                "/apis /apis/*"),)),
    ("system:basic-user", (_rule("create", "authorization.k8s.io",
                                 "selfsubjectaccessreviews selfsubjectrulesreviews"),)),
    ("system:public-info-viewer", (_urls("/livez /readyz /healthz /version /version/"),)),
    ("system:aggregate-to-admin", _AGGREGATE_TO_ADMIN_RULES),
    ("system:aggregate-to-edit", _AGGREGATE_TO_EDIT_RULES),
    ("system:aggregate-to-view", _AGGREGATE_TO_VIEW_RULES),
    ("system:kube-scheduler", _SCHEDULER_RULES),
    ("system:volume-scheduler", _VOLUME_SCHEDULER_RULES),
    ("system:kube-controller-manager", _CONTROLLER_MANAGER_RULES),
    ("system:node", _NODE_RULES),
)


def _binding(name: str, subjects: str) -> ClusterRoleBinding:
    """`NewClusterBinding(name).Users/Groups(...)`; `subjects` is space-separated `Kind:name`."""
    subs = tuple(Subject(kind=s.split(":", 1)[0], name=s.split(":", 1)[1], api_group=RBAC_GROUP)
                 for s in subjects.split())
    meta = ObjectMeta(name=name, labels=_LABELS, annotations=_ANNOTATIONS)
    return ClusterRoleBinding(metadata=meta, subjects=subs, role_ref=RoleRef(RBAC_GROUP, "ClusterRole", name))


def _meta(name: str, aggregate_to: str = "") -> ObjectMeta:
    """A default role's metadata: the bootstrapping label (`addClusterRoleLabel`), the autoupdate
    annotation, and for `aggregate_to` = admin, edit or view the label `aggregate-to-<it>`."""
    labels = _LABELS.set(AGGREGATE_TO + aggregate_to, "true") if aggregate_to in _AGGREGATED_NAMES else _LABELS
    return ObjectMeta(name=name, labels=labels, annotations=_ANNOTATIONS)


_AGGREGATED_NAMES = ("admin", "edit", "view")
_AGGREGATED = tuple(
    ClusterRole(metadata=_meta(name, into), aggregation_rule=AggregationRule((
        LabelSelector(match_labels=FrozenMap({AGGREGATE_TO + name: "true"})),)))
    for name, into in (("admin", ""), ("edit", "admin"), ("view", "edit")))
"""admin, edit and view as `policy.go` declares them: an aggregationRule and no rules."""


@lru_cache(maxsize=2)
def bootstrap_policy(*, bind_nodes_group: bool = True) -> tuple[ClusterRole | ClusterRoleBinding, ...]:
    """The default ClusterRoles and ClusterRoleBindings the API server reconciles at start-up.

    Faithful: cluster-admin (bound to group system:masters), system:discovery,
    system:basic-user, system:public-info-viewer and their bindings; system:kube-scheduler and
    system:volume-scheduler (bound to user system:kube-scheduler); system:kube-controller-manager
    (bound to that user). As upstream, the latter only covers the controller manager's own needs
    (leader election, informers, tokens): its controllers act as `system:controller:*` service
    accounts (`controller_policy.go`, not modelled here).

    Faithful: admin, edit and view are aggregated roles, as upstream: admin selects the label
    `rbac.authorization.k8s.io/aggregate-to-admin`, edit `…-to-edit` (and carries `…-to-admin`),
    view `…-to-view` (and carries `…-to-edit`); system:aggregate-to-admin, -edit and -view carry
    the rules. Their rules are those the clusterrole-aggregation controller leaves once it has
    nothing left to do (`rbac_aggregation.settle`): a scenario starts from a settled cluster; the
    roles a scenario adds are the controller's work (`kubeprop.model.controllers.clusterrole_aggregation`).

    Approximated: system:node has upstream's `NodeRules()`. Upstream binds it to nobody (the Node
    authorizer and NodeRestriction admission grant kubelets access to their own node's objects);
    the model has no Node authorizer, so by default the binding names group system:nodes, which
    is broader than upstream. `bind_nodes_group=False` gives upstream's empty binding.
    """
    roles = (*_AGGREGATED, *(ClusterRole(metadata=_meta(name, name.removeprefix("system:aggregate-to-")), rules=rules)
                             for name, rules in _CLUSTER_ROLES))
    return (
        *settle(roles),
        _binding("cluster-admin", f"Group:{SYSTEM_MASTERS}"),
        _binding("system:discovery", f"Group:{ALL_AUTHENTICATED}"),
        _binding("system:basic-user", f"Group:{ALL_AUTHENTICATED}"),
        _binding("system:public-info-viewer", f"Group:{ALL_AUTHENTICATED} Group:{ALL_UNAUTHENTICATED}"),
        _binding("system:kube-controller-manager", "User:system:kube-controller-manager"),
        _binding("system:kube-scheduler", "User:system:kube-scheduler"),
        _binding("system:volume-scheduler", "User:system:kube-scheduler"),
        _binding("system:node", f"Group:{NODES_GROUP}" if bind_nodes_group else ""),
    )


def policy_cluster_roles(stored: Iterable[object]) -> dict[str, ClusterRole]:
    """Every ClusterRole the API server authorizes by, by name: the default policy's, each replaced
    by the `stored` one of its name, then the other `stored` ones (the clusterrole-aggregation
    controller's lister sees the same union: the model keeps the defaults out of the store)."""
    roles = {r.metadata.name: r for r in bootstrap_policy() if isinstance(r, ClusterRole)}
    roles.update({r.metadata.name: r for r in stored if isinstance(r, ClusterRole)})
    return roles
