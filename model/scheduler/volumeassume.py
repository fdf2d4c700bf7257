"""VolumeBinding's Reserve and PreBind: the binder's assume caches, the cycle's volume decisions,
the API updates that carry them, and the check the PreBind polls until the PV controller is done.

Upstream (`pkg/scheduler/framework/plugins/volumebinding/binder.go` and `volume_binding.go`,
v1.33, read at commit 8af3934936bd63815c7cabf2a50ee4f9d6da8efa; the assume cache
`pkg/scheduler/util/assumecache/assume_cache.go` at ad4b5b31fccab93b58d413e0684470bdad8798f8):

- Reserve, AssumePodVolumes: when every claim of the pod is fully bound (in the assume cache)
  nothing is to do (`allBound`: PreBind returns at once). Otherwise the decisions FindPodVolumes
  made for the chosen node are assumed: each static binding's volume with the claim's `claimRef`
  (GetBindVolumeToClaim, assumed only when that changed it), each claim to provision *cloned* with
  the selected-node annotation set. The assume cache keeps such an in-memory object in place of
  the informer's until the informer delivers a newer resourceVersion (`add`: "Only update object if
  version is newer"), or the object is deleted, or `Restore` puts the informer's back; the
  PreFilter and Filter of the next cycles read it (GetPVC, GetPV, ListPVs), so a second pod sharing
  the claim is held to the selected node (FindPodVolumes' fast path).
- PreBind, BindPodVolumes → bindAPIUpdate: an `Update` of each static binding's volume, then of each
  claim to provision, *as assumed in the cycle* — with the resourceVersion the cycle read, so a
  claim or volume written since answers 409 and the error (unwrapped) fails the binding; the
  objects not yet written are restored in the assume cache; each answer is kept for the check.
- checkBindings, polled (every second, up to the bind timeout) on the informer's objects (GetAPIPV,
  GetAPIPVC), wrapped "binding volumes: %w": the node (`failed to get node %q: node %q not found`),
  the pod (`pod does not exist any more: ...`); for each static binding the volume and the claim
  ("failed to check binding: could not find ..."), a cached volume older than the one written
  (wait), the volume's node affinity (`pv %q node affinity doesn't match node %q: no matching
  NodeSelectorTerms`), its claimRef dropped (`ClaimRef got reset for pv %q`), the claim not fully
  bound (wait); then for each claim to provision the claim ("failed to check provisioning pvc: ..."),
  a cached claim older than the one written (wait), no annotations at all (`selectedNode annotation
  reset for PVC %q`), the selected node not the pod's (`provisioning failed for PVC %q`), and once
  it names a volume: the volume not cached yet (wait), its node affinity, then fully bound.
- A failed binding cycle un-reserves the pod: RevertAssumedPodVolumes restores every volume and
  claim of its decisions in the assume cache (by name, whoever assumed them).

Model choices: the bind timeout and the poll period are not modelled (the check is a function of
the caches, re-read in every state); the version check of `Assume` ("out of sync") cannot fail,
since the cycle and its Reserve are one step; a parked pod's inputs (`queue.inputs`) need not name
the assume cache of volumes: each change of it comes with a change of the assumed pods or of the
informer's caches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

import attrs

from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim
from kubeprop.model.api.objects import ApiObject, Node, ObjectKey, Pod
from kubeprop.model.api.server import Request
from kubeprop.model.api.store import WatchEvent
from kubeprop.model.api.volume import (
    ANN_BOUND_BY_CONTROLLER,
    ANN_SELECTED_NODE,
    CLAIMS,
    VOLUMES,
    claim_ref,
    is_bound_to_claim,
    is_fully_bound,
)
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scheduler.volumebinding import PodVolumes, node_affinity_matches
from kubeprop.model.state.informer import ObjectView

__all__ = [
    "PVC_CACHE_TYPE",
    "PV_CACHE_TYPE",
    "AssumedView",
    "VolumeDecisions",
    "assume",
    "check",
    "forget_events",
    "restore",
    "update_requests",
]

PVC_CACHE_TYPE = "v1.PersistentVolumeClaim"
"""The description of the binder's claim assume cache (`binder.go` NewPVCAssumeCache), which its
NotFoundError names (`assume_cache.go`: "could not find %v %q")."""
PV_CACHE_TYPE = "v1.PersistentVolume"
"""The description of the binder's volume assume cache (NewPVAssumeCache)."""
NO_MATCH = "no matching NodeSelectorTerms"
"""CheckNodeAffinity's error (`component-helpers/storage/volume/pv_helpers.go`)."""

Phase = Literal["ready", "wait", "failed"]


