"""A user-supplied controller: the Database operator (a worked example for docs/controllers.md).

A `Database` custom object (`databases.example.com/v1`, spec `{engine, replicas, storage}`)
becomes three children, all named after it and controlled by it (an ownerReference with
`controller: true` and `blockOwnerDeletion: true`, as `metav1.NewControllerRef` builds in
`staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/controller_ref.go`):

- a headless Service `<name>` (clusterIP None, port 5432, selector `app=<name>`) — the
  StatefulSet's governing service, which gives each pod a stable DNS name;
- a Secret `<name>-credentials` whose password is derived from the Database's UID with SHA-256:
  the same Database always gets the same password, and nothing here is random (the model is
  deterministic, and a random password would make every reconcile look like a change);
- a StatefulSet `<name>` (serviceName `<name>`, `spec.replicas` replicas, a volumeClaimTemplate
  `data` of `spec.storage`, one postgres container with a readiness probe, requests 100m/128Mi).

It keeps the children in line with the spec (replicas of the StatefulSet, selector and ports of
the Service, the Secret's data) and reports in the Database's status (`update-status`):
`phase` (Pending until every child exists and the StatefulSet's ready replicas match the spec,
then Ready), `readyReplicas` (the StatefulSet's) and `observedGeneration` (the Database's
`metadata.generation` the status describes).

It is written the way docs/controllers.md tells users to write controllers:

- `reconcile` reads only the view (the controller manager's informer cache, which may lag), never
  the store, never the clock for decisions, nothing random;
- it is idempotent: a second reconcile on the same view sends nothing (children are compared on
  the fields the operator owns, not on fields the API server defaults);
- writes carry the cached resourceVersion, so a decision taken on a stale cache fails with 409
  Conflict, and the key is requeued by the framework;
- waiting is done by the work queue, not by looping: the operator watches StatefulSets,
  Services and Secrets, and every change of one of its children enqueues the Database again, so
  waiting for the StatefulSet to become ready needs no explicit requeue. (A controller waiting on
  something no watch event announces sets `Reconciliation.requeue`; the model requeues at once,
  see docs/controllers.md.)

Run it with the scenario's folder on the import path:
`PYTHONPATH=examples/database_operator kubeprop validate examples/database_operator/scenario.yaml`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from kubeprop.model.api.objects import (
    ApiObject,
    CustomObject,
    ObjectKey,
    Secret,
    Service,
    StatefulSet,
    decode_object,
)
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.base import Memoryless, Reconciliation
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.informer import ObjectView

GROUP = "example.com"
VERSION = "v1"
KIND = "Database"
RESOURCE = "databases.example.com"
PORT = 5432
IMAGE = "postgres:16"


def password_for(db: CustomObject) -> str:
    """The Database's password: 24 hex digits of SHA-256 over its UID (stable for its lifetime;
    a Database deleted and re-created under the same name gets a new UID, so a new password)."""
    return hashlib.sha256(f"{db.metadata.uid}/password".encode()).hexdigest()[:24]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def credentials_data(db: CustomObject) -> dict[str, str]:
    """The Secret's `data` (base64, as the API stores it): username and password."""
    return {"password": _b64(password_for(db)), "username": _b64("postgres")}


def owner_reference(db: CustomObject) -> dict[str, Any]:
    """The controller reference every child carries."""
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": KIND, "name": db.metadata.name, "uid": db.metadata.uid,
            "controller": True, "blockOwnerDeletion": True}


def _metadata(db: CustomObject, name: str) -> dict[str, Any]:
    return {"name": name, "namespace": db.metadata.namespace,
            "labels": {"app": db.metadata.name, "app.kubernetes.io/managed-by": "database-operator"},
            "ownerReferences": [owner_reference(db)]}


