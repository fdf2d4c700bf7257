"""The disruption controller: keeps each PodDisruptionBudget's status.

Upstream: `pkg/controller/disruption/disruption.go` (v1.33): trySync, getExpectedPodCount,
getExpectedScale (a pod's controller: a ReplicaSet — or the Deployment owning it — or a
StatefulSet; their `spec.replicas` summed once per controller), buildDisruptedPodMap (a pod the
eviction subresource recorded in `disruptedPods` counts as disrupted for `DeletionTimeout`,
2 minutes, unless it is already terminating), countHealthyPods (Ready, not terminating, not
disrupted), updatePdbStatus (disruptionsAllowed = currentHealthy − desiredHealthy, at least 0,
and 0 when no pods are expected; the DisruptionAllowed condition; observedGeneration) and the
event handlers (a PDB enqueues itself, a pod the PDBs selecting it). A disrupted entry expiring
wakes the PDB up again (`enqueuePdbForRecheck`).

Run only in scenarios that create a PodDisruptionBudget (`uses_pdbs`): with none there is
nothing for it to do, and leaving it out keeps other scenarios' states unchanged.

Left out: PDBs over pods of controllers without a scale subresource (upstream fails safe with a
SyncFailed condition; here such pods are not counted), and the stale-disruption condition on pods.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.meta import Condition, set_condition
from kubeprop.model.api.objects import ApiObject, Deployment, ObjectKey, Pod, ReplicaSet, StatefulSet
from kubeprop.model.api.policy import PodDisruptionBudget
from kubeprop.model.api.selectors import selector_matches
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.base import Memoryless
from kubeprop.model.controllers.deployment_util import scaled_value
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER, is_pod_ready
from kubeprop.model.evolve import evolve
from kubeprop.model.state.component import Reconciliation
from kubeprop.model.state.informer import ObjectView

RESOURCE = "poddisruptionbudgets.policy"


def uses_pdbs(objects: Iterable[Any]) -> bool:
    """Whether any of the scenario's objects is a PodDisruptionBudget."""
    return any(isinstance(o, PodDisruptionBudget) for o in objects)


def _pods(view: ObjectView, pdb: PodDisruptionBudget) -> list[Pod]:
    return [p for p in view.list("pods", pdb.metadata.namespace)
            if isinstance(p, Pod) and selector_matches(pdb.spec.selector, p.metadata.labels)]


def _controller_scale(view: ObjectView, pod: Pod) -> tuple[str, int] | None:
    """(controller uid, its spec.replicas) for the pod's controller that has a scale, or None."""
    ref = next((r for r in pod.metadata.owner_references if r.controller), None)
    if ref is None:
        return None
    namespace = pod.metadata.namespace
    if ref.kind == "ReplicaSet":
        rs = view.get(ObjectKey("replicasets.apps", namespace, ref.name))
        if not isinstance(rs, ReplicaSet) or rs.metadata.uid != ref.uid:
            return None
        owner = next((r for r in rs.metadata.owner_references if r.controller and r.kind == "Deployment"), None)
        if owner is not None:
            d = view.get(ObjectKey("deployments.apps", namespace, owner.name))
            if isinstance(d, Deployment) and d.metadata.uid == owner.uid:
                return d.metadata.uid, 1 if d.spec.replicas is None else d.spec.replicas
            return None
        return rs.metadata.uid, 1 if rs.spec.replicas is None else rs.spec.replicas
    if ref.kind == "StatefulSet":
        sts = view.get(ObjectKey("statefulsets.apps", namespace, ref.name))
        if isinstance(sts, StatefulSet) and sts.metadata.uid == ref.uid:
            return sts.metadata.uid, 1 if sts.spec.replicas is None else sts.spec.replicas
    return None


def expected_scale(view: ObjectView, pods: Iterable[Pod]) -> int:
    """getExpectedScale: Σ spec.replicas of the pods' controllers, each counted once."""
    seen: dict[str, int] = {}
    for pod in pods:
        found = _controller_scale(view, pod)
        if found is not None:
            seen[found[0]] = found[1]
    return sum(seen.values())


