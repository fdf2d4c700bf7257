"""syncVolume for a volume whose claim is bound to another volume, against upstream
`pkg/controller/volume/persistentvolume/pv_controller.go` (v1.33) syncVolume's last branch ("Volume
is bound to a claim, but the claim is bound elsewhere"): a volume dynamically provisioned
(AnnDynamicallyProvisioned, `pv.kubernetes.io/provisioned-by`) with reclaim policy Delete "is not
needed. Delete it" — updateVolumePhase Released, then reclaimVolume; any other volume is unbound
(unbindVolume: `claimRef` and `pv.kubernetes.io/bound-by-controller` cleared when the controller
bound it, only `claimRef.uid` when a user did; then updateVolumePhase Available). The model used to
do nothing there: such a volume stayed bound to a claim that was not using it, for ever.

The runs below are upstream's two cases: a provisioner's volume arriving after its claim found a
static volume (the controller's cache had not seen the provisioned one yet), and a user pointing
a volume's `claimRef` at a claim that another volume holds. And the Failed phase: a volume already
Failed is not written again whatever the deleter's message (updateVolumePhaseWithEvent compares
the phase only), where the model compared the message too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from volume_view import VolumeView

from kubeprop.model.api.core import (
    PersistentVolume,
    PersistentVolumeClaim,
    PersistentVolumeClaimSpec,
    PersistentVolumeSpec,
    PersistentVolumeStatus,
)
from kubeprop.model.api.meta import ObjectMeta, ObjectReference
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.volume import ANN_BOUND_BY_CONTROLLER, ANN_PROVISIONED_BY
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import FairPolicy, settle
from kubeprop.model.cluster.informers import deliver_instantly
from kubeprop.model.cluster.provisioner import DeleteVolume, ProvisionVolume
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.persistentvolume import LiveClaim, PersistentVolumeController, PvMemory
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.actions import Action, Deliver, UserStep
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, send

SCENARIO = """apiVersion: kubeprop.dev/v1alpha1
kind: Scenario
metadata: {name: bound-elsewhere}
manifests: [m]
topology:
  nodes:
    - {name: w1, allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}
users: [{name: admin, clusterRoles: [cluster-admin]}]
applyAs: admin
workload:
  - apply: static/
"""
CLAIM_YAML = """apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: default}
spec:
  storageClassName: CLASS
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
"""
VOLUME_YAML = """apiVersion: v1
kind: PersistentVolume
metadata: {name: NAME}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: CLASS
  hostPath: {path: /tmp/NAME}
