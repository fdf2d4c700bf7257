"""`kubeprop schedule` with claims (user trial 11): Z3 and the one-at-a-time scheduler get the
nodes VolumeBinding refuses each pod (`kubeprop.properties.scheduling.volumes`).

Before, the problem carried no volumes: a pod whose claim is bound to a local volume on a cordoned
node was "FEASIBLE ... default/db worker-2", and "the default scheduler ... places every pod too",
where Kubernetes leaves it Pending ("1 node(s) had volume node affinity conflict")."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_run import kubeprop

from kubeprop.model.api.core import Node
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.provisioner_topology import ZONE_LABEL, immediate_zone
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.decide import build_node_infos
from kubeprop.properties.scheduling.volumes import scenario_volumes
from kubeprop.properties.scheduling.workloads import desired_pods, greedy

DATA = Path(__file__).parents[2] / "model" / "data" / "volume-refusals"
AFFINITY = DATA / "affinity" / "scenario.yaml"
IGNORED = "Claims ignored: "


def test_a_local_volume_on_a_cordoned_node_makes_its_pod_infeasible(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "schedule", str(AFFINITY))
    assert code == 1 and "INFEASIBLE as given" in out
    assert "worker-2 excluded: node(s) had volume node affinity conflict" in out
    assert "worker-1 excluded: node(s) were unschedulable" in out and IGNORED not in out


def test_an_immediate_claim_nothing_can_bind_refuses_every_node(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "schedule", str(DATA / "unbound-claim"))
    assert code == 1
    assert "worker-1, worker-2, worker-3 excluded: pod has unbound immediate PersistentVolumeClaims" in out


def test_the_one_at_a_time_scheduler_runs_volume_binding_too() -> None:
    """The greedy comparison's cycle gets the same volumes as Z3: db stays Pending, with upstream's message."""
    model = build_model(load_scenario(AFFINITY))
    store = initial_state(model).store
    desired = desired_pods(store, model.api)
    nodes = build_node_infos([n for n in store.list("nodes") if isinstance(n, Node)], desired.bound)
    volumes = scenario_volumes(store, desired.pending, "zonal", model.api)
    result = greedy(nodes, desired.pending, volumes=volumes.checks)
    assert not result.placement
    assert result.pending["default/db"].startswith(
        "0/2 nodes are available: 1 node(s) had volume node affinity conflict, 1 node(s) were unschedulable.")
    assert greedy(nodes, desired.pending).placement["default/db"] == "worker-2"  # what it said without them


def test_statefulset_claims_are_created_first_and_provisioned_where_the_pod_goes(
        capsys: pytest.CaptureFixture[str]) -> None:
    """drain-local: the claim from the template gets the default class (node-local,
    WaitForFirstConsumer), whose volume is provisioned on the chosen node: worker-2 is fine."""
    code, out, _ = kubeprop(capsys, "schedule", str(DATA / "drain-local"), "--drain", "worker-1")
    assert code == 0 and "default/db-0  worker-2" in out and IGNORED not in out


def test_a_claim_of_a_shipped_class_is_provisioned_as_check_provisions_it(capsys: pytest.CaptureFixture[str],
                                                                          tmp_path: Path) -> None:
    """An Immediate class the scenario ships (its provisioner taken as a CSI driver the user
    installed, as `kubeprop check` takes it): the claim's volume is provisioned in the zone
    csi-provisioner picks by the claim's name (`immediate_zone`), and the pod goes there (before
    round 30: "Claims ignored", placed anywhere)."""
    text = (DATA / "unbound-claim" / "objects.yaml").read_text().replace('storageClassName: ""',
                                                                         "storageClassName: fast")
    (tmp_path / "objects.yaml").write_text(text + "---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\n"
                                           "metadata: {name: fast}\nprovisioner: example.com/fast\n")
    code, out, _ = kubeprop(capsys, "schedule", str(tmp_path))
    assert code == 0 and "FEASIBLE as given" in out and IGNORED not in out
    nodes = [n for n in initial_state(build_model(load_scenario(tmp_path))).store.list("nodes") if isinstance(n, Node)]
    term = immediate_zone("data", (), nodes)
    assert term is not None
    placed = next(line.split()[1] for line in out.splitlines() if line.strip().startswith("default/db "))
    zone = {n.metadata.name: n.metadata.labels.get(ZONE_LABEL) for n in nodes}[placed]
    assert zone == dict(term)[ZONE_LABEL]


def _zoned(tmp_path: Path, pod_zone: str | None) -> Path:
    """Two nodes in zone-a and zone-b, a claim `data` of an Immediate class the cluster's zonal
    provisioner serves, and pod db using it (pinned to `pod_zone` if given)."""
    text = (DATA / "unbound-claim" / "objects.yaml").read_text().replace('storageClassName: ""',
                                                                         "storageClassName: fast")
    if pod_zone is not None:
        text = text.replace("spec:\n  containers:", f"spec:\n  nodeSelector: {{{ZONE_LABEL}: {pod_zone}}}\n"
                                                    "  containers:")
    (tmp_path / "m").mkdir(parents=True)
    (tmp_path / "m" / "objects.yaml").write_text(
        text + "---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast}\n"
        "provisioner: pd.csi.storage.gke.io\n")
    nodes = "".join(f'    - {{name: w-{z}, labels: {{{ZONE_LABEL}: zone-{z}}}, '
                    'allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}\n' for z in "ab")
    (tmp_path / "scenario.yaml").write_text(
        "apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmetadata: {name: zoned}\nmanifests: [m]\n"
        f"topology:\n  nodes:\n{nodes}users: [{{name: admin, clusterRoles: [cluster-admin]}}]\n")
    return tmp_path / "scenario.yaml"


def test_an_immediate_zonal_claim_is_judged_in_the_zone_its_volume_will_have(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """csi-provisioner puts an Immediate claim's volume in one zone, chosen by the claim's name
    (`kubeprop.model.cluster.provisioner_topology`): `schedule` predicts it instead of ignoring the
    claim, so the pod goes to that zone, and a pod pinned to the other zone is infeasible."""
    nodes = [Node(metadata=ObjectMeta(name=f"w-{z}", labels=FrozenMap({ZONE_LABEL: f"zone-{z}"}))) for z in "ab"]
    term = immediate_zone("data", (), nodes)
    assert term is not None
    zone = term[0][1]
    other = "zone-b" if zone == "zone-a" else "zone-a"
    code, out, _ = kubeprop(capsys, "schedule", str(_zoned(tmp_path / "free", None)))
    assert code == 0 and f"default/db  w-{zone[-1]}" in out and IGNORED not in out
    code, out, _ = kubeprop(capsys, "schedule", str(_zoned(tmp_path / "pinned", other)))
    assert code == 1 and "INFEASIBLE as given" in out and "volume node affinity conflict" in out


SHARED = DATA / "shared-claim"


def test_pods_sharing_an_unbound_claim_go_where_its_one_volume_reaches(capsys: pytest.CaptureFixture[str]) -> None:
    """Three zones of one 2-cpu node each and two 1500m replicas sharing a claim of the zonal
    WaitForFirstConsumer class: the claim gets one volume, in the zone of the node the first replica
    is assumed onto (VolumeBinding's Reserve; the assume cache holds the second to that node, the
    volume's node affinity to its zone), where the second does not fit. Before, FEASIBLE with one
    replica a zone, which no scheduler can do (audit14 finding 6)."""
    code, out, _ = kubeprop(capsys, "schedule", str(SHARED))
    assert code == 1 and "INFEASIBLE as given" in out
    assert "the claim default/data (one volume for all its pods) rules out the rest" in out


def test_the_one_at_a_time_scheduler_and_z3_keep_a_shared_claims_pods_in_its_volumes_zone(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """100m replicas: both fit one node. The one-at-a-time scheduler places the second where the
    first one's volume reaches (`ScenarioVolumes.reserve`): the first one's node, its zone's only
    one; so does Z3. Before, spreading sent the second to another zone."""
    (tmp_path / "objects.yaml").write_text((SHARED / "objects.yaml").read_text().replace("1500m", "100m"))
    model = build_model(load_scenario(tmp_path))
    store = initial_state(model).store
    desired = desired_pods(store, model.api)
    nodes = build_node_infos([n for n in store.list("nodes") if isinstance(n, Node)], desired.bound)
    volumes = scenario_volumes(store, desired.pending, "zonal", model.api)
    result = greedy(nodes, desired.pending, volumes=volumes.checks, reserve=volumes.reserve)
    assert not result.pending and len(set(result.placement.values())) == 1, result.placement
    before = greedy(nodes, desired.pending, volumes=volumes.checks)
    assert len(set(before.placement.values())) == 2  # what it said without the Reserve
    code, out, _ = kubeprop(capsys, "schedule", str(tmp_path))
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("default/web-")]
    assert code == 0 and len(rows) == 2 and rows[0][1] == rows[1][1], out