def expected_and_desired(view: ObjectView, pdb: PodDisruptionBudget, pods: list[Pod]) -> tuple[int, int]:
    """getExpectedPodCount: (expectedCount, desiredHealthy)."""
    spec = pdb.spec
    if spec.max_unavailable is not None:
        expected = expected_scale(view, pods)
        return expected, max(0, expected - scaled_value(spec.max_unavailable, expected, True))
    if spec.min_available is not None:
        if isinstance(spec.min_available, int):
            return len(pods), spec.min_available
        expected = expected_scale(view, pods)
        return expected, scaled_value(spec.min_available, expected, True)
    return 0, 0


def disrupted_pods(pdb: PodDisruptionBudget, pods: list[Pod], now: int, timeout: int
                   ) -> tuple[dict[str, int], int | None]:
    """buildDisruptedPodMap: the entries still counting, and when the next one expires."""
    kept: dict[str, int] = {}
    recheck: int | None = None
    for pod in pods:
        if pod.metadata.deletion_timestamp is not None:
            continue
        at = pdb.status.disrupted_pods.get(pod.metadata.name)
        if at is None:
            continue
        expires = at + timeout
        if expires < now:
            continue
        kept[pod.metadata.name] = at
        recheck = expires if recheck is None else min(recheck, expires)
    return kept, recheck


def healthy(pods: list[Pod], disrupted: dict[str, int]) -> int:
    """countHealthyPods."""
    return sum(1 for p in pods if p.metadata.deletion_timestamp is None and p.metadata.name not in disrupted
               and is_pod_ready(p))


@attrs.frozen
class DisruptionController(Memoryless):
    """The disruption controller as a `Controller` (no memory)."""

    deletion_timeout_seconds: int = 120
    name: str = "disruption"
    watches: tuple[str, ...] = (RESOURCE, "pods", "replicasets.apps", "deployments.apps", "statefulsets.apps")
    identity: str = CONTROLLER_MANAGER_USER

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        """addDb/updateDb: the PDB; addPod/updatePod/deletePod: the PDBs selecting the pod."""
        if isinstance(obj, PodDisruptionBudget):
            return (f"{obj.metadata.namespace}/{obj.metadata.name}",)
        if isinstance(obj, Pod):
            return tuple(sorted(f"{b.metadata.namespace}/{b.metadata.name}"
                                for b in view.list(RESOURCE, obj.metadata.namespace)
                                if isinstance(b, PodDisruptionBudget)
                                and selector_matches(b.spec.selector, obj.metadata.labels)))
        return ()

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """trySync + updatePdbStatus (a status write only when something changed)."""
        namespace, _, name = key.partition("/")
        pdb = view.get(ObjectKey(RESOURCE, namespace, name))
        if not isinstance(pdb, PodDisruptionBudget):
            return Reconciliation(memory=memory)
        pods = _pods(view, pdb)
        expected, desired = expected_and_desired(view, pdb, pods)
        disrupted, _ = disrupted_pods(pdb, pods, now, self.deletion_timeout_seconds)
        current = healthy(pods, disrupted)
        allowed = current - desired
        if expected <= 0 or allowed <= 0:
            allowed = 0
        allowed_cond = Condition(type="DisruptionAllowed", status="True" if allowed > 0 else "False",
                                 reason="SufficientPods" if allowed > 0 else "InsufficientPods",
                                 last_transition_time=now, observed_generation=pdb.metadata.generation)
        status = evolve(
            pdb.status, current_healthy=current, desired_healthy=desired, expected_pods=expected,
            disruptions_allowed=allowed, disrupted_pods=disrupted, observed_generation=pdb.metadata.generation,
            conditions=set_condition(pdb.status.conditions, allowed_cond))
        if status == pdb.status:
            return Reconciliation(memory=memory)
        request = Request(verb="update-status", user=self.identity, obj=evolve(pdb, status=status))
        return Reconciliation((request,), memory)

    def wakeup_at(self, view: ObjectView, key: str, now: int) -> int | None:
        """enqueuePdbForRecheck: when the next disrupted-pod entry expires."""
        namespace, _, name = key.partition("/")
        pdb = view.get(ObjectKey(RESOURCE, namespace, name))
        if not isinstance(pdb, PodDisruptionBudget):
            return None
        _, recheck = disrupted_pods(pdb, _pods(view, pdb), now, self.deletion_timeout_seconds)
        return None if recheck is None else recheck + 1
