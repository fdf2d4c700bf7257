"""StorageObjectInUseProtection (the admission plug-in and the PVC / PV protection controllers)
and the PV controller's reclaim policy, against upstream:
`plugin/pkg/admission/storage/storageobjectinuseprotection/admission.go`,
`pkg/controller/volume/pvcprotection/pvc_protection_controller.go`,
`pkg/controller/volume/pvprotection/pv_protection_controller.go`,
`pkg/controller/volume/persistentvolume/pv_controller.go` (reclaimVolume) and the external
provisioner's deleteVolumeOperation.

A claim a scheduled pod names outlives its deletion (Terminating, with the finalizer) until no pod
names it; a Released volume of a Delete class is deleted by its provisioner, one of a Retain class
stays Released."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cluster_harness import fair_states, gone_at

from kubeprop.model.api.codec import DecodeError, freeze_json
from kubeprop.model.api.core import PersistentVolume, PersistentVolumeSpec, PersistentVolumeStatus
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ObjectKey, PersistentVolumeClaim, Pod, decode_object
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.volume import PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER
from kubeprop.model.cluster.compose import actions, build_model, initial_state
from kubeprop.model.cluster.drive import FairPolicy, follow, settle
from kubeprop.model.cluster.informers import deliver_instantly
from kubeprop.model.cluster.provisioner import DeleteVolume
from kubeprop.model.cluster.workload import delete_wait
from kubeprop.model.controllers.reclaim import delete_volume, reclaim_volume
from kubeprop.model.controllers.volume_protection import PVCProtectionController
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState, send

SCENARIO = """apiVersion: kubeprop.dev/v1alpha1
kind: Scenario
metadata: {name: protect}
manifests: [manifests]
topology:
  nodes:
    - {name: w1, allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}
users:
  - {name: admin, clusterRoles: [cluster-admin]}
workload:
WORKLOAD"""
KV = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: kv, namespace: default}
spec:
  serviceName: kv
  replicas: REPLICAS
  podManagementPolicy: Parallel
POLICY  selector: {matchLabels: {app: kv}}
  template:
    metadata: {labels: {app: kv}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: kv
          image: kv:1
          resources: {requests: {cpu: 100m, memory: 64Mi}}
  volumeClaimTemplates:
    - metadata: {name: data}
      spec:
        CLASS accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 1Gi}}
"""
RETAIN_CLASS = """---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: keep}
provisioner: pd.csi.storage.gke.io
reclaimPolicy: Retain
volumeBindingMode: WaitForFirstConsumer
"""
SCALED = "  persistentVolumeClaimRetentionPolicy: {whenScaled: Delete}\n"
DELETED = "  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete}\n"


def _model(tmp: Path, workload: str, policy: str = "", replicas: int = 2, retain: bool = False,
           instant: bool = False, provisioner: str = "pd.csi.storage.gke.io", reclaim: str = "Retain") -> ClusterModel:
    (tmp / "manifests").mkdir(exist_ok=True)
    kv = KV.replace("POLICY", policy).replace("REPLICAS", str(replicas))
    kv = kv.replace("CLASS ", "storageClassName: keep\n        " if retain else "")
    (tmp / "manifests" / "kv.yaml").write_text(kv + (RETAIN_CLASS.replace("pd.csi.storage.gke.io", provisioner).replace(
        "Retain", reclaim) if retain else ""))
    (tmp / "scenario.yaml").write_text(SCENARIO.replace("WORKLOAD", workload))
    return build_model(load_scenario(tmp / "scenario.yaml"), parameters={"instantCaches": instant})


def _claim(name: str) -> ObjectKey:
    return ObjectKey("persistentvolumeclaims", "default", name)


def _pod(name: str) -> ObjectKey:
    return ObjectKey("pods", "default", name)


def _volume_of(states: list[ClusterState], claim: str) -> str:
    """The name of the volume the claim was bound to, in the last state that had it bound."""
    for state in reversed(states):
        found = state.store.get(_claim(claim))
        if isinstance(found, PersistentVolumeClaim) and found.spec.volume_name:
            return found.spec.volume_name
    raise AssertionError(f"{claim} was never bound")


