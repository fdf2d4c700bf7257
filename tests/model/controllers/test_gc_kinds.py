"""The garbage collector on kinds no other controller reads (`kubeprop.model.controllers.gc`,
upstream `GetDeletableResources` / graph_builder.go syncMonitors: every deletable resource is
monitored). On the `kinds/stored` folder: an Ingress owned by the Deployment goes with it; a
ConfigMap owned by the Ingress and a Secret owned by the (cluster-scoped) PriorityClass go with
theirs. Before the collector watched these kinds, the Ingress was never collected, and the
references to an Ingress or PriorityClass counted as solid, so both dependents stayed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubeprop.model.api.codec import encode
from kubeprop.model.api.meta import ObjectMeta, OwnerReference
from kubeprop.model.api.objects import ApiObject, ConfigMap, ObjectKey, Secret, decode_object
from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.controllers.gc import CRDS, DEFAULT_WATCHES, GarbageCollector, collected_resources
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState, send

DATA = Path(__file__).parents[1] / "data"
DEPLOYMENT = ObjectKey("deployments.apps", "default", "web")
INGRESS = ObjectKey("ingresses.networking.k8s.io", "default", "web")
CLASS = ObjectKey("priorityclasses.scheduling.k8s.io", "", "web-critical")


def _ref(state: ClusterState, key: ObjectKey, api_version: str, kind: str) -> OwnerReference:
    owner = state.store.get(key)
    assert owner is not None
    return OwnerReference(api_version=api_version, kind=kind, name=key.name, uid=owner.metadata.uid)


def _ok(model: ClusterModel, state: ClusterState, request: Request) -> ClusterState:
    state, response = send(model, state, ADMIN, request, "user")
    assert response.ok, response.message
    return state


def _create(model: ClusterModel, state: ClusterState, obj: ApiObject) -> ClusterState:
    return _ok(model, state, Request(verb="create", user=ADMIN, obj=obj))


def _delete(model: ClusterModel, state: ClusterState, key: ObjectKey) -> ClusterState:
    return _ok(model, state, Request(verb="delete", user=ADMIN, resource=key.resource, namespace=key.namespace,
                                     name=key.name))


def _settled(**parameters: Any) -> tuple[ClusterModel, ClusterState]:
    model = build_model(load_scenario(DATA / "kinds" / "stored"), parameters=parameters)
    return model, fair_run(model, initial_state(model)).state


def test_the_collector_watches_the_stored_kinds_of_the_scenario() -> None:
    model, _ = _settled()
    gc = next(c for c in model.controllers if isinstance(c, GarbageCollector))
    assert set(gc.watches) - set(DEFAULT_WATCHES) == {
        "ingresses.networking.k8s.io", "ingressclasses.networking.k8s.io", "networkpolicies.networking.k8s.io",
        "priorityclasses.scheduling.k8s.io", CRDS}


def test_a_stored_only_dependent_goes_with_its_owner() -> None:
    model, state = _settled(instantCaches=False)
    owner = encode(_ref(state, DEPLOYMENT, "apps/v1", "Deployment"))
    extra = decode_object({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                           "metadata": {"name": "extra", "namespace": "default", "ownerReferences": [owner]},
                           "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}})
    state = fair_run(model, _create(model, state, extra)).state
    assert state.store.get(ObjectKey(INGRESS.resource, "default", "extra")) is not None
    state = fair_run(model, _delete(model, state, DEPLOYMENT)).state
    assert state.store.get(ObjectKey(INGRESS.resource, "default", "extra")) is None
    assert state.store.get(INGRESS) is not None
    assert not list(state.store.list("pods", "default"))


def test_a_stored_only_owner_takes_its_dependents_namespaced_and_cluster_scoped() -> None:
    model, state = _settled()
    by_ingress = ConfigMap(metadata=ObjectMeta(
        name="routes", namespace="default",
        owner_references=(_ref(state, INGRESS, "networking.k8s.io/v1", "Ingress"),)))
    by_class = Secret(metadata=ObjectMeta(
        name="token", namespace="default",
        owner_references=(_ref(state, CLASS, "scheduling.k8s.io/v1", "PriorityClass"),)))
    state = fair_run(model, _create(model, _create(model, state, by_ingress), by_class)).state
    assert state.store.get(ObjectKey("configmaps", "default", "routes")) is not None
    state = fair_run(model, _delete(model, _delete(model, state, INGRESS), CLASS)).state
    assert state.store.get(ObjectKey("configmaps", "default", "routes")) is None
    assert state.store.get(ObjectKey("secrets", "default", "token")) is None


def test_collected_resources_follow_objects_owner_references_and_own_controllers() -> None:
    _, state = _settled()
    pod = next(iter(state.store.list("pods", "default")))
    owned = ConfigMap(metadata=ObjectMeta(name="x", namespace="default", owner_references=(
        OwnerReference(api_version="rbac.authorization.k8s.io/v1", kind="Role", name="r", uid="u"),
        OwnerReference(api_version="example.com/v1", kind="Unknown", name="u", uid="v"))))
    assert collected_resources((pod, owned)) == ("roles.rbac.authorization.k8s.io",)
    everything = collected_resources((), own_controllers=True)
    assert {"ingresses.networking.k8s.io", "namespaces", "nodes", "priorityclasses.scheduling.k8s.io",
            "rolebindings.rbac.authorization.k8s.io"} <= set(everything)
    assert not set(everything) & {*DEFAULT_WATCHES, CRDS}


def test_a_scenario_without_such_kinds_watches_what_it_did() -> None:
    model = build_model(load_scenario(DATA / "variants" / "web.yaml"))
    gc = next(c for c in model.controllers if isinstance(c, GarbageCollector))
    assert gc.watches == (*DEFAULT_WATCHES, CRDS)
