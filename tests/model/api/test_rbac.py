"""Tests for authentication and RBAC authorization (kubeprop.model.api.rbac, rbac_authn, rbac_bootstrap).

Cases follow upstream's `plugin/pkg/auth/authorizer/rbac/rbac_test.go`,
`pkg/registry/rbac/validation/rule_test.go` and `pkg/apis/rbac/v1/evaluation_helpers_test.go`.
"""

from __future__ import annotations

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeprop.model.api.objects import (
    ClusterRole,
    ClusterRoleBinding,
    ObjectMeta,
    PolicyRule,
    Role,
    RoleBinding,
    RoleRef,
    Subject,
)
from kubeprop.model.api.rbac import (
    Decision,
    RbacPolicy,
    RequestAttributes,
    authorize,
    forbidden_status_message,
    rule_allows,
)
from kubeprop.model.api.rbac_authn import UserInfo, authenticate
from kubeprop.model.api.rbac_bootstrap import bootstrap_policy

ALICE = UserInfo("alice", ("devs", "system:authenticated"))
RBAC = "rbac.authorization.k8s.io"


def rule(verbs: str, groups: str, resources: str, names: str = "") -> PolicyRule:
    return PolicyRule(
        verbs=tuple(verbs.split()), api_groups=tuple(groups.split(",")), resources=tuple(resources.split()),
        resource_names=tuple(names.split()),
    )


def cluster_role(name: str, *rules: PolicyRule) -> ClusterRole:
    return ClusterRole(metadata=ObjectMeta(name=name), rules=rules)


def role(namespace: str, name: str, *rules: PolicyRule) -> Role:
    return Role(metadata=ObjectMeta(name=name, namespace=namespace), rules=rules)


def subject(kind: str, name: str, namespace: str = "") -> Subject:
    group = "" if kind == "ServiceAccount" else RBAC
    return Subject(kind=kind, name=name, namespace=namespace, api_group=group)


def crb(name: str, role_name: str, *subjects: Subject) -> ClusterRoleBinding:
    ref = RoleRef(api_group=RBAC, kind="ClusterRole", name=role_name)
    return ClusterRoleBinding(metadata=ObjectMeta(name=name), subjects=subjects, role_ref=ref)


def rb(namespace: str, name: str, kind: str, role_name: str, *subjects: Subject) -> RoleBinding:
    ref = RoleRef(api_group=RBAC, kind=kind, name=role_name)
    return RoleBinding(metadata=ObjectMeta(name=name, namespace=namespace), subjects=subjects, role_ref=ref)


def req(
    verb: str, group: str, resource: str, namespace: str = "", name: str = "", sub: str = ""
) -> RequestAttributes:
    return RequestAttributes(verb, group, resource, subresource=sub, name=name, namespace=namespace)


def policy(*objects: object) -> RbacPolicy:
    return RbacPolicy.from_any(objects)


def allowed(user: UserInfo, request: RequestAttributes, pol: RbacPolicy) -> bool:
    return authorize(user, request, pol).allowed


# --- authentication -------------------------------------------------------------------------------


def test_authenticate_declared_user_gets_authenticated_group() -> None:
    users = {"alice": UserInfo("alice", ("devs",))}
    assert authenticate("alice", users, ()) == UserInfo("alice", ("devs", "system:authenticated"))


def test_authenticate_does_not_duplicate_authenticated_group() -> None:
    assert authenticate("alice", {"alice": ALICE}, ()) == ALICE


def test_authenticate_service_account() -> None:
    user = authenticate("system:serviceaccount:shop:builder", {}, {("shop", "builder")})
    assert user == UserInfo(
        "system:serviceaccount:shop:builder",
        ("system:serviceaccounts", "system:serviceaccounts:shop", "system:authenticated"),
    )


def test_authenticate_service_account_uid_from_mapping() -> None:
    user = authenticate("system:serviceaccount:shop:builder", {}, {("shop", "builder"): "uid-1"})
    assert user is not None and user.uid == "uid-1"


def test_authenticate_unknown_is_none() -> None:
    assert authenticate("mallory", {"alice": ALICE}, ()) is None
    assert authenticate("system:serviceaccount:shop:ghost", {}, {("shop", "builder")}) is None
    assert authenticate("system:serviceaccount:shop", {}, {("shop", "")}) is None
    assert authenticate("system:serviceaccount:a:b:c", {}, {("a", "b:c")}) is None


# --- rule matching (evaluation_helpers_test.go) ---------------------------------------------------


def test_rule_wildcards() -> None:
    everything = rule("*", "*", "*")
    assert rule_allows(req("deletecollection", "apps", "deployments", "ns"), everything)
    assert rule_allows(req("update", "", "pods", "ns", "p", sub="status"), everything)
    assert not rule_allows(req("get", "apps", "deployments"), rule("get", "", "*"))
    assert not rule_allows(req("get", "", "pods"), rule("*", "*", ""))