def test_admission_adds_the_finalizers(tmp_path: Path) -> None:
    """Every claim the StatefulSet controller creates, and every provisioned volume, carries its
    protection finalizer from its creation on."""
    states, _ = fair_states(_model(tmp_path, "  - scale: {statefulset: default/kv, replicas: 2}\n"))
    claims = [c for s in states for c in s.store.list("persistentvolumeclaims")]
    volumes = [v for s in states for v in s.store.list("persistentvolumes")]
    assert claims and volumes
    assert all(c.metadata.finalizers == (PVC_PROTECTION_FINALIZER,) for c in claims)
    assert all(v.metadata.finalizers == (PV_PROTECTION_FINALIZER,) for v in volumes)


def test_set_deletion_keeps_each_claim_until_its_pod_is_gone(tmp_path: Path) -> None:
    """whenDeleted: Delete: the garbage collector deletes the claims with the set, while the pods
    (also collected) are still terminating; each claim stays, Terminating with its finalizer,
    until its pod is gone — it used to go at once."""
    model = _model(tmp_path, "  - delete: {kind: StatefulSet, name: kv}\n", DELETED)
    states, _ = fair_states(model)
    for ordinal in (0, 1):
        claim_key, pod_key = _claim(f"data-kv-{ordinal}"), _pod(f"kv-{ordinal}")
        terminating = [s for s in states if s.store.get(pod_key) is not None
                       and (c := s.store.get(claim_key)) is not None and c.metadata.deletion_timestamp is not None]
        assert terminating, "the claim was never deleted while its pod was there"
        assert all(s.store.get(claim_key).metadata.finalizers == (PVC_PROTECTION_FINALIZER,) for s in terminating)
        pod_gone, claim_gone = gone_at(states, pod_key), gone_at(states, claim_key)
        assert pod_gone is not None and claim_gone is not None and pod_gone < claim_gone
    assert not list(states[-1].store.list("persistentvolumeclaims"))


def test_scaled_claim_goes_after_its_terminating_pod_and_its_volume_is_deleted(tmp_path: Path) -> None:
    """whenScaled: Delete, scaled 2 -> 1: while kv-1 terminates, data-kv-1 stays (the garbage
    collector waits for its owner pod, and the claim keeps its finalizer); once kv-1 is gone the
    claim goes, its volume (of the cluster's class: reclaimPolicy Delete) is Released and the
    provisioner deletes it (DeleteVolume), after the PV protection controller lets it go."""
    model = _model(tmp_path, "  - scale: {statefulset: default/kv, replicas: 1}\n", SCALED)
    states, trace = fair_states(model)
    volume = _volume_of(states, "data-kv-1")
    for state in states:
        if state.store.get(_pod("kv-1")) is not None and (claim := state.store.get(_claim("data-kv-1"))) is not None:
            assert PVC_PROTECTION_FINALIZER in claim.metadata.finalizers
    pod_gone, claim_gone = gone_at(states, _pod("kv-1")), gone_at(states, _claim("data-kv-1"))
    volume_gone = gone_at(states, ObjectKey("persistentvolumes", "", volume))
    assert pod_gone is not None and claim_gone is not None and volume_gone is not None
    assert pod_gone < claim_gone < volume_gone
    released = states[volume_gone - 1].store.get(ObjectKey("persistentvolumes", "", volume))
    assert isinstance(released, PersistentVolume) and released.status.phase == "Released"
    assert released.spec.persistent_volume_reclaim_policy == "Delete"
    assert DeleteVolume(volume) in trace
    assert states[-1].store.get(_claim("data-kv-0")) is not None  # the live ordinal keeps its claim


def test_a_shipped_csi_class_has_its_released_volume_deleted_by_its_provisioner(tmp_path: Path) -> None:
    """audit14: a class of a provisioner other than the cluster's (ebs.csi.aws.com) is served by the
    generic CSI provisioner, which also deletes the volumes it made once Released (shouldDelete)."""
    model = _model(tmp_path, "  - scale: {statefulset: default/kv, replicas: 1}\n", SCALED, retain=True,
                   provisioner="ebs.csi.aws.com", reclaim="Delete")
    states, trace = fair_states(model)
    volume = _volume_of(states, "data-kv-1")
    assert gone_at(states, ObjectKey("persistentvolumes", "", volume)) is not None
    assert DeleteVolume(volume) in trace


