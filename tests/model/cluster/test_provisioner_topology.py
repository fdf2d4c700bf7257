"""Where the cluster's provisioner puts a volume of an Immediate class (trial13: a stored class
`volumeBindingMode: Immediate` on the zonal provisioner got a volume with no node affinity, usable
from every zone). Upstream csi-provisioner (`pkg/controller/topology.go`
GenerateAccessibilityRequirements, getPVCNameHashAndIndexOffset) picks one zone by the claim's
name, so a StatefulSet's volumes spread over the zones and each pod follows its volume; kind's
rancher.io/local-path never provisions an Immediate claim ("configuration error, no node was
specified")."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from scenario_text import HEAD

from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Node, ObjectKey, Pod
from kubeprop.model.cluster.compose import actions, build_model, initial_state
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.provisioner import ProvisionVolume
from kubeprop.model.cluster.provisioner_topology import (
    ZONE_LABEL,
    flatten,
    fnv1_32,
    immediate_zone,
    name_hash_and_index,
)
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState

NODES = "".join(
    f'    - {{name: w{i}, labels: {{{ZONE_LABEL}: zone-{z}}}, allocatable: {{cpu: "2", memory: 2Gi, pods: "10"}}}}\n'
    for i, z in enumerate("abc"))
STS = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: default}
spec:
  serviceName: db
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: db:1, resources: {requests: {cpu: 100m, memory: 64Mi}}}]}
  volumeClaimTemplates:
    - metadata: {name: data}
      spec: {storageClassName: fast, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
"""


def _class(provisioner: str) -> str:
    return (f"apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {{name: fast}}\n"
            f"provisioner: {provisioner}\nvolumeBindingMode: Immediate\n")


def _settled(tmp_path: Path, provisioner: str, storage: str) -> tuple[ClusterModel, ClusterState]:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "app.yaml").write_text(_class(provisioner) + "---\n" + STS)
    (tmp_path / "scenario.yaml").write_text(
        HEAD + "metadata: {name: immediate}\nmanifests: [m]\ntopology:\n  nodes:\n" + NODES
        + "users: [{name: admin, clusterRoles: [cluster-admin]}]\n")
    model = build_model(load_scenario(tmp_path / "scenario.yaml"), parameters={"defaultStorageClass": storage})
    run = settle(model, initial_state(model))
    assert not run.exhausted
    return model, run.state


def test_fnv1_32_matches_go_hash_fnv_new32() -> None:
    """Go's `fnv.New32()` (FNV-1) test vectors: "" and "a" (hash/fnv's golden32)."""
    assert (fnv1_32(""), fnv1_32("a"), fnv1_32("ab"), fnv1_32("abc")) == (0x811C9DC5, 0x050C5D7E, 0x70772D38,
                                                                        0x439C2F4B)


def test_a_statefulset_name_hashes_only_the_set_and_offsets_by_the_ordinal() -> None:
    assert name_hash_and_index("data-db-2") == (fnv1_32("db"), 2)
    assert name_hash_and_index("logs-db-2") == name_hash_and_index("data-db-2")  # same member, same zone
    assert name_hash_and_index("cache-7") == (fnv1_32("cache"), 7)
    assert name_hash_and_index("data-db-x") == (fnv1_32("data-db-x"), 0)
    assert name_hash_and_index("data-db-+2") == (fnv1_32("data-db-+2"), 0)  # ParseUint takes digits only


def test_flatten_distributes_the_values_over_the_keys() -> None:
    """topology.go's own example: (zone1 OR zone2) AND (rackA OR rackB)."""
    term = FrozenMap({"matchLabelExpressions": ({"key": "zone", "values": ("zone1", "zone2")},
                                                 {"key": "rack", "values": ("rackA", "rackB")})})
    assert sorted(flatten([term])) == sorted([
        (("rack", "rackA"), ("zone", "zone1")), (("rack", "rackA"), ("zone", "zone2")),
        (("rack", "rackB"), ("zone", "zone1")), (("rack", "rackB"), ("zone", "zone2"))])


@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1), st.text(min_size=1, max_size=12))
def test_the_zone_chosen_is_one_the_nodes_have(zones: list[str], claim: str) -> None:
    nodes = [Node(metadata=ObjectMeta(name=f"n{i}", labels=FrozenMap({ZONE_LABEL: z}))) for i, z in enumerate(zones)]
    term = immediate_zone(claim, (), nodes)
    assert term is not None and term[0][1] in zones


def test_a_statefulsets_immediate_zonal_volumes_go_round_the_zones_and_each_pod_follows(tmp_path: Path) -> None:
    _, state = _settled(tmp_path, "pd.csi.storage.gke.io", "zonal")
    zones: dict[int, str] = {}
    for ordinal in range(3):
        claim = state.store.get(ObjectKey("persistentvolumeclaims", "default", f"data-db-{ordinal}"))
        assert isinstance(claim, PersistentVolumeClaim) and claim.spec.volume_name
        volume = state.store.get(ObjectKey("persistentvolumes", "", claim.spec.volume_name))
        assert isinstance(volume, PersistentVolume) and volume.spec.node_affinity is not None
        (term,) = volume.spec.node_affinity["required"]["nodeSelectorTerms"]
        (expression,) = term["matchExpressions"]
        assert expression["key"] == ZONE_LABEL
        zones[ordinal] = expression["values"][0]
        pod = state.store.get(ObjectKey("pods", "default", f"db-{ordinal}"))
        assert isinstance(pod, Pod) and pod.spec.node_name == f"w{'abc'.index(zones[ordinal][-1])}"
    assert sorted(zones.values()) == ["zone-a", "zone-b", "zone-c"]


def test_an_immediate_local_path_claim_is_never_provisioned(tmp_path: Path) -> None:
    model, state = _settled(tmp_path, "rancher.io/local-path", "node-local")
    claim = state.store.get(ObjectKey("persistentvolumeclaims", "default", "data-db-0"))
    assert isinstance(claim, PersistentVolumeClaim) and not claim.spec.volume_name
    assert not any(isinstance(a, ProvisionVolume) for a in actions(model, state))
