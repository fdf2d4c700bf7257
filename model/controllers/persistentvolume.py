"""The PersistentVolume controller (kube-controller-manager's `persistentvolume-binder`): binds
claims to volumes, asks an external provisioner for a volume, and keeps the volumes' phases.

Upstream: `pkg/controller/volume/persistentvolume/pv_controller.go` (syncClaim, syncUnboundClaim,
syncBoundClaim, syncVolume, bind, provisionClaim → provisionClaimOperationExternal →
setClaimProvisioner), `index.go` (findBestMatchForClaim), `staging/src/k8s.io/component-helpers/
storage/volume/pv_helpers.go` (FindMatchingVolume, IsVolumeBoundToClaim, the annotations: shared
with the scheduler, so in `kubeprop.model.api.volume`) and `helpers.go` (IsDelayBindingMode,
IsDelayBindingProvisioning).

A claim's sync (key `namespace/name`):
- not yet bound (no `pv.kubernetes.io/bind-completed`), `spec.volumeName` empty: the best matching
  volume (`find_best_match`: the access-mode sets holding every mode the claim asks for, fewest
  modes first — sets of one size in key order, or as the environment chooses,
  `persistentvolume_order` — and in the first set with a match, a volume reserved for the claim by
  its `claimRef` whatever its class and selector, else an Available one of the claim's class, the
  smallest with enough capacity; for a WaitForFirstConsumer claim only a volume reserved for it)
  is bound to it; otherwise, a WaitForFirstConsumer claim without the scheduler's
  `volume.kubernetes.io/selected-node` waits for a pod; a claim with a class asks the class's
  provisioner (the `volume.kubernetes.io/storage-provisioner` annotation, which the external
  provisioner watches for: `kubeprop.model.cluster.provisioner`) unless its class is missing or
  provisions nothing (`kubernetes.io/no-provisioner`); a claim without a class stays Pending.
- `spec.volumeName` set (pre-bound by its author): bound to that volume once it exists and is
  reserved for this claim, or free and satisfying it (`volume_mismatch`, checkVolumeSatisfyClaim:
  capacity, class, volume mode, access modes; else the claim stays Pending, VolumeMismatch).
- bound (syncBoundClaim): Lost when it names no volume, when its volume is gone, or when its
  volume's `claimRef` has another UID (ClaimMisbound: two claims bound to one volume); otherwise
  `bind` repairs whatever half is missing (the volume's `claimRef` empty, or its own).
`bind` writes, each only if needed: the volume's `claimRef` (with the claim's UID) and
`pv.kubernetes.io/bound-by-controller`, its phase Bound, the claim's `volumeName` and
`pv.kubernetes.io/bind-completed`, its phase Bound with the volume's capacity and access modes
(four writes, as upstream's bind: the claim is usable only after the last).

The controller reads its view through its own writes (`kubeprop.model.controllers.pv_own_writes`:
upstream's storeVolumeUpdate / storeClaimUpdate into its own caches), and a key whose informer copy
is older than its own write is not synced (updateVolume / updateClaim).

A volume's sync (key `/name`): phase Available while it has no claim (or is only pre-bound);
a volume whose claim is gone is Released, then its reclaim policy is carried out
(`kubeprop.model.controllers.reclaim`: Retain keeps it Released; Delete leaves a provisioned or CSI
volume to its external provisioner, deletes a hostPath one under /tmp/, and marks any other one
Failed — each only after a live GET of the volume finds it still released, deleteVolumeOperation's
fresh read: a stale cache deletes nothing); a volume bound to a claim that does not name it yet
enqueues that claim. A volume bound to a claim that names *another* volume (two volumes raced for
the claim, a provisioned volume came after the claim found a static one, or a user wrote the
`claimRef`; syncVolume's "Volume is bound to a claim, but the claim is bound elsewhere",
`bound_elsewhere`): one dynamically provisioned (`pv.kubernetes.io/provisioned-by`) with reclaim
policy Delete is Released and reclaimed as above; any other is unbound (unbindVolume: `claimRef`
cleared with the controller's `bound-by-controller` annotation, or only its UID for a volume a
user pre-bound) and Available. A claim's deletion enqueues its volume (pv_controller_base.go
deleteClaim).

"Gone" is asked of the API server, not taken from the cache (syncVolume, read at a v1.31+ source:
`ctrl.claims.GetByKey`, `claimLister`, then `kubeClient.CoreV1().PersistentVolumeClaims(ns).Get`): a
claim missing from the cache is looked up with a live GET before a volume not yet Released or
Failed is released ("it's possible
under heavy load that the corresponding PVC is not synced to controller local cache yet ... to
make sure we will not reclaim a PV wrongly": the claim bound by the scheduler's VolumeBinding
before the controller's claim informer has delivered it), and a cached claim of another UID is
looked up live whatever the phase ("Maybe cached claim is not the newest one"). Released only
when the GET answers 404 or finds another UID; a found claim is used as the cached one would be;
a failed GET fails the sync (requeued). A volume already Released or Failed whose claim is not in
the cache is released again without a GET, as upstream. The GET is a request like the others
(partitions and crashes affect it as any); its answer is kept in the controller's memory
(`LiveClaim`, lost on a crash) and decided on in the volume's next reconcile, as the garbage
collector's and the PVC protection controller's live reads; upstream's second GET after a live
answer of another UID is the same question again, so one answer decides.

Model choices: volume events enqueue the claims they concern (the one in `claimRef`, or every
unbound claim of the volume's class for a free volume), and a claim's events the volumes bound to
it while it names another, where upstream a free volume is matched, and such a volume found, at
the periodic resync (15 s, pv_controller_base.go resync); the retroactive default class (RetroactiveDefaultStorageClass)
is not modelled, nor events (ClaimLost, ClaimMisbound: only the phase is written). The controller runs only in
scenarios that can have claims or volumes (`uses_volumes`: their objects, or a user's controller),
so the states of the others stay as they were.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.core import (
    PersistentVolume,
    PersistentVolumeClaim,
    PersistentVolumeStatus,
)
from kubeprop.model.api.objects import ApiObject, ObjectKey, StatefulSet
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.storage import (
    NOT_SUPPORTED_PROVISIONER,
    StorageClass,
    claim_class,
    cluster_storage_class,
    find_storage_class,
    is_delay_binding,
)
from kubeprop.model.api.storage import RESOURCE as STORAGE_CLASSES
from kubeprop.model.api.volume import (
    ANN_BETA_STORAGE_PROVISIONER,
    ANN_BIND_COMPLETED,
    ANN_BOUND_BY_CONTROLLER,
    ANN_SELECTED_NODE,
    ANN_STORAGE_PROVISIONER,
    CLAIMS,
    VOLUMES,
    claim_ref,
    find_best_match,
    is_bound_to_claim,
    tie_breaks,
    volume_mismatch,
)
from kubeprop.model.controllers.base import Reconciliation
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER
from kubeprop.model.controllers.pv_own_writes import OwnWrites, OwnWritesView, own_view, prune, remember
from kubeprop.model.controllers.reclaim import (
    DeleteOperation,
    Released,
    bound_elsewhere,
    finish_delete,
    released,
    unconditional,
)
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.state.informer import ObjectView

SETTLED_PHASES = ("Released", "Failed")
"""Phases syncVolume does not double-check a missing claim for ("only non-released and non-failed
volumes will be updated to Released state when PVC does not exist")."""


@attrs.frozen(cache_hash=True)
class LiveClaim:
    """A live GET's answer about a volume's claim: `uid`, the claimRef UID asked about; `found`,
    whether the API server holds a claim of that name with that UID; `volume_name`, its
    `spec.volumeName` then."""

    uid: str
    found: bool
    volume_name: str = ""


Live = LiveClaim | DeleteOperation
"""What the controller remembers of a volume between two syncs: a live claim answer, or a delete
operation (`kubeprop.model.controllers.reclaim`) waiting for, or holding, its volume GET's answer."""


@attrs.frozen(cache_hash=True)
class PvMemory:
    """Live answers and delete operations not yet decided on, by volume name; `asking`, the volume
    whose GET is under way; `own`, the objects its own writes returned that its informers have not
    delivered yet (`kubeprop.model.controllers.pv_own_writes`). The controller's memory is None
    while all are empty (its memory before live GETs were modelled, so the states that ask nothing
    are unchanged)."""

    live: FrozenMap[str, Live] = EMPTY
    asking: str = ""
    own: OwnWrites = EMPTY


def _memory(live: FrozenMap[str, Live], asking: str = "", own: OwnWrites = EMPTY) -> PvMemory | None:
    return PvMemory(live, asking, own) if live or asking or own else None


def _live(memory: Any) -> FrozenMap[str, Live]:
    return memory.live if isinstance(memory, PvMemory) else EMPTY


def _own(memory: Any) -> OwnWrites:
    return memory.own if isinstance(memory, PvMemory) else EMPTY


def uses_volumes(objects: Iterable[Any], controllers: Iterable[Any] = ()) -> bool:
    """Whether a scenario can have claims or volumes: one of its objects is a claim, a volume, a
    StorageClass or a StatefulSet with volumeClaimTemplates, or a user's controller runs (it may
    create any of them: the Database operator's StatefulSet has a claim template)."""
    return any(True for _ in controllers) or any(
        isinstance(o, PersistentVolumeClaim | PersistentVolume | StorageClass)
        or (isinstance(o, StatefulSet) and o.spec.volume_claim_templates) for o in objects)


def bind(volume: PersistentVolume, claim: PersistentVolumeClaim) -> list[Request]:
    """bind(): the writes that bind `volume` and `claim` to each other, only those still needed."""
    out: list[Request] = []
    vol = volume
    if not (is_bound_to_claim(vol, claim) and vol.spec.claim_ref is not None and vol.spec.claim_ref.uid):
        annotations = vol.metadata.annotations.set(ANN_BOUND_BY_CONTROLLER, "yes")
        vol = evolve(vol, metadata=evolve(vol.metadata, annotations=annotations),
                     spec=evolve(vol.spec, claim_ref=claim_ref(claim)))
        out.append(Request(verb="update", user=CONTROLLER_MANAGER_USER, obj=vol))
    if vol.status.phase != "Bound":
        vol = evolve(vol, status=PersistentVolumeStatus(phase="Bound"))
        out.append(Request(verb="update-status", user=CONTROLLER_MANAGER_USER,
                           obj=unconditional(vol) if out else vol))
    pvc = claim
    if pvc.spec.volume_name != vol.metadata.name or ANN_BIND_COMPLETED not in pvc.metadata.annotations:
        annotations = pvc.metadata.annotations.set(ANN_BIND_COMPLETED, "yes")
        if ANN_BOUND_BY_CONTROLLER not in annotations and pvc.spec.volume_name != vol.metadata.name:
            annotations = annotations.set(ANN_BOUND_BY_CONTROLLER, "yes")
        pvc = evolve(pvc, metadata=evolve(pvc.metadata, annotations=annotations),
                     spec=evolve(pvc.spec, volume_name=vol.metadata.name))
        out.append(Request(verb="update", user=CONTROLLER_MANAGER_USER, obj=pvc))
    status = evolve(pvc.status, phase="Bound", access_modes=vol.spec.access_modes, capacity=vol.spec.capacity)
    if status != pvc.status:
        changed = pvc.spec.volume_name != claim.spec.volume_name or pvc.metadata != claim.metadata
        pvc = evolve(pvc, status=status)
        out.append(Request(verb="update-status", user=CONTROLLER_MANAGER_USER,
                           obj=unconditional(pvc) if changed else pvc))
    return out


@attrs.frozen
class PersistentVolumeController:
    """The PV controller as a `Controller` (see the module docstring); `cluster_class` is the
    model parameter `defaultStorageClass` (the cluster's own StorageClass)."""

    cluster_class: str = "zonal"
    tie_break: str = ""
    """The access-mode set (`access_mode_set`) findByClaim searches first among the sets of its size
    (`mode_sets`: upstream, Go map order); "" for key order."""
    name: str = "persistentvolume-binder"
    watches: tuple[str, ...] = (CLAIMS, VOLUMES, STORAGE_CLASSES)
    identity: str = CONTROLLER_MANAGER_USER

    def initial_memory(self) -> Any:
        """No live answer at start (and after a crash)."""
        return None

    def observe(self, memory: Any, request: Request, response: Response) -> Any:
        """The answer of syncVolume's live claim GET, for the volume asking: 404, or a claim of
        another UID, is a claim gone; a failure (partition, refusal) answers nothing. The answer of
        a delete operation's volume GET (`_observe_volume`). The object a successful update of a
        volume or a claim returned (storeVolumeUpdate / storeClaimUpdate: `pv_own_writes`)."""
        own = remember(_own(memory), request, response)
        if own is not _own(memory):
            return _memory(_live(memory), memory.asking if isinstance(memory, PvMemory) else "", own)
        if not isinstance(memory, PvMemory) or not memory.asking or request.verb != "get":
            return memory
        if request.resource == VOLUMES:
            return _observe_volume(memory, response)
        uid = request.precondition_uid or ""
        if response.code == 404:
            answer: LiveClaim | None = LiveClaim(uid, found=False)
        elif response.ok and isinstance(response.obj, PersistentVolumeClaim):
            found = response.obj.metadata.uid == uid
            answer = LiveClaim(uid, found, response.obj.spec.volume_name if found else "")
        else:
            answer = None
        live = memory.live if answer is None else memory.live.set(memory.asking, answer)
        return _memory(live, own=memory.own)

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        """A claim's own key; a volume's own key and the claims it concerns (module docstring)."""
        if isinstance(obj, PersistentVolumeClaim):
            key = f"{obj.metadata.namespace}/{obj.metadata.name}"
            cached = view.get(ObjectKey(CLAIMS, obj.metadata.namespace, obj.metadata.name))
            if obj.spec.volume_name and (cached is None or cached.metadata.uid != obj.metadata.uid):
                return (key, f"/{obj.spec.volume_name}")  # deleteClaim: "sync the volume when its claim is deleted"
            return (key, *_misbound(obj, view))
        if not isinstance(obj, PersistentVolume):
            return ()
        ref = obj.spec.claim_ref
        if ref is not None:
            return (f"/{obj.metadata.name}", f"{ref.namespace}/{ref.name}", *_naming(obj, view))
        waiting = tuple(f"{c.metadata.namespace}/{c.metadata.name}" for c in view.list(CLAIMS)
                        if isinstance(c, PersistentVolumeClaim) and not c.spec.volume_name
                        and claim_class(c.spec.storage_class_name) == obj.spec.storage_class_name)
        return (f"/{obj.metadata.name}", *waiting, *_naming(obj, view))

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """syncClaim for `namespace/name`, syncVolume for `/name`, reading the view through the
        controller's own writes (`pv_own_writes`); nothing while its own write of the key's object
        is newer than the informer's copy (updateClaim / updateVolume's `!new`)."""
        own = prune(_own(memory), view)
        if own is not _own(memory):
            memory = _memory(_live(memory), memory.asking if isinstance(memory, PvMemory) else "", own)
        view = own_view(view, own)
        namespace, _, name = key.partition("/")
        if not namespace:
            return self._volume(view, name, memory)
        claim_key = ObjectKey(CLAIMS, namespace, name)
        claim = view.get(claim_key)
        if not isinstance(claim, PersistentVolumeClaim) or (isinstance(view, OwnWritesView) and view.behind(claim_key)):
            return Reconciliation(memory=memory)
        if ANN_BIND_COMPLETED in claim.metadata.annotations:
            return Reconciliation(tuple(self._sync_bound(view, claim)), memory)
        return Reconciliation(tuple(self._sync_unbound(view, claim)), memory)

    def tie_breaks(self, view: ObjectView, key: str, memory: Any, now: int) -> tuple[str, ...]:
        """The access-mode sets that, searched first among the sets of their size, make this claim's
        sync bind another volume than key order does (`volume.tie_breaks`: upstream's order of sets
        of one size is a Go map's, `persistentvolume_order.ReconcileModesFirst`); empty unless the
        sync reaches findBestMatchForClaim — a claim not bound, naming no volume, whose informer
        copy is not older than the controller's own write of it."""
        namespace, _, name = key.partition("/")
        if not namespace:
            return ()
        view = own_view(view, prune(_own(memory), view))
        claim_key = ObjectKey(CLAIMS, namespace, name)
        claim = view.get(claim_key)
        if not isinstance(claim, PersistentVolumeClaim) or claim.spec.volume_name \
                or ANN_BIND_COMPLETED in claim.metadata.annotations \
                or (isinstance(view, OwnWritesView) and view.behind(claim_key)):
            return ()
        stored, builtin = self._classes(view)
        delay = is_delay_binding(claim_class(claim.spec.storage_class_name), stored, builtin)
        return tie_breaks(claim, view.list(VOLUMES), delay)

    def _classes(self, view: ObjectView) -> tuple[list[ApiObject], StorageClass | None]:
        return list(view.list(STORAGE_CLASSES)), cluster_storage_class(self.cluster_class)

    def _sync_unbound(self, view: ObjectView, claim: PersistentVolumeClaim) -> list[Request]:
        """syncUnboundClaim. A claim that names its volume (`volumeName`) is bound to it when the
        volume is reserved for it (`claimRef`: "volume already bound, finishing the binding") or is
        free and satisfies it (`volume_mismatch`, checkVolumeSatisfyClaim: else the claim stays
        Pending, event VolumeMismatch, which the model does not write); never to a volume that is
        missing or reserved for another claim."""
        if claim.spec.volume_name:
            volume = view.get(ObjectKey(VOLUMES, "", claim.spec.volume_name))
            if isinstance(volume, PersistentVolume) and (
                    is_bound_to_claim(volume, claim)
                    or (volume.spec.claim_ref is None and volume_mismatch(volume, claim) is None)):
                return bind(volume, claim)
            return []
        stored, builtin = self._classes(view)
        class_name = claim_class(claim.spec.storage_class_name)
        delay = is_delay_binding(class_name, stored, builtin)
        volume = find_best_match(claim, view.list(VOLUMES), delay, first=self.tie_break)
        if volume is not None:
            return bind(volume, claim)
        if delay and ANN_SELECTED_NODE not in claim.metadata.annotations:
            return []  # WaitForFirstConsumer: "waiting for first consumer to be created before binding"
        if not class_name:
            return []  # "no persistent volumes available for this claim and no storage class is set"
        found = find_storage_class(stored, builtin, class_name)
        if found is None or found.provisioner == NOT_SUPPORTED_PROVISIONER:
            return []  # ProvisioningFailed: storageclass "x" not found / no volume plugin provisions it
        if claim.metadata.annotations.get(ANN_STORAGE_PROVISIONER) == found.provisioner:
            return []  # the external provisioner has been asked
        annotations = claim.metadata.annotations.update({ANN_STORAGE_PROVISIONER: found.provisioner,
                                                         ANN_BETA_STORAGE_PROVISIONER: found.provisioner})
        updated = evolve(claim, metadata=evolve(claim.metadata, annotations=annotations))
        return [Request(verb="update", user=CONTROLLER_MANAGER_USER, obj=updated)]

    @staticmethod
    def _sync_bound(view: ObjectView, claim: PersistentVolumeClaim) -> list[Request]:
        """syncBoundClaim (pv_controller.go): Lost when the claim names no volume any more
        (ClaimLost, "Bound claim has lost reference to PersistentVolume") or its volume is not in
        the cache (ClaimLost, "Bound claim has lost its PersistentVolume"); `bind` when the volume
        has no `claimRef` ("volume has come unbound ... Bind the volume again") or one with this
        claim's UID ("All is well"); Lost when the volume's `claimRef` has another UID, an empty
        one included (ClaimMisbound, "Two claims are bound to the same volume, this one is bound
        incorrectly"): `lost`."""
        volume = view.get(ObjectKey(VOLUMES, "", claim.spec.volume_name)) if claim.spec.volume_name else None
        if not isinstance(volume, PersistentVolume):
            return lost(claim)
        if volume.spec.claim_ref is None or volume.spec.claim_ref.uid == claim.metadata.uid:
            return bind(volume, claim)
        return lost(claim)

    def _volume(self, view: ObjectView, name: str, memory: Any) -> Reconciliation:
        """syncVolume for `/name`, with the live answer kept for it (used up), or the live GET; or
        the end of its delete operation, once its GET has answered."""
        live, own = _live(memory), _own(memory)
        answer = live.get(name)
        rest = _memory(live.delete(name), own=own) if answer is not None else memory
        if isinstance(answer, DeleteOperation):
            if answer.answered:  # deleteVolumeOperation after its GET
                return Reconciliation(tuple(finish_delete(answer, view)), rest)
            answer = None  # its GET was never answered: the sync starts again
        volume_key = ObjectKey(VOLUMES, "", name)
        volume = view.get(volume_key)
        if not isinstance(volume, PersistentVolume) or (isinstance(view, OwnWritesView) and view.behind(volume_key)):
            return Reconciliation(memory=rest)
        decided = self._sync_volume(view, volume, answer)
        if isinstance(decided, Request):
            return Reconciliation((decided,), _memory(_live(rest), asking=name, own=own), requeue=True)
        if isinstance(decided, Released):
            if decided.operation is None:
                return Reconciliation(decided.writes, rest)
            get = Request(verb="get", user=self.identity, resource=VOLUMES, name=name)
            return Reconciliation((*decided.writes, get), _memory(_live(rest).set(name, decided.operation), name, own),
                                  requeue=True)
        return Reconciliation(tuple(decided), rest)

    def _sync_volume(self, view: ObjectView, volume: PersistentVolume,
                     answer: LiveClaim | None) -> list[Request] | Request | Released:
        """syncVolume: Available when free or pre-bound, Released when its claim is gone (then
        reclaimVolume: `Released`), Bound when its claim names it; the live GET (a Request) when the
        cache cannot tell (module docstring)."""
        ref = volume.spec.claim_ref
        if ref is None or not ref.uid:
            return _phase(volume, "Available")
        cached = view.get(ObjectKey(CLAIMS, ref.namespace, ref.name))
        if isinstance(cached, PersistentVolumeClaim) and cached.metadata.uid == ref.uid:
            volume_name = cached.spec.volume_name
        elif cached is None and volume.status.phase in SETTLED_PHASES:
            return released(volume)  # no double check: "claim not found"
        elif answer is None or answer.uid != ref.uid:
            return Request(verb="get", user=self.identity, resource=CLAIMS, namespace=ref.namespace,
                           name=ref.name, precondition_uid=ref.uid)
        elif not answer.found:
            return released(volume)
        else:
            volume_name = answer.volume_name
        if volume_name == volume.metadata.name:
            return _phase(volume, "Bound")
        if not volume_name:
            return []  # the claim's sync (enqueued by keys_for) finishes the binding
        return bound_elsewhere(volume)


def lost(claim: PersistentVolumeClaim) -> list[Request]:
    """updateClaimStatusWithEvent(claim, ClaimLost, nil, ...): nothing when the phase is Lost
    already ("phase already set"), else updateClaimStatus with no volume: phase Lost, accessModes
    and capacity reset, the rest of the status (its conditions) kept."""
    if claim.status.phase == "Lost":
        return []
    status = evolve(claim.status, phase="Lost", access_modes=(), capacity=EMPTY)
    return [Request(verb="update-status", user=CONTROLLER_MANAGER_USER, obj=evolve(claim, status=status))]


def _naming(volume: PersistentVolume, view: ObjectView) -> tuple[str, ...]:
    """The keys of the bound claims (`pv.kubernetes.io/bind-completed`) that name `volume` while it
    is not bound to them — no `claimRef` (syncBoundClaim binds it again), or one of another UID
    (ClaimMisbound: Lost) — and whose sync would write: the claims upstream's periodic resync (15 s)
    finds, enqueued by the volume's event instead."""
    ref = volume.spec.claim_ref
    return tuple(f"{c.metadata.namespace}/{c.metadata.name}" for c in view.list(CLAIMS)
                 if isinstance(c, PersistentVolumeClaim) and c.spec.volume_name == volume.metadata.name
                 and ANN_BIND_COMPLETED in c.metadata.annotations
                 and (ref is None or (ref.uid != c.metadata.uid and c.status.phase != "Lost")))


def _misbound(claim: PersistentVolumeClaim, view: ObjectView) -> tuple[str, ...]:
    """The keys of the volumes bound (with its UID) to `claim` while it names another volume: the
    volumes syncVolume's "claim is bound elsewhere" branch is for, which upstream's resync finds."""
    if not claim.spec.volume_name:
        return ()
    return tuple(f"/{v.metadata.name}" for v in view.list(VOLUMES)
                 if isinstance(v, PersistentVolume) and v.metadata.name != claim.spec.volume_name
                 and (ref := v.spec.claim_ref) is not None and ref.uid == claim.metadata.uid
                 and ref.name == claim.metadata.name and ref.namespace == claim.metadata.namespace)


def _observe_volume(memory: PvMemory, response: Response) -> PvMemory | None:
    """The delete operation's volume GET answered: 404 is the volume gone; a failure forgets the
    operation (the next sync starts it again)."""
    operation = memory.live.get(memory.asking)
    if not isinstance(operation, DeleteOperation):
        return memory
    if response.code == 404:
        live = memory.live.set(memory.asking, evolve(operation, answered=True, found=False))
    elif response.ok and isinstance(response.obj, PersistentVolume):
        live = memory.live.set(memory.asking, evolve(operation, answered=True, found=True,
                                                     claim_ref=response.obj.spec.claim_ref))
    else:
        live = memory.live.delete(memory.asking)
    return _memory(live, own=memory.own)


def _phase(volume: PersistentVolume, want: str) -> list[Request]:
    """updateVolumePhase: a status write only when the phase differs."""
    if volume.status.phase == want:
        return []
    return [Request(verb="update-status", user=CONTROLLER_MANAGER_USER,
                    obj=evolve(volume, status=PersistentVolumeStatus(phase=want)))]
