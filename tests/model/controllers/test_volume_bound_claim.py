"""syncBoundClaim for a claim that has been bound (`pv.kubernetes.io/bind-completed`), against upstream
`pkg/controller/volume/persistentvolume/pv_controller.go` (v1.33) syncBoundClaim's branches:

- `spec.volumeName` empty: updateClaimStatusWithEvent(ClaimLost, nil) — "Bound claim has lost
  reference to PersistentVolume";
- the volume not in the cache: the same, "Bound claim has lost its PersistentVolume";
- the volume's `claimRef` nil ("volume has come unbound ... Bind the volume again") or of this claim's
  UID ("All is well"): bind();
- the volume's `claimRef` of another UID: ClaimLost with the event ClaimMisbound, "Two claims are
  bound to the same volume, this one is bound incorrectly". The model did nothing there: the claim
  stayed Bound to a volume another claim holds, for ever.

updateClaimStatus with no volume resets accessModes and capacity and keeps the rest of the status
(the model replaced the whole status, dropping its conditions); updateClaimStatusWithEvent writes
nothing when the phase is Lost already. A volume's event enqueues the bound claims naming it that it
is not bound to (upstream's 15 s resync finds them)."""

from __future__ import annotations

from volume_view import VolumeView

from kubeprop.model.api.core import (
    PersistentVolume,
    PersistentVolumeClaim,
    PersistentVolumeClaimSpec,
    PersistentVolumeClaimStatus,
    PersistentVolumeSpec,
    PersistentVolumeStatus,
)
from kubeprop.model.api.meta import Condition, ObjectMeta, ObjectReference
from kubeprop.model.api.volume import ANN_BIND_COMPLETED
from kubeprop.model.controllers.persistentvolume import PersistentVolumeController
from kubeprop.model.frozen import FrozenMap

RESIZING = Condition(type="Resizing", status="True")


def _claim(name: str = "data", uid: str = "u1", volume: str = "pv-a", phase: str = "Bound") -> PersistentVolumeClaim:
    meta = ObjectMeta(name=name, namespace="default", uid=uid, resource_version="7",
                      annotations=FrozenMap({ANN_BIND_COMPLETED: "yes"}))
    status = PersistentVolumeClaimStatus(phase=phase, access_modes=("ReadWriteOnce",),
                                         capacity=FrozenMap({"storage": "1Gi"}), conditions=(RESIZING,))
    return PersistentVolumeClaim(metadata=meta, spec=PersistentVolumeClaimSpec(volume_name=volume), status=status)


def _volume(ref_name: str | None = "data", ref_uid: str = "u1") -> PersistentVolume:
    ref = None if ref_name is None else ObjectReference(kind="PersistentVolumeClaim", api_version="v1",
                                                        namespace="default", name=ref_name, uid=ref_uid)
    spec = PersistentVolumeSpec(claim_ref=ref, capacity=FrozenMap({"storage": "1Gi"}),
                                access_modes=("ReadWriteOnce",))
    return PersistentVolume(metadata=ObjectMeta(name="pv-a", resource_version="5"), spec=spec,
                            status=PersistentVolumeStatus(phase="Bound"))


def _sync(*objects: PersistentVolume | PersistentVolumeClaim, key: str = "default/data") -> list[tuple[str, object]]:
    decision = PersistentVolumeController().reconcile(VolumeView(*objects), key, None, 0)
    return [(r.verb, r.obj) for r in decision.requests]


def _lost_status(claim: PersistentVolumeClaim) -> PersistentVolumeClaimStatus:
    return PersistentVolumeClaimStatus(phase="Lost", conditions=claim.status.conditions)


def test_a_claim_whose_volume_holds_another_claim_is_lost_as_misbound() -> None:
    claim = _claim()
    ((verb, written),) = _sync(claim, _volume(ref_name="other", ref_uid="u2"))
    assert verb == "update-status" and isinstance(written, PersistentVolumeClaim)
    assert written.status == _lost_status(claim)


def test_a_volume_claimref_of_the_same_name_but_another_uid_is_misbound_too() -> None:
    """The claim was deleted and recreated under its name while the volume kept the old UID, or the
    claimRef lost its UID (unbindVolume of a user's pre-bound volume): the UIDs differ, so Lost."""
    claim = _claim()
    for uid in ("u-old", ""):
        ((_, written),) = _sync(claim, _volume(ref_uid=uid))
        assert isinstance(written, PersistentVolumeClaim) and written.status == _lost_status(claim)


def test_a_lost_claim_is_not_written_again() -> None:
    lost = _claim(phase="Lost")
    assert _sync(lost, _volume(ref_name="other", ref_uid="u2")) == []
    assert _sync(lost) == []


def test_a_missing_volume_or_volume_name_loses_the_claim_keeping_its_conditions() -> None:
    claim = _claim()
    ((verb, gone),) = _sync(claim)
    assert verb == "update-status" and isinstance(gone, PersistentVolumeClaim)
    assert gone.status == _lost_status(claim) and gone.status.conditions == (RESIZING,)
    nameless = _claim(volume="")
    ((_, dropped),) = _sync(nameless, _volume())
    assert isinstance(dropped, PersistentVolumeClaim) and dropped.status == _lost_status(nameless)


def test_a_volume_come_unbound_is_bound_again_and_a_bound_pair_left_alone() -> None:
    claim = _claim()
    ((verb, volume),) = _sync(claim, _volume(ref_name=None))
    assert verb == "update" and isinstance(volume, PersistentVolume)
    assert volume.spec.claim_ref is not None and volume.spec.claim_ref.uid == "u1"
    assert _sync(claim, _volume()) == []


def test_a_volume_event_enqueues_the_bound_claims_naming_it_that_it_is_not_bound_to() -> None:
    """Claim `data` is bound to pv-a; a user points pv-a's claimRef at claim `other`: the event
    enqueues `other` (its claimRef) and `data` (now misbound), and after `data` is Lost only `other`."""
    data, other = _claim(), _claim(name="other", uid="u2", volume="")
    moved = _volume(ref_name="other", ref_uid="u2")
    ctl = PersistentVolumeController()
    assert set(ctl.keys_for(moved, VolumeView(data, other, moved))) == {"/pv-a", "default/other", "default/data"}
    lost = _claim(phase="Lost")
    assert set(ctl.keys_for(moved, VolumeView(lost, other, moved))) == {"/pv-a", "default/other"}
    assert set(ctl.keys_for(_volume(), VolumeView(data, moved))) == {"/pv-a", "default/data"}
    unbound = _volume(ref_name=None)
    assert "default/data" in set(ctl.keys_for(unbound, VolumeView(data, unbound)))
