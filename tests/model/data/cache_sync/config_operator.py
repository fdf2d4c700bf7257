"""A user's operator for the cache-sync tests: every Deployment labelled example.com/config=true gets
a ConfigMap `<name>-config` (created if its cache has none). It runs as the scenario's user
`cfg-operator`, so its informers' LISTs are authorized by the scenario's RBAC objects. `SCOPED` and
the others below watch some namespaces only (`namespaces`, upstream's `informers.WithNamespace`);
`BAD_*` are malformed declarations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.objects import ApiObject, ConfigMap, Deployment, ObjectKey, decode_object
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.base import Memoryless, Reconciliation
from kubeprop.model.state.informer import ObjectView

OPT_IN = "example.com/config"
CONFIG_OF = "example.com/config-of"


def config_for(dep: Deployment) -> ConfigMap:
    cm = decode_object({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": f"{dep.metadata.name}-config", "namespace": dep.metadata.namespace,
                     "labels": {CONFIG_OF: dep.metadata.name}},
        "data": {"mode": "fast"},
    })
    assert isinstance(cm, ConfigMap)
    return cm


@attrs.frozen
class ConfigOperator(Memoryless):
    name: str = "config-operator"
    watches: tuple[str, ...] = ("deployments.apps", "configmaps")
    identity: str = "cfg-operator"
    namespaces: tuple[str, ...] = ()

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        ns = obj.metadata.namespace
        if isinstance(obj, Deployment):
            return (f"{ns}/{obj.metadata.name}",) if obj.metadata.labels.get(OPT_IN) == "true" else ()
        owner = obj.metadata.labels.get(CONFIG_OF)
        return (f"{ns}/{owner}",) if owner else ()

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        namespace, _, name = key.rpartition("/")
        dep = view.get(ObjectKey("deployments.apps", namespace, name))
        if not isinstance(dep, Deployment) or dep.metadata.labels.get(OPT_IN) != "true":
            return Reconciliation(memory=memory)
        cm = config_for(dep)
        if view.get(ObjectKey("configmaps", namespace, cm.metadata.name)) is not None:
            return Reconciliation(memory=memory)
        return Reconciliation((Request(verb="create", user=self.identity, obj=cm),), memory)


OPERATOR = ConfigOperator()

SCOPED = ConfigOperator(namespaces=("default",))
SCOPED_TWO = ConfigOperator(namespaces=("default", "other"))
SCOPED_NODES = ConfigOperator(watches=("deployments.apps", "configmaps", "nodes"), namespaces=("default",))
BAD_EMPTY = ConfigOperator(namespaces=("",))
BAD_STRING = ConfigOperator(namespaces="default")  # type: ignore[arg-type]
BAD_NAME = ConfigOperator(namespaces=("Default",))
BAD_TWICE = ConfigOperator(namespaces=("default", "default"))
