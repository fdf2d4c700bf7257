"""Volume binding: the PV controller, the cluster's provisioner and the scheduler's VolumeBinding.

Upstream: `pkg/controller/volume/persistentvolume/pv_controller.go`,
`pkg/scheduler/framework/plugins/volumebinding/`, sig-storage-lib-external-provisioner. Before
this was modelled, every claim stayed Pending and every pod with a claim was scheduled and run as
if its volume were there: on a cluster without a default StorageClass (`defaultStorageClass:
none`, a bare kubeadm cluster) the StatefulSet below never starts its pod — a bug the checker
missed (`test_no_default_class_pod_waits`); and on kind (`node-local`, volumes on one node) a
StatefulSet pod can never move to another node, so the replacement the `sts-split-brain` variant
starts elsewhere (the `one-running-pod-per-identity` alarm) cannot happen there
(`test_node_local_volume_pins_the_replacement`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scenario_text import statefulset_db

from kubeprop.model.api.codec import thaw_json
from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim
from kubeprop.model.api.objects import Node, ObjectKey, Pod
from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.informers import deliver_instantly
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState, send

NODE = ("    - {name: NAME, allocatable: {cpu: '1', memory: 1Gi, pods: '10'}, "
        "labels: {topology.kubernetes.io/zone: Z}}\n")
HEADER = ("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmetadata: {name: vol}\nmanifests: [m]\n"
          "topology:\n  nodes:\n" + NODE.replace("NAME", "worker-1").replace("Z", "a")
          + NODE.replace("NAME", "worker-2").replace("Z", "b") +
          "users: [{name: admin, clusterRoles: [cluster-admin]}]\napplyAs: admin\n")
DB = (statefulset_db("default", "{containers: [{name: db, image: postgres:16, resources: {requests: {cpu: 100m, "
                                  "memory: 64Mi}}}]}")
      + "  volumeClaimTemplates:\n    - metadata: {name: data}\n"
      "      spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n")
CLAIM_KEY = ObjectKey("persistentvolumeclaims", "default", "data-db-0")
POD_KEY = ObjectKey("pods", "default", "db-0")


def _model(tmp: Path, manifests: str, parameters: dict[str, Any]) -> ClusterModel:
    (tmp / "m").mkdir(exist_ok=True)
    (tmp / "m" / "objects.yaml").write_text(manifests)
    (tmp / "scenario.yaml").write_text(HEADER)
    return build_model(load_scenario(tmp / "scenario.yaml"), parameters={"instantCaches": True, **parameters})


def _send(model: ClusterModel, state: ClusterState, request: Request) -> ClusterState:
    """The user's request, its watch events handled at once (as `step` does with instant caches)."""
    before = state.store.revision
    state, response = send(model, state, ADMIN, request, "user")
    assert response.ok, response.message
    return deliver_instantly(model, state, tuple(e for e in state.store.events if e.revision > before))


def _settled(model: ClusterModel, state: ClusterState | None = None) -> ClusterState:
    return settle(model, initial_state(model) if state is None else state, max_steps=400).state


def _pod(state: ClusterState) -> Pod:
    pod = state.store.get(POD_KEY)
    assert isinstance(pod, Pod)
    return pod


def _scheduled_message(pod: Pod) -> str:
    return next(c.message for c in pod.status.conditions if c.type == "PodScheduled")


@pytest.mark.parametrize(("choice", "provisioner"), [
    ("zonal", "pd.csi.storage.gke.io"), ("node-local", "rancher.io/local-path"),
    ("immediate", "k8s.io/minikube-hostpath")])
def test_default_class_provisions_and_binds(tmp_path: Path, choice: str, provisioner: str) -> None:
    """The claim gets the default class (DefaultStorageClass), the provisioner creates its volume,
    the PV controller binds both, and only then is the pod bound and run."""
    model = _model(tmp_path, DB, {"defaultStorageClass": choice})
    state = _settled(model)
    claim, pod = state.store.get(CLAIM_KEY), _pod(state)
    assert isinstance(claim, PersistentVolumeClaim)
    assert claim.spec.storage_class_name == "standard" and claim.status.phase == "Bound"
    volume = state.store.get(ObjectKey("persistentvolumes", "", claim.spec.volume_name))
    assert isinstance(volume, PersistentVolume) and volume.status.phase == "Bound"
    assert volume.metadata.annotations["pv.kubernetes.io/provisioned-by"] == provisioner
    assert pod.status.phase == "Running" and pod.spec.node_name
    selected = claim.metadata.annotations.get("volume.kubernetes.io/selected-node")
    assert selected == (None if choice == "immediate" else pod.spec.node_name)


