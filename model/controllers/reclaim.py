"""The PV controller's reclaimVolume: what happens to a Released volume, by its reclaim policy.

Upstream: `pkg/controller/volume/persistentvolume/pv_controller.go` reclaimVolume,
deleteVolumeOperation, doDeleteVolume, findDeletablePlugin (with HonorPVReclaimPolicy, on by
default since v1.31 and GA in v1.33), and the hostPath plug-in's deleter
(`pkg/volume/hostpath/host_path.go` hostPathDeleter.Delete).

- **Retain**: nothing; the volume stays Released, bound to the claim that is gone, until an
  administrator deletes it or clears its `claimRef`.
- **Delete**: findDeletablePlugin, then the deleter:
  - a volume annotated `pv.kubernetes.io/provisioned-by` with an external provisioner's name (not
    `kubernetes.io/…`), or a CSI volume: "External deleter for volume requested, ignoring": the
    volume stays Released until its external provisioner deletes it (the cluster's provisioner:
    the environment action `DeleteVolume`, `kubeprop.model.cluster.provisioner`);
  - a hostPath volume: the hostPath deleter removes its directory only when its path matches
    `/tmp/.+` (an unanchored match, as Go's `regexp.MatchString`), and the controller then DELETEs
    the volume; any other path fails: phase Failed with the message `host_path deleter only
    supports /tmp/.+ but received provided <path>`;
  - any other volume (local, nfs): no deletable plug-in: phase Failed, `error getting deleter
    volume plugin for volume "<name>": no deletable volume plugin matched`.
  A Failed volume is tried again at each sync, which writes nothing: updateVolumePhaseWithEvent
  compares the phase only ("phase already set"), so a volume already Failed keeps its message,
  whatever the new failure says.
- **Recycle** (deprecated): loading refuses a manifest that asks for it
  (`kubeprop.model.api.core.PersistentVolumeSpec`); a volume a scenario's own controller creates
  with it stays Released: the recycler pod is not modelled.

The delete runs as upstream's asynchronous deleteVolumeOperation does, in two syncs of the volume:
the sync that finds the volume Released starts it with a live GET of the volume (the operation's
"read current volume state now"); the answer is kept in the controller's memory (`DeleteOperation`,
lost on a crash) and the volume's next sync finishes it (`finish_delete`): nothing when the volume
is gone (404) or no longer released — isVolumeReleased on the *fresh* volume, against the cached
claims: no `claimRef`, a `claimRef` without UID (pre-bound by a user), or a cached claim of that
UID that names no other volume — and otherwise doDeleteVolume on the volume the operation started
with (the cached one, or the one the sync's Released write returned): the DELETE (no precondition,
as upstream's) or the Failed write (that volume's resourceVersion). A stale cache (an administrator
cleared `claimRef` to reuse the volume, and the controller manager has not seen it yet) therefore
deletes nothing, as upstream. A failed GET decides nothing: the next sync starts again (upstream
returns and waits for the resync). The GET is sent only where its answer decides a write: not for
Retain, an external deleter ("External deleter for volume requested, ignoring" follows the GET
upstream, whatever it answers), nor a volume already Failed that the deleter would fail again
(updateVolumePhaseWithEvent writes nothing when the phase is already Failed, whatever the
message). Not modelled: the in-tree deletion-protection finalizer `kubernetes.io/pv-controller`
(HonorPVReclaimPolicy) and the `pv.kubernetes.io/migrated-to` annotation. The in-tree plug-ins
named `kubernetes.io/…` in `provisioned-by` are found by the volume's source, as for a volume
without the annotation (the model provisions nothing in-tree).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim, PersistentVolumeStatus
from kubeprop.model.api.meta import ObjectReference
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.server import Request
from kubeprop.model.api.volume import ANN_BOUND_BY_CONTROLLER, ANN_PROVISIONED_BY, CLAIMS
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER
from kubeprop.model.evolve import evolve
from kubeprop.model.state.informer import ObjectView

HOST_PATH_DELETABLE = re.compile("/tmp/.+")
"""The hostPath deleter's test of the path (`regexp.MustCompile("/tmp/.+")`, matched anywhere)."""


@attrs.frozen(cache_hash=True)
class DeleteOperation:
    """A deleteVolumeOperation under way: `volume`, the volume it started with (reclaimVolume's
    argument); once the live GET has answered, `answered`, with `found` (the API server holds the
    volume) and `claim_ref`, the fresh volume's `claimRef`."""

    volume: PersistentVolume
    answered: bool = False
    found: bool = False
    claim_ref: ObjectReference | None = None


def external_deleter(volume: PersistentVolume) -> bool:
    """findDeletablePlugin returns no plug-in: an external provisioner's volume, or a CSI volume."""
    provisioner = volume.metadata.annotations.get(ANN_PROVISIONED_BY, "")
    if provisioner and not provisioner.startswith("kubernetes.io/"):
        return True
    return volume.spec.csi is not None


def delete_failure(volume: PersistentVolume) -> str | None:
    """doDeleteVolume's error for a volume with an in-tree deleter, or None when it deletes it."""
    source = volume.spec.host_path
    if source is not None:
        path = str(source.get("path", "")) if isinstance(source, Mapping) else ""
        if HOST_PATH_DELETABLE.search(path):
            return None
        return f"host_path deleter only supports /tmp/.+ but received provided {path}"
    name = volume.metadata.name
    return f'error getting deleter volume plugin for volume "{name}": no deletable volume plugin matched'


