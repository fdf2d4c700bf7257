"""A controller that polls for ever without writing: each reconcile flips a bit of its memory and
requeues its key (as an operator that polls an external system and keeps only a cursor in memory).

The fair run goes round two states (bit 0, bit 1) without a write — no state repeats after one
step, so it is not a stutter, but no fair cycle writes to the API either: the cluster is quiet in
effect, and convergence is judged where the run stands (not a `settles` livelock).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.objects import ApiObject, Deployment
from kubeprop.model.api.server import Request, Response
from kubeprop.model.controllers.base import Reconciliation
from kubeprop.model.state.informer import ObjectView


@attrs.frozen
class Poller:
    """Requeues the Deployments it sees for ever, flipping a bit of memory each time."""

    name: str = "poller"
    watches: tuple[str, ...] = ("deployments.apps",)
    identity: str = "system:kube-controller-manager"

    def initial_memory(self) -> Any:
        return 0

    def observe(self, memory: Any, request: Request, response: Response) -> Any:
        return memory

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        return (f"{obj.metadata.namespace}/{obj.metadata.name}",) if isinstance(obj, Deployment) else ()

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        return Reconciliation(memory=1 - memory, requeue=True)


def poller() -> Poller:
    """The poller."""
    return Poller()


@attrs.frozen
class Countdown(Poller):
    """Requeues each key `polls` times, counting in its memory, then lets it go: silent requeues that
    end (a controller waiting a few retries for something of its own), unlike the poller's."""

    polls: int = 3

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        count = memory + 1
        return Reconciliation(memory=count, requeue=count < self.polls)
