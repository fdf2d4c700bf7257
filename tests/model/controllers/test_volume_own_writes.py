"""The PV controller sees its own writes (audit 21b, F2), against upstream
`pkg/controller/volume/persistentvolume/pv_controller.go` (updateVolumePhase → storeVolumeUpdate, bind's
writes → storeVolumeUpdate / storeClaimUpdate; storeObjectUpdate keeps the newer resourceVersion) and
`pv_controller_base.go` (updateVolume / updateClaim skip a key whose informer copy is older). The model's
binder read only the informer: in pv-ownwrite it had made "small" Available, kubectl wait had seen it,
but the claim's sync still saw small's old phase and took "big", leaving the 3Gi claim Pending for ever."""

from __future__ import annotations

from pathlib import Path

from volume_view import VolumeView

from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.server import Request, Response
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.controllers.persistentvolume import PersistentVolumeController
from kubeprop.model.controllers.work_queue import Reconcile
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Deliver, UserStep
from kubeprop.properties.registry import first_violation, select

DATA = Path(__file__).parents[1] / "data" / "volumes"
PV = "persistentvolume-binder"
CM = "controller-manager"


def _volume(name: str, size: str, phase: str, version: str) -> PersistentVolume:
    pv = PersistentVolume(metadata=ObjectMeta(name=name, uid=f"u-{name}", resource_version=version))
    return evolve(pv, spec=evolve(pv.spec, storage_class_name="manual", access_modes=("ReadWriteOnce",),
                                  capacity=FrozenMap({"storage": Quantity.parse(size)})),
                  status=evolve(pv.status, phase=phase))


def _claim() -> PersistentVolumeClaim:
    claim = PersistentVolumeClaim(metadata=ObjectMeta(name="rwo", namespace="default", uid="u-rwo",
                                                      resource_version="9"))
    resources = evolve(claim.spec.resources, requests=FrozenMap({"storage": Quantity.parse("1Gi")}))
    return evolve(claim, spec=evolve(claim.spec, storage_class_name="manual", access_modes=("ReadWriteOnce",),
                                     resources=resources))


BIG = _volume("big", "5Gi", "Available", "4")
PENDING_SMALL = _volume("small", "1Gi", "", "5")
AVAILABLE_SMALL = _volume("small", "1Gi", "Available", "7")


def _after_own_write() -> object:
    """The controller's memory once its Available write of small (answered at resourceVersion 7) is done."""
    controller = PersistentVolumeController()
    request = Request(verb="update-status", user="system:kube-controller-manager",
                      obj=evolve(PENDING_SMALL, status=AVAILABLE_SMALL.status))
    return controller.observe(controller.initial_memory(), request, Response(200, "OK", obj=AVAILABLE_SMALL))


def _bound_to(requests: tuple[Request, ...]) -> str:
    volume = requests[0].obj
    assert isinstance(volume, PersistentVolume)
    return volume.metadata.name


def test_the_claim_sync_sees_the_volume_the_controller_made_available() -> None:
    memory = _after_own_write()
    decided = PersistentVolumeController().reconcile(VolumeView(BIG, PENDING_SMALL, _claim()), "default/rwo", memory, 0)
    assert _bound_to(decided.requests) == "small"
    decided = PersistentVolumeController().reconcile(VolumeView(BIG, PENDING_SMALL, _claim()), "default/rwo", None, 0)
    assert _bound_to(decided.requests) == "big", "without the write remembered (a restarted controller manager)"


def test_a_volume_whose_informer_copy_is_older_is_not_synced() -> None:
    """updateVolume: storeVolumeUpdate answers `!new` for the older informer copy: no sync."""
    decided = PersistentVolumeController().reconcile(VolumeView(PENDING_SMALL), "/small", _after_own_write(), 0)
    assert decided.requests == ()


def test_the_write_is_forgotten_once_the_informer_catches_up() -> None:
    decided = PersistentVolumeController().reconcile(VolumeView(BIG, AVAILABLE_SMALL, _claim()), "default/rwo",
                                                     _after_own_write(), 0)
    assert decided.memory is None
    assert _bound_to(decided.requests) == "small"
    replaced = _volume("small", "1Gi", "", "8")
    replaced = evolve(replaced, metadata=evolve(replaced.metadata, uid="u-other"))
    decided = PersistentVolumeController().reconcile(VolumeView(replaced), "/small", _after_own_write(), 0)
    assert decided.memory is None, "another object of the name: the write is of an object gone"


def test_a_failed_write_is_not_remembered() -> None:
    controller = PersistentVolumeController()
    request = Request(verb="update-status", user="system:kube-controller-manager", obj=AVAILABLE_SMALL)
    assert controller.observe(None, request, Response(409, "Conflict")) is None


def test_pv_ownwrite_both_claims_bound() -> None:
    """The audit's run: small made Available while the controller manager's volume informer has not
    delivered it, the claims applied and rwo synced; then the fair run."""
    model = build_model(load_scenario(DATA / "pv-ownwrite" / "scenario.yaml"))
    state = initial_state(model)
    for act in (Reconcile(PV, "/big"), UserStep(0), Deliver(CM, "persistentvolumes", 10), Reconcile(PV, "/small"),
                UserStep(1), UserStep(2), Deliver(CM, "persistentvolumeclaims", 12), Reconcile(PV, "default/rwo")):
        state = step(model, state, act)
    small = state.store.get(ObjectKey("persistentvolumes", "", "small"))
    assert isinstance(small, PersistentVolume) and small.spec.claim_ref is not None
    assert small.spec.claim_ref.name == "rwo"
    state = settle(model, state, max_steps=3000).state
    assert first_violation(model, state, select(["workloads-ready", "deployments-complete"])) is None
