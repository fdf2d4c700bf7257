"""syncVolume's live re-check before a volume is released, against upstream
`pkg/controller/volume/persistentvolume/pv_controller.go` syncVolume: a claim missing from the
controller's cache is looked up on the API server (`kubeClient...PersistentVolumeClaims(...).Get`)
before a bound volume is marked Released ("it's possible under heavy load that the corresponding
PVC is not synced to controller local cache yet ... to make sure we will not reclaim a PV
wrongly"), and a cached claim of another UID is looked up too ("Maybe cached claim is not the
newest one").

The run below is upstream's own example: the scheduler's VolumeBinding binds a static volume to a
claim (`claimRef` with the claim's UID) while the controller manager's claim informer has not yet
delivered that claim. The model used to release the volume from its cache alone, and with reclaim
policy Delete remove its hostPath and delete it — under a pod about to use it."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.api.core import (
    PersistentVolume,
    PersistentVolumeClaim,
    PersistentVolumeClaimSpec,
    PersistentVolumeSpec,
    PersistentVolumeStatus,
)
from kubeprop.model.api.meta import ObjectMeta, ObjectReference
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.server import Response
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import FairPolicy
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.persistentvolume import LiveClaim, PersistentVolumeController, PvMemory
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action, Deliver, Relist
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState

SCENARIO = """apiVersion: kubeprop.dev/v1alpha1
kind: Scenario
metadata: {name: stale-claim}
manifests: [m]
topology:
  nodes:
    - {name: w1, allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}
users: [{name: admin, clusterRoles: [cluster-admin]}]
applyAs: admin
workload:
  - apply: claim/
"""
STATIC = """apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: local}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-a}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: local
  hostPath: {path: /tmp/data}
