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
from kubeprop.model.cluster.compose import build_model, initial_state
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


def test_a_claim_a_provisioner_will_serve_is_named_and_ignored(capsys: pytest.CaptureFixture[str],
                                                               tmp_path: Path) -> None:
    """An Immediate class with a provisioner: where its volume lands is not known beforehand."""
    text = (DATA / "unbound-claim" / "objects.yaml").read_text().replace('storageClassName: ""',
                                                                         "storageClassName: fast")
    (tmp_path / "objects.yaml").write_text(text + "---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\n"
                                           "metadata: {name: fast}\nprovisioner: example.com/fast\n")
    code, out, _ = kubeprop(capsys, "schedule", str(tmp_path))
    assert code == 0 and "FEASIBLE as given" in out
    assert (f"{IGNORED}default/db: pod has unbound immediate PersistentVolumeClaims in the scenario as given"
            in out)
