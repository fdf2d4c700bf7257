"""Tenant operator (trial 4): a Tenant (tenants.example.com) gets
- a finalizer `example.com/cleanup` (added first),
- a Deployment `<name>` controlled by the Tenant, whose pod template carries the hash of the
  ConfigMap `spec.configMap` (a ConfigMap change rolls the Deployment out),
- an external registration: Secret `<ns>.<name>` in namespace `registry` (no ownerReference:
  cross-namespace owners are not allowed), removed on deletion BEFORE the finalizer,
- status {phase, observedGeneration, configHash} through update-status.
BUGGY_FINALIZER removes the finalizer first, then deletes the registration (same reconcile).
BUGGY_CACHE creates the registration whenever its cache does not show it, with a fresh name per
write (generateName), i.e. trusts the cache right after its own write.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.objects import ApiObject, ConfigMap, CustomObject, Deployment, ObjectKey, decode_object
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.base import Memoryless, Reconciliation
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.informer import ObjectView

RESOURCE = "tenants.example.com"
FINALIZER = "example.com/cleanup"
REGISTRY_NS = "registry"


def config_hash(cm: ConfigMap | None) -> str:
    items = sorted((cm.data or {}).items()) if cm is not None else []
    return hashlib.sha256(repr(items).encode()).hexdigest()[:10]


def registration_name(t: CustomObject) -> str:
    return f"{t.metadata.namespace}.{t.metadata.name}"


def desired_deployment(t: CustomObject, chash: str) -> Deployment:
    name = t.metadata.name
    replicas = t.spec.get("replicas", 1) if t.spec is not None else 1
    body = {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": t.metadata.namespace, "labels": {"tenant": name},
                         "ownerReferences": [{"apiVersion": "example.com/v1", "kind": "Tenant", "name": name,
                                              "uid": t.metadata.uid, "controller": True,
                                              "blockOwnerDeletion": True}]},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"tenant": name}},
                     "template": {"metadata": {"labels": {"tenant": name},
                                               "annotations": {"example.com/config-hash": chash}},
                                  "spec": {"containers": [{"name": "app", "image": "shop:1",
                                                           "resources": {"requests": {"cpu": "100m"}}}]}}}}
    obj = decode_object(body)
    assert isinstance(obj, Deployment)
    return obj


def _registration(t: CustomObject, generate: bool) -> ApiObject:
    meta: dict[str, Any] = {"namespace": REGISTRY_NS, "labels": {"tenant": registration_name(t)}}
    if generate:
        meta["generateName"] = registration_name(t) + "-"
    else:
        meta["name"] = registration_name(t)
    return decode_object({"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque",
                          "data": {"tenant": ""}})


def _registrations(view: ObjectView, t: CustomObject) -> list[ApiObject]:
    return [s for s in view.list("secrets", REGISTRY_NS)
            if s.metadata.labels.get("tenant") == registration_name(t)]


@attrs.frozen
class TenantOperator(Memoryless):
    name: str = "tenant"
    watches: tuple[str, ...] = (RESOURCE, "deployments.apps", "configmaps", "secrets")
    identity: str = "system:kube-controller-manager"
    finalizer_first: bool = False
    generate_names: bool = False

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        ns = obj.metadata.namespace
        if isinstance(obj, CustomObject):
            return (f"{ns}/{obj.metadata.name}",)
        if isinstance(obj, ConfigMap):
            return tuple(f"{ns}/{t.metadata.name}" for t in view.list(RESOURCE, ns)
                         if isinstance(t, CustomObject) and t.spec.get("configMap") == obj.metadata.name)
        if isinstance(obj, ApiObject) and ns == REGISTRY_NS and "tenant" in obj.metadata.labels:
            tns, _, tname = obj.metadata.labels["tenant"].partition(".")
            return (f"{tns}/{tname}",)
        return tuple(f"{ns}/{r.name}" for r in obj.metadata.owner_references if r.controller and r.kind == "Tenant")

    def _patch_finalizers(self, t: CustomObject, finalizers: list[str]) -> Request:
        return Request(verb="patch", user=self.identity, resource=RESOURCE, namespace=t.metadata.namespace,
                       name=t.metadata.name,
                       patch={"metadata": {"finalizers": finalizers,
                                           "resourceVersion": t.metadata.resource_version}})

    def _finalize(self, view: ObjectView, t: CustomObject) -> Reconciliation:
        if FINALIZER not in t.metadata.finalizers:
            return Reconciliation()
        rest = [f for f in t.metadata.finalizers if f != FINALIZER]
        deletes = [Request(verb="delete", user=self.identity, resource="secrets", namespace=REGISTRY_NS,
                           name=s.metadata.name) for s in _registrations(view, t)]
        remove = self._patch_finalizers(t, rest)
        return Reconciliation(tuple([remove, *deletes] if self.finalizer_first else [*deletes, remove]))

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        ns, _, name = key.rpartition("/")
        t = view.get(ObjectKey(RESOURCE, ns, name))
        if not isinstance(t, CustomObject):
            return Reconciliation()
        if t.metadata.deletion_timestamp is not None:
            return self._finalize(view, t)
        if FINALIZER not in t.metadata.finalizers:
            return Reconciliation((self._patch_finalizers(t, [*t.metadata.finalizers, FINALIZER]),))
        requests: list[Request] = []
        if not _registrations(view, t):
            requests.append(Request(verb="create", user=self.identity, obj=_registration(t, self.generate_names)))
        cm = view.get(ObjectKey("configmaps", ns, str(t.spec.get("configMap", ""))))
        chash = config_hash(cm if isinstance(cm, ConfigMap) else None)
        want = desired_deployment(t, chash)
        current = view.get(ObjectKey("deployments.apps", ns, name))
        if current is None:
            requests.append(Request(verb="create", user=self.identity, obj=want))
        elif isinstance(current, Deployment):
            have = current.spec.template.metadata.annotations.get("example.com/config-hash")
            if have != chash or current.spec.replicas != want.spec.replicas:
                requests.append(Request(verb="patch", user=self.identity, resource="deployments.apps",
                                        namespace=ns, name=name, patch={
                                            "metadata": {"resourceVersion": current.metadata.resource_version},
                                            "spec": {"replicas": want.spec.replicas, "template": {"metadata": {
                                                "annotations": {"example.com/config-hash": chash}}}}}))
        ready = isinstance(current, Deployment) and not requests and \
            current.status.observed_generation >= current.metadata.generation and \
            (current.status.updated_replicas or 0) == current.spec.replicas == (current.status.available_replicas or 0)
        status = {"phase": "Ready" if ready else "Progressing", "observedGeneration": t.metadata.generation,
                  "configHash": chash}
        if t.status != status:
            requests.append(Request(verb="update-status", user=self.identity,
                                    obj=attrs.evolve(t, content=t.content.set("status", FrozenMap(status)))))
        return Reconciliation(tuple(requests))


TENANT = TenantOperator()
BUGGY_FINALIZER = TenantOperator(finalizer_first=True)
BUGGY_CACHE = TenantOperator(generate_names=True)


@attrs.frozen
class UserDeleter(Memoryless):
    """Stands in for `kubectl delete tenant shop --cascade=foreground` (the workload's `delete:` step
    does not take custom kinds): when a Tenant's ConfigMap says DELETE_TENANT=<policy>, delete it."""
    name: str = "user-deleter"
    watches: tuple[str, ...] = ("configmaps", RESOURCE)
    identity: str = "admin"

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        return (f"{obj.metadata.namespace}/{obj.metadata.name}",) if isinstance(obj, ConfigMap) else ()

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        ns, _, name = key.rpartition("/")
        cm = view.get(ObjectKey("configmaps", ns, name))
        if not isinstance(cm, ConfigMap) or "DELETE_TENANT" not in (cm.data or {}):
            return Reconciliation()
        out = []
        for t in view.list(RESOURCE, ns):
            if isinstance(t, CustomObject) and t.spec.get("configMap") == name and \
                    t.metadata.deletion_timestamp is None:
                out.append(Request(verb="delete", user=self.identity, resource=RESOURCE, namespace=ns,
                                   name=t.metadata.name, propagation_policy=cm.data["DELETE_TENANT"]))
        return Reconciliation(tuple(out))


USER_DELETER = UserDeleter()