def test_retain_class_keeps_the_released_volume(tmp_path: Path) -> None:
    """A class with reclaimPolicy Retain: the provisioned volume takes it, and stays Released after
    its claim is gone; the provisioner never deletes it."""
    model = _model(tmp_path, "  - scale: {statefulset: default/kv, replicas: 1}\n", SCALED, retain=True)
    states, trace = fair_states(model)
    volume = _volume_of(states, "data-kv-1")
    assert gone_at(states, _claim("data-kv-1")) is not None
    kept = states[-1].store.get(ObjectKey("persistentvolumes", "", volume))
    assert isinstance(kept, PersistentVolume) and kept.status.phase == "Released"
    assert kept.spec.persistent_volume_reclaim_policy == "Retain" and kept.metadata.deletion_timestamp is None
    assert not any(isinstance(a, DeleteVolume) for a in trace)


def test_deleting_a_volume_is_never_forced(tmp_path: Path) -> None:
    """DeleteVolume is an environment choice: enabled once the volume is Released, and the volume
    stays as long as it is not taken."""
    model = _model(tmp_path, "  - scale: {statefulset: default/kv, replicas: 1}\n", SCALED)
    policy = FairPolicy(recover=False, user_steps=True, environment_last=True, avoid=(DeleteVolume,))
    result = follow(model, initial_state(model), policy, 3000)
    released = [v for v in result.state.store.list("persistentvolumes") if v.status.phase == "Released"]
    assert len(released) == 1
    assert DeleteVolume(released[0].metadata.name) in actions(model, result.state)


def _user(model: ClusterModel, state: ClusterState, request: Request) -> ClusterState:
    before = state.store.revision
    state, response = send(model, state, ADMIN, request, "user")
    assert response.ok, response.message
    return deliver_instantly(model, state, tuple(e for e in state.store.events if e.revision > before))


def test_user_delete_of_a_claim_in_use_waits_for_its_pod(tmp_path: Path) -> None:
    """`kubectl delete pvc data-kv-0` while kv-0 runs: the claim is Terminating, kubectl keeps
    waiting (the step does not return) and the pod keeps running. Once the pod is deleted, the
    StatefulSet controller does not re-create it on the claim being deleted ("pvc data-kv-0 is
    being deleted"): the claim goes, kubectl returns, then a new claim and pod are made."""
    model = _model(tmp_path, "  - delete: {kind: PersistentVolumeClaim, name: data-kv-0}\n", replicas=1,
                   instant=True)
    states, trace = fair_states(model)
    last = states[-1]
    claim, pod = last.store.get(_claim("data-kv-0")), last.store.get(_pod("kv-0"))
    assert UserStep(0) in trace
    assert isinstance(claim, PersistentVolumeClaim) and claim.metadata.deletion_timestamp is not None
    assert claim.metadata.finalizers == (PVC_PROTECTION_FINALIZER,)
    assert isinstance(pod, Pod) and pod.status.phase == "Running" and pod.metadata.deletion_timestamp is None
    assert delete_wait(last) is not None
    state = _user(model, last, Request(verb="delete", user=ADMIN, resource="pods", namespace="default",
                                       name="kv-0", grace_period_seconds=0))
    settled = settle(model, state, max_steps=1500).state
    new_claim, new_pod = settled.store.get(_claim("data-kv-0")), settled.store.get(_pod("kv-0"))
    assert isinstance(new_claim, PersistentVolumeClaim) and new_claim.metadata.uid != claim.metadata.uid
    assert new_claim.metadata.deletion_timestamp is None
    assert isinstance(new_pod, Pod) and new_pod.metadata.uid != pod.metadata.uid
    assert delete_wait(settled) is None


def _pv(policy: str, **source: Any) -> PersistentVolume:
    meta = ObjectMeta(name="pv1", resource_version="7")
    spec = PersistentVolumeSpec(capacity=FrozenMap(), persistent_volume_reclaim_policy=policy,
                                **{k: freeze_json(v) for k, v in source.items()})
    return PersistentVolume(metadata=meta, spec=spec, status=PersistentVolumeStatus(phase="Released"))


