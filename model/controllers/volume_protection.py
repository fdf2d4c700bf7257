"""The PVC and PV protection controllers (kube-controller-manager's `pvc-protection` and
`pv-protection`): they remove the StorageObjectInUseProtection finalizers once a claim is used by
no pod, and once a volume is not bound.

The finalizers are added by the admission plug-in (`kubeprop.model.api.admission`,
`plugin/pkg/admission/storage/storageobjectinuseprotection/admission.go`); each controller also
adds its finalizer to an object that is not being deleted and lacks it (for objects created before
the plug-in was enabled: in the model, those a test writes straight into the store).

PVC protection, upstream `pkg/controller/volume/pvcprotection/pvc_protection_controller.go`:
- claim events enqueue a claim that needs the finalizer (`protectionutil.NeedToAddFinalizer`: not
  being deleted, finalizer absent) or is a deletion candidate (`IsDeletionCandidate`: being
  deleted, finalizer present); pod events enqueue the claims a pod names (`pod.spec.volumes[].
  persistentVolumeClaim`) when the pod is deleted, terminated (`volumeutil.IsPodTerminated`:
  phase Succeeded or Failed, or being deleted with no container running) or not scheduled
  (enqueuePVCs: for a pod's DeleteFunc, and for an update's old pod when the new one has another UID);
- processPVC of a deletion candidate: isBeingUsed asks the informer first (a pod of the namespace,
  scheduled — `spec.nodeName` set — that names the claim: podUsesPVC; its phase and its deletion do
  not matter, for a pod's PVC volume — podIsShutDown concerns only generic ephemeral volumes, which
  the model has not), then, when the cache shows no such pod, a live LIST of the namespace's pods:
  only when that list shows none either is the finalizer removed (an update, with the cached
  resourceVersion). A claim used by a pod keeps its finalizer and is requeued by the pod's events.
Model choices: the live LIST is a request whose answer the controller keeps (`PvcMemory.live`, lost
on crash) and decides on in the claim's next reconcile (the requests of one reconcile are decided
before any is sent, as the namespace controller's and the garbage collector's live reads); each
answer serves the claim it was made for, where upstream's LazyLivePodList serves every claim of
one batch of a namespace (a fresher answer, never a staler one). A pod event queues only the
claims the cache shows needing the finalizer or being deleted: upstream queues every claim the pod
names, and the others' processPVC writes nothing (a later change of such a claim queues it itself).

PV protection, upstream `pkg/controller/volume/pvprotection/pv_protection_controller.go`: volume
events enqueue a volume that needs the finalizer or is a deletion candidate; processPV removes the
finalizer of a deletion candidate unless its phase is Bound (isBeingUsed).

Both run only where the PersistentVolume controller runs (`persistentvolume.uses_volumes`), so the
states of scenarios without claims or volumes stay as they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim
from kubeprop.model.api.objects import ApiObject, ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.volume import CLAIMS, PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER, VOLUMES
from kubeprop.model.controllers.base import Change, ChangeHandlers, Memoryless, Reconciliation
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.state.informer import ObjectView


def need_to_add_finalizer(obj: ApiObject, finalizer: str) -> bool:
    """protectionutil.NeedToAddFinalizer: not being deleted, and the finalizer absent."""
    return obj.metadata.deletion_timestamp is None and finalizer not in obj.metadata.finalizers


def is_deletion_candidate(obj: ApiObject, finalizer: str) -> bool:
    """protectionutil.IsDeletionCandidate: being deleted, and the finalizer still present."""
    return obj.metadata.deletion_timestamp is not None and finalizer in obj.metadata.finalizers


def _with_finalizers(obj: Any, finalizers: tuple[str, ...]) -> Any:
    return evolve(obj, metadata=evolve(obj.metadata, finalizers=finalizers))


def _finalizer_update(obj: ApiObject, finalizer: str, add: bool) -> Request:
    """addFinalizer / removeFinalizer: an update of the cached object with the finalizer appended
    or removed (`slice.RemoveString`)."""
    current = obj.metadata.finalizers
    finalizers = (*current, finalizer) if add else tuple(f for f in current if f != finalizer)
    return Request(verb="update", user=CONTROLLER_MANAGER_USER, obj=_with_finalizers(obj, finalizers))


def _container_not_running(status: Any) -> bool:
    """notRunning's test of one container: a terminated or waiting state."""
    state = status.state
    return isinstance(state, Mapping) and ("terminated" in state or "waiting" in state)


