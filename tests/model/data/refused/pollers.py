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

from kubeprop.model.api.core import ConfigMap
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ApiObject, Deployment, ObjectKey
from kubeprop.model.api.server import Request, Response
from kubeprop.model.controllers.base import Reconciliation
from kubeprop.model.frozen import FrozenMap
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


READY_CONFIGMAP = "{}-ready"
"""The name of the ConfigMap `ReadyWaiter` creates for a Deployment once it has seen it ready."""


@attrs.frozen
class ReadyWaiter:
    """Waits for each Deployment's rollout by asking the API server (a GET, as an operator reads
    through controller-runtime's APIReader rather than its cache) on every reconcile, and requeues the
    key until the answer shows every replica ready; then it creates the ConfigMap `<name>-ready`
    (`READY_CONFIGMAP`) holding how many times it asked. Its memory maps each key to the number of GETs
    sent and whether the last answer was ready (`observe`): a poll that reads, its memory moving on
    with every answer. Upstream each requeue is rate-limited and time passes meanwhile."""

    name: str = "ready-waiter"
    watches: tuple[str, ...] = ("deployments.apps", "configmaps")
    identity: str = "system:kube-controller-manager"

    def initial_memory(self) -> Any:
        return FrozenMap({})

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        return (f"{obj.metadata.namespace}/{obj.metadata.name}",) if isinstance(obj, Deployment) else ()

    def observe(self, memory: Any, request: Request, response: Response) -> Any:
        """A GET's answer: whether the Deployment it returned has every replica ready."""
        if request.verb != "get" or not response.ok or not isinstance(response.obj, Deployment):
            return memory
        key = f"{request.namespace}/{request.name}"
        asked, _ = memory.get(key, (0, False))
        deployment = response.obj
        ready = deployment.status.ready_replicas >= (deployment.spec.replicas or 0)
        return memory.set(key, (asked, ready))

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        namespace, _, name = key.rpartition("/")
        asked, ready = memory.get(key, (0, False))
        marker = READY_CONFIGMAP.format(name)
        if view.get(ObjectKey("configmaps", namespace, marker)) is not None:
            return Reconciliation(memory=memory)
        if ready:
            configmap = ConfigMap(metadata=ObjectMeta(name=marker, namespace=namespace), data={"checks": str(asked)})
            return Reconciliation((Request(verb="create", user=self.identity, obj=configmap),), memory)
        get = Request(verb="get", user=self.identity, resource="deployments.apps", namespace=namespace, name=name)
        return Reconciliation((get,), memory.set(key, (asked + 1, False)), requeue=True)


def ready_waiter() -> ReadyWaiter:
    """The waiter."""
    return ReadyWaiter()
