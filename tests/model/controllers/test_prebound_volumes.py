"""Claims and the volumes reserved for them (audit 12, F5 and its other direction).

Upstream FindMatchingVolume (`staging/src/k8s.io/component-helpers/storage/volume/pv_helpers.go`)
returns a volume whose `claimRef` names the claim after checking only its capacity, volume mode and
deletion (and, for the scheduler, its node affinity): not its class, selector or phase. The model
also required class and selector, so the claim of tests/model/data/volumes/prebound-class stayed
Pending and its Deployment never became available. The other way round, syncUnboundClaim
(`pkg/controller/volume/persistentvolume/pv_controller.go`) binds a claim to the free volume its
`volumeName` names only if checkVolumeSatisfyClaim passes (capacity, class, volume mode, access
modes); the model bound it regardless (tests/model/data/volumes/volume-name-mismatch)."""

from __future__ import annotations

from pathlib import Path

from cluster_harness import settled

from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim
from kubeprop.model.api.meta import ObjectMeta, ObjectReference
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.volume import find_best_match, volume_mismatch
from kubeprop.model.evolve import evolve
from kubeprop.properties.registry import first_violation, select

DATA = Path(__file__).parents[1] / "data" / "volumes"


def _claim(state: object, name: str = "data") -> PersistentVolumeClaim:
    claim = state.store.get(ObjectKey("persistentvolumeclaims", "default", name))  # type: ignore[attr-defined]
    assert isinstance(claim, PersistentVolumeClaim)
    return claim


def test_a_volume_reserved_for_a_claim_of_another_class_is_bound_to_it() -> None:
    model, state = settled(DATA / "prebound-class")
    assert _claim(state).spec.volume_name == "pv-1"
    assert first_violation(model, state, select(["deployments-complete", "workloads-ready"])) is None


def test_a_claim_naming_a_volume_that_does_not_satisfy_it_stays_pending() -> None:
    _, state = settled(DATA / "volume-name-mismatch")
    volume = state.store.get(ObjectKey("persistentvolumes", "", "pv-1"))
    assert isinstance(volume, PersistentVolume) and volume.spec.claim_ref is None
    assert "pv.kubernetes.io/bind-completed" not in _claim(state).metadata.annotations
    assert volume_mismatch(volume, _claim(state)) == "storageClassName does not match"


def _volume(name: str, cls: str, claim: str | None = None, phase: str = "Available") -> PersistentVolume:
    ref = ObjectReference(kind="PersistentVolumeClaim", namespace="default", name=claim) if claim else None
    pv = PersistentVolume(metadata=ObjectMeta(name=name))
    return evolve(pv, spec=evolve(pv.spec, storage_class_name=cls, access_modes=("ReadWriteOnce",), claim_ref=ref),
                  status=evolve(pv.status, phase=phase))


def test_find_best_match_on_both_paths() -> None:
    """The PV controller takes the reserved volume whatever its class; the scheduler lists only the
    claim's class, and a reserved volume whose node affinity does not fit ends the search."""
    claim = PersistentVolumeClaim(metadata=ObjectMeta(name="data", namespace="default"))
    claim = evolve(claim, spec=evolve(claim.spec, storage_class_name="fast", access_modes=("ReadWriteOnce",)))
    reserved, free = _volume("a", "", claim="data", phase="Bound"), _volume("b", "fast")
    assert find_best_match(claim, [free, reserved], False) is reserved
    assert find_best_match(claim, [free, reserved], True, fits_node=lambda v: True) is free
    reserved_fast = _volume("c", "fast", claim="data", phase="Bound")
    assert find_best_match(claim, [free, reserved_fast], True, fits_node=lambda v: v is free) is None
    assert find_best_match(claim, [free, reserved_fast], True, fits_node=lambda v: True) is reserved_fast
