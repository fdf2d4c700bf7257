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
from kubeprop.model.api.server import Request, Response
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


# The other hooks' mistakes (gaps14): a decision's `tolerate` or `after_failure` that raises or answers
# something else, an `initial_memory` that raises or returns a dict, a `memory_wakeups` that raises or
# gives a time as a string.


def _with(decision: Reconciliation, **functions: Any) -> Reconciliation:
    return attrs.evolve(decision, **functions)


@attrs.frozen
class RaisingTolerate(Copier):
    """Its creates are refused (422, suffix `_Copy`); its tolerate raises on the refusal."""

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        def tolerate(request: Request, response: Response) -> str | None:
            raise LookupError(f"no rule for {response.code}")
        return _with(super().reconcile(view, key, memory, now), tolerate=tolerate)


@attrs.frozen
class TolerateJunk(Copier):
    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        return _with(super().reconcile(view, key, memory, now), tolerate=lambda request, response: "skip")


@attrs.frozen
class RaisingAfterFailure(Copier):
    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        def after_failure(request: Request, response: Response) -> tuple[Request, ...]:
            raise RuntimeError("status writer broken")
        return _with(super().reconcile(view, key, memory, now), after_failure=after_failure)


@attrs.frozen
class AfterFailureNone(Copier):
    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        def after_failure(request: Request, response: Response) -> tuple[Request, ...]:
            print("create failed")  # (forgot the return)
        return _with(super().reconcile(view, key, memory, now), after_failure=after_failure)


@attrs.frozen
class RaisingInitialMemory(Copier):
    def initial_memory(self) -> Any:
        raise OSError("cannot read the cache file")


@attrs.frozen
class DictMemory(Copier):
    def initial_memory(self) -> Any:
        return {"copied": 0}


@attrs.frozen
class RaisingMemoryWakeups(Copier):
    """Keeps its key queued (`requeue`) while it waits for a time its memory holds."""

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        return _with(super().reconcile(view, key, memory, now), requeue=True)

    def memory_wakeups(self, memory: Any, queue: tuple[str, ...]) -> Iterable[tuple[str, int]]:
        for key in queue:
            yield key, int(key.partition("/")[2])  # (a name is no number)


@attrs.frozen
class MemoryWakeupsString(Copier):
    """Keeps its key queued (`requeue`) while it waits for a time its memory holds."""

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        return _with(super().reconcile(view, key, memory, now), requeue=True)

    def memory_wakeups(self, memory: Any, queue: tuple[str, ...]) -> Iterable[tuple[str, int]]:
        return [(key, "in 40 s") for key in queue]  # type: ignore[misc]


@attrs.frozen
class KeysNone(Copier):
    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        self.__class__.__name__  # (forgot the return)  # noqa: B018


@attrs.frozen
class RaisingKeysGenerator(Copier):
    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        yield f"{obj.metadata.namespace}/{obj.metadata.name}"
        yield obj.metadata.labels["example.com/copy-of"]  # (an original has no such label)


@attrs.frozen
class KeysNumbers(Copier):
    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        return (obj.metadata.generation,)  # type: ignore[return-value]


COPIER = Copier()
RAISING_LATER = RaisingLater()
RAISING = Raising()
RETURNS_LIST = ReturnsList()
JUNK = ReturnsJunk()
INVALID_CHILD = Copier(suffix="_Copy")  # not a DNS subdomain: every create is a 422
RAISING_OBSERVE = RaisingObserve()
RAISING_WAKEUP = RaisingWakeup()
WAKEUP_STRING = WakeupString()
RAISING_TOLERATE = RaisingTolerate(suffix="_Copy")
TOLERATE_JUNK = TolerateJunk(suffix="_Copy")
RAISING_AFTER_FAILURE = RaisingAfterFailure(suffix="_Copy")
AFTER_FAILURE_NONE = AfterFailureNone(suffix="_Copy")
RAISING_INITIAL_MEMORY = RaisingInitialMemory()
DICT_MEMORY = DictMemory()
RAISING_MEMORY_WAKEUPS = RaisingMemoryWakeups()
MEMORY_WAKEUPS_STRING = MemoryWakeupsString()
KEYS_NONE = KeysNone()
RAISING_KEYS_GENERATOR = RaisingKeysGenerator()
KEYS_NUMBERS = KeysNumbers()
READ_ONLY = Copier(identity="copier")  # reader/role.yaml: may list and watch, not create: 403
