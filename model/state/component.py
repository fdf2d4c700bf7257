"""The contracts components are written against: the `Controller` protocol and what a reconcile returns.

A controller is a value with pure functions (docs/controllers.md; the work-queue mechanics are in
`kubeprop.model.controllers.base`). Scenario loading checks user controllers against this
protocol, so it lives below both the scenario and the controllers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

import attrs

from kubeprop.model.api.objects import ApiObject
from kubeprop.model.api.server import Request, Response
from kubeprop.model.state.informer import ObjectView

__all__ = ["Controller", "Reconciliation"]


@attrs.frozen
class Reconciliation:
    """What one reconcile decided: requests to send in order, and the controller's new memory."""

    requests: tuple[Request, ...] = ()
    memory: Any = None
    requeue: bool = False


@runtime_checkable
class Controller(Protocol):
    """A reconciling controller (see the module docstring)."""

    name: str
    watches: tuple[str, ...]
    identity: str

    def initial_memory(self) -> Any: ...

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]: ...

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation: ...

    def observe(self, memory: Any, request: Request, response: Response) -> Any: ...
