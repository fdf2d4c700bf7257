"""The scale subresource (`kubeprop.model.api.scale`) and `kubectl scale` through it, against upstream
`pkg/registry/apps/deployment/storage/storage.go` ScaleREST (GET, and PUT/PATCH through
scaleUpdatedObjectInfo), `staging/src/k8s.io/kubectl/pkg/scale/scale.go` ScaleSimple (a merge
patch of `<resource>/scale`) and the RBAC attributes of a subresource request
(`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go` forbiddenMessage:
`resource "deployments/scale"`).

Audit 10's false alarm: the `scale` step merge-patched the Deployment itself, so a user allowed
`patch deployments/scale` but not `patch deployments` was refused in the model only, and one
allowed the reverse scaled where upstream refuses."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from kubeprop.model.api.apps import Deployment
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.scale import Scale
from kubeprop.model.api.server import Request, Response, handle
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "scale" / "scenario.yaml"
WEB = ObjectKey("deployments.apps", "default", "web")


@pytest.fixture(scope="module")
def cluster() -> tuple[ClusterModel, ClusterState]:
    model = build_model(load_scenario(SCENARIO))
    return model, initial_state(model)


def _as(tmp_path: Path, user: str) -> ClusterModel:
    text = SCENARIO.read_text().replace("as: scaler", f"as: {user}")
    for name in ("web.yaml", "roles.yaml"):
        (tmp_path / name).write_text((SCENARIO.parent / name).read_text())
    (tmp_path / "scenario.yaml").write_text(text)
    return build_model(load_scenario(tmp_path / "scenario.yaml"))


def _web(state: ClusterState) -> Deployment:
    web = state.store.get(WEB)
    assert isinstance(web, Deployment)
    return web


def _send(model: ClusterModel, state: ClusterState, verb: str, user: str = "admin", **kw: object
          ) -> tuple[ClusterState, Response]:
    request = Request(verb=verb, user=user, resource=kw.pop("resource", "deployments.apps"),  # type: ignore[arg-type]
                      namespace="default", name=str(kw.pop("name", "web")), **kw)  # type: ignore[arg-type]
    result = handle(state.store, request, model.api, state.clock)
    return attrs.evolve(state, store=result.store), result.response


def test_a_user_allowed_only_the_scale_subresource_scales(cluster: tuple[ClusterModel, ClusterState]) -> None:
    """Upstream: GET deployments (allowed), PATCH deployments/scale (allowed): replicas 2. The old
    model refused it: `cannot patch resource "deployments"`."""
    model, state = cluster
    generation = _web(state).metadata.generation
    state = step(model, state, UserStep(0))
    assert dict(state.workload_errors) == {}
    assert _web(state).spec.replicas == 2 and _web(state).metadata.generation == generation + 1


@pytest.mark.parametrize(("user", "refused"), [
    # patch on deployments does not cover deployments/scale: 403 naming the subresource, as
    # upstream's forbiddenMessage (the old model scaled)
    ("patcher", 'cannot patch resource "deployments/scale"'),
    # kubectl's resource builder GETs the Deployment before the scale patch: a user who may patch
    # the scale but not GET the Deployment gets the GET's 403 and nothing is written
    ("blind", 'cannot get resource "deployments"'),
])
def test_kubectl_scale_refused(tmp_path: Path, user: str, refused: str) -> None:
    model = _as(tmp_path, user)
    state = step(model, initial_state(model), UserStep(0))
    assert state.workload_errors[0] == (
        f'403 Forbidden: deployments.apps "web" is forbidden: User "{user}" {refused} in API group "apps" in the '
        'namespace "default"')
    assert _web(state).spec.replicas == 1


def test_get_returns_the_scale_and_needs_get_on_the_subresource(cluster: tuple[ClusterModel, ClusterState]) -> None:
    model, state = cluster
    web = _web(state)
    _, response = _send(model, state, "get-scale")
    assert response.code == 200 and response.obj is None
    assert response.scale == Scale("web", "default", web.metadata.resource_version, 1, web.status.replicas, "app=web",
                                   web.spec.selector, web.metadata.uid)
    _, response = _send(model, state, "get-scale", user="patcher")
    assert response.code == 403 and 'cannot get resource "deployments/scale"' in response.message
    assert _send(model, state, "get-scale", name="nope")[1].message == 'deployments.apps "nope" not found'
    no_route = _send(model, state, "get-scale", resource="pods", name="x")[1]
    assert (no_route.code, no_route.message) == (404, "the server could not find the requested resource")


def test_patch_writes_replicas_and_returns_the_scale(cluster: tuple[ClusterModel, ClusterState]) -> None:
    model, state = cluster
    before = _web(state)
    after, response = _send(model, state, "patch-scale", patch={"spec": {"replicas": 4}})
    web = _web(after)
    assert response.code == 200 and response.scale is not None and response.scale.spec_replicas == 4
    assert response.scale.resource_version == web.metadata.resource_version != before.metadata.resource_version
    assert web.spec.replicas == 4 and web.metadata.generation == before.metadata.generation + 1
    assert attrs.evolve(web.spec, replicas=1) == before.spec
    unchanged, response = _send(model, after, "patch-scale", patch={"spec": {"replicas": 4}})
    assert response.ok and unchanged.store.revision == after.store.revision


def test_write_failures_in_upstream_words(cluster: tuple[ClusterModel, ClusterState]) -> None:
    model, state = cluster
    web = _web(state)
    cases = [
        ("patch-scale", {"spec": {"replicas": -1}}, "web", 422,
         'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'),
        ("patch-scale", {"spec": {"replicas": "2"}}, "web", 400,
         'Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal str into Go struct field '
         "spec.replicas of type int32"),
        ("update-scale", {"spec": {"replicas": 2}, "metadata": {"resourceVersion": "1"}}, "web", 409,
         'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your '
         "changes to the latest version and try again"),
        ("patch-scale", {"metadata": {"uid": "other"}}, "web", 409,
         f'Operation cannot be fulfilled on deployments/scale.apps "web": Precondition failed: UID in precondition: '
         f"other, UID in object meta: {web.metadata.uid}"),
        ("patch-scale", {"spec": {"replicas": 2}}, "nope", 404, 'deployments/scale.apps "nope" not found'),
    ]
    for verb, body, name, code, message in cases:
        after, response = _send(model, state, verb, patch=body, name=name)
        assert (response.code, response.message) == (code, message), body
        assert after.store == state.store


def test_put_of_a_scale_without_replicas_is_zero(cluster: tuple[ClusterModel, ClusterState]) -> None:
    """A PUT body is the whole Scale: `spec.replicas` left out is Go's zero value (omitempty int32)."""
    model, state = cluster
    after, response = _send(model, state, "update-scale", patch={"spec": {}})
    assert response.ok and _web(after).spec.replicas == 0


def test_managed_fields_record_the_scale_subresource(cluster: tuple[ClusterModel, ClusterState]) -> None:
    """On an object someone applied server-side, the scale writer owns spec.replicas with
    subresource `scale` (`managedfields.NewScaleHandler` ToParent)."""
    model, state = cluster
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": 1}}
    state, response = _send(model, state, "patch", patch=body, patch_type="apply", field_manager="ops")
    assert response.ok, response.message
    state, response = _send(model, state, "patch-scale", patch={"spec": {"replicas": 3}}, field_manager="kubectl-scale")
    assert response.ok, response.message
    entries = {(e.manager, e.operation, e.subresource) for e in _web(state).metadata.managed_fields}
    assert ("kubectl-scale", "Update", "scale") in entries
