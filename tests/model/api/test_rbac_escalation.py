"""RBAC escalation prevention (kubeprop.model.api.rbac_escalation), through the API server.

Cases follow upstream's `pkg/registry/rbac/validation/rule_test.go` (TestConfirmNoEscalation),
`staging/src/k8s.io/component-helpers/auth/rbac/validation/policy_comparator_test.go` and the
policybased storages (`pkg/registry/rbac/*/policybased/storage.go`).
"""

from __future__ import annotations

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject
from kubeprop.model.api.rbac_authn import UserInfo
from kubeprop.model.api.rbac_escalation import compact_rules, compact_string, covers
from kubeprop.model.api.rbac_kinds import AggregationRule
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.api.server import ApiServerConfig, Request, Response, handle
from kubeprop.model.api.store import Store
from kubeprop.model.frozen import FrozenMap

RBAC = "rbac.authorization.k8s.io"
CONFIG = ApiServerConfig(users=FrozenMap({"root": UserInfo("root", ("system:masters",)),
                                          "dev": UserInfo("dev", ("devs",))}), admission=())


def rule(verbs: str, groups: str, resources: str) -> PolicyRule:
    return PolicyRule(verbs=tuple(verbs.split()), api_groups=tuple(groups.split(",")),
                      resources=tuple(resources.split()))


def _send(store: Store, user: str, verb: str, obj: object) -> tuple[Store, Response]:
    result = handle(store, Request(verb=verb, user=user, obj=obj), CONFIG, 0)  # type: ignore[arg-type]
    return result.store, result.response


def _store(*objects: object) -> Store:
    store = Store()
    for obj in objects:
        store, response = _send(store, "root", "create", obj)
        assert response.code == 201, response.message
    return store


DEV_ROLE = Role(metadata=ObjectMeta(name="dev", namespace="ns"),
                rules=(rule("get list", "apps", "deployments"), rule("create", RBAC, "roles rolebindings")))
DEV_BINDING = RoleBinding(metadata=ObjectMeta(name="dev", namespace="ns"),
                          subjects=(Subject(kind="User", name="dev", api_group=RBAC),),
                          role_ref=RoleRef(RBAC, "Role", "dev"))


def _role(*rules: PolicyRule) -> Role:
    return Role(metadata=ObjectMeta(name="r", namespace="ns"), rules=rules)


def test_a_role_granting_what_the_writer_holds_is_created() -> None:
    _, response = _send(_store(DEV_ROLE, DEV_BINDING), "dev", "create", _role(rule("get", "apps", "deployments")))
    assert response.code == 201, response.message


def test_a_role_granting_more_is_refused_with_upstreams_message() -> None:
    wanted = _role(rule("get list delete", "apps", "deployments"), rule("get", "", "secrets"))
    _, response = _send(_store(DEV_ROLE, DEV_BINDING), "dev", "create", wanted)
    assert response.code == 403
    assert response.message == (
        'roles.rbac.authorization.k8s.io "r" is forbidden: user "dev" (groups=["devs" "system:authenticated"]) '
        "is attempting to grant RBAC permissions not currently held:\n"
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}\n'
        '{APIGroups:["apps"], Resources:["deployments"], Verbs:["delete"]}')


def test_escalate_verb_allows_a_role_granting_more() -> None:
    escalate = Role(metadata=ObjectMeta(name="esc", namespace="ns"), rules=(rule("escalate", RBAC, "roles"),))
    binding = RoleBinding(metadata=ObjectMeta(name="esc", namespace="ns"),
                          subjects=(Subject(kind="User", name="dev", api_group=RBAC),),
                          role_ref=RoleRef(RBAC, "Role", "esc"))
    _, response = _send(_store(DEV_ROLE, DEV_BINDING, escalate, binding), "dev", "create",
                        _role(rule("*", "*", "*")))
    assert response.code == 201, response.message


