"""The PV controller's delete reclaim reads the volume afresh before it deletes it, against upstream
`pkg/controller/volume/persistentvolume/pv_controller.go` (v1.33): reclaimVolume schedules
deleteVolumeOperation, which GETs the volume from the API server ("read current volume state now")
and deletes nothing unless isVolumeReleased holds for that fresh volume ("Volume no longer needs
deletion, skipping"); doDeleteVolume then works on the volume the operation started with.

The run below is a stale cache at the reclaim: an administrator switches a Released volume's
reclaim policy to Delete and then clears its `claimRef` to reuse it; the controller manager has
seen the first change but not the second when it reclaims. The model used to delete the volume
from its cache alone — a volume upstream keeps (Available, for the next claim)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import FairPolicy
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.persistentvolume import LiveClaim, PersistentVolumeController, PvMemory
from kubeprop.model.controllers.reclaim import DeleteOperation
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action, Deliver, Relist, UserStep
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState

SCENARIO = """apiVersion: kubeprop.dev/v1alpha1
kind: Scenario
metadata: {name: stale-volume}
manifests: [v1]
topology:
  nodes:
    - {name: w1, allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}
users: [{name: admin, clusterRoles: [cluster-admin]}]
applyAs: admin
workload:
  - apply: v2/
  - apply: v3/
"""
VOLUME_YAML = """apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-a}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: POLICY
  hostPath: {path: /tmp/data}