def delete_volume(volume: PersistentVolume) -> list[Request]:
    """doDeleteVolume on the operation's volume, then deleteVolumeOperation's write: the DELETE of
    the volume, or phase Failed with the deleter's error (updateVolumePhaseWithEvent: none when the
    phase is Failed already, the message compared not at all)."""
    failure = delete_failure(volume)
    if failure is None:
        return [Request(verb="delete", user=CONTROLLER_MANAGER_USER, resource="persistentvolumes",
                        name=volume.metadata.name)]
    if volume.status.phase == "Failed":
        return []
    failed = evolve(volume, status=PersistentVolumeStatus(phase="Failed", message=failure))
    return [Request(verb="update-status", user=CONTROLLER_MANAGER_USER, obj=failed)]


def reclaim_volume(volume: PersistentVolume, written: bool) -> DeleteOperation | None:
    """reclaimVolume for a Released (or Failed) volume: the delete operation to start (its live
    GET), or None where no write could follow (module docstring). `written`: an earlier request of
    the same sync updated the volume, so the operation's volume carries no resourceVersion (the
    controller passes on the object that write returned)."""
    if volume.spec.persistent_volume_reclaim_policy != "Delete" or external_deleter(volume):
        return None
    if written:
        volume = evolve(volume, metadata=evolve(volume.metadata, resource_version=""))
    return DeleteOperation(volume) if delete_volume(volume) else None


def is_volume_released(volume_name: str, ref: ObjectReference | None, view: ObjectView) -> bool:
    """isVolumeReleased for a volume whose `claimRef` is `ref`, against the cached claims: bound (a
    UID) to a claim that is not in the cache with that UID, or that names another volume."""
    if ref is None or not ref.uid:
        return False  # "ClaimRef is nil" / "ClaimRef is not bound"
    claim = view.get(ObjectKey(CLAIMS, ref.namespace, ref.name))
    if isinstance(claim, PersistentVolumeClaim) and claim.metadata.uid == ref.uid:
        return bool(claim.spec.volume_name) and claim.spec.volume_name != volume_name
    return True


def finish_delete(operation: DeleteOperation, view: ObjectView) -> list[Request]:
    """deleteVolumeOperation after its GET: nothing for a volume gone or no longer released, else
    doDeleteVolume (`delete_volume`) on the volume it started with."""
    name = operation.volume.metadata.name
    if not operation.found or not is_volume_released(name, operation.claim_ref, view):
        return []  # "Error reading persistent volume" / "Volume no longer needs deletion, skipping"
    return delete_volume(operation.volume)


# --- syncVolume's outcomes for a volume whose claim is gone or bound elsewhere (pv_controller.go) ---


@attrs.frozen
class Released:
    """syncVolume's outcome for a volume whose claim is gone: the phase write, if any, and the
    delete operation reclaimVolume starts, if any."""

    writes: tuple[Request, ...]
    operation: DeleteOperation | None


def released(volume: PersistentVolume) -> Released:
    """syncVolume for a volume whose claim is gone: phase Released (a Failed volume stays Failed),
    then reclaimVolume (`kubeprop.model.controllers.reclaim`)."""
    requests: tuple[Request, ...] = ()
    if volume.status.phase not in ("Released", "Failed"):
        volume = evolve(volume, status=PersistentVolumeStatus(phase="Released"))
        requests = (Request(verb="update-status", user=CONTROLLER_MANAGER_USER, obj=volume),)
    return Released(requests, reclaim_volume(volume, written=bool(requests)))


def bound_elsewhere(volume: PersistentVolume) -> Released | list[Request]:
    """syncVolume's last branch, "Volume is bound to a claim, but the claim is bound elsewhere":
    a volume dynamically provisioned (`pv.kubernetes.io/provisioned-by`, AnnDynamicallyProvisioned)
    with reclaim policy Delete "is not needed. Delete it": Released (a Failed one stays Failed), then
    reclaimVolume (`released`); any other is unbound (`unbind_volume`), whether the controller bound
    it ("We did this; fix it") or a user did ("waiting for the claim to get unbound")."""
    if ANN_PROVISIONED_BY in volume.metadata.annotations and volume.spec.persistent_volume_reclaim_policy == "Delete":
        return released(volume)
    return unbind_volume(volume)


def unbind_volume(volume: PersistentVolume) -> list[Request]:
    """unbindVolume (pv_controller.go): a volume the controller bound
    (`pv.kubernetes.io/bound-by-controller`) loses its `claimRef` and that annotation; one a user
    pre-bound keeps its `claimRef` without the UID ("It leaves the volume pre-bound to the claim").
    The update, then updateVolumePhase to Available on the object it returned (a write only when the
    phase differs; the message cleared)."""
    ref = volume.spec.claim_ref
    annotations = volume.metadata.annotations
    if ANN_BOUND_BY_CONTROLLER in annotations:
        metadata = evolve(volume.metadata, annotations=annotations.delete(ANN_BOUND_BY_CONTROLLER))
        unbound = evolve(volume, metadata=metadata, spec=evolve(volume.spec, claim_ref=None))
    else:
        unbound = evolve(volume, spec=evolve(volume.spec, claim_ref=None if ref is None else evolve(ref, uid="")))
    out = [Request(verb="update", user=CONTROLLER_MANAGER_USER, obj=unbound)]
    if unbound.status.phase != "Available":
        available = evolve(unbound, status=evolve(unbound.status, phase="Available", message=""))
        out.append(Request(verb="update-status", user=CONTROLLER_MANAGER_USER, obj=unconditional(available)))
    return out


def unconditional(obj: Any) -> Any:
    """The object for a write right after another write of it: upstream sends the object the
    previous write returned (its new resourceVersion); the model clears the version instead."""
    return evolve(obj, metadata=evolve(obj.metadata, resource_version=""))