def is_pod_terminated(pod: Pod) -> bool:
    """volumeutil.IsPodTerminated (`pkg/volume/util/util.go`): phase Failed or Succeeded, or being
    deleted with every container terminated or waiting (notRunning)."""
    if pod.status.phase in ("Failed", "Succeeded"):
        return True
    return pod.metadata.deletion_timestamp is not None and all(
        _container_not_running(s) for s in pod.status.container_statuses)


def pod_claims(pod: Pod) -> tuple[str, ...]:
    """The claim names of the pod's persistentVolumeClaim volumes."""
    return tuple(v.persistent_volume_claim.claim_name for v in pod.spec.volumes
                 if v.persistent_volume_claim is not None)


def pod_uses_claim(pod: ApiObject, claim: str) -> bool:
    """podUsesPVC: the pod is scheduled and names the claim in a persistentVolumeClaim volume."""
    return isinstance(pod, Pod) and bool(pod.spec.node_name) and claim in pod_claims(pod)


@attrs.frozen
class PvcMemory:
    """The answers of live pod LISTs not yet decided on: claim key → whether a scheduled pod of the
    LIST names the claim; `asking`, the claim whose LIST is under way (module docstring)."""

    live: FrozenMap[str, bool] = EMPTY
    asking: str = ""


@attrs.frozen
class PVCProtectionController(ChangeHandlers):
    """The PVC protection controller as a `Controller` (module docstring)."""

    name: str = "pvc-protection"
    watches: tuple[str, ...] = (CLAIMS, "pods")
    identity: str = CONTROLLER_MANAGER_USER

    def initial_memory(self) -> Any:
        """No live answer at start (and after a crash)."""
        return PvcMemory()

    def observe(self, memory: Any, request: Request, response: Response) -> Any:
        """A live LIST of a namespace's pods: remember whether a scheduled pod names the claim asked about."""
        if request.verb != "list" or not memory.asking:
            return memory
        if not response.ok:
            return PvcMemory(memory.live)
        name = memory.asking.partition("/")[2]
        used = any(pod_uses_claim(p, name) for p in response.items)
        return PvcMemory(memory.live.set(memory.asking, used))

    def keys_for_change(self, change: Change, view: ObjectView) -> Iterable[str]:
        """The handlers NewPVCProtectionController registers: claims' AddFunc and UpdateFunc call
        pvcAddedUpdated with the new claim (no DeleteFunc: a deleted claim enqueues nothing); pods'
        AddFunc, UpdateFunc and DeleteFunc call podAddedDeletedUpdated(old, new, deleted), which runs
        enqueuePVCs for the new pod (`deleted` for a DeleteFunc) and, when an update's old pod has
        another UID (a deletion and a re-creation under one name, which a relist folds into one
        update), for the old pod as deleted. The claims a pod names are queued when the pod is
        deleted, terminated or not scheduled (module docstring)."""
        obj = change.object
        if isinstance(obj, PersistentVolumeClaim):
            return (f"{obj.metadata.namespace}/{obj.metadata.name}",) if change.type != "delete" and \
                self._pending(obj) else ()
        if not isinstance(obj, Pod):
            return ()
        keys = self._claims_of(obj, view, deleted=change.type == "delete")
        old = change.old
        if isinstance(old, Pod) and old.metadata.uid != obj.metadata.uid:
            keys += self._claims_of(old, view, deleted=True)
        return tuple(sorted(set(keys)))

    def _claims_of(self, pod: Pod, view: ObjectView, deleted: bool) -> tuple[str, ...]:
        """enqueuePVCs: the pending claims `pod` names, unless it is not deleted, not terminated and
        scheduled ("Filter out pods that can't help us to remove a finalizer on PVC")."""
        if not deleted and not is_pod_terminated(pod) and pod.spec.node_name:
            return ()
        namespace = pod.metadata.namespace
        return tuple(f"{namespace}/{c}" for c in sorted(set(pod_claims(pod)))
                     if self._pending(view.get(ObjectKey(CLAIMS, namespace, c))))

    @staticmethod
    def _pending(claim: ApiObject | None) -> bool:
        """A claim processPVC may write: it needs the finalizer or is a deletion candidate."""
        return claim is not None and (need_to_add_finalizer(claim, PVC_PROTECTION_FINALIZER)
                                      or is_deletion_candidate(claim, PVC_PROTECTION_FINALIZER))

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """processPVC (module docstring)."""
        namespace, _, name = key.partition("/")
        claim = view.get(ObjectKey(CLAIMS, namespace, name))
        live = memory.live.get(key)
        rest = PvcMemory(memory.live.delete(key)) if live is not None else memory
        if not isinstance(claim, PersistentVolumeClaim):
            return Reconciliation(memory=rest)
        if is_deletion_candidate(claim, PVC_PROTECTION_FINALIZER):
            if any(pod_uses_claim(p, name) for p in view.list("pods", namespace)):
                return Reconciliation(memory=rest)  # "Keeping PVC because it is being used"
            if live is None:  # askAPIServer: the live LIST, decided on in the next reconcile
                listing = Request(verb="list", user=self.identity, resource="pods", namespace=namespace)
                return Reconciliation((listing,), PvcMemory(memory.live, asking=key), requeue=True)
            if live:
                return Reconciliation(memory=rest)
            return Reconciliation((_finalizer_update(claim, PVC_PROTECTION_FINALIZER, add=False),), rest)
        if need_to_add_finalizer(claim, PVC_PROTECTION_FINALIZER):
            return Reconciliation((_finalizer_update(claim, PVC_PROTECTION_FINALIZER, add=True),), memory)
        return Reconciliation(memory=memory)