def test_subresources_are_distinct_from_their_resource() -> None:
    pods = rule("get update", "", "pods")
    status = rule("get update", "", "pods/status")
    assert rule_allows(req("update", "", "pods", "ns", "p"), pods)
    assert not rule_allows(req("update", "", "pods", "ns", "p", sub="status"), pods)
    assert rule_allows(req("update", "", "pods", "ns", "p", sub="status"), status)
    assert not rule_allows(req("update", "", "pods", "ns", "p"), status)


def test_star_slash_subresource_matches_any_resource() -> None:
    any_status = rule("update", "*", "*/status")
    assert rule_allows(req("update", "apps", "deployments", "ns", "d", sub="status"), any_status)
    assert rule_allows(req("update", "", "pods", "ns", "p", sub="status"), any_status)
    assert not rule_allows(req("update", "", "pods", "ns", "p", sub="statusx"), any_status)
    assert not rule_allows(req("update", "", "pods", "ns", "p"), any_status)


def test_resource_names() -> None:
    named = rule("get update create list", "", "configmaps", names="settings")
    assert rule_allows(req("get", "", "configmaps", "ns", "settings"), named)
    assert not rule_allows(req("get", "", "configmaps", "ns", "other"), named)
    # create and list carry no name in the request, so a name-restricted rule never allows them
    assert not rule_allows(req("create", "", "configmaps", "ns"), named)
    assert not rule_allows(req("list", "", "configmaps", "ns"), named)
    assert rule_allows(req("create", "", "configmaps", "ns"), rule("create", "", "configmaps"))


def test_non_resource_urls() -> None:
    health = PolicyRule(verbs=("get",), non_resource_urls=("/healthz", "/apis/*"))
    def path(p: str) -> RequestAttributes:
        return RequestAttributes("get", "", "", resource_request=False, path=p)
    assert rule_allows(path("/healthz"), health)
    assert rule_allows(path("/apis/apps/v1"), health)
    assert rule_allows(path("/apis/"), health)
    assert not rule_allows(path("/apis"), health)
    assert not rule_allows(path("/healthz/etcd"), health)
    assert not rule_allows(req("get", "", "pods"), health)


# --- bindings (rule_test.go, rbac_test.go) --------------------------------------------------------

EDIT = cluster_role("edit-lite", rule("get list create update delete", "apps", "deployments"))


def test_rolebinding_to_cluster_role_grants_only_in_its_namespace() -> None:
    pol = policy(EDIT, rb("team-a", "edit", "ClusterRole", "edit-lite", subject("User", "alice")))
    assert allowed(ALICE, req("create", "apps", "deployments", "team-a"), pol)
    assert not allowed(ALICE, req("create", "apps", "deployments", "team-b"), pol)
    assert not allowed(ALICE, req("list", "apps", "deployments"), pol)  # all namespaces


def test_cluster_role_binding_grants_everywhere() -> None:
    pol = policy(EDIT, crb("edit", "edit-lite", subject("User", "alice")))
    for namespace in ("team-a", "team-b", ""):
        assert allowed(ALICE, req("list", "apps", "deployments", namespace), pol)
    assert not allowed(ALICE, req("list", "apps", "statefulsets", "team-a"), pol)


def test_role_binding_to_role_uses_the_binding_namespace_role() -> None:
    reader = role("team-a", "reader", rule("get", "", "secrets"))
    pol = policy(reader, rb("team-b", "r", "Role", "reader", subject("User", "alice")))
    # team-b has no Role "reader": the binding grants nothing anywhere
    assert not allowed(ALICE, req("get", "", "secrets", "team-a", "s"), pol)
    assert not allowed(ALICE, req("get", "", "secrets", "team-b", "s"), pol)
    pol = policy(reader, rb("team-a", "r", "Role", "reader", subject("User", "alice")))
    assert allowed(ALICE, req("get", "", "secrets", "team-a", "s"), pol)


def test_group_subjects_match_by_membership() -> None:
    pol = policy(EDIT, crb("devs", "edit-lite", subject("Group", "devs")))
    assert allowed(ALICE, req("get", "apps", "deployments", "x", "d"), pol)
    assert not allowed(UserInfo("bob", ("ops",)), req("get", "apps", "deployments", "x", "d"), pol)
    # a user named like the group is not in it
    assert not allowed(UserInfo("devs"), req("get", "apps", "deployments", "x", "d"), pol)


