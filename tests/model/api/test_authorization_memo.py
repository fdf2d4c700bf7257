"""The API server's remembered authorization decisions (`server._decision`) are `rbac.authorize`'s
own, and follow the stored RBAC objects: a binding created or deleted changes the answer of the
very same request (a member of `system:masters` is allowed whatever the policy)."""

from __future__ import annotations

from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api import server
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ConfigMap, ObjectKey, RoleBinding, RoleRef, Subject, kind_info
from kubeprop.model.api.rbac import RequestAttributes, authorize
from kubeprop.model.api.rbac_authn import UserInfo
from kubeprop.model.api.server import Request, handle, rbac_policy
from kubeprop.model.api.store import Store
from kubeprop.model.scenario.load import ADMIN
from kubeprop.model.scenario.schema import RoleGrant, UserDecl

RBAC = "rbac.authorization.k8s.io"
DEVELOPER = UserDecl(name="developer", roles=(RoleGrant(namespace="default", cluster_role="view"),))
API = ApiHarness(bare_scenario(DEVELOPER))
BINDING = RoleBinding(
    metadata=ObjectMeta(name="dev-edit", namespace="default"),
    subjects=(Subject(kind="User", name="developer", api_group=RBAC),),
    role_ref=RoleRef(api_group=RBAC, kind="ClusterRole", name="edit"),
)


def _create(store: Store, obj: object, user: str) -> int:
    result = handle(store, Request(verb="create", user=user, obj=obj), API.config, 100)  # type: ignore[arg-type]
    return result.response.code


def test_a_binding_created_then_deleted_changes_the_remembered_answer() -> None:
    config_map = ConfigMap(metadata=ObjectMeta(name="c", namespace="default"))
    before = API.base
    assert _create(before, config_map, "developer") == 403
    assert _create(before, config_map, "developer") == 403  # the same request, the same policy: remembered
    granted = handle(before, Request(verb="create", user=ADMIN, obj=BINDING), API.config, 100).store
    assert _create(granted, config_map, "developer") == 201
    revoked = handle(granted, Request(verb="delete", user=ADMIN, resource="rolebindings.rbac.authorization.k8s.io",
                                      namespace="default", name="dev-edit"), API.config, 100).store
    assert revoked.get(ObjectKey(f"rolebindings.{RBAC}", "default", "dev-edit")) is None
    assert _create(revoked, config_map, "developer") == 403
    assert _create(granted, config_map, "developer") == 201


def test_remembered_decisions_are_authorize_s() -> None:
    stores = (API.base, handle(API.base, Request(verb="create", user=ADMIN, obj=BINDING), API.config, 100).store)
    info = kind_info(ConfigMap(metadata=ObjectMeta(name="c")))
    users = (UserInfo("developer", ("system:authenticated",)),
             UserInfo(ADMIN, ("system:masters", "system:authenticated")))
    for store, user in ((store, user) for store in stores for user in users):
        policy = rbac_policy(store)
        for verb in ("create", "get", "update", "delete", "update-status", "patch"):
            for namespace, name in (("default", "c"), ("kube-system", "c"), ("default", "")):
                authz_verb, subresource = server._AUTHZ_VERB[verb]
                attributes = RequestAttributes(verb=authz_verb, api_group=info.group, resource=info.resource,
                                               subresource=subresource, name=name, namespace=namespace)
                expected = authorize(user, attributes, policy)
                assert server._decision(user, verb, info, namespace, name, store) == expected
                assert server._decision(user, verb, info, namespace, name, store) == expected