def test_reclaim_of_static_volumes() -> None:
    """reclaimVolume / findDeletablePlugin for volumes no provisioner made: Retain keeps them; a CSI
    volume waits for its external provisioner; the hostPath deleter removes only paths matching
    `/tmp/.+`, then the controller deletes the object; anything else fails the volume. Each write
    is the end of a delete operation (started by reclaim_volume, with its volume GET)."""
    assert reclaim_volume(_pv("Retain", host_path={"path": "/tmp/x"}), written=False) is None
    assert reclaim_volume(_pv("Delete", csi={"driver": "d", "volumeHandle": "h"}), written=False) is None
    operation = reclaim_volume(_pv("Delete", host_path={"path": "/tmp/x"}), written=False)
    assert operation is not None and operation.volume.metadata.resource_version == "7"
    (delete,) = delete_volume(operation.volume)
    assert (delete.verb, delete.resource, delete.name) == ("delete", "persistentvolumes", "pv1")
    operation = reclaim_volume(_pv("Delete", host_path={"path": "/data"}), written=True)
    assert operation is not None
    (failed,) = delete_volume(operation.volume)
    assert failed.verb == "update-status" and failed.obj.metadata.resource_version == ""
    assert failed.obj.status == PersistentVolumeStatus(
        phase="Failed", message="host_path deleter only supports /tmp/.+ but received provided /data")
    (local,) = delete_volume(_pv("Delete", local={"path": "/mnt/disk"}))
    assert local.obj.status.message == ('error getting deleter volume plugin for volume "pv1": '
                                        "no deletable volume plugin matched")
    assert reclaim_volume(local.obj, written=False) is None  # already Failed so: no write, no GET


def test_recycle_is_refused_at_decode() -> None:
    body = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv1"},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                     "persistentVolumeReclaimPolicy": "Recycle", "hostPath": {"path": "/tmp/x"}}}
    try:
        decode_object(body)
    except DecodeError as err:
        assert "spec.persistentVolumeReclaimPolicy: not modelled: the Recycle reclaim policy" in str(err)
    else:
        raise AssertionError("Recycle was accepted")


class _View:
    """A cache holding only `objects` (the controller reads `get` and `list`)."""

    def __init__(self, *objects: Any) -> None:
        self.objects = {ObjectKey("persistentvolumeclaims" if isinstance(o, PersistentVolumeClaim) else "pods",
                                  o.metadata.namespace, o.metadata.name): o for o in objects}

    def get(self, key: ObjectKey) -> Any:
        return self.objects.get(key)

    def list(self, resource: str, namespace: str = "") -> Any:
        return iter([o for k, o in self.objects.items() if k.resource == resource
                     and (not namespace or k.namespace == namespace)])


def test_a_claim_unused_in_the_cache_is_checked_with_a_live_list(tmp_path: Path) -> None:
    """isBeingUsed: a cache that shows no pod using the claim (it has not seen the pod's binding)
    is not enough: the controller LISTs the namespace's pods live and keeps the finalizer while
    the live answer shows a scheduled pod naming the claim; it removes it once a live answer shows none."""
    model = _model(tmp_path, "  - delete: {kind: PersistentVolumeClaim, name: data-kv-0}\n", replicas=1,
                   instant=True)
    states, _ = fair_states(model)
    claim, pod = states[-1].store.get(_claim("data-kv-0")), states[-1].store.get(_pod("kv-0"))
    assert isinstance(claim, PersistentVolumeClaim) and isinstance(pod, Pod) and pod.spec.node_name
    ctl = PVCProtectionController()
    assert ctl.reconcile(_View(claim, pod), "default/data-kv-0", ctl.initial_memory(), 0).requests == ()
    unbound = evolve(pod, spec=evolve(pod.spec, node_name=""))
    first = ctl.reconcile(_View(claim, unbound), "default/data-kv-0", ctl.initial_memory(), 0)
    (listing,) = first.requests
    assert (listing.verb, listing.resource, listing.namespace, first.requeue) == ("list", "pods", "default", True)
    used = ctl.observe(first.memory, listing, Response(200, "OK", items=(pod,)))
    kept = ctl.reconcile(_View(claim, unbound), "default/data-kv-0", used, 0)
    assert kept.requests == () and kept.memory == ctl.initial_memory()
    assert ctl.observe(first.memory, listing, Response(500, "InternalError")) == ctl.initial_memory()
    unused = ctl.observe(first.memory, listing, Response(200, "OK", items=(unbound,)))
    (removal,) = ctl.reconcile(_View(claim, unbound), "default/data-kv-0", unused, 0).requests
    assert removal.verb == "update" and removal.obj.metadata.finalizers == ()