def test_service_account_subjects() -> None:
    sa = UserInfo("system:serviceaccount:shop:builder", ("system:serviceaccounts:shop",))
    request = req("create", "apps", "deployments", "shop")
    assert allowed(sa, request, policy(EDIT, rb("shop", "b", "ClusterRole", "edit-lite",
                                               subject("ServiceAccount", "builder", "shop"))))
    # namespace omitted in a RoleBinding: the binding's namespace
    assert allowed(sa, request, policy(EDIT, rb("shop", "b", "ClusterRole", "edit-lite",
                                               subject("ServiceAccount", "builder"))))
    # ... but in a ClusterRoleBinding it matches nobody
    assert not allowed(sa, request, policy(EDIT, crb("b", "edit-lite", subject("ServiceAccount", "builder"))))
    # the same name in another namespace is another account
    other = subject("ServiceAccount", "builder", "dev")
    assert not allowed(sa, request, policy(EDIT, crb("b", "edit-lite", other)))
    # all service accounts of a namespace, by group
    group = subject("Group", "system:serviceaccounts:shop")
    assert allowed(sa, request, policy(EDIT, crb("b", "edit-lite", group)))


def test_system_masters_is_always_allowed() -> None:
    root = UserInfo("root", ("system:masters",))
    assert authorize(root, req("escalate", RBAC, "clusterroles"), policy()).allowed
    nobody = UserInfo("root", ("masters",))
    assert not authorize(nobody, req("get", "", "pods", "x"), policy()).allowed


def test_missing_role_grants_nothing_and_is_reported() -> None:
    pol = policy(crb("ghost", "no-such-role", subject("User", "alice")))
    decision = authorize(ALICE, req("get", "", "pods", "default", "p"), pol)
    assert decision == Decision(
        False,
        'User "alice" cannot get resource "pods" in API group "" in the namespace "default": '
        '"RBAC: clusterrole.rbac.authorization.k8s.io \\"no-such-role\\" not found"',
    )


def test_denied_reason_wording() -> None:
    decision = authorize(ALICE, req("create", "apps", "deployments", "default"), policy())
    assert decision.reason == (
        'User "alice" cannot create resource "deployments" in API group "apps" in the namespace "default"'
    )
    assert authorize(ALICE, req("delete", "", "nodes", "", "n1"), policy()).reason == (
        'User "alice" cannot delete resource "nodes" in API group "" at the cluster scope'
    )
    status = req("update", "", "pods", "ns", "p", sub="status")
    assert authorize(ALICE, status, policy()).reason == (
        'User "alice" cannot update resource "pods/status" in API group "" in the namespace "ns"'
    )
    path = RequestAttributes("get", "", "", resource_request=False, path="/metrics")
    assert authorize(ALICE, path, policy()).reason == 'User "alice" cannot get path "/metrics"'
    assert forbidden_status_message(req("get", "", "pods", "ns", "p"), "x") == 'pods "p" is forbidden: x'
    listing = req("list", "apps", "deployments", "ns")
    assert forbidden_status_message(listing, "x") == "deployments.apps is forbidden: x"


def test_allowed_reason_names_the_binding() -> None:
    admin = UserInfo("admin", ("system:authenticated",))
    binding = crb("admin-binding", "cluster-admin", subject("User", "admin"))
    pol = RbacPolicy.from_any((*bootstrap_policy(), binding))
    decision = authorize(admin, req("create", "apps", "deployments", "default"), pol)
    assert decision == Decision(
        True,
        'RBAC: allowed by ClusterRoleBinding "admin-binding" of ClusterRole "cluster-admin" to User "admin"',
    )
    pol = policy(EDIT, rb("ns", "b", "ClusterRole", "edit-lite", subject("ServiceAccount", "sa")))
    sa = UserInfo("system:serviceaccount:ns:sa")
    assert authorize(sa, req("get", "apps", "deployments", "ns", "d"), pol).reason == (
        'RBAC: allowed by RoleBinding "b/ns" of ClusterRole "edit-lite" to ServiceAccount "sa/ns"'
    )


# --- bootstrap policy -----------------------------------------------------------------------------


