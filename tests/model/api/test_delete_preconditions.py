"""DELETE preconditions answer with rest.BeforeDelete's message (audit22b F4,
`staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go`): 409 `Operation cannot be fulfilled on
Pod "p": the UID in the precondition (x) does not match the UID in record (…). The object might have
been deleted and then recreated` (the conflict names the *kind*, with its group: `Deployment.apps`)."""

from __future__ import annotations

from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.apps import Deployment, DeploymentSpec
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ApiObject, Container, Pod, PodSpec
from kubeprop.model.api.pod import PodTemplateSpec
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.api.server import Request, Result, handle
from kubeprop.model.api.store import Store
from kubeprop.model.frozen import FrozenMap

API = ApiHarness(bare_scenario())


def send(store: Store, request: Request, now: int = 100) -> Result:
    return handle(store, request, API.config, now)


def _created(obj: ApiObject) -> tuple[Store, ApiObject]:
    result = send(API.base, Request(verb="create", user="admin", obj=obj))
    assert result.response.code == 201, result.response
    assert result.response.obj is not None
    return result.store, result.response.obj


def _delete(store: Store, resource: str, name: str, uid: str | None = None, rv: str | None = None) -> Result:
    return send(store, Request(verb="delete", user="admin", resource=resource, namespace="default", name=name,
                               precondition_uid=uid, precondition_resource_version=rv))


def test_delete_preconditions_answer_with_before_delete_s_message() -> None:
    pod = Pod(metadata=ObjectMeta(name="p", namespace="default"),
              spec=PodSpec(containers=(Container(name="app", image="app:1"),), node_name="worker-1"))
    store, created = _created(pod)
    uid, rv = created.metadata.uid, created.metadata.resource_version
    refused = _delete(store, "pods", "p", uid="x").response
    assert (refused.code, refused.reason) == (409, "Conflict")
    assert refused.message == (f'Operation cannot be fulfilled on Pod "p": the UID in the precondition (x) does not '
                               f"match the UID in record ({uid}). The object might have been deleted and then "
                               "recreated")
    refused = _delete(store, "pods", "p", uid=uid, rv="1").response
    assert refused.message == ('Operation cannot be fulfilled on Pod "p": the ResourceVersion in the precondition (1) '
                               f"does not match the ResourceVersion in record ({rv}). The object might have been "
                               "modified")
    labels = {"app": "web"}
    template = PodTemplateSpec(metadata=ObjectMeta(labels=FrozenMap(labels)),
                               spec=PodSpec(containers=(Container(name="app", image="app:1"),)))
    d = Deployment(metadata=ObjectMeta(name="d", namespace="default"),
                   spec=DeploymentSpec(selector=LabelSelector(labels), template=template))
    store, _ = _created(d)
    refused = _delete(store, "deployments.apps", "d", uid="x").response
    assert refused.message.startswith('Operation cannot be fulfilled on Deployment.apps "d": the UID in the ')