@attrs.frozen(cache_hash=True)
class VolumeDecisions:
    """One assumed pod's podVolumes: the volumes to pre-bind (each with its claimRef) and the claims
    to provision (each with the selected-node annotation) as Reserve assumed them — then, once the
    PreBind sent them (`sent`), as the API server answered (the resourceVersions checkBindings
    compares with the informer's)."""

    bindings: tuple[PersistentVolume, ...] = ()
    provisions: tuple[PersistentVolumeClaim, ...] = ()
    sent: bool = False

    def cache_keys(self) -> Iterator[str]:
        """The assume-cache keys of its objects."""
        for volume in self.bindings:
            yield cache_key(volume)
        for claim in self.provisions:
            yield cache_key(claim)


def cache_key(obj: ApiObject) -> str:
    """An object's key in the assume caches: resource/namespace/name (a volume's namespace is empty;
    the caches are two upstream), never a pod's key (namespace/name)."""
    if isinstance(obj, PersistentVolumeClaim):
        return f"{CLAIMS}/{obj.metadata.namespace}/{obj.metadata.name}"
    return f"{VOLUMES}//{obj.metadata.name}"


def _rv(obj: ApiObject) -> int:
    return int(obj.metadata.resource_version or 0)


@attrs.frozen
class AssumedView:
    """The scheduler's informer cache with its assume caches laid over it (`AssumeCache.Get/List`
    return the latest object: the assumed one while the informer has none newer)."""

    view: ObjectView
    cache: FrozenMap[str, ApiObject]

    def _latest(self, obj: ApiObject) -> ApiObject:
        assumed = self.cache.get(cache_key(obj))
        return assumed if assumed is not None and _rv(obj) <= _rv(assumed) else obj

    def get(self, key: ObjectKey) -> ApiObject | None:
        obj = self.view.get(key)
        return obj if obj is None or key.resource not in (CLAIMS, VOLUMES) else self._latest(obj)

    def list(self, resource: str, namespace: str = "") -> Iterator[ApiObject]:
        for obj in self.view.list(resource, namespace):
            yield self._latest(obj) if resource in (CLAIMS, VOLUMES) else obj

    def last_sync_resource_version(self, resource: str) -> str:
        return self.view.last_sync_resource_version(resource)

    def has_synced(self, resource: str) -> bool:
        return self.view.has_synced(resource)

    def awaits_relist(self, resource: str) -> bool:
        return self.view.awaits_relist(resource)


def assume(found: PodVolumes, node: Node, cache: FrozenMap[str, ApiObject]
           ) -> tuple[VolumeDecisions | None, FrozenMap[str, ApiObject]]:
    """AssumePodVolumes for the pod `found` describes (its PreFilter state, read through the assume
    caches) on `node`: None when every claim is fully bound (allBound), else the decisions and the
    assume caches with them."""
    if not found.to_bind:
        return None, cache
    pairs, claims = found.decisions(node)
    bindings: list[PersistentVolume] = []
    for claim, volume in pairs:
        bound, dirty = _bind_volume_to_claim(volume, claim)
        if dirty:
            cache = cache.set(cache_key(bound), bound)
        bindings.append(bound)
    provisions: list[PersistentVolumeClaim] = []
    for claim in claims:
        annotations = claim.metadata.annotations.set(ANN_SELECTED_NODE, node.metadata.name)
        clone = evolve(claim, metadata=evolve(claim.metadata, annotations=annotations))
        cache = cache.set(cache_key(clone), clone)
        provisions.append(clone)
    return VolumeDecisions(tuple(bindings), tuple(provisions)), cache


def _bind_volume_to_claim(volume: PersistentVolume, claim: PersistentVolumeClaim) -> tuple[PersistentVolume, bool]:
    """GetBindVolumeToClaim (`component-helpers/storage/volume/pv_helpers.go`): the claimRef set
    unless it names the claim with its UID already; `pv.kubernetes.io/bound-by-controller` added
    unless the volume was bound to the claim before (by a user or the controller); and whether
    either changed it (dirty: only then is it assumed)."""
    ref = volume.spec.claim_ref
    by_controller = not is_bound_to_claim(volume, claim)
    dirty = False
    if ref is None or (ref.name, ref.namespace, ref.uid) != (claim.metadata.name, claim.metadata.namespace,
                                                             claim.metadata.uid):
        volume = evolve(volume, spec=evolve(volume.spec, claim_ref=claim_ref(claim)))
        dirty = True
    if by_controller and ANN_BOUND_BY_CONTROLLER not in volume.metadata.annotations:
        annotations = volume.metadata.annotations.set(ANN_BOUND_BY_CONTROLLER, "yes")
        volume = evolve(volume, metadata=evolve(volume.metadata, annotations=annotations))
        dirty = True
    return volume, dirty


def restore(cache: FrozenMap[str, ApiObject], decisions: VolumeDecisions | None) -> FrozenMap[str, ApiObject]:
    """RevertAssumedPodVolumes: the informer's objects back for every volume and claim of the decisions."""
    if decisions is None:
        return cache
    for key in decisions.cache_keys():
        if key in cache:
            cache = cache.delete(key)
    return cache


