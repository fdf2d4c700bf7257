"""`kubectl cordon|uncordon` (and a drain's cordon) GETs the node and PATCHes `spec.unschedulable`
only when it differs (`staging/src/k8s.io/kubectl/pkg/drain/cordon.go` UpdateIfRequired; the GET is
the resource builder's in `staging/src/k8s.io/kubectl/pkg/cmd/drain/drain.go` Complete). The audit:
the model always PATCHed, so a user who may get but not patch nodes failed a cordon of a node
already cordoned (403) where kubectl prints "already cordoned" and exits 0, and a user who may patch
but not get nodes succeeded where kubectl's GET is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_text import HEAD

from kubeprop.model.api.objects import Node, ObjectKey
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterState

ROLES = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-getter}
rules: [{apiGroups: [""], resources: [nodes], verbs: [get]}, {apiGroups: [""], resources: [pods], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-patcher}
rules: [{apiGroups: [""], resources: [nodes], verbs: [patch]}]
"""
KEY = ObjectKey("nodes", "", "w1")


def _run(tmp: Path, cordoned: bool, step_text: str) -> tuple[ClusterState, ClusterState]:
    """The state before and after the scenario's one step, on node w1 (cordoned or not)."""
    (tmp / "m").mkdir()
    (tmp / "m" / "roles.yaml").write_text(ROLES)
    (tmp / "scenario.yaml").write_text(
        f"{HEAD}metadata: {{name: cordon}}\nmanifests: [m]\n"
        f"topology: {{nodes: [{{name: w1, allocatable: {{cpu: '2', memory: 2Gi, pods: '10'}}, "
        f"unschedulable: {str(cordoned).lower()}}}]}}\n"
        "users: [{name: admin, clusterRoles: [cluster-admin]}, {name: getter, clusterRoles: [node-getter]}, "
        "{name: patcher, clusterRoles: [node-patcher]}]\napplyAs: admin\n"
        f"workload:\n  - {step_text}\n")
    model = build_model(load_scenario(tmp / "scenario.yaml"))
    before = initial_state(model)
    return before, step(model, before, UserStep(0))


@pytest.mark.parametrize(("cordoned", "step_text"), [
    (True, "cordon: {node: w1}\n    as: getter"),
    (False, "uncordon: {node: w1}\n    as: getter"),
    (True, "cordon: {node: w1}"),
])
def test_a_node_already_as_wanted_is_not_patched(tmp_path: Path, cordoned: bool, step_text: str) -> None:
    before, after = _run(tmp_path, cordoned, step_text)
    assert after.workload_next == 1 and dict(after.workload_errors) == {}
    assert after.store.get(KEY) == before.store.get(KEY)  # no write: same resourceVersion


def test_a_cordon_patches_a_schedulable_node(tmp_path: Path) -> None:
    _, after = _run(tmp_path, False, "cordon: {node: w1}")
    node = after.store.get(KEY)
    assert isinstance(node, Node) and node.spec.unschedulable and dict(after.workload_errors) == {}


def test_the_get_kubectl_starts_with_is_refused_before_any_write(tmp_path: Path) -> None:
    _, after = _run(tmp_path, False, "cordon: {node: w1}\n    as: patcher")
    node = after.store.get(KEY)
    assert isinstance(node, Node) and not node.spec.unschedulable
    assert after.workload_errors[0].startswith('403 Forbidden: nodes "w1" is forbidden: User "patcher" cannot get '
                                               'resource "nodes"')


def test_a_drain_of_a_cordoned_node_by_a_user_who_may_not_patch_goes_on(tmp_path: Path) -> None:
    """RunDrain's cordon skips the PATCH too; the user may list pods (GetPodsForDeletion), and with
    none to evict the drain returns."""
    _, after = _run(tmp_path, True, "drain: {node: w1}\n    as: getter")
    assert dict(after.workload_errors) == {}
