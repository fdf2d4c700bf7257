"""At most one leader per StatefulSet (safety); a ready StatefulSet has one (convergence)."""
from __future__ import annotations

from collections import Counter

from leader_operator import ELECTION, ROLE, owner_sts

from kubeprop.model.api.objects import StatefulSet
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import Needs, Violation, convergence, safety


@safety("at-most-one-leader", "A StatefulSet never has two pods labelled leader.", "team policy",
        needs=Needs(("pods",)))
def at_most_one_leader(model: ClusterModel, state: ClusterState) -> Violation | str | None:
    counts = Counter((p.metadata.namespace, owner_sts(p)) for p in state.store.list("pods")
                     if p.metadata.labels.get(ROLE) == "leader")
    for (ns, sts), n in sorted(counts.items(), key=str):
        if n > 1:
            return f"StatefulSet {ns}/{sts} has {n} leader pods"
    return None


@convergence("ready-statefulset-has-leader", "A ready elected StatefulSet has a leader.", "team policy",
             needs=Needs(("statefulsets.apps",)))
def ready_has_leader(model: ClusterModel, state: ClusterState) -> Violation | str | None:
    for sts in state.store.list("statefulsets.apps"):
        ready = isinstance(sts, StatefulSet) and sts.metadata.labels.get(ELECTION) == "true" \
            and sts.status.ready_replicas >= (sts.spec.replicas or 0) > 0
        pods = [p for p in state.store.list("pods", sts.metadata.namespace) if owner_sts(p) == sts.metadata.name]
        if ready and not any(p.metadata.labels.get(ROLE) == "leader" for p in pods):
            return f"StatefulSet {sts.metadata.namespace}/{sts.metadata.name} is ready and has no leader"
    return None