def forget_events(cache: FrozenMap[str, ApiObject], events: Iterable[WatchEvent]) -> FrozenMap[str, ApiObject]:
    """The assume caches' informer handlers: a delivered object newer than the assumed one, or a
    deletion, replaces it (`AssumeCache.add`, `delete`)."""
    for event in events:
        if event.key.resource not in (CLAIMS, VOLUMES) or not cache:
            continue
        key = f"{event.key.resource}/{event.key.namespace}/{event.key.name}"
        assumed = cache.get(key)
        if assumed is not None and (event.type == "DELETED" or event.object is None
                                    or _rv(event.object) > _rv(assumed)):
            cache = cache.delete(key)
    return cache


def update_requests(decisions: VolumeDecisions, user: str) -> list[Request]:
    """bindAPIUpdate's writes, in its order: each volume to pre-bind, then each claim to provision."""
    volumes = [Request(verb="update", user=user, obj=v) for v in decisions.bindings]
    return volumes + [Request(verb="update", user=user, obj=c) for c in decisions.provisions]


def check(view: ObjectView, pod_key: str, node_name: str, decisions: VolumeDecisions) -> tuple[Phase, str | None]:
    """checkBindings on the informer's objects (see the module docstring): ("ready", None), ("wait",
    None), or ("failed", the error as BindPodVolumes wraps it)."""
    phase, error = _check(view, pod_key, node_name, decisions)
    return phase, None if error is None else f"binding volumes: {error}"


def _check(view: ObjectView, pod_key: str, node_name: str, decisions: VolumeDecisions) -> tuple[Phase, str | None]:
    node = view.get(ObjectKey("nodes", "", node_name))
    if not isinstance(node, Node):
        return "failed", f'failed to get node "{node_name}": node "{node_name}" not found'
    namespace, _, name = pod_key.partition("/")
    if not isinstance(view.get(ObjectKey("pods", namespace, name)), Pod):
        return "failed", f'pod does not exist any more: pod "{name}" not found'
    for written in decisions.bindings:
        phase, error = _check_binding(view, node, written)
        if phase != "ready":
            return phase, error
    for claim in decisions.provisions:
        phase, error = _check_provisioning(view, node, claim)
        if phase != "ready":
            return phase, error
    return "ready", None


def _affinity_error(volume: PersistentVolume, node: Node) -> str | None:
    if node_affinity_matches(volume, node):
        return None
    return f'pv "{volume.metadata.name}" node affinity doesn\'t match node "{node.metadata.name}": {NO_MATCH}'


def _check_binding(view: ObjectView, node: Node, written: PersistentVolume) -> tuple[Phase, str | None]:
    volume = view.get(ObjectKey(VOLUMES, "", written.metadata.name))
    if not isinstance(volume, PersistentVolume):
        return "failed", f'failed to check binding: could not find {PV_CACHE_TYPE} "{written.metadata.name}"'
    ref = written.spec.claim_ref
    namespace, name = (ref.namespace, ref.name) if ref is not None else ("", "")
    claim = view.get(ObjectKey(CLAIMS, namespace, name))
    if not isinstance(claim, PersistentVolumeClaim):
        return "failed", f'failed to check binding: could not find {PVC_CACHE_TYPE} "{namespace}/{name}"'
    if _rv(written) > _rv(volume):
        return "wait", None
    error = _affinity_error(volume, node)
    if error is not None:
        return "failed", error
    if volume.spec.claim_ref is None or not volume.spec.claim_ref.uid:
        return "failed", f'ClaimRef got reset for pv "{volume.metadata.name}"'
    return ("ready", None) if is_fully_bound(claim) else ("wait", None)


def _check_provisioning(view: ObjectView, node: Node, written: PersistentVolumeClaim) -> tuple[Phase, str | None]:
    namespace, name = written.metadata.namespace, written.metadata.name
    claim = view.get(ObjectKey(CLAIMS, namespace, name))
    if not isinstance(claim, PersistentVolumeClaim):
        return "failed", f'failed to check provisioning pvc: could not find {PVC_CACHE_TYPE} "{namespace}/{name}"'
    if _rv(written) > _rv(claim):
        return "wait", None
    if not claim.metadata.annotations:
        return "failed", f'selectedNode annotation reset for PVC "{name}"'
    if claim.metadata.annotations.get(ANN_SELECTED_NODE) != node.metadata.name:
        return "failed", f'provisioning failed for PVC "{name}"'
    if claim.spec.volume_name:
        volume = view.get(ObjectKey(VOLUMES, "", claim.spec.volume_name))
        if not isinstance(volume, PersistentVolume):
            return "wait", None  # tolerated: the volume may not be cached yet
        error = _affinity_error(volume, node)
        if error is not None:
            return "failed", error
    return ("ready", None) if is_fully_bound(claim) else ("wait", None)

