"""Two "GitOps" syncers that both own `spec.replicas` of the same Deployment.

Each keeps the Deployment at the replica count its own git repository says (1 and 2), patching
it whenever it differs — a known misconfiguration (two tools managing one object). Neither ever
waits for the clock, so the fair driver never settles: the convergence check's `settles`
livelock, recorded as a lasso.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.objects import ApiObject, Deployment, ObjectKey
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.base import Memoryless, Reconciliation
from kubeprop.model.state.informer import ObjectView


@attrs.frozen
class Syncer(Memoryless):
    """Keeps default/web at `replicas`; no memory."""

    name: str
    replicas: int
    watches: tuple[str, ...] = ("deployments.apps",)
    identity: str = "system:kube-controller-manager"

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        return ("default/web",) if isinstance(obj, Deployment) and obj.metadata.name == "web" else ()

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        found = view.get(ObjectKey("deployments.apps", "default", "web"))
        if not isinstance(found, Deployment) or found.spec.replicas == self.replicas:
            return Reconciliation(memory=memory)
        patch = Request(verb="patch", user=self.identity, resource="deployments.apps", namespace="default",
                        name="web", patch={"spec": {"replicas": self.replicas}})
        return Reconciliation((patch,), memory)


def team_a() -> Syncer:
    """Team A's repository says 1 replica."""
    return Syncer("sync-team-a", 1)


def team_b() -> Syncer:
    """Team B's repository says 2 replicas."""
    return Syncer("sync-team-b", 2)
