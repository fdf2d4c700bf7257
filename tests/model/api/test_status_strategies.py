"""What a PUT on `/status` stores besides the status (audit22b F3), and the DELETE preconditions'
message (audit22b F4).

* podStatusStrategy.PrepareForUpdate (`pkg/registry/core/pod/strategy.go`) resets only the spec,
  deletionTimestamp and ownerReferences: labels, annotations and finalizers sent to pods/status
  are stored; the last finalizer of a pod deleted with grace 0 removed there deletes it.
* rsStatusStrategy resets the spec alone, deploymentStatusStrategy the spec and labels; the other
  kinds reset the metadata (ResetObjectMetaForStatus).
* rest.BeforeDelete (`staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go`) checks the
  DeleteOptions preconditions first: 409 `Operation cannot be fulfilled on Pod "p": the UID in the
  precondition (x) does not match the UID in record (…). The object might have been deleted and
  then recreated` (the conflict names the *kind*, with its group: `Deployment.apps`).
"""

from __future__ import annotations

import attrs
from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.apps import Deployment, DeploymentSpec, ReplicaSet, ReplicaSetSpec, StatefulSet, StatefulSetSpec
from kubeprop.model.api.meta import ObjectMeta, OwnerReference
from kubeprop.model.api.objects import ApiObject, Container, ObjectKey, Pod, PodSpec
from kubeprop.model.api.pod import PodTemplateSpec
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.api.server import Request, Result, handle
from kubeprop.model.api.store import Store
from kubeprop.model.frozen import FrozenMap

API = ApiHarness(bare_scenario())
KEY = ObjectKey("pods", "default", "p")
HOLD = "example.com/hold"


def send(store: Store, request: Request, now: int = 100) -> Result:
    return handle(store, request, API.config, now)


def _created(obj: ApiObject) -> tuple[Store, ApiObject]:
    result = send(API.base, Request(verb="create", user="admin", obj=obj))
    assert result.response.code == 201, result.response
    assert result.response.obj is not None
    return result.store, result.response.obj


def _pod(finalizers: tuple[str, ...] = ()) -> Pod:
    owner = OwnerReference(api_version="apps/v1", kind="ReplicaSet", name="rs", uid="u-1", controller=True)
    return Pod(metadata=ObjectMeta(name="p", namespace="default", finalizers=finalizers, owner_references=(owner,)),
               spec=PodSpec(containers=(Container(name="app", image="app:1"),), node_name="worker-1"))


def _status_put(store: Store, obj: ApiObject, now: int = 101) -> Result:
    return send(store, Request(verb="update-status", user="admin", obj=obj), now)


def test_pod_status_update_stores_labels_annotations_and_finalizers() -> None:
    store, created = _created(_pod((HOLD,)))
    assert isinstance(created, Pod)
    meta = attrs.evolve(created.metadata, finalizers=(), labels=created.metadata.labels.set("x", "y"),
                        annotations=FrozenMap({"note": "kept"}), owner_references=())
    sent = attrs.evolve(created, metadata=meta, spec=attrs.evolve(created.spec, node_name="elsewhere"),
                        status=attrs.evolve(created.status, phase="Running"))
    result = _status_put(store, sent)
    assert result.response.code == 200, result.response
    stored = result.store.get(KEY)
    assert isinstance(stored, Pod)
    assert stored.status.phase == "Running"
    assert stored.metadata.labels.get("x") == "y" and stored.metadata.annotations.get("note") == "kept"
    assert stored.metadata.finalizers == ()
    # Reset by the strategy: the spec and the ownerReferences.
    assert stored.spec.node_name == "worker-1" and stored.metadata.owner_references == created.metadata.owner_references


def test_removing_the_last_finalizer_through_status_deletes_a_pod_deleted_with_grace_zero() -> None:
    store, _ = _created(_pod((HOLD,)))
    store = send(store, Request(verb="delete", user="admin", resource="pods", namespace="default", name="p",
                                grace_period_seconds=0)).store
    current = store.get(KEY)
    assert isinstance(current, Pod) and current.metadata.deletion_timestamp is not None
    released = attrs.evolve(current, metadata=attrs.evolve(current.metadata, finalizers=()))
    result = _status_put(store, released)
    assert result.response.code == 200 and [e.type for e in result.events] == ["DELETED"]
    assert result.store.get(KEY) is None


def _template(labels: dict[str, str]) -> PodTemplateSpec:
    return PodTemplateSpec(metadata=ObjectMeta(labels=FrozenMap(labels)),
                           spec=PodSpec(containers=(Container(name="app", image="app:1"),)))


def _metadata_sent(obj: ApiObject) -> ApiObject:
    meta = attrs.evolve(obj.metadata, labels=obj.metadata.labels.set("x", "y"),
                        annotations=FrozenMap({"note": "sent"}), finalizers=(HOLD,))
    return attrs.evolve(obj, metadata=meta)  # type: ignore[misc]


def test_replica_set_and_deployment_status_strategies() -> None:
    """ReplicaSet: every metadata field sent is stored; Deployment: all but the labels."""
    labels = {"app": "web"}
    rs = ReplicaSet(metadata=ObjectMeta(name="rs", namespace="default", labels=FrozenMap(labels)),
                    spec=ReplicaSetSpec(selector=LabelSelector(labels), template=_template(labels)))
    store, created = _created(rs)
    stored = _status_put(store, _metadata_sent(created)).store.get(ObjectKey("replicasets.apps", "default", "rs"))
    assert stored is not None and stored.metadata.labels.get("x") == "y"
    assert stored.metadata.annotations.get("note") == "sent" and stored.metadata.finalizers == (HOLD,)
    d = Deployment(metadata=ObjectMeta(name="d", namespace="default", labels=FrozenMap(labels)),
                   spec=DeploymentSpec(selector=LabelSelector(labels), template=_template(labels)))
    store, created = _created(d)
    stored = _status_put(store, _metadata_sent(created)).store.get(ObjectKey("deployments.apps", "default", "d"))
    assert stored is not None and stored.metadata.labels.get("x") is None
    assert stored.metadata.annotations.get("note") == "sent" and stored.metadata.finalizers == (HOLD,)


def test_other_kinds_keep_the_stored_metadata() -> None:
    """ResetObjectMetaForStatus (a StatefulSet, for one): nothing but the status changes."""
    labels = {"app": "db"}
    sts = StatefulSet(metadata=ObjectMeta(name="db", namespace="default", labels=FrozenMap(labels)),
                      spec=StatefulSetSpec(selector=LabelSelector(labels), template=_template(labels)))
    store, created = _created(sts)
    result = _status_put(store, _metadata_sent(created))
    stored = result.store.get(ObjectKey("statefulsets.apps", "default", "db"))
    assert stored is not None and stored.metadata == created.metadata


def _delete(store: Store, resource: str, name: str, uid: str | None = None, rv: str | None = None) -> Result:
    return send(store, Request(verb="delete", user="admin", resource=resource, namespace="default", name=name,
                               precondition_uid=uid, precondition_resource_version=rv))


def test_delete_preconditions_answer_with_before_delete_s_message() -> None:
    store, created = _created(_pod())
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
    d = Deployment(metadata=ObjectMeta(name="d", namespace="default"),
                   spec=DeploymentSpec(selector=LabelSelector(labels), template=_template(labels)))
    store, _ = _created(d)
    refused = _delete(store, "deployments.apps", "d", uid="x").response
    assert refused.message.startswith('Operation cannot be fulfilled on Deployment.apps "d": the UID in the ')