def test_volume_affinity_follows_the_choice(tmp_path: Path) -> None:
    """`zonal` pins the volume to the selected node's zone, `node-local` to the node itself."""
    for choice, key in (("zonal", "topology.kubernetes.io/zone"), ("node-local", "kubernetes.io/hostname")):
        model = _model(tmp_path, DB, {"defaultStorageClass": choice})
        state = _settled(model)
        claim = state.store.get(CLAIM_KEY)
        assert isinstance(claim, PersistentVolumeClaim)
        volume = state.store.get(ObjectKey("persistentvolumes", "", claim.spec.volume_name))
        assert isinstance(volume, PersistentVolume)
        node = state.store.get(ObjectKey("nodes", "", _pod(state).spec.node_name))
        assert isinstance(node, Node)
        term = thaw_json(volume.spec.node_affinity)["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]
        assert term == {"key": key, "operator": "In", "values": [node.metadata.labels[key]]}


def test_no_default_class_pod_waits(tmp_path: Path) -> None:
    """A missed bug before: without a default StorageClass (a bare kubeadm cluster) the claim has
    no class and nothing binds it, so the pod is refused by VolumeBinding's PreFilter, for ever —
    the model used to run it as if its volume were there."""
    model = _model(tmp_path, DB, {"defaultStorageClass": "none"})
    state = _settled(model)
    claim, pod = state.store.get(CLAIM_KEY), _pod(state)
    assert isinstance(claim, PersistentVolumeClaim)
    assert claim.spec.storage_class_name is None and claim.status.phase == "Pending"
    assert pod.status.phase == "Pending" and not pod.spec.node_name
    assert _scheduled_message(pod) == (
        "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
        "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.")
    assert not any(r.pods for r in state.kubelets.values())


def test_missing_claim_is_refused(tmp_path: Path) -> None:
    """A pod naming a claim that does not exist: the lister's NotFound error, unresolvable."""
    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: db-0, namespace: default}\nspec:\n"
           "  containers: [{name: c, image: x}]\n"
           "  volumes: [{name: data, persistentVolumeClaim: {claimName: nowhere}}]\n")
    model = _model(tmp_path, pod, {})
    state = _settled(model)
    assert _pod(state).status.phase == "Pending"
    assert _scheduled_message(_pod(state)).startswith(
        '0/2 nodes are available: persistentvolumeclaim "nowhere" not found. preemption:')


def test_static_volume_binds_immediate_claim(tmp_path: Path) -> None:
    """A claim of a class that is not a StorageClass object binds Immediate, to a matching static
    volume (the PV controller: Available first, then the four binding writes), as FeastFlow's."""
    static = DB.replace("accessModes: [ReadWriteOnce],", "accessModes: [ReadWriteOnce], storageClassName: manual,")
    static += ("---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {name: disk}\nspec:\n"
               "  capacity: {storage: 2Gi}\n  accessModes: [ReadWriteOnce]\n  storageClassName: manual\n"
               "  nfs: {server: nfs.example, path: /db}\n")
    model = _model(tmp_path, static, {})
    state = _settled(model)
    claim = state.store.get(CLAIM_KEY)
    assert isinstance(claim, PersistentVolumeClaim) and claim.spec.volume_name == "disk"
    assert claim.status.phase == "Bound" and _pod(state).status.phase == "Running"


def test_node_local_volume_pins_the_replacement(tmp_path: Path) -> None:
    """On kind (`node-local`) a StatefulSet pod whose node can no longer take it is not moved: its
    replacement is refused everywhere else with "volume node affinity conflict". Before, the
    replacement was scheduled on the other node — what the `sts-split-brain` variant's
    `one-running-pod-per-identity` alarm needs, an alarm that on such a cluster is false."""
    model = _model(tmp_path, DB, {"defaultStorageClass": "node-local"})
    state = _settled(model)
    home = _pod(state).spec.node_name
    node = state.store.get(ObjectKey("nodes", "", home))
    assert isinstance(node, Node)
    cordoned = Node(metadata=node.metadata, spec=type(node.spec)(unschedulable=True), status=node.status)
    state = _send(model, state, Request(verb="update", user=ADMIN, obj=cordoned))
    state = _send(model, state, Request(verb="delete", user=ADMIN, resource="pods", namespace="default",
                                        name="db-0", grace_period_seconds=0))
    state = _settled(model, state)
    pod = _pod(state)
    assert pod.status.phase == "Pending" and not pod.spec.node_name
    assert _scheduled_message(pod) == (
        "0/2 nodes are available: 1 node(s) had volume node affinity conflict, 1 node(s) were unschedulable. "
        "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.")

