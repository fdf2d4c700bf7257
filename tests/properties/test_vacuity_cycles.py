"""Vacuity of the cycle properties `drains-complete` and `no-eviction-loop` (trial 22): they read
"held (exhaustive)" on hpa/linear.yaml, a scenario with no drain, no maintenance and no descheduler,
where neither could have failed."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_text import HEAD, deployment_head

from kubeprop.model.cluster.compose import build_model
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.oscillation import select_cycle
from kubeprop.properties.vacuity import vacuous_properties
from kubeprop.properties.vacuity_cycles import NO_DRAIN, NO_EVICTION

DATA = Path(__file__).resolve().parents[1] / "model" / "data"
CYCLE = ("drains-complete", "no-eviction-loop")

APP = deployment_head(2) + """\
    spec:
      containers: [{name: c, image: nginx}]
"""
NO_EXECUTE = "taints: [{key: dedicated, value: db, effect: NoExecute}]"


def _vacuous(path: Path) -> dict[str, str]:
    model = build_model(load_scenario(path))
    return {name: why for name, why in vacuous_properties(model, select_cycle()).items() if name in CYCLE}


def _scenario(folder: Path, extra: str, app: str = APP, node: str = "") -> Path:
    """`folder` as a scenario applying `app` on worker-1 and worker-2 (`node` added to worker-1's
    declaration), with `extra` appended."""
    (folder / "app").mkdir()
    (folder / "app" / "app.yaml").write_text(app)
    nodes = (f"[{{name: worker-1, capacity: {{cpu: '2', memory: 4Gi, pods: '10'}}{', ' + node if node else ''}}}, "
             "{name: worker-2, capacity: {cpu: '2', memory: 4Gi, pods: '10'}}]")
    path = folder / "scenario.yaml"
    path.write_text(HEAD + "metadata: {name: app}\nmanifests: [app]\nusers: [{name: admin, clusterRoles: "
                    f"[cluster-admin]}}]\ntopology:\n  nodes: {nodes}\n" + extra)
    return path


def test_the_trials_hpa_scenario_cannot_fail_either() -> None:
    """hpa/linear.yaml: a Deployment behind an HPA, an environment usage, no drain, no budget."""
    assert _vacuous(DATA / "hpa" / "linear.yaml") == {"drains-complete": NO_DRAIN, "no-eviction-loop": NO_EVICTION}


@pytest.mark.parametrize(("path", "violated"), [
    ("maintenance/blocked.yaml", "drains-complete"),  # a drain step a PodDisruptionBudget blocks for ever
    ("descheduler/duplicates.yaml", "no-eviction-loop"),  # RemoveDuplicates evicts, the scheduler puts it back
])
def test_the_scenarios_the_lasso_finds_them_on_can_fail(path: str, violated: str) -> None:
    """Where the lasso finds each (tests/properties/explore/test_lasso.py), it is not vacuous."""
    assert violated not in _vacuous(DATA / path)


DRAIN = "workload:\n  - drain: {node: worker-1}\n"
PRIORITY = """---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
"""


@pytest.mark.parametrize(("extra", "app", "node", "drains", "evicts"), [
    ("", APP, "", False, False),
    ("workload:\n  - scale: {deployment: web, replicas: 3}\n", APP, "", False, False),
    ("workload:\n  - cordon: {node: worker-1}\n", APP, "", False, False),
    ("", APP, "taints: [{key: dedicated, value: db, effect: NoSchedule}]", False, False),
    (DRAIN, APP, "", True, True),
    ("faults: {maintenance: 1}\n", APP, "", True, True),
    ("descheduler:\n  intervalSeconds: 300\n  plugins:\n    removeDuplicates: {}\n", APP, "", False, True),
    ("faults: {partition: 1}\n", APP, "", False, True),
    ("faults: {requestFailure: 1}\n", APP, "", False, True),
    ("parameters: {memoryPressureEvents: 1}\n", APP, "", False, True),
    ("", APP, NO_EXECUTE, False, True),
    ("workload:\n  - delete: {kind: Node, name: worker-2}\n", APP, "", False, True),
    ("", APP + PRIORITY, "", False, True),
    ("", APP.replace("containers:", "priorityClassName: system-cluster-critical\n      containers:"), "", False, True),
    ("", APP.replace("containers:", "nodeName: worker-9\n      containers:"), "", False, True),
])
def test_each_can_fail_only_where_the_scenario_can_drain_or_evict(
        tmp_path: Path, extra: str, app: str, node: str, drains: bool, evicts: bool) -> None:
    vacuous = _vacuous(_scenario(tmp_path, extra, app, node))
    assert ("drains-complete" not in vacuous) == drains, vacuous
    assert ("no-eviction-loop" not in vacuous) == evicts, vacuous


def test_a_node_an_apply_step_writes_may_never_heartbeat(tmp_path: Path) -> None:
    """A Node applied by a step has no kubelet: the node lifecycle controller taints it unreachable
    (NoExecute), and the taint eviction controller evicts what was bound there."""
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "node.yaml").write_text("apiVersion: v1\nkind: Node\nmetadata: {name: worker-3}\n")
    vacuous = _vacuous(_scenario(tmp_path, "workload:\n  - apply: extra\n"))
    assert "no-eviction-loop" not in vacuous and "drains-complete" in vacuous