"""
CLAIM = ObjectKey("persistentvolumeclaims", "default", "data")
PV_CONTROLLER = "persistentvolume-binder"


def _volume_yaml(name: str, cls: str) -> str:
    return VOLUME_YAML.replace("NAME", name).replace("CLASS", cls)


def _model(tmp: Path, manifests: str, static: str, **parameters: object) -> ClusterModel:
    for folder, text in (("m", manifests), ("static", static)):
        (tmp / folder).mkdir(exist_ok=True)
        (tmp / folder / "objects.yaml").write_text(text)
    (tmp / "scenario.yaml").write_text(SCENARIO)
    return build_model(load_scenario(tmp / "scenario.yaml"), parameters=parameters or None)


def _run(model: ClusterModel, state: ClusterState, allowed: Callable[[Action], bool],
         until: Callable[[ClusterState], bool] = lambda s: False, steps: int = 600) -> ClusterState:
    """The fair run of the `allowed` actions, until none is left or `until` holds."""
    policy = FairPolicy(recover=False, user_steps=True, environment_last=True)
    for _ in range(steps):
        act = policy.choose([a for a in actions(model, state) if allowed(a)])
        if act is None or until(state):
            return state
        policy.taken(act)
        state = step(model, state, act)
    raise AssertionError("the run did not end")


def _take(model: ClusterModel, state: ClusterState, wanted: Action) -> ClusterState:
    assert wanted in actions(model, state), wanted
    return step(model, state, wanted)


def _claim(state: ClusterState) -> PersistentVolumeClaim:
    claim = state.store.get(CLAIM)
    assert isinstance(claim, PersistentVolumeClaim)
    return claim


def _pv(state: ClusterState, name: str) -> PersistentVolume | None:
    volume = state.store.get(ObjectKey("persistentvolumes", "", name))
    assert volume is None or isinstance(volume, PersistentVolume)
    return volume


def test_a_provisioned_volume_late_for_its_claim_is_deleted(tmp_path: Path) -> None:
    """Minikube's provisioner (Immediate). The claim asks for a volume; an administrator then
    creates a static one that fits, which becomes Available, and the provisioner creates the
    claim's before the claim's next sync. The controller manager's volume informer has not yet
    delivered the provisioned volume, so the claim is bound to the static one. The provisioned
    volume, bound (with the UID) to a claim that names another volume, is Released, and the
    provisioner deletes it; the model used to keep it, bound to the claim, for ever."""
    model = _model(tmp_path, CLAIM_YAML.replace("CLASS", "standard"), _volume_yaml("pv-static", "standard"),
                   defaultStorageClass="immediate")
    state = _run(model, initial_state(model),
                 lambda a: not isinstance(a, UserStep | ProvisionVolume | DeleteVolume))
    state = _take(model, state, UserStep(0))
    claim_sync = Reconcile(PV_CONTROLLER, "default/data")
    state = _run(model, state, lambda a: a != claim_sync and not isinstance(a, ProvisionVolume | DeleteVolume))
    static = _pv(state, "pv-static")
    assert static is not None and static.status.phase == "Available"
    assert claim_sync in actions(model, state), "the static volume's events queued the claim"
    state = _take(model, state, ProvisionVolume("default/data"))
    provisioned = f"pvc-{_claim(state).metadata.uid}"
    late = state.store.revision

    def held(act: Action) -> bool:
        return isinstance(act, Deliver) and act.component == CONTROLLER_MANAGER \
            and act.resource == "persistentvolumes" and act.revision >= late

    state = _run(model, state, lambda a: not held(a) and not isinstance(a, ProvisionVolume | DeleteVolume),
                 until=lambda s: _claim(s).status.phase == "Bound")
    assert _claim(state).spec.volume_name == "pv-static"
    volume = _pv(state, provisioned)
    assert volume is not None and volume.spec.claim_ref is not None and volume.spec.claim_ref.uid
    state = _run(model, state, lambda a: True)
    assert _claim(state).spec.volume_name == "pv-static" and _claim(state).status.phase == "Bound"
    static = _pv(state, "pv-static")
    assert static is not None and static.status.phase == "Bound"
    volume = _pv(state, provisioned)
    assert volume is None, f"the provisioned volume is kept: {volume}"


@pytest.mark.parametrize("by_controller", [False, True])
def test_a_claim_ref_to_a_claim_bound_elsewhere_is_unbound(tmp_path: Path, by_controller: bool) -> None:
    """The claim is bound to pv-a; an administrator points pv-b's `claimRef` at it, UID included
    (with `bound-by-controller`, as a controller that lost a race leaves it, or without, as a user
    writes it). pv-b is unbound and Available: the controller's `claimRef` cleared, a user's kept
    without its UID (pre-bound to the claim, waiting for it to be unbound)."""
    manifests = "---\n".join((CLAIM_YAML.replace("CLASS", '""'), _volume_yaml("pv-a", '""'),
                              _volume_yaml("pv-b", '""')))
    model = _model(tmp_path, manifests, _volume_yaml("pv-c", '""'), instantCaches=True)
    state = settle(model, initial_state(model), max_steps=400).state
    assert _claim(state).spec.volume_name == "pv-a"
    pv_b = _pv(state, "pv-b")
    assert pv_b is not None and pv_b.status.phase == "Available" and pv_b.spec.claim_ref is None
    claim = _claim(state)
    ref = ObjectReference(kind="PersistentVolumeClaim", api_version="v1", namespace="default", name="data",
                          uid=claim.metadata.uid)
    annotations = pv_b.metadata.annotations.set(ANN_BOUND_BY_CONTROLLER, "yes") if by_controller \
        else pv_b.metadata.annotations
    edited = evolve(pv_b, metadata=evolve(pv_b.metadata, annotations=annotations),
                    spec=evolve(pv_b.spec, claim_ref=ref))
    before = state.store.revision
    state, response = send(model, state, ADMIN, Request(verb="update", user=ADMIN, obj=edited), "user")
    assert response.ok, response.message
    state = deliver_instantly(model, state, tuple(e for e in state.store.events if e.revision > before))
    state = settle(model, state, max_steps=400).state
    pv_b = _pv(state, "pv-b")
    assert pv_b is not None and pv_b.status.phase == "Available"
    assert ANN_BOUND_BY_CONTROLLER not in pv_b.metadata.annotations
    if by_controller:
        assert pv_b.spec.claim_ref is None
    else:
        assert pv_b.spec.claim_ref == evolve(ref, uid="")
    assert _claim(state).spec.volume_name == "pv-a"


REF = ObjectReference(kind="PersistentVolumeClaim", api_version="v1", namespace="default", name="data", uid="u1")
ELSEWHERE = PersistentVolumeClaim(metadata=ObjectMeta(name="data", namespace="default", uid="u1"),
                                  spec=PersistentVolumeClaimSpec(volume_name="pv-b"))


def _volume(phase: str = "Bound", policy: str = "Delete", path: str = "/tmp/data",
            **annotations: str) -> PersistentVolume:
    spec = PersistentVolumeSpec(persistent_volume_reclaim_policy=policy, claim_ref=REF,
                                host_path=FrozenMap({"path": path}))
    meta = ObjectMeta(name="pv-a", resource_version="5", annotations=FrozenMap(annotations))
    return PersistentVolume(metadata=meta, spec=spec, status=PersistentVolumeStatus(phase=phase))


def _sync(volume: PersistentVolume, memory: object = None) -> tuple[Request, ...]:
    return PersistentVolumeController().reconcile(VolumeView(volume, ELSEWHERE), "/pv-a", memory, 0).requests


BY_CONTROLLER = {ANN_BOUND_BY_CONTROLLER: "yes"}
EXTERNAL = {ANN_PROVISIONED_BY: "rancher.io/local-path"}
IN_TREE = {ANN_PROVISIONED_BY: "kubernetes.io/host-path"}


def test_unbind_volume_writes() -> None:
    """unbindVolume: the update (claimRef and the annotation cleared for the controller's binding,
    the UID only for a user's), then phase Available on the object it returned (no resourceVersion),
    only when the phase differs."""
    update, status = _sync(_volume(**BY_CONTROLLER))
    assert update.verb == "update" and update.obj.spec.claim_ref is None
    assert ANN_BOUND_BY_CONTROLLER not in update.obj.metadata.annotations
    assert update.obj.metadata.resource_version == "5"
    assert status.verb == "update-status" and status.obj.status == PersistentVolumeStatus(phase="Available")
    assert status.obj.metadata.resource_version == "" and status.obj.spec.claim_ref is None
    update, status = _sync(_volume())
    assert update.obj.spec.claim_ref == evolve(REF, uid="") and status.obj.status.phase == "Available"
    (update,) = _sync(_volume("Available"))
    assert update.obj.spec.claim_ref == evolve(REF, uid="")
    failed = evolve(_volume("Failed"), status=PersistentVolumeStatus(phase="Failed", message="no deleter"))
    _, status = _sync(failed)
    assert status.obj.status == PersistentVolumeStatus(phase="Available"), "the message cleared"


def test_provisioned_with_delete_is_released_then_reclaimed() -> None:
    """AnnDynamicallyProvisioned and Delete: Released, then reclaimVolume — an external provisioner's
    volume waits for it (no GET); an in-tree plug-in's starts deleteVolumeOperation (its GET); one
    already Released or Failed is not written again. Retain, or no annotation: unbound."""
    (released,) = _sync(_volume(**EXTERNAL))
    assert released.verb == "update-status" and released.obj.status.phase == "Released"
    assert released.obj.spec.claim_ref == REF
    assert _sync(_volume("Released", **EXTERNAL)) == ()
    assert _sync(_volume("Failed", **EXTERNAL)) == ()
    released, get = _sync(_volume(**IN_TREE))
    assert released.obj.status.phase == "Released" and (get.verb, get.name) == ("get", "pv-a")
    (get,) = _sync(_volume("Released", **IN_TREE))
    assert get.verb == "get"
    assert [r.verb for r in _sync(_volume(policy="Retain", **EXTERNAL))] == ["update", "update-status"]


def test_the_delete_operation_deletes_a_volume_whose_claim_is_bound_elsewhere() -> None:
    """The operation's GET finds the volume still bound to the claim (isVolumeReleased: the claim,
    cached with that UID, names another volume): the DELETE."""
    ctl = PersistentVolumeController()
    volume = _volume("Released", **IN_TREE)
    first = ctl.reconcile(VolumeView(volume, ELSEWHERE), "/pv-a", None, 0)
    (get,) = first.requests
    memory = ctl.observe(first.memory, get, Response(200, "OK", obj=volume))
    (delete,) = ctl.reconcile(VolumeView(volume, ELSEWHERE), "/pv-a", memory, 0).requests
    assert (delete.verb, delete.resource, delete.name) == ("delete", "persistentvolumes", "pv-a")


def test_a_live_answer_naming_another_volume_unbinds() -> None:
    """The claim missing from the cache, the live GET finds it (same UID) naming pv-b: unbound."""
    ctl = PersistentVolumeController()
    found = PvMemory(FrozenMap({"pv-a": LiveClaim("u1", found=True, volume_name="pv-b")}))
    requests = ctl.reconcile(VolumeView(_volume(**BY_CONTROLLER)), "/pv-a", found, 0).requests
    assert [r.verb for r in requests] == ["update", "update-status"] and requests[0].obj.spec.claim_ref is None


def test_a_claim_event_enqueues_the_volumes_bound_to_it_elsewhere() -> None:
    """The resync's stand-in: a claim naming pv-b enqueues pv-a, bound to it by UID; not a volume of
    another UID, nor the one it names, nor anything while the claim names no volume."""
    ctl = PersistentVolumeController()
    other = evolve(_volume(), metadata=evolve(_volume().metadata, name="pv-c"),
                   spec=evolve(_volume().spec, claim_ref=evolve(REF, uid="u0")))
    named = evolve(_volume(), metadata=evolve(_volume().metadata, name="pv-b"))
    view = VolumeView(_volume(), other, named, ELSEWHERE)
    assert tuple(ctl.keys_for(ELSEWHERE, view)) == ("default/data", "/pv-a")
    unbound = evolve(ELSEWHERE, spec=PersistentVolumeClaimSpec())
    assert tuple(ctl.keys_for(unbound, VolumeView(_volume(), unbound))) == ("default/data",)


def test_a_failed_volume_is_not_written_again_whatever_its_message() -> None:
    """updateVolumePhaseWithEvent compares the phase only: a volume already Failed (here by another
    message than the hostPath deleter's) is not written, so its delete operation is not started."""
    failed = evolve(_volume("Failed", path="/data"),
                    status=PersistentVolumeStatus(phase="Failed", message="Volume has unrecognized reclaim policy"))
    gone = PvMemory(FrozenMap({"pv-a": LiveClaim("u1", found=False)}))
    ctl = PersistentVolumeController()
    assert ctl.reconcile(VolumeView(failed), "/pv-a", None, 0).requests == ()
    assert ctl.reconcile(VolumeView(failed), "/pv-a", gone, 0).requests == ()