"""
CLAIM_AND_POD = """apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: default}
spec:
  storageClassName: local
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: default}
spec:
  containers: [{name: c, image: x, resources: {requests: {cpu: 100m, memory: 64Mi}}}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
"""
VOLUME = ObjectKey("persistentvolumes", "", "pv-a")
CLAIM = ObjectKey("persistentvolumeclaims", "default", "data")
PV_CONTROLLER = "persistentvolume-binder"


def _model(tmp: Path) -> ClusterModel:
    for folder, text in (("m", STATIC), ("claim", CLAIM_AND_POD)):
        (tmp / folder).mkdir(exist_ok=True)
        (tmp / folder / "objects.yaml").write_text(text)
    (tmp / "scenario.yaml").write_text(SCENARIO)
    return build_model(load_scenario(tmp / "scenario.yaml"))


def _claims_to_controller_manager(act: Action) -> bool:
    return isinstance(act, Deliver | Relist) and act.component == CONTROLLER_MANAGER \
        and act.resource == "persistentvolumeclaims"


def _run(model: ClusterModel, state: ClusterState, held: bool, steps: int = 600) -> tuple[ClusterState, list[Action]]:
    """The fair run (the user's step included), the controller manager's claim informer held
    back while `held`: its claim events are not delivered."""
    policy = FairPolicy(recover=False, user_steps=True, environment_last=True)
    taken: list[Action] = []
    for _ in range(steps):
        act = policy.choose([a for a in actions(model, state) if not (held and _claims_to_controller_manager(a))])
        if act is None:
            break
        policy.taken(act)
        taken.append(act)
        state = step(model, state, act)
    return state, taken


def test_a_volume_bound_ahead_of_the_claim_cache_is_not_released(tmp_path: Path) -> None:
    """The scheduler binds pv-a to the claim; the PV controller syncs pv-a before its cache has the
    claim. It asks the API server, which has the claim with that UID: pv-a stays (not Released, not
    deleted). Once the claim informer catches up, the binding completes and the pod runs."""
    model = _model(tmp_path)
    state, taken = _run(model, initial_state(model), held=True)
    volume = state.store.get(VOLUME)
    assert isinstance(volume, PersistentVolume) and volume.spec.claim_ref is not None
    claim = state.store.get(CLAIM)
    assert isinstance(claim, PersistentVolumeClaim) and volume.spec.claim_ref.uid == claim.metadata.uid
    assert Reconcile(PV_CONTROLLER, "/pv-a") in taken  # the sync that used to release it did run
    assert volume.status.phase == "Available" and volume.metadata.deletion_timestamp is None
    state, _ = _run(model, state, held=False)
    volume, claim, pod = state.store.get(VOLUME), state.store.get(CLAIM), state.store.get(ObjectKey(
        "pods", "default", "app"))
    assert isinstance(volume, PersistentVolume) and volume.status.phase == "Bound"
    assert isinstance(claim, PersistentVolumeClaim) and claim.status.phase == "Bound"
    assert isinstance(pod, Pod) and pod.status.phase == "Running"


class _View:
    """A cache of `objects` only (the controller reads `get` and `list`)."""

    def __init__(self, *objects: object) -> None:
        self.objects = {ObjectKey("persistentvolumeclaims" if isinstance(o, PersistentVolumeClaim)
                                  else "persistentvolumes", o.metadata.namespace, o.metadata.name): o
                        for o in objects if isinstance(o, PersistentVolumeClaim | PersistentVolume)}

    def get(self, key: ObjectKey) -> object:
        return self.objects.get(key)

    def list(self, resource: str, namespace: str = "") -> object:
        return iter([o for k, o in self.objects.items() if k.resource == resource])


def _claim(uid: str, volume_name: str = "") -> PersistentVolumeClaim:
    return PersistentVolumeClaim(metadata=ObjectMeta(name="data", namespace="default", uid=uid),
                                 spec=PersistentVolumeClaimSpec(volume_name=volume_name))


def _volume(phase: str, uid: str = "u1") -> PersistentVolume:
    ref = ObjectReference(kind="PersistentVolumeClaim", api_version="v1", namespace="default", name="data", uid=uid)
    spec = PersistentVolumeSpec(persistent_volume_reclaim_policy="Retain", claim_ref=ref)
    return PersistentVolume(metadata=ObjectMeta(name="pv-a", resource_version="5"), spec=spec,
                            status=PersistentVolumeStatus(phase=phase))


def test_live_answers_decide_the_release() -> None:
    """The GET and what each answer does: 404, or another UID, releases; the claim found keeps the
    volume (Bound when the claim names it); a failed GET remembers nothing and asks again. A volume
    already Released is not asked about when its claim is missing, but is when the cache holds a
    claim of another UID."""
    ctl = PersistentVolumeController()
    bound = _volume("Bound")
    first = ctl.reconcile(_View(bound), "/pv-a", ctl.initial_memory(), 0)
    (get,) = first.requests
    assert (get.verb, get.resource, get.namespace, get.name, get.precondition_uid) == (
        "get", "persistentvolumeclaims", "default", "data", "u1")
    assert first.requeue and first.memory == PvMemory(asking="pv-a")

    def after(response: Response) -> object:
        return ctl.observe(first.memory, get, response)

    assert after(Response(500, "InternalError")) is None
    gone = after(Response(404, "NotFound"))
    assert gone == PvMemory(live=PvMemory().live.set("pv-a", LiveClaim("u1", found=False)))
    (released,) = ctl.reconcile(_View(bound), "/pv-a", gone, 0).requests
    assert released.verb == "update-status" and released.obj.status.phase == "Released"
    replaced = after(Response(200, "OK", obj=_claim("u2")))
    assert ctl.reconcile(_View(bound), "/pv-a", replaced, 0).requests[0].obj.status.phase == "Released"
    found = after(Response(200, "OK", obj=_claim("u1", "pv-a")))
    kept = ctl.reconcile(_View(bound), "/pv-a", found, 0)
    assert kept.requests == () and kept.memory is None and not kept.requeue
    available = ctl.reconcile(_View(_volume("Available")), "/pv-a", found, 0)
    assert [r.obj.status.phase for r in available.requests] == ["Bound"]
    settled = _volume("Released")
    assert ctl.reconcile(_View(settled), "/pv-a", None, 0).requests == ()  # Retain: nothing more to do
    (again,) = ctl.reconcile(_View(settled, _claim("u2")), "/pv-a", None, 0).requests
    assert again.verb == "get"
