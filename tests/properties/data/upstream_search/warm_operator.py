"""A user's operator with a bug, for the tests of searching on past known upstream behaviour: for a
Deployment labelled example.com/warm=true it keeps two warm spares by scaling a rolled-out
ReplicaSet of the Deployment (revision 2 or later) that has reached the Deployment's replicas to
replicas + 2 — ignoring maxSurge, so the Deployment's ReplicaSets ask for more pods than
`rollout-surge-bound` allows. The Deployment controller's stale ReplicaSet lister breaks the same
property sooner (tests/properties/test_upstream_behaviour.py RACE), which is upstream behaviour."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.apps import Deployment, ReplicaSet
from kubeprop.model.api.objects import ApiObject, ObjectKey
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.base import Memoryless, Reconciliation
from kubeprop.model.controllers.podutil import controller_of
from kubeprop.model.state.informer import ObjectView

WARM = "example.com/warm"
REVISION = "deployment.kubernetes.io/revision"


@attrs.frozen
class WarmOperator(Memoryless):
    name: str = "warm-operator"
    watches: tuple[str, ...] = ("deployments.apps", "replicasets.apps")
    identity: str = "warm-operator"
    spares: int = 2

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        ns = obj.metadata.namespace
        if isinstance(obj, Deployment):
            return (f"{ns}/{obj.metadata.name}",) if obj.metadata.labels.get(WARM) == "true" else ()
        owner = controller_of(obj)
        return (f"{ns}/{owner.name}",) if owner is not None and owner.kind == "Deployment" else ()

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        namespace, _, name = key.rpartition("/")
        dep = view.get(ObjectKey("deployments.apps", namespace, name))
        if not self.spares or not isinstance(dep, Deployment) or dep.metadata.labels.get(WARM) != "true":
            return Reconciliation(memory=memory)
        wanted = dep.spec.replicas if dep.spec.replicas is not None else 1
        for rs in view.list("replicasets.apps", namespace):
            owner = controller_of(rs)
            if not isinstance(rs, ReplicaSet) or owner is None or owner.uid != dep.metadata.uid:
                continue
            if int(rs.metadata.annotations.get(REVISION, "1")) >= 2 and rs.spec.replicas == wanted:
                warm = attrs.evolve(rs, spec=attrs.evolve(rs.spec, replicas=wanted + self.spares))
                return Reconciliation((Request(verb="update", user=self.identity, obj=warm),), memory)
        return Reconciliation(memory=memory)


OPERATOR = WarmOperator()
NO_SPARES = WarmOperator(spares=0)
"""The operator fixed: it keeps no spares (the correct scenario, warm-correct.yaml)."""