"""
CLAIM_REF = "  claimRef: {kind: PersistentVolumeClaim, apiVersion: v1, namespace: default, name: old, uid: 0c1d}\n"
VERSIONS = {"v1": VOLUME_YAML.replace("POLICY", "Retain") + CLAIM_REF,  # Released: its claim is gone
            "v2": VOLUME_YAML.replace("POLICY", "Delete") + CLAIM_REF,  # the administrator: Delete it
            "v3": VOLUME_YAML.replace("POLICY", "Delete")}  # ... no: reuse it (claimRef cleared)
VOLUME = ObjectKey("persistentvolumes", "", "pv-a")
PV_CONTROLLER = "persistentvolume-binder"


def _model(tmp: Path) -> ClusterModel:
    for folder, text in VERSIONS.items():
        (tmp / folder).mkdir(exist_ok=True)
        (tmp / folder / "pv.yaml").write_text(text)
    (tmp / "scenario.yaml").write_text(SCENARIO)
    return build_model(load_scenario(tmp / "scenario.yaml"))


def _volumes_to_controller_manager(act: Action) -> bool:
    return isinstance(act, Deliver | Relist) and act.component == CONTROLLER_MANAGER \
        and act.resource == "persistentvolumes"


def _run(model: ClusterModel, state: ClusterState, allowed: Callable[[Action], bool],
         steps: int = 400) -> tuple[ClusterState, list[Action]]:
    """The fair run of the `allowed` actions, until none is left."""
    policy = FairPolicy(recover=False, user_steps=True, environment_last=True)
    taken: list[Action] = []
    for _ in range(steps):
        act = policy.choose([a for a in actions(model, state) if allowed(a)])
        if act is None:
            break
        policy.taken(act)
        taken.append(act)
        state = step(model, state, act)
    return state, taken


def _take(model: ClusterModel, state: ClusterState, wanted: Callable[[Action], bool]) -> ClusterState:
    (act,) = [a for a in actions(model, state) if wanted(a)][:1]
    return step(model, state, act)


def _volume(state: ClusterState) -> PersistentVolume:
    volume = state.store.get(VOLUME)
    assert isinstance(volume, PersistentVolume)
    return volume


def test_a_volume_reused_behind_a_stale_cache_is_not_deleted(tmp_path: Path) -> None:
    """pv-a is Released (Retain). The administrator sets Delete (the controller manager's cache
    gets it and queues pv-a), then clears claimRef (its cache does not get that). The PV controller
    reclaims from its cache — Released, Delete, claim gone — but the volume it GETs is no longer
    bound: pv-a is not deleted, and becomes Available once the cache catches up."""
    model = _model(tmp_path)
    state, _ = _run(model, initial_state(model), lambda a: not isinstance(a, UserStep))
    assert _volume(state).status.phase == "Released" and _volume(state).spec.claim_ref is not None
    state = _take(model, state, lambda a: a == UserStep(0))
    state = _take(model, state, _volumes_to_controller_manager)
    assert "/pv-a" in state.controllers[PV_CONTROLLER].queue
    state = _take(model, state, lambda a: a == UserStep(1))
    assert _volume(state).spec.claim_ref is None
    state, taken = _run(model, state, lambda a: not _volumes_to_controller_manager(a))
    assert Reconcile(PV_CONTROLLER, "/pv-a") in taken  # the reclaim did run, from the stale cache
    volume = _volume(state)
    assert volume.metadata.deletion_timestamp is None and volume.spec.claim_ref is None
    state, _ = _run(model, state, lambda a: True)
    assert _volume(state).status.phase == "Available" and _volume(state).metadata.deletion_timestamp is None


def test_without_the_reuse_the_volume_is_deleted(tmp_path: Path) -> None:
    """The same run without the second change: the fresh volume is still released, so pv-a (a
    hostPath under /tmp/) is deleted."""
    model = _model(tmp_path)
    state, _ = _run(model, initial_state(model), lambda a: not isinstance(a, UserStep))
    state = _take(model, state, lambda a: a == UserStep(0))
    state, _ = _run(model, state, lambda a: not isinstance(a, UserStep))
    volume = state.store.get(VOLUME)
    assert volume is None or (isinstance(volume, PersistentVolume) and volume.metadata.deletion_timestamp is not None)


REF = ObjectReference(kind="PersistentVolumeClaim", api_version="v1", namespace="default", name="data", uid="u1")


def _pv(phase: str, path: str = "/tmp/data", ref: ObjectReference | None = REF) -> PersistentVolume:
    spec = PersistentVolumeSpec(persistent_volume_reclaim_policy="Delete", claim_ref=ref,
                                host_path=FrozenMap({"path": path}))
    return PersistentVolume(metadata=ObjectMeta(name="pv-a", resource_version="5"), spec=spec,
                            status=PersistentVolumeStatus(phase=phase))


def _claim(uid: str, volume_name: str) -> PersistentVolumeClaim:
    return PersistentVolumeClaim(metadata=ObjectMeta(name="data", namespace="default", uid=uid),
                                 spec=PersistentVolumeClaimSpec(volume_name=volume_name))


def _after_get(cached: PersistentVolume, response: Response, *claims: PersistentVolumeClaim) -> tuple[Request, ...]:
    """The requests of the sync after the delete operation's GET got `response`, the cache then
    holding `claims` too."""
    ctl = PersistentVolumeController()
    first = ctl.reconcile(VolumeView(cached), "/pv-a", None, 0)
    get = first.requests[-1]
    assert (get.verb, get.resource, get.name) == ("get", "persistentvolumes", "pv-a") and first.requeue
    memory = ctl.observe(first.memory, get, response)
    after = ctl.reconcile(VolumeView(cached, *claims), "/pv-a", memory, 0)
    assert after.memory is None and not after.requeue
    return after.requests


def test_the_fresh_volume_decides_the_delete() -> None:
    """The GET and what each answer does (isVolumeReleased on the fresh volume, the claims from
    the cache): still bound to the gone claim, DELETE; no claimRef, a claimRef without UID (a user's
    pre-binding), or a cached claim of that UID using the volume: nothing; 404: nothing; a failure:
    the operation is forgotten and the next sync GETs again."""
    ctl = PersistentVolumeController()
    cached = _pv("Released")
    first = ctl.reconcile(VolumeView(cached), "/pv-a", None, 0)
    assert first.requests == (Request(verb="get", user=ctl.identity, resource="persistentvolumes", name="pv-a"),)
    assert first.memory == PvMemory(FrozenMap({"pv-a": DeleteOperation(cached)}), asking="pv-a")

    def ok(volume: PersistentVolume) -> Response:
        return Response(200, "OK", obj=volume)

    (delete,) = _after_get(cached, ok(cached))
    assert (delete.verb, delete.resource, delete.name) == ("delete", "persistentvolumes", "pv-a")
    assert _after_get(cached, ok(_pv("Released", ref=None))) == ()
    assert _after_get(cached, ok(_pv("Released", ref=evolve(REF, uid="")))) == ()
    assert _after_get(cached, Response(404, "NotFound")) == ()
    assert _after_get(cached, ok(cached), _claim("u1", "pv-b"))[0].verb == "delete"  # the claim uses another volume
    assert _after_get(cached, ok(cached), _claim("u1", "pv-a")) == ()  # the claim, cached since, uses this one
    assert _after_get(cached, ok(cached), _claim("u1", ""))== ()  # or is not bound yet
    failed = ctl.observe(first.memory, first.requests[0], Response(500, "InternalError"))
    assert failed is None
    assert ctl.reconcile(VolumeView(cached), "/pv-a", failed, 0).requests == first.requests


def test_the_released_write_then_the_operation() -> None:
    """A bound volume whose claim is gone (live answer 404): the Released write and the operation's
    GET in one sync; the Failed write of a path the hostPath deleter refuses comes after the GET,
    on the volume that write returned (no resourceVersion). A volume already Failed so asks
    nothing."""
    ctl = PersistentVolumeController()
    cached = _pv("Bound", path="/data")
    gone = PvMemory(FrozenMap({"pv-a": LiveClaim("u1", found=False)}))
    sync = ctl.reconcile(VolumeView(cached), "/pv-a", gone, 0)
    write, get = sync.requests
    assert write.verb == "update-status" and write.obj.status.phase == "Released" and get.verb == "get"
    memory = ctl.observe(sync.memory, get, Response(200, "OK", obj=write.obj))
    (failed,) = ctl.reconcile(VolumeView(cached), "/pv-a", memory, 0).requests
    assert failed.obj.status.phase == "Failed" and failed.obj.metadata.resource_version == ""
    assert ctl.reconcile(VolumeView(failed.obj), "/pv-a", None, 0).requests == ()