def test_a_binding_to_a_role_the_writer_does_not_hold_is_refused_unless_it_may_bind() -> None:
    admin = ClusterRole(metadata=ObjectMeta(name="big"), rules=(rule("*", "*", "*"),))
    wanted = RoleBinding(metadata=ObjectMeta(name="b", namespace="ns"),
                         subjects=(Subject(kind="User", name="dev", api_group=RBAC),),
                         role_ref=RoleRef(RBAC, "ClusterRole", "big"))
    store = _store(DEV_ROLE, DEV_BINDING, admin)
    _, response = _send(store, "dev", "create", wanted)
    assert response.code == 403
    assert response.message.startswith('rolebindings.rbac.authorization.k8s.io "b" is forbidden: user "dev"')
    assert response.message.endswith('{APIGroups:["*"], Resources:["*"], Verbs:["*"]}')
    may_bind = Role(metadata=ObjectMeta(name="binder", namespace="ns"),
                    rules=(PolicyRule(verbs=("bind",), api_groups=(RBAC,), resources=("clusterroles",),
                                      resource_names=("big",)),))
    grant = RoleBinding(metadata=ObjectMeta(name="binder", namespace="ns"),
                        subjects=(Subject(kind="User", name="dev", api_group=RBAC),),
                        role_ref=RoleRef(RBAC, "Role", "binder"))
    store, _ = _send(store, "root", "create", may_bind)
    store, _ = _send(store, "root", "create", grant)
    _, response = _send(store, "dev", "create", wanted)
    assert response.code == 201, response.message


def test_a_binding_to_a_missing_role_is_the_registrys_not_found() -> None:
    wanted = RoleBinding(metadata=ObjectMeta(name="b", namespace="ns"),
                         subjects=(Subject(kind="User", name="dev", api_group=RBAC),),
                         role_ref=RoleRef(RBAC, "ClusterRole", "nope"))
    _, response = _send(_store(DEV_ROLE, DEV_BINDING), "dev", "create", wanted)
    assert (response.code, response.message) == (404, 'clusterroles.rbac.authorization.k8s.io "nope" not found')


def test_an_aggregation_rule_needs_cluster_admin() -> None:
    holder = ClusterRole(metadata=ObjectMeta(name="holder"), rules=(rule("escalate", RBAC, "roles"),
                                                                   rule("create", RBAC, "clusterroles")))
    crb = ClusterRoleBinding(metadata=ObjectMeta(name="holder"),
                             subjects=(Subject(kind="User", name="dev", api_group=RBAC),),
                             role_ref=RoleRef(RBAC, "ClusterRole", "holder"))
    aggregated = ClusterRole(metadata=ObjectMeta(name="agg"), aggregation_rule=AggregationRule(
        (LabelSelector(match_labels=FrozenMap({"x": "y"})),)))
    _, response = _send(_store(holder, crb), "dev", "create", aggregated)
    assert response.code == 403
    assert response.message == ('clusterroles.rbac.authorization.k8s.io "agg" is forbidden: '
                                "must have cluster-admin privileges to use the aggregationRule")


def test_system_masters_may_grant_anything() -> None:
    _, response = _send(Store(), "root", "create", _role(rule("*", "*", "*")))
    assert response.code == 201


def test_covers_subresources_names_and_urls() -> None:
    owner = (rule("get", "apps", "*/scale"), PolicyRule(verbs=("get",), non_resource_urls=("/api/*",)),
             PolicyRule(verbs=("get",), api_groups=("",), resources=("secrets",), resource_names=("a",)))
    assert covers(owner, [rule("get", "apps", "deployments/scale")]) == []
    assert covers(owner, [PolicyRule(verbs=("get",), non_resource_urls=("/api/v1",))]) == []
    assert covers(owner, [PolicyRule(verbs=("get",), api_groups=("",), resources=("secrets",),
                                     resource_names=("a",))]) == []
    assert covers(owner, [rule("get", "", "secrets")]) == [rule("get", "", "secrets")]


def test_compact_rules_merges_verbs_of_one_resource() -> None:
    merged = compact_rules([rule("get", "apps", "deployments"), rule("list", "apps", "deployments")])
    assert [compact_string(r) for r in merged] == ['{APIGroups:["apps"], Resources:["deployments"], '
                                                   'Verbs:["get" "list"]}']
