"""A user's operator for the tests of errors in the user's code (user trial 13): every ConfigMap
without the `example.com/copy-of` label gets a copy `<name>-copy`. `COPIER` is correct; the others
are the mistakes the trial made: a reconcile that raises (at once, or once its copy exists), returns
a list, returns a string for a Request, writes an invalid object (422 for ever) or runs as a user who
may only read (403 for ever). copier_props.py has the properties."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.objects import ApiObject, ObjectKey, decode_object
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.base import Memoryless, Reconciliation
from kubeprop.model.state.informer import ObjectView

COPY_OF = "example.com/copy-of"


@attrs.frozen
class Copier(Memoryless):
    name: str = "copier"
    watches: tuple[str, ...] = ("configmaps",)
    identity: str = "system:kube-controller-manager"
    suffix: str = "-copy"

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        owner = obj.metadata.labels.get(COPY_OF)
        return (f"{obj.metadata.namespace}/{owner or obj.metadata.name}",)

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        namespace, _, name = key.rpartition("/")
        source = view.get(ObjectKey("configmaps", namespace, name))
        if source is None or source.metadata.labels.get(COPY_OF):
            return Reconciliation(memory=memory)
        copy = f"{name}{self.suffix}"
        if view.get(ObjectKey("configmaps", namespace, copy)) is not None:
            return Reconciliation(memory=memory)
        obj = decode_object({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": copy, "namespace": namespace, "labels": {COPY_OF: name}}})
        return Reconciliation((Request(verb="create", user=self.identity, obj=obj),), memory)


@attrs.frozen
class Raising(Copier):
    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        raise KeyError("spec.color missing")


@attrs.frozen
class ReturnsList(Copier):
    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        return [Request(verb="get", user=self.identity, resource="configmaps", namespace="default",  # type: ignore
                        name="web")]


@attrs.frozen
class ReturnsJunk(Copier):
    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        return Reconciliation(("create configmap please",), memory)  # type: ignore[arg-type]


@attrs.frozen
class RaisingLater(Copier):
    """Raises once its copy exists: only in states a search reaches (a walk worker's, a lane's)."""

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        namespace, _, name = key.rpartition("/")
        if view.get(ObjectKey("configmaps", namespace, f"{name}{self.suffix}")) is not None:
            raise ValueError(f"copy of {name} already there")
        return super().reconcile(view, key, memory, now)


@attrs.frozen
class RaisingObserve(Copier):
    def observe(self, memory: Any, request: Request, response: Any) -> Any:
        raise ValueError(f"no answer expected for {request.verb}")


@attrs.frozen
class RaisingWakeup(Copier):
    def wakeup_at(self, view: ObjectView, key: str, now: int) -> int | None:
        raise RuntimeError("deadline unknown")


@attrs.frozen
class WakeupString(Copier):
    def wakeup_at(self, view: ObjectView, key: str, now: int) -> int | None:
        return "soon"  # type: ignore[return-value]


COPIER = Copier()
RAISING_LATER = RaisingLater()
RAISING = Raising()
RETURNS_LIST = ReturnsList()
JUNK = ReturnsJunk()
INVALID_CHILD = Copier(suffix="_Copy")  # not a DNS subdomain: every create is a 422
RAISING_OBSERVE = RaisingObserve()
RAISING_WAKEUP = RaisingWakeup()
WAKEUP_STRING = WakeupString()
READ_ONLY = Copier(identity="copier")  # reader/role.yaml: may list and watch, not create: 403
