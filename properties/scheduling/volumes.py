"""VolumeBinding for the scheduling checks: what the model's own plug-in
(`kubeprop.model.scheduler.volumebinding`) says of a pod's claims in a store, shared by the
properties that judge scheduling (`schedulable-pods-bound`, `scheduler-decisions-sound`) and by
`kubeprop schedule`, so none of them places a pod on a node its volumes refuse.

Upstream (`pkg/scheduler/framework/plugins/volumebinding/volume_binding.go`): PreFilter refuses a
pod on every node, UnschedulableAndUnresolvable, when a claim is missing, being deleted or Lost
(podHasPVCs) or when a claim is not fully bound and Immediate or pre-bound by `volumeName`
(`binder.go` GetPodVolumeClaims: "pod has unbound immediate PersistentVolumeClaims"); Filter
(`binder.go` FindPodVolumes, checkBoundClaims) refuses each node a bound claim's volume's
nodeAffinity does not match ("node(s) had volume node affinity conflict"), and, for an unbound
WaitForFirstConsumer claim, each node with neither a free matching volume nor a provisioner.

`kubeprop schedule` reads the scenario as given, before any controller ran: a claim pre-bound by
`volumeName` to a volume that is free or names it, and that matches it, is taken as bound to that
volume (the PV controller binds it, and the scheduler waits for that: `pkg/controller/volume/
persistentvolume/pv_controller.go` syncUnboundClaim); a pod whose claims the plug-in still
refuses there (a StatefulSet's claims not created yet, an Immediate claim not bound yet) is left
to the caller to name (`ScenarioVolumes.unsettled`), its claims ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import attrs

from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim
from kubeprop.model.api.objects import ApiObject, Node, ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.volume import ANN_BIND_COMPLETED, CLAIMS, VOLUMES, is_bound_to_claim, volume_matches
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.scheduler.decide import pod_key
from kubeprop.model.scheduler.volumebinding import PodVolumes, claim_names, pod_volumes
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.model.state.informer import ObjectView

__all__ = ["ScenarioVolumes", "refusals", "scenario_volumes", "stored_volumes"]


def stored_volumes(model: ClusterModel, store: ObjectView, pod: Pod) -> PodVolumes | None:
    """VolumeBinding's PreFilter state for `pod` in the claims, volumes and StorageClasses of
    `store`, with the cluster's default class (`defaultStorageClass`); None when it names no claim."""
    return pod_volumes(store, pod, str(model.parameter("defaultStorageClass")))


def refusals(found: PodVolumes | None, nodes: Iterable[Node]) -> FrozenMap[str, str]:
    """The nodes VolumeBinding refuses (node name → reason): every node when its PreFilter rejects
    the pod, else the nodes its Filter rejects; none for a pod without claims."""
    if found is None:
        return EMPTY
    if found.prefilter is not None:
        return FrozenMap({n.metadata.name: found.prefilter for n in nodes})
    return FrozenMap({n.metadata.name: ", ".join(reasons) for n in nodes if (reasons := found.reasons(n))})


@attrs.frozen
class _PreBound:
    """A store in which the claims pre-bound to a volume the PV controller will bind them to read
    as fully bound (`bind-completed`): what the scheduler sees once that controller has run."""

    store: ObjectView

    def get(self, key: ObjectKey) -> ApiObject | None:
        obj = self.store.get(key)
        if key.resource != CLAIMS or not isinstance(obj, PersistentVolumeClaim) or not self._binds(obj):
            return obj
        return evolve(obj, metadata=evolve(obj.metadata,
                                           annotations=obj.metadata.annotations.set(ANN_BIND_COMPLETED, "yes")))

    def _binds(self, claim: PersistentVolumeClaim) -> bool:
        if not claim.spec.volume_name or claim.metadata.deletion_timestamp is not None:
            return False
        volume = self.store.get(ObjectKey(VOLUMES, "", claim.spec.volume_name))
        return isinstance(volume, PersistentVolume) and volume.metadata.deletion_timestamp is None and (
            volume.spec.claim_ref is None or is_bound_to_claim(volume, claim)) and volume_matches(claim, volume)

    def list(self, resource: str, namespace: str = "") -> Iterator[ApiObject]:
        return self.store.list(resource, namespace)

    def last_sync_resource_version(self, resource: str) -> str:
        return self.store.last_sync_resource_version(resource)

    def has_synced(self, resource: str) -> bool:
        return self.store.has_synced(resource)

    def awaits_relist(self, resource: str) -> bool:
        return self.store.awaits_relist(resource)


@attrs.frozen
class ScenarioVolumes:
    """`scenario_volumes`' answer: the plug-in's state for each pod with claims it can judge (pod
    key → state), and each pod whose claims it leaves out (pod key → the PreFilter's message)."""

    checks: FrozenMap[str, PodVolumes] = EMPTY
    unsettled: FrozenMap[str, str] = EMPTY

    def problem_volumes(self, nodes: Sequence[Node]) -> FrozenMap[str, FrozenMap[str, str]]:
        """The refusals of every judged pod on `nodes`, as `Problem.volumes` holds them."""
        out = {key: found for key, check in self.checks.items() if (found := refusals(check, nodes))}
        return FrozenMap(out)


def scenario_volumes(model: ClusterModel, store: ObjectView, pods: Iterable[Pod]) -> ScenarioVolumes:
    """VolumeBinding's verdicts for `pods` in the scenario as given, pre-bound claims taken as
    bound (`_PreBound`); a pod the PreFilter still refuses is unsettled, its claims ignored."""
    view = _PreBound(store)
    checks: dict[str, PodVolumes] = {}
    unsettled: dict[str, str] = {}
    for pod in pods:
        if not claim_names(pod):
            continue
        found = stored_volumes(model, view, pod)
        if found is None:
            continue
        if found.prefilter is not None:
            unsettled[pod_key(pod)] = found.prefilter
        else:
            checks[pod_key(pod)] = found
    return ScenarioVolumes(FrozenMap(checks), FrozenMap(unsettled))