def spec_of(db: CustomObject) -> tuple[int, str]:
    """(replicas, storage) from the Database's spec, with the CRD's defaults for absent fields."""
    spec = db.spec if isinstance(db.spec, Mapping) else FrozenMap()
    replicas = spec.get("replicas", 1)
    return (replicas if isinstance(replicas, int) and replicas >= 0 else 1), str(spec.get("storage", "1Gi"))


def desired_service(db: CustomObject) -> Service:
    """The headless governing Service."""
    name = db.metadata.name
    body = {"apiVersion": "v1", "kind": "Service", "metadata": _metadata(db, name),
            "spec": {"clusterIP": "None", "selector": {"app": name},
                     "ports": [{"name": "postgres", "port": PORT, "targetPort": PORT}]}}
    obj = decode_object(body)
    assert isinstance(obj, Service)
    return obj


def desired_secret(db: CustomObject) -> Secret:
    """The credentials Secret."""
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": _metadata(db, f"{db.metadata.name}-credentials"),
            "type": "Opaque", "data": credentials_data(db)}
    obj = decode_object(body)
    assert isinstance(obj, Secret)
    return obj


def _container(name: str) -> dict[str, Any]:
    return {
        "name": "postgres", "image": IMAGE,
        "ports": [{"name": "postgres", "containerPort": PORT}],
        "env": [{"name": "POSTGRES_PASSWORD",
                 "valueFrom": {"secretKeyRef": {"name": f"{name}-credentials", "key": "password"}}}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
        "readinessProbe": {"exec": {"command": ["pg_isready", "-U", "postgres"]}, "periodSeconds": 10},
        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}],
    }


def desired_statefulset(db: CustomObject) -> StatefulSet:
    """The StatefulSet running the database."""
    name = db.metadata.name
    replicas, storage = spec_of(db)
    claim = {"metadata": {"name": "data"},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}}}
    body = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": _metadata(db, name),
            "spec": {"serviceName": name, "replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [_container(name)]}},
                     "volumeClaimTemplates": [claim]}}
    obj = decode_object(body)
    assert isinstance(obj, StatefulSet)
    return obj


def controlled_by(obj: ApiObject, db: CustomObject) -> bool:
    """True if `obj`'s controller reference names this Database (same UID)."""
    return any(ref.controller and ref.uid == db.metadata.uid for ref in obj.metadata.owner_references)


def children_keys(db: CustomObject) -> tuple[ObjectKey, ObjectKey, ObjectKey]:
    """Where the Service, the Secret and the StatefulSet of a Database live."""
    ns, name = db.metadata.namespace, db.metadata.name
    return (ObjectKey("services", ns, name), ObjectKey("secrets", ns, f"{name}-credentials"),
            ObjectKey("statefulsets.apps", ns, name))


def _patch(obj: ApiObject, resource: str, identity: str, patch: dict[str, Any]) -> Request:
    """A merge patch guarded by the cached resourceVersion (409 if the cache was stale)."""
    body = {**patch, "metadata": {"resourceVersion": obj.metadata.resource_version}}
    return Request(verb="patch", user=identity, resource=resource, namespace=obj.metadata.namespace,
                   name=obj.metadata.name, patch=body)


def _service_drift(current: Service, want: Service) -> dict[str, Any] | None:
    if current.spec.selector == want.spec.selector and \
            [(p.name, p.port) for p in current.spec.ports] == [(p.name, p.port) for p in want.spec.ports]:
        return None
    return {"spec": {"selector": dict(want.spec.selector or {}),
                     "ports": [{"name": "postgres", "port": PORT, "targetPort": PORT}]}}


def _secret_drift(current: Secret, want: Secret) -> dict[str, Any] | None:
    return None if current.data == want.data else {"data": dict(want.data)}


def _statefulset_drift(current: StatefulSet, want: StatefulSet) -> dict[str, Any] | None:
    """Only replicas: the claim templates and selector of a StatefulSet are immutable upstream
    (`pkg/apis/apps/validation/validation.go` ValidateStatefulSetUpdate), so a changed `storage`
    is not propagated (the status keeps reporting the StatefulSet as it is)."""
    return None if current.spec.replicas == want.spec.replicas else {"spec": {"replicas": want.spec.replicas}}


