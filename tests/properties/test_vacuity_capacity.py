"""The `dual-scheduler` variant's need (`kubeprop.properties.vacuity_capacity`): two schedulers
racing change where pods go, never how many there are, so the variant cannot show where the pods
that can exist at once fit on any one node — and only there. The user trial (trial21, u1) read
"held" with no warning on a shop whose nodes looked roomy; its HPA, CronJob and fault budget give
no bound on the pods that can coexist, so it may show, and is not warned about."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_text import HEAD, deployment_head

from kubeprop.model.cluster.compose import build_model
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.registry import select
from kubeprop.properties.vacuity import vacuous_properties, variant_vacuity
from kubeprop.properties.vacuity_capacity import _objects, coexisting_pods, pods_to_overcommit

CATALOGUE = Path(__file__).resolve().parents[1] / "model" / "data" / "catalogue"
POD = "    spec:\n      containers: [{name: c, image: nginx, resources: {requests: {cpu: 100m}}%s}]\n"
HPA = """---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 4
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]
"""
PRIORITY = "---\napiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: high}\nvalue: 1000\n"
SCALE = "workload:\n  - scale: {deployment: web, replicas: 3}\n"


def _model(tmp: Path, pods: str = "10", extra: str = "", app: str = "", ports: str = "") -> object:
    (tmp / "app").mkdir()
    (tmp / "app" / "app.yaml").write_text((deployment_head(2) + POD % ports) + app)
    (tmp / "scenario.yaml").write_text(
        HEAD + "metadata: {name: app}\nmanifests: [app]\nusers: [{name: admin, clusterRoles: [cluster-admin]}]\n"
        f"topology:\n  nodes: [{{name: worker-1, allocatable: {{cpu: '2', memory: 4Gi, pods: '{pods}'}}}},\n"
        f"          {{name: worker-2, allocatable: {{cpu: '2', memory: 4Gi, pods: '{pods}'}}}}]\n" + extra)
    return build_model(load_scenario(tmp / "scenario.yaml"), variant="dual-scheduler")


@pytest.mark.parametrize(("pods", "extra", "app", "ports", "can_show"), [
    # 2 replicas, a surge of 1, and a second ReplicaSet at full size: at most 5 pods; a node holds 10
    ("10", "", "", "", False),
    ("4", "", "", "", True),  # 5 pods may all land on a node of 4
    ("10", SCALE, "", "", True),  # 3 replicas → 7 pods, the scale's generation Terminating too → 14 > 10
    ("10", "", HPA, "", True),  # an HPA scales down and up again: no bound
    ("10", "faults: {nodeCrash: 1}\n", "", "", True),  # a lost node's pods stay Terminating while replaced
    ("10", "faults: {containerCrash: 1, watchDrop: 1}\n", "", "", False),  # these make no pod
    ("10", "", "", ", ports: [{containerPort: 80, hostPort: 8080}]", True),  # two pods are enough for a port
    ("10", "", PRIORITY, "", True),  # preemption deletes pods that are replaced, again and again
])
def test_dual_scheduler_shows_only_where_a_node_can_be_given_too_much(
        tmp_path: Path, pods: str, extra: str, app: str, ports: str, can_show: bool) -> None:
    model = _model(tmp_path, pods, extra, app, ports)
    reason = variant_vacuity(model)  # type: ignore[arg-type]
    assert (reason is None) == can_show, reason
    if not can_show:
        assert reason is not None and reason.startswith("variant dual-scheduler cannot show: no node can be given")
        assert "node-not-overcommitted" in vacuous_properties(model, select(["node-not-overcommitted"]))  # type: ignore[arg-type]


def test_the_bound_and_the_need_on_the_plain_case(tmp_path: Path) -> None:
    model = _model(tmp_path)
    objects = _objects(model)  # type: ignore[arg-type]
    assert coexisting_pods(model, objects) == 5  # type: ignore[arg-type]
    assert pods_to_overcommit(model, objects) == 11  # type: ignore[arg-type]  # pods 10 (cpu: 2000m / 100m + 1 = 21)


def test_dual_scheduler_may_show_on_its_catalogue_scenario_and_on_the_trials_shop() -> None:
    """tight.yaml: two pods of 100m, nodes of 100m — the find of the catalogue. And the trial's shop
    (its HPA, CronJob and node crash budget), written here as the same kinds on the default topology."""
    tight = build_model(load_scenario(CATALOGUE / "tight.yaml"), variant="dual-scheduler")
    assert variant_vacuity(tight) is None
    objects = _objects(tight)
    assert (coexisting_pods(tight, objects), pods_to_overcommit(tight, objects)) == (2, 2)
    shop = build_model(load_scenario(CATALOGUE / "shop.yaml"), variant="dual-scheduler")
    assert variant_vacuity(shop) is None
