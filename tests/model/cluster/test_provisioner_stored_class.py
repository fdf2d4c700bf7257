"""A StorageClass the scenario ships whose provisioner is not the cluster class's (audit14: an
EKS-style `gp3` class, `ebs.csi.aws.com`, used by a StatefulSet). Before, only the cluster class's
provisioner ran: the claims stayed Pending for ever and `workloads-ready` / `schedulable-pods-bound`
were VIOLATED, "relies on: the control plane alone", while a user who ships a class runs its
provisioner. Now every provisioner a class names runs (`kubeprop.model.api.storage.provisioner_choice`):
an unknown one as the generic CSI provisioner (csi-provisioner's topology: the selected node's zone),
the known ones as their cluster class does; `kubernetes.io/no-provisioner` still provisions nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scenario_text import statefulset_db

from kubeprop.model.api.codec import thaw_json
from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim
from kubeprop.model.api.objects import Node, ObjectKey, Pod
from kubeprop.model.api.storage import GENERIC_CSI, provisioner_choice
from kubeprop.model.cluster.compose import actions, build_model, initial_state
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.provisioner import ProvisionVolume
from kubeprop.model.kubelet.volumes import can_attach
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState

HEADER = ("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmetadata: {name: gp3}\nmanifests: [m]\n"
          "topology:\n  nodes:\n"
          + "".join(f"    - {{name: worker-{i}, allocatable: {{cpu: '1', memory: 1Gi, pods: '10'}}, "
                    f"labels: {{topology.kubernetes.io/zone: {z}}}}}\n" for i, z in ((1, "a"), (2, "b")))
          + "users: [{name: admin, clusterRoles: [cluster-admin]}]\napplyAs: admin\n")
GP3 = ("apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: gp3}\nprovisioner: PROV\n"
       "volumeBindingMode: WaitForFirstConsumer\nparameters: {type: gp3}\n---\n")
DB = (statefulset_db("default", "{containers: [{name: db, image: postgres:16, resources: {requests: {cpu: 100m, "
                                  "memory: 64Mi}}}]}")
      + "  volumeClaimTemplates:\n    - metadata: {name: data}\n"
      "      spec: {storageClassName: gp3, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n")
CLAIM_KEY = ObjectKey("persistentvolumeclaims", "default", "data-db-0")


def _model(tmp: Path, manifests: str, **parameters: Any) -> ClusterModel:
    (tmp / "m").mkdir(exist_ok=True)
    (tmp / "m" / "objects.yaml").write_text(manifests)
    (tmp / "scenario.yaml").write_text(HEADER)
    return build_model(load_scenario(tmp / "scenario.yaml"), parameters={"instantCaches": True, **parameters})


def _volume(state: ClusterState) -> tuple[PersistentVolumeClaim, PersistentVolume | None]:
    claim = state.store.get(CLAIM_KEY)
    assert isinstance(claim, PersistentVolumeClaim)
    volume = state.store.get(ObjectKey("persistentvolumes", "", claim.spec.volume_name or "-"))
    return claim, volume if isinstance(volume, PersistentVolume) else None


@pytest.mark.parametrize("choice", ["zonal", "node-local", "none"])
def test_a_shipped_csi_class_is_provisioned_in_the_selected_nodes_zone(tmp_path: Path, choice: str) -> None:
    """Failed before: the claim stayed Pending and db-0 never ran, whatever the cluster's class."""
    model = _model(tmp_path, GP3.replace("PROV", "ebs.csi.aws.com") + DB, defaultStorageClass=choice)
    state = settle(model, initial_state(model), max_steps=400).state
    claim, volume = _volume(state)
    assert claim.status.phase == "Bound" and volume is not None
    assert volume.metadata.annotations["pv.kubernetes.io/provisioned-by"] == "ebs.csi.aws.com"
    assert thaw_json(volume.spec.csi)["driver"] == "ebs.csi.aws.com" and volume.spec.host_path is None
    pod = state.store.get(ObjectKey("pods", "default", "db-0"))
    assert isinstance(pod, Pod) and pod.status.phase == "Running"
    node = state.store.get(ObjectKey("nodes", "", pod.spec.node_name or ""))
    assert isinstance(node, Node)
    term = thaw_json(volume.spec.node_affinity)["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]
    zone = node.metadata.labels["topology.kubernetes.io/zone"]
    assert term == {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]}