def _status(db: CustomObject, sts: StatefulSet | None, complete: bool) -> dict[str, Any]:
    """The Database status the view supports."""
    replicas, _ = spec_of(db)
    ready = sts.status.ready_replicas if sts is not None else 0
    current = sts is not None and sts.status.observed_generation >= sts.metadata.generation \
        and sts.spec.replicas == replicas
    phase = "Ready" if complete and current and ready == replicas else "Pending"
    return {"phase": phase, "readyReplicas": ready, "observedGeneration": db.metadata.generation}


@attrs.frozen
class DatabaseController(Memoryless):
    """The Database operator as a `Controller` (see the module docstring). No memory: every
    decision is taken from the view alone."""

    name: str = "database"
    watches: tuple[str, ...] = (RESOURCE, "statefulsets.apps", "services", "secrets")
    identity: str = "system:kube-controller-manager"

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        """A Database: its own key. A child: its controlling Database's key (from the owner
        reference, as `handleObject` does in kubernetes/sample-controller's controller.go)."""
        ns = obj.metadata.namespace
        if isinstance(obj, CustomObject):
            return (f"{ns}/{obj.metadata.name}",) if obj.info.kind == KIND else ()
        return tuple(f"{ns}/{ref.name}" for ref in obj.metadata.owner_references
                     if ref.controller and ref.kind == KIND and ref.api_version.startswith(f"{GROUP}/"))

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """Create missing children, repair drifted ones, then write the status if it changed."""
        namespace, _, name = key.rpartition("/")
        db = view.get(ObjectKey(RESOURCE, namespace, name))
        if not isinstance(db, CustomObject) or db.metadata.deletion_timestamp is not None:
            return Reconciliation(memory=memory)  # gone or going: the garbage collector removes the children
        requests: list[Request] = []
        complete = True
        wants: tuple[ApiObject, ...] = (desired_service(db), desired_secret(db), desired_statefulset(db))
        for child_key, want in zip(children_keys(db), wants, strict=True):
            current = view.get(child_key)
            if current is None:
                requests.append(Request(verb="create", user=self.identity, obj=want))
                complete = False
            elif not controlled_by(current, db):
                complete = False  # someone else's object has the name: leave it alone
            else:
                requests.extend(self._repair(current, want, child_key.resource))
        sts = view.get(children_keys(db)[2])
        owned_sts = sts if isinstance(sts, StatefulSet) and controlled_by(sts, db) else None
        status = _status(db, owned_sts, complete and not requests)
        if db.status != status:
            updated = attrs.evolve(db, content=db.content.set("status", FrozenMap(status)))
            requests.append(Request(verb="update-status", user=self.identity, obj=updated))
        # No requeue: whatever this reconcile waits for (the StatefulSet's pods becoming ready, a
        # child appearing in the cache) is announced by a watch event that enqueues the key again.
        return Reconciliation(tuple(requests), memory)

    def _repair(self, current: ApiObject, want: ApiObject, resource: str) -> list[Request]:
        """A patch for a child whose owned fields drifted from the spec, if any."""
        patch: dict[str, Any] | None = None
        if isinstance(current, Service) and isinstance(want, Service):
            patch = _service_drift(current, want)
        elif isinstance(current, Secret) and isinstance(want, Secret):
            patch = _secret_drift(current, want)
        elif isinstance(current, StatefulSet) and isinstance(want, StatefulSet):
            patch = _statefulset_drift(current, want)
        return [] if patch is None else [_patch(current, resource, self.identity, patch)]


DATABASE_CONTROLLER = DatabaseController()
"""The operator as a value, for `controllers: [database_operator:DATABASE_CONTROLLER]` in a
scenario. (Naming the class itself there does not work yet: the loader's `isinstance(value,
Controller)` check is a structural one, which the class passes too, so it is not instantiated.)"""