@attrs.frozen
class PVProtectionController(ChangeHandlers, Memoryless):
    """The PV protection controller as a `Controller` (module docstring)."""

    name: str = "pv-protection"
    watches: tuple[str, ...] = (VOLUMES,)
    identity: str = CONTROLLER_MANAGER_USER

    def keys_for_change(self, change: Change, view: ObjectView) -> Iterable[str]:
        """NewPVProtectionController registers AddFunc and UpdateFunc only, both pvAddedUpdated with the new
        volume: one that needs the finalizer or is a deletion candidate (a deleted volume enqueues nothing)."""
        obj, finalizer = change.object, PV_PROTECTION_FINALIZER
        if change.type != "delete" and isinstance(obj, PersistentVolume) and (
                need_to_add_finalizer(obj, finalizer) or is_deletion_candidate(obj, finalizer)):
            return (obj.metadata.name,)
        return ()

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """processPV: remove the finalizer of a deletion candidate that is not Bound; add a missing one."""
        volume = view.get(ObjectKey(VOLUMES, "", key))
        if not isinstance(volume, PersistentVolume):
            return Reconciliation(memory=memory)
        if is_deletion_candidate(volume, PV_PROTECTION_FINALIZER):
            if volume.status.phase == "Bound":
                return Reconciliation(memory=memory)  # "Keeping PV because it is being used"
            return Reconciliation((_finalizer_update(volume, PV_PROTECTION_FINALIZER, add=False),), memory)
        if need_to_add_finalizer(volume, PV_PROTECTION_FINALIZER):
            return Reconciliation((_finalizer_update(volume, PV_PROTECTION_FINALIZER, add=True),), memory)
        return Reconciliation(memory=memory)