def test_bootstrap_roles() -> None:
    pol = RbacPolicy.from_any(bootstrap_policy())
    scheduler = UserInfo("system:kube-scheduler", ("system:authenticated",))
    assert allowed(scheduler, req("create", "", "pods", "ns", "p", sub="binding"), pol)
    assert allowed(scheduler, req("update", "", "persistentvolumes", "", "pv"), pol)
    assert not allowed(scheduler, req("create", "", "pods", "ns"), pol)
    kcm = UserInfo("system:kube-controller-manager", ("system:authenticated",))
    assert allowed(kcm, req("watch", "apps", "deployments"), pol)
    assert not allowed(kcm, req("create", "", "pods", "ns"), pol)
    kubelet = UserInfo("system:node:n1", ("system:nodes", "system:authenticated"))
    assert allowed(kubelet, req("patch", "", "pods", "ns", "p", sub="status"), pol)
    no_nodes = RbacPolicy.from_any(bootstrap_policy(bind_nodes_group=False))
    assert not allowed(kubelet, req("patch", "", "pods", "ns", "p", sub="status"), no_nodes)
    anyone = UserInfo("eve", ("system:authenticated",))
    assert allowed(anyone, RequestAttributes("get", "", "", resource_request=False, path="/apis/apps"), pol)
    assert not allowed(anyone, req("get", "", "pods", "ns", "p"), pol)


def test_bootstrap_view_edit_admin_nest() -> None:
    pol = RbacPolicy.from_any((
        *bootstrap_policy(),
        rb("ns", "v", "ClusterRole", "view", subject("User", "viewer")),
        rb("ns", "e", "ClusterRole", "edit", subject("User", "editor")),
        rb("ns", "a", "ClusterRole", "admin", subject("User", "admin")),
    ))
    viewer, editor, admin = UserInfo("viewer"), UserInfo("editor"), UserInfo("admin")
    assert allowed(viewer, req("list", "apps", "deployments", "ns"), pol)
    assert not allowed(viewer, req("get", "", "secrets", "ns", "s"), pol)
    assert allowed(editor, req("get", "", "secrets", "ns", "s"), pol)
    assert allowed(editor, req("patch", "apps", "deployments", "ns", "d"), pol)
    assert not allowed(editor, req("update", "apps", "deployments", "ns", "d", sub="status"), pol)
    assert not allowed(editor, req("create", RBAC, "rolebindings", "ns"), pol)
    assert allowed(admin, req("create", RBAC, "rolebindings", "ns"), pol)
    assert not allowed(admin, req("create", RBAC, "rolebindings", "other"), pol)


# --- monotonicity ---------------------------------------------------------------------------------

_NAMES = st.sampled_from(["alice", "bob", "system:serviceaccount:a:sa"])
_NAMESPACES = st.sampled_from(["", "a", "b"])
_ROLES = st.sampled_from(["r1", "r2", "missing"])
_SUBJECTS = st.one_of(
    st.builds(subject, st.just("User"), _NAMES),
    st.builds(subject, st.just("Group"), st.sampled_from(["devs", "system:serviceaccounts"])),
    st.builds(subject, st.just("ServiceAccount"), st.just("sa"), st.sampled_from(["", "a", "b"])),
)
_BINDINGS = st.one_of(
    st.builds(
        lambda n, r, s: crb(n, r, *s), st.sampled_from(["c1", "c2"]), _ROLES, st.lists(_SUBJECTS, max_size=2)
    ),
    st.builds(
        lambda ns, n, k, r, s: rb(ns, n, k, r, *s),
        st.sampled_from(["a", "b"]),
        st.sampled_from(["b1", "b2"]),
        st.sampled_from(["Role", "ClusterRole"]),
        _ROLES,
        st.lists(_SUBJECTS, max_size=2),
    ),
)
_REQUESTS = st.builds(
    req,
    st.sampled_from(["get", "create", "update"]),
    st.sampled_from(["", "apps"]),
    st.sampled_from(["pods", "deployments"]),
    _NAMESPACES,
    st.sampled_from(["", "x"]),
    st.sampled_from(["", "status"]),
)
_USERS = st.builds(UserInfo, _NAMES, st.sampled_from([(), ("devs",), ("system:serviceaccounts",)]))
_FIXED_ROLES = (
    cluster_role("r1", rule("get create", ",apps", "pods deployments")),
    cluster_role("r2", rule("update", "*", "*/status")),
    role("a", "r1", rule("*", "", "pods", names="x")),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_BINDINGS, max_size=4), _BINDINGS, _USERS, _REQUESTS)
def test_adding_a_binding_never_removes_a_permission(
    bindings: list[RoleBinding | ClusterRoleBinding], extra: RoleBinding | ClusterRoleBinding,
    user: UserInfo, request: RequestAttributes,
) -> None:
    # Same-named bindings replace each other in a store; keep the extra one distinct.
    extra = renamed(extra)
    before = authorize(user, request, policy(*_FIXED_ROLES, *bindings))
    after = authorize(user, request, policy(*_FIXED_ROLES, *bindings, extra))
    assert after.allowed or not before.allowed


def renamed(binding: RoleBinding | ClusterRoleBinding) -> RoleBinding | ClusterRoleBinding:
    """The binding under a name no generated binding uses."""
    return attrs.evolve(binding, metadata=attrs.evolve(binding.metadata, name="extra"))
