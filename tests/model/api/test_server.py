"""The API server pipeline: one test per upstream rule, plus robustness properties."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from api_harness import ApiHarness, bare_scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import (
    ConfigMap,
    Container,
    Deployment,
    DeploymentSpec,
    ObjectKey,
    Pod,
    PodSpec,
    PodTemplateSpec,
    PolicyRule,
    ReplicaSet,
    ReplicaSetSpec,
    ResourceRequirements,
    Role,
    RoleBinding,
    RoleRef,
    Service,
    ServicePort,
    ServiceSpec,
    Subject,
)
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.server import Request, Result, handle
from kubeprop.model.api.store import Store
from kubeprop.model.api.strategies import invalid_dns1123_subdomains
from kubeprop.model.api.strategies_objects import requests
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.bootstrap import bootstrap
from kubeprop.model.scenario.load import ADMIN
from kubeprop.model.scenario.schema import SCENARIO_API_VERSION, RoleGrant, UserDecl

RBAC = "rbac.authorization.k8s.io"


DEVELOPER = UserDecl(name="developer", roles=(RoleGrant(namespace="default", cluster_role="view"),))
API = ApiHarness(bare_scenario(DEVELOPER))
SCENARIO, CONFIG, BASE = API.scenario, API.config, API.base
assert SCENARIO.spec.api_version == SCENARIO_API_VERSION


def send(store: Store, request: Request, now: int = 100) -> Result:
    return handle(store, request, CONFIG, now)


def container(cpu: str = "100m") -> Container:
    return Container(name="app", image="app:1.0",
                     resources=ResourceRequirements(requests=FrozenMap({"cpu": Quantity.parse(cpu)})))


def deployment(name: str = "web", replicas: int | None = None, app: str = "web") -> Deployment:
    from kubeprop.model.api.selectors import LabelSelector

    return Deployment(
        metadata=ObjectMeta(name=name, namespace="default"),
        spec=DeploymentSpec(
            replicas=replicas,
            selector=LabelSelector(match_labels=FrozenMap({"app": app})),
            template=PodTemplateSpec(ObjectMeta(labels=FrozenMap({"app": app})), PodSpec(containers=(container(),))),
        ),
    )


def pod(name: str = "p", node: str = "") -> Pod:
    return Pod(metadata=ObjectMeta(name=name, namespace="default"),
               spec=PodSpec(containers=(container(),), node_name=node))


def create(store: Store, obj: object, user: str = "admin", now: int = 100) -> Result:
    return send(store, Request(verb="create", user=user, obj=obj), now)  # type: ignore[arg-type]


def test_bootstrap_admits_everything() -> None:
    assert not bootstrap(SCENARIO).rejected


def test_create_applies_deployment_defaults_and_system_fields() -> None:
    result = create(BASE, deployment())
    assert result.response.code == 201
    stored = result.response.obj
    assert isinstance(stored, Deployment)
    assert stored.spec.replicas == 1
    assert stored.spec.strategy.type == "RollingUpdate"
    assert stored.spec.strategy.rolling_update is not None
    assert stored.spec.strategy.rolling_update.max_surge == "25%"
    assert stored.spec.strategy.rolling_update.max_unavailable == "25%"
    assert stored.spec.revision_history_limit == 10
    assert stored.spec.progress_deadline_seconds == 600
    assert stored.metadata.generation == 1
    assert stored.metadata.uid
    assert stored.metadata.creation_timestamp == 100
    assert stored.metadata.resource_version == str(result.store.revision)
    assert [e.type for e in result.events] == ["ADDED"]


def test_create_existing_name_is_409_already_exists() -> None:
    store = create(BASE, deployment()).store
    again = create(store, deployment())
    assert again.response.code == 409
    assert again.response.reason == "AlreadyExists"
    assert again.response.message == 'deployments.apps "web" already exists'
    assert again.store == store


def test_update_with_stale_resource_version_is_409_conflict() -> None:
    first = create(BASE, deployment())
    stored = first.response.obj
    assert stored is not None
    ok = send(first.store, Request(verb="update", user="admin", obj=attrs.evolve(
        stored, spec=attrs.evolve(stored.spec, replicas=3))))
    assert ok.response.code == 200
    stale = send(ok.store, Request(verb="update", user="admin", obj=attrs.evolve(
        stored, spec=attrs.evolve(stored.spec, replicas=4))))
    assert stale.response.code == 409
    assert stale.response.reason == "Conflict"
    assert "the object has been modified" in stale.response.message


def test_generation_bumps_on_spec_change_only() -> None:
    from kubeprop.model.api.selectors import LabelSelector

    rs = ReplicaSet(
        metadata=ObjectMeta(name="rs", namespace="default"),
        spec=ReplicaSetSpec(replicas=1, selector=LabelSelector(match_labels=FrozenMap({"a": "b"})),
                            template=PodTemplateSpec(ObjectMeta(labels=FrozenMap({"a": "b"})),
                                                     PodSpec(containers=(container(),)))),
    )
    created = create(BASE, rs)
    stored = created.response.obj
    assert stored is not None and stored.metadata.generation == 1
    relabelled = attrs.evolve(stored, metadata=attrs.evolve(stored.metadata, labels=FrozenMap({"x": "y"})))
    after_labels = send(created.store, Request(verb="update", user="admin", obj=relabelled))
    assert after_labels.response.obj is not None
    assert after_labels.response.obj.metadata.generation == 1
    rescaled = attrs.evolve(after_labels.response.obj, spec=attrs.evolve(stored.spec, replicas=2))  # type: ignore[union-attr]
    after_scale = send(after_labels.store, Request(verb="update", user="admin", obj=rescaled))
    assert after_scale.response.obj is not None
    assert after_scale.response.obj.metadata.generation == 2


def test_update_keeps_status_and_status_update_keeps_spec() -> None:
    from kubeprop.model.api.objects import DeploymentStatus

    created = create(BASE, deployment())
    stored = created.response.obj
    assert isinstance(stored, Deployment)
    sneaky = attrs.evolve(stored, status=DeploymentStatus(replicas=99))
    main = send(created.store, Request(verb="update", user="admin", obj=sneaky))
    assert main.response.code == 200 and not main.events  # nothing changed: no write
    assert isinstance(main.response.obj, Deployment) and main.response.obj.status.replicas == 0
    status_update = attrs.evolve(stored, spec=attrs.evolve(stored.spec, replicas=7),
                                 status=DeploymentStatus(replicas=2, observed_generation=1))
    sub = send(created.store, Request(verb="update-status", user="admin", obj=status_update))
    assert sub.response.code == 200
    assert isinstance(sub.response.obj, Deployment)
    assert sub.response.obj.status.replicas == 2
    assert sub.response.obj.spec.replicas == 1


def test_unknown_user_is_401() -> None:
    result = create(BASE, deployment(), user="mallory")
    assert (result.response.code, result.response.reason) == (401, "Unauthorized")


def test_view_user_can_read_but_not_write_in_its_namespace() -> None:
    store = create(BASE, deployment()).store
    denied = create(store, deployment("other"), user="developer")
    assert denied.response.code == 403
    assert denied.response.message == (
        'deployments.apps "other" is forbidden: User "developer" cannot create resource "deployments" '
        'in API group "apps" in the namespace "default"'
    )
    got = send(store, Request(verb="get", user="developer", resource="deployments.apps", namespace="default",
                              name="web"))
    assert got.response.code == 200


def test_rolebinding_to_clusterrole_grants_only_in_its_namespace() -> None:
    store = BASE
    binding = RoleBinding(
        metadata=ObjectMeta(name="dev-edit", namespace="default"),
        subjects=(Subject(kind="User", name="developer", api_group=RBAC),),
        role_ref=RoleRef(api_group=RBAC, kind="ClusterRole", name="cluster-admin"),
    )
    store = create(store, binding).store
    in_default = create(store, ConfigMap(metadata=ObjectMeta(name="c", namespace="default")), user="developer")
    assert in_default.response.code == 201
    elsewhere = create(store, ConfigMap(metadata=ObjectMeta(name="c", namespace="kube-system")), user="developer")
    assert elsewhere.response.code == 403


def test_role_with_subresource_rule() -> None:
    role = Role(metadata=ObjectMeta(name="status-writer", namespace="default"),
                rules=(PolicyRule(verbs=("update",), api_groups=("apps",), resources=("deployments/status",)),))
    binding = RoleBinding(metadata=ObjectMeta(name="sw", namespace="default"),
                          subjects=(Subject(kind="User", name="developer", api_group=RBAC),),
                          role_ref=RoleRef(api_group=RBAC, kind="Role", name="status-writer"))
    store = create(create(create(BASE, deployment()).store, role).store, binding).store
    stored = store.get(ObjectKey("deployments.apps", "default", "web"))
    assert isinstance(stored, Deployment)
    assert send(store, Request(verb="update-status", user="developer", obj=stored)).response.code == 200
    assert send(store, Request(verb="update", user="developer", obj=stored)).response.code == 403


def test_create_in_missing_namespace_is_404() -> None:
    cm = ConfigMap(metadata=ObjectMeta(name="c", namespace="nowhere"))
    result = create(BASE, cm)
    assert result.response.code == 404
    assert result.response.message == 'namespaces "nowhere" not found'


def test_invalid_object_is_422_with_field_path() -> None:
    result = create(BASE, deployment(replicas=-1))
    assert result.response.code == 422
    assert result.response.reason == "Invalid"
    assert any(e.path == ("spec", "replicas") for e in result.response.errors)
    assert result.response.message.startswith('Deployment.apps "web" is invalid: ')


def test_pod_gets_default_tolerations() -> None:
    stored = create(BASE, pod()).response.obj
    assert isinstance(stored, Pod)
    keys = {(t.key, t.effect, t.toleration_seconds) for t in stored.spec.tolerations}
    assert ("node.kubernetes.io/not-ready", "NoExecute", 300) in keys
    assert ("node.kubernetes.io/unreachable", "NoExecute", 300) in keys
    assert stored.status.phase == "Pending"


def test_graceful_pod_deletion() -> None:
    store = create(BASE, pod(node="worker-1")).store
    first = send(store, Request(verb="delete", user="admin", resource="pods", namespace="default", name="p"), now=200)
    terminating = first.response.obj
    assert isinstance(terminating, Pod)
    assert terminating.metadata.deletion_timestamp == 230
    assert terminating.metadata.deletion_grace_period_seconds == 30
    assert first.store.get(ObjectKey("pods", "default", "p")) is not None
    final = send(first.store, Request(verb="delete", user="admin", resource="pods", namespace="default", name="p",
                                      grace_period_seconds=0), now=205)
    assert final.store.get(ObjectKey("pods", "default", "p")) is None
    # BeforeDelete shortens the grace period first (an update), then the store removes the pod.
    assert [e.type for e in final.events] == ["MODIFIED", "DELETED"]


def test_unbound_pod_is_deleted_at_once() -> None:
    store = create(BASE, pod()).store
    result = send(store, Request(verb="delete", user="admin", resource="pods", namespace="default", name="p"))
    assert result.store.get(ObjectKey("pods", "default", "p")) is None


def test_finalizers_hold_deletion_until_removed() -> None:
    cm = ConfigMap(metadata=ObjectMeta(name="c", namespace="default", finalizers=("example.com/hold",)))
    store = create(BASE, cm).store
    marked = send(store, Request(verb="delete", user="admin", resource="configmaps", namespace="default", name="c"))
    held = marked.response.obj
    assert held is not None and held.metadata.deletion_timestamp is not None
    released = attrs.evolve(held, metadata=attrs.evolve(held.metadata, finalizers=()))
    done = send(marked.store, Request(verb="update", user="admin", obj=released))
    assert done.store.get(ObjectKey("configmaps", "default", "c")) is None


def test_foreground_propagation_adds_finalizer() -> None:
    store = create(BASE, deployment()).store
    result = send(store, Request(verb="delete", user="admin", resource="deployments.apps", namespace="default",
                                 name="web", propagation_policy="Foreground"))
    obj = result.response.obj
    assert obj is not None
    assert obj.metadata.finalizers == ("foregroundDeletion",)
    assert obj.metadata.generation == 2


def test_bind_then_rebind_conflicts() -> None:
    store = create(BASE, pod()).store
    bind = Request(verb="bind", user="admin", resource="pods", namespace="default", name="p", node_name="worker-2")
    first = send(store, bind)
    assert first.response.code == 201
    assert isinstance(first.response.obj, Pod) and first.response.obj.spec.node_name == "worker-2"
    second = send(first.store, attrs.evolve(bind, node_name="worker-3"))
    assert second.response.code == 409
    assert second.response.message == ('Operation cannot be fulfilled on pods/binding "p": '
                                       'pod p is already assigned to node "worker-2"')


def test_bind_refuses_a_pod_deleted_and_recreated_under_the_name() -> None:
    """The binding's UID is a precondition of the storage update (setPodNodeAndMetadata), checked
    before the pod's own refusals: a binding made for the pod's predecessor does not land on it."""
    store = create(BASE, pod()).store
    live = store.get(ObjectKey("pods", "default", "p"))
    assert isinstance(live, Pod)
    bind = Request(verb="bind", user="admin", resource="pods", namespace="default", name="p", node_name="worker-2",
                   precondition_uid="old-uid")
    refused = send(store, bind)
    assert refused.response.code == 409 and refused.store == store
    assert refused.response.message == ('Operation cannot be fulfilled on pods "p": Precondition failed: '
                                        f"UID in precondition: old-uid, UID in object meta: {live.metadata.uid}")
    bound = send(store, attrs.evolve(bind, precondition_uid=live.metadata.uid))
    assert bound.response.code == 201


def test_bind_does_not_look_at_the_node() -> None:
    """setPodNodeAndMetadata checks only the pod: a binding to a node that does not exist succeeds."""
    store = create(BASE, pod()).store
    bind = Request(verb="bind", user="admin", resource="pods", namespace="default", name="p", node_name="no-such-node")
    assert send(store, bind).response.code == 201


def test_dry_run_changes_nothing() -> None:
    result = send(BASE, Request(verb="create", user="admin", obj=deployment(), dry_run=True))
    assert result.response.code == 201
    assert result.store == BASE


def test_generate_name_is_deterministic() -> None:
    cm = ConfigMap(metadata=ObjectMeta(generate_name="cfg-", namespace="default"))
    a, b = create(BASE, cm), create(BASE, cm)
    assert a.response.obj is not None and b.response.obj is not None
    assert a.response.obj.metadata.name == b.response.obj.metadata.name
    assert a.response.obj.metadata.name.startswith("cfg-") and len(a.response.obj.metadata.name) == 9


def test_services_get_distinct_cluster_ips() -> None:
    def svc(name: str) -> Service:
        return Service(metadata=ObjectMeta(name=name, namespace="default"),
                       spec=ServiceSpec(selector=FrozenMap({"app": name}), ports=(ServicePort(port=80),)))

    first = create(BASE, svc("a"))
    second = create(first.store, svc("b"))
    ips = [r.response.obj.spec.cluster_ip for r in (first, second)]  # type: ignore[union-attr]
    assert ips == ["10.96.1.1", "10.96.1.2"]  # the dynamic band first (service_alloc)


def _service_update(store: Store, name: str, **spec: Any) -> Result:
    """PUT of the stored Service `name` with its spec changed as given (a kubectl replace)."""
    current = store.get(ObjectKey("services", "default", name))
    assert isinstance(current, Service)
    return send(store, Request(verb="update", user="admin", obj=evolve(current, spec=evolve(current.spec, **spec))))


def test_a_service_switched_to_external_name_drops_its_cluster_ip_and_back_gets_one() -> None:
    """dropTypeDependentFields (`pkg/registry/core/service/strategy.go`): ClusterIP → ExternalName
    with the allocated clusterIP/clusterIPs left as they were clears them (the update was a 422,
    "may not be set for ExternalName services", found by audit13); ExternalName → ClusterIP is
    given an address again (`storage/alloc.go` handleClusterIPsForUpdatedService). A clusterIP the
    user also changed is not dropped, and validation refuses it."""
    svc = Service(metadata=ObjectMeta(name="db", namespace="default"),
                  spec=ServiceSpec(selector=FrozenMap({"app": "db"}), ports=(ServicePort(port=5432),)))
    store = create(BASE, svc).store
    external = _service_update(store, "db", type="ExternalName", external_name="db.example.com")
    assert external.response.code == 200, external.response.message
    assert isinstance(external.response.obj, Service)
    assert (external.response.obj.spec.cluster_ip, external.response.obj.spec.cluster_ips) == ("", ())
    changed = _service_update(store, "db", type="ExternalName", external_name="db.example.com",
                              cluster_ip="10.96.0.9", cluster_ips=("10.96.0.9",))
    assert changed.response.code == 422
    back = _service_update(external.store, "db", type="ClusterIP", external_name="")
    assert back.response.code == 200, back.response.message
    assert isinstance(back.response.obj, Service) and back.response.obj.spec.cluster_ip == "10.96.1.1"


def test_a_node_port_service_switched_to_cluster_ip_drops_its_node_ports() -> None:
    """dropTypeDependentFields: NodePort → ClusterIP with the node ports left as they were wipes
    them (validation forbids nodePort on a ClusterIP Service); adding a new one is kept, and refused."""
    svc = Service(metadata=ObjectMeta(name="web", namespace="default"),
                  spec=ServiceSpec(type="NodePort", selector=FrozenMap({"app": "web"}),
                                   ports=(ServicePort(port=80, node_port=30080),)))
    store = create(BASE, svc).store
    plain = _service_update(store, "web", type="ClusterIP")
    assert plain.response.code == 200, plain.response.message
    assert isinstance(plain.response.obj, Service) and plain.response.obj.spec.ports[0].node_port is None
    moved = _service_update(store, "web", type="ClusterIP", ports=(ServicePort(port=80, node_port=30081),))
    assert moved.response.code == 422


def test_patch_is_a_merge_patch() -> None:
    store = create(BASE, deployment()).store
    result = send(store, Request(verb="patch", user="admin", resource="deployments.apps", namespace="default",
                                 name="web", patch={"spec": {"replicas": 4}}))
    assert result.response.code == 200
    assert isinstance(result.response.obj, Deployment) and result.response.obj.spec.replicas == 4


def test_watch_events_are_ordered_and_deleted_carries_last_state() -> None:
    store = create(BASE, pod()).store
    store = send(store, Request(verb="delete", user="admin", resource="pods", namespace="default", name="p")).store
    revisions = [e.revision for e in store.events]
    assert revisions == sorted(revisions) and len(set(revisions)) == len(revisions)
    last = store.events[-1]
    assert last.type == "DELETED" and last.object.metadata.name == "p"


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(requests(), max_size=8))
def test_pipeline_never_raises_and_revisions_increase(batch: list[Request]) -> None:
    store = BASE
    for request in batch:
        result = handle(store, request, CONFIG, 100)
        assert 200 <= result.response.code < 500, result.response
        if result.events:
            assert result.store.revision > store.revision
            assert all(e.revision > store.revision for e in result.events)
        else:
            assert result.store.revision == store.revision
        store = result.store


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["a", "db", "web-1"]), st.integers(0, 5))
def test_create_then_get_returns_the_defaulted_object(name: str, replicas: int) -> None:
    created = create(BASE, deployment(name, replicas))
    got = send(created.store, Request(verb="get", user="admin", resource="deployments.apps", namespace="default",
                                      name=name))
    assert got.response.obj == created.response.obj


@settings(max_examples=100, deadline=None)
@given(invalid_dns1123_subdomains())
def test_invalid_names_are_always_rejected(name: str) -> None:
    result = create(BASE, ConfigMap(metadata=ObjectMeta(name=name, namespace="default")))
    assert result.response.code == 422, name


def test_admin_identity_is_internal() -> None:
    assert ADMIN in SCENARIO.users


@pytest.mark.parametrize("verb", ["get", "delete", "update"])
def test_missing_object_is_404(verb: str) -> None:
    obj = ConfigMap(metadata=ObjectMeta(name="ghost", namespace="default")) if verb == "update" else None
    result = send(BASE, Request(verb=verb, user="admin", resource="configmaps", namespace="default",  # type: ignore[arg-type]
                                name="ghost", obj=obj))
    assert result.response.code == 404
    assert result.response.message == 'configmaps "ghost" not found'
