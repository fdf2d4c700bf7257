"""findByClaim's access-mode sets (audit 21b, F1), against upstream
`pkg/controller/volume/persistentvolume/index.go` (findByClaim, allPossibleMatchingAccessModes): the PV
controller searches its volumes one access-mode set at a time, fewest modes first, and takes the first
set's FindMatchingVolume hit. The model made one pass over every volume with the claim's modes, so a
claim for RWO took the small [RWO,ROX] volume a ROX claim needed (pv-modeset: the reader's claim stayed
Pending for ever), and a volume reserved for the claim in a larger set won over a free one in a smaller
set. The scheduler's path (binder.go findMatchingVolumes: one FindMatchingVolume over the class's
volumes) is one pass, as before."""

from __future__ import annotations

from pathlib import Path

from volume_view import VolumeView

from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim
from kubeprop.model.api.meta import ObjectMeta, ObjectReference
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.volume import access_mode_set, find_best_match, mode_sets
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.controllers.persistentvolume import PersistentVolumeController
from kubeprop.model.controllers.work_queue import Reconcile
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Quiesce, UserStep
from kubeprop.properties.registry import first_violation, select

DATA = Path(__file__).parents[1] / "data" / "volumes"
PV = "persistentvolume-binder"


def _volume(name: str, size: str, modes: tuple[str, ...], claim: str = "") -> PersistentVolume:
    ref = ObjectReference(kind="PersistentVolumeClaim", namespace="default", name=claim) if claim else None
    pv = PersistentVolume(metadata=ObjectMeta(name=name))
    return evolve(pv, spec=evolve(pv.spec, storage_class_name="manual", access_modes=modes, claim_ref=ref,
                                  capacity=FrozenMap({"storage": Quantity.parse(size)})),
                  status=evolve(pv.status, phase="Available"))


def _claim(modes: tuple[str, ...] = ("ReadWriteOnce",), name: str = "rwo") -> PersistentVolumeClaim:
    claim = PersistentVolumeClaim(metadata=ObjectMeta(name=name, namespace="default", uid=f"u-{name}"))
    resources = evolve(claim.spec.resources, requests=FrozenMap({"storage": Quantity.parse("1Gi")}))
    return evolve(claim, spec=evolve(claim.spec, storage_class_name="manual", access_modes=modes, resources=resources))


BIG = _volume("big", "5Gi", ("ReadWriteOnce",))
SMALL = _volume("small", "1Gi", ("ReadWriteOnce", "ReadOnlyMany"))


def test_the_set_with_fewest_modes_is_searched_first() -> None:
    assert find_best_match(_claim(), [SMALL, BIG], False) is BIG
    assert find_best_match(_claim(("ReadOnlyMany",)), [SMALL, BIG], False) is SMALL


def test_a_reserved_volume_wins_only_within_its_set() -> None:
    reserved = _volume("reserved", "1Gi", ("ReadWriteOnce", "ReadOnlyMany"), claim="rwo")
    other = _volume("other", "1Gi", ("ReadWriteOnce",))
    assert find_best_match(_claim(), [reserved, other], False) is other
    same_set = _volume("other", "1Gi", ("ReadWriteOnce", "ReadOnlyMany"))
    assert find_best_match(_claim(), [same_set, reserved], False) is reserved


def test_the_scheduler_makes_one_pass() -> None:
    assert find_best_match(_claim(), [SMALL, BIG], True, fits_node=lambda v: True) is SMALL


def test_sets_are_keyed_as_upstream_and_ties_follow_the_choice() -> None:
    """GetAccessModesAsString: no duplicates, fixed order. Sets of one size are Go map order upstream:
    key order by default, `first` first."""
    assert access_mode_set(("ReadOnlyMany", "ReadWriteOnce", "ReadOnlyMany")) == "RWO,ROX"
    rox = _volume("rox", "1Gi", ("ReadWriteOnce", "ReadOnlyMany"))
    rwx = _volume("rwx", "1Gi", ("ReadWriteMany", "ReadWriteOnce"))
    volumes = [rwx, rox, BIG]
    assert mode_sets(_claim(), volumes) == ["RWO", "RWO,ROX", "RWO,RWX"]
    assert mode_sets(_claim(), volumes, first="RWO,RWX") == ["RWO", "RWO,RWX", "RWO,ROX"]
    assert find_best_match(_claim(), [rwx, rox], False) is rox
    assert find_best_match(_claim(), [rwx, rox], False, first="RWO,RWX") is rwx
    assert mode_sets(_claim(("ReadWriteMany",)), volumes) == ["RWO,RWX"]


def test_the_controller_binds_the_claim_to_the_first_sets_volume() -> None:
    decided = PersistentVolumeController().reconcile(VolumeView(SMALL, BIG, _claim()), "default/rwo", None, 0)
    volume = decided.requests[0].obj
    assert isinstance(volume, PersistentVolume) and volume.metadata.name == "big"


def test_pv_modeset_both_claims_bound() -> None:
    """The audit's run (instant caches): the volumes made Available, the claims applied, rwo synced
    first; then the fair run. rwo used to take small, and the reader's claim rox stayed Pending."""
    model = build_model(load_scenario(DATA / "pv-modeset" / "scenario.yaml"), parameters={"instantCaches": True})
    state = initial_state(model)
    for act in (Reconcile(PV, "/big"), Reconcile(PV, "/small"), UserStep(0), UserStep(1), UserStep(2),
                Reconcile(PV, "default/rwo"), Quiesce()):
        state = step(model, state, act)
    state = settle(model, state, max_steps=3000).state
    assert first_violation(model, state, select(["workloads-ready", "deployments-complete"])) is None