def test_a_driver_that_does_not_attach_gets_no_node_affinity(tmp_path: Path) -> None:
    """A CSIDriver with `attachRequired: false` (file storage such as efs.csi.aws.com): no topology."""
    driver = ("apiVersion: storage.k8s.io/v1\nkind: CSIDriver\nmetadata: {name: efs.csi.aws.com}\n"
              "spec: {attachRequired: false}\n---\n")
    model = _model(tmp_path, driver + GP3.replace("PROV", "efs.csi.aws.com") + DB)
    _, volume = _volume(settle(model, initial_state(model), max_steps=400).state)
    assert volume is not None and volume.spec.node_affinity is None


def test_a_shipped_local_path_class_on_a_zonal_cluster_provisions_as_kind_does(tmp_path: Path) -> None:
    """A known provisioner keeps its own behaviour: rancher.io/local-path makes a hostPath volume
    on the selected node, whatever the cluster's own class."""
    model = _model(tmp_path, GP3.replace("PROV", "rancher.io/local-path") + DB)
    claim, volume = _volume(settle(model, initial_state(model), max_steps=400).state)
    assert volume is not None and volume.spec.host_path is not None and volume.spec.csi is None
    term = thaw_json(volume.spec.node_affinity)["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]
    assert term["key"] == "kubernetes.io/hostname"
    assert term["values"] == [claim.metadata.annotations["volume.kubernetes.io/selected-node"]]


def test_no_provisioner_still_provisions_nothing(tmp_path: Path) -> None:
    model = _model(tmp_path, GP3.replace("PROV", "kubernetes.io/no-provisioner") + DB)
    state = settle(model, initial_state(model), max_steps=400).state
    claim, volume = _volume(state)
    assert volume is None and not claim.spec.volume_name
    assert not any(isinstance(a, ProvisionVolume) for a in actions(model, state))


@pytest.mark.parametrize("provisioner", ["ebs.csi.aws.com", "rancher.io/local-path"])
def test_a_claim_with_a_selector_is_never_provisioned(tmp_path: Path, provisioner: str) -> None:
    """csi-provisioner's and local-path's Provision refuse a claim with a selector ("claim Selector
    is not supported"): it stays Pending with no volume matching it (audit15; it was provisioned)."""
    selective = DB.replace("spec: {storageClassName: gp3,", "spec: {selector: {matchLabels: {tier: fast}}, "
                                                            "storageClassName: gp3,")
    model = _model(tmp_path, GP3.replace("PROV", provisioner) + selective)
    state = settle(model, initial_state(model), max_steps=400).state
    claim, volume = _volume(state)
    assert claim.spec.selector is not None and volume is None and claim.status.phase == "Pending"
    assert not any(isinstance(a, ProvisionVolume) for a in actions(model, state))


def test_can_attach_sees_a_shipped_csi_class(tmp_path: Path) -> None:
    """The footprints' over-approximation: on kind (hostPath volumes) a shipped CSI class's
    ReadWriteOnce volumes are attached, so mounts may wait on other kubelets."""
    assert can_attach(_model(tmp_path, GP3.replace("PROV", "ebs.csi.aws.com") + DB, defaultStorageClass="node-local"))
    assert not can_attach(_model(tmp_path, GP3.replace("PROV", "rancher.io/local-path") + DB,
                                 defaultStorageClass="node-local"))


def test_provisioner_choice() -> None:
    assert provisioner_choice("pd.csi.storage.gke.io", "zonal") == "zonal"
    assert provisioner_choice("rancher.io/local-path", "zonal") == "node-local"
    assert provisioner_choice("ebs.csi.aws.com", "none") == GENERIC_CSI
    assert provisioner_choice("kubernetes.io/no-provisioner", "zonal") is None
