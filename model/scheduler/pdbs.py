"""PodDisruptionBudgets as the scheduler sees them: its PDB informer, and which preemption victims
would violate a budget.

Upstream (`kubernetes/kubernetes`, master ~v1.35): the preemption evaluator lists every PDB from
the scheduler's shared informer factory (`pkg/scheduler/framework/preemption/preemption.go`
NewEvaluator: `Policy().V1().PodDisruptionBudgets().Lister()`; findCandidates →
getPodDisruptionBudgets), so the PDBs are those of the scheduler's *cache*, with the status the
disruption controller last wrote (`kubeprop.model.controllers.disruption`).
`filterPodsWithPDBViolation` (`pkg/scheduler/framework/plugins/defaultpreemption/
default_preemption.go`) splits the potential victims, taken most important first, into those
whose eviction would violate a budget and the others: each pod matching a PDB (same namespace; a
PDB with a nil or empty selector matches nothing; a pod without labels matches none) that is not
already in the PDB's `status.disruptedPods` uses up one of its `disruptionsAllowed`, and a pod
that takes some PDB's count below zero is violating.

Model choices: the scheduler watches PDBs only in scenarios that create one (`sees_pdbs`, the
same test that runs the disruption controller: `kubeprop.model.controllers.disruption.uses_pdbs`),
so the caches, and hence the states, of every other scenario stay as they were. A PDB created only
by a user's own controller is therefore seen with instant caches (the store) but not through
informers.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubeprop.model.api.pod import Pod
from kubeprop.model.api.policy import PodDisruptionBudget
from kubeprop.model.api.selectors import selector_matches
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.model.state.informer import ObjectView

__all__ = ["RESOURCE", "cached_pdbs", "filter_pods_with_pdb_violation", "sees_pdbs", "watches"]

RESOURCE = "poddisruptionbudgets.policy"

def sees_pdbs(model: ClusterModel) -> bool:
    """Whether the scenario creates a PodDisruptionBudget (manifests or workload steps)."""
    return PodDisruptionBudget in model.created_types


def watches(model: ClusterModel, component: str) -> tuple[str, ...]:
    """A scheduler instance watches PDBs when the scenario has any (a `Hooks.watches` source)."""
    return (RESOURCE,) if component in model.scheduler_instances and sees_pdbs(model) else ()


def cached_pdbs(view: ObjectView) -> tuple[PodDisruptionBudget, ...]:
    """Every PDB in a scheduler's cache (none when it does not watch them)."""
    return tuple(b for b in view.list(RESOURCE) if isinstance(b, PodDisruptionBudget))


def _selects(pdb: PodDisruptionBudget, pod: Pod) -> bool:
    selector = pdb.spec.selector
    if pdb.metadata.namespace != pod.metadata.namespace or selector is None or selector.is_empty():
        return False
    return selector_matches(selector, pod.metadata.labels)


def filter_pods_with_pdb_violation(pods: Sequence[Pod], pdbs: Sequence[PodDisruptionBudget]
                                   ) -> tuple[list[Pod], list[Pod]]:
    """filterPodsWithPDBViolation: (violating, non-violating), each in the order of `pods`."""
    allowed = [int(b.status.disruptions_allowed) for b in pdbs]
    violating: list[Pod] = []
    others: list[Pod] = []
    for pod in pods:
        violated = False
        if pod.metadata.labels:
            for i, pdb in enumerate(pdbs):
                if not _selects(pdb, pod) or pod.metadata.name in pdb.status.disrupted_pods:
                    continue
                allowed[i] -= 1
                violated = violated or allowed[i] < 0
        (violating if violated else others).append(pod)
    return violating, others
