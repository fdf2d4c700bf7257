"""A workload step whose object is missing (`model/cluster/workload.py` `_waits`): it waits only
while a controller may still make the object; otherwise it runs and fails as kubectl fails.

The fourth user trial's ns-delete scenario: `kubectl delete namespace team-a`, then `kubectl set
image` on the Deployment that was in it. Once the namespace controller had removed it the step
waited for ever, and the run was judged with the workload unfinished; a user's script gets
`Error from server (NotFound): deployments.apps "web" not found` (`kubectl scale` and `set image`
GET the object through the resource builder, `kubectl delete` sends the DELETE:
staging/src/k8s.io/kubectl/pkg/cmd/scale/scale.go, set/set_image.go, delete/delete.go)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_text import deployment_head, statefulset_db, widgets_crd, workload_head

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import first_violation, select

STEPS_SUCCEED = select(["workload-steps-succeed"])
HEADER = workload_head("missing")
WEB = deployment_head(1, "NS") + "    spec: {containers: [{name: web, image: web:1}]}\n"
DB = statefulset_db("NS")
CRD = widgets_crd()
TEAM_A = "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n---\n"


def _model(tmp: Path, manifests: str, workload: str) -> ClusterModel:
    (tmp / "m").mkdir()
    (tmp / "m" / "objects.yaml").write_text(manifests)
    (tmp / "scenario.yaml").write_text(HEADER + workload)
    return build_model(load_scenario(tmp / "scenario.yaml"), parameters={"instantCaches": True})


def _after(model: ClusterModel, state: ClusterState, index: int) -> ClusterState:
    assert UserStep(index) in actions(model, state), f"step {index} not enabled"
    return settle(model, step(model, state, UserStep(index)), max_steps=600).state


@pytest.mark.parametrize(("command", "failure"), [
    ("scale: {deployment: web, replicas: 3}", '404 NotFound: deployments.apps "web" not found'),
    ("setImage: {deployment: web, container: web, image: web:2}", '404 NotFound: deployments.apps "web" not found'),
    ("delete: {kind: deployment, name: web}", '404 NotFound: deployments.apps "web" not found'),
])
def test_a_step_on_a_deployment_the_user_deleted_fails_with_the_servers_404(tmp_path: Path, command: str,
                                                                            failure: str) -> None:
    model = _model(tmp_path, WEB.replace("NS", "default"),
                   f"  - delete: {{kind: Deployment, name: web}}\n  - {command}\n")
    state = _after(model, initial_state(model), 0)
    assert state.store.get(ObjectKey("deployments.apps", "default", "web")) is None
    state = _after(model, state, 1)  # enabled although web is gone: the user made it, nothing will again
    assert state.workload_next == 2 and state.workload_errors.get(1) == failure
    found = first_violation(model, state, STEPS_SUCCEED)
    assert found is not None and failure in found.message


def test_the_trial_set_image_after_its_namespace_went_fails_and_the_run_settles(tmp_path: Path) -> None:
    model = _model(tmp_path, TEAM_A + WEB.replace("NS", "team-a"),
                   "  - delete: {kind: Namespace, name: team-a}\n"
                   "  - setImage: {deployment: team-a/web, container: web, image: web:2}\n")
    running = settle(model, initial_state(model), max_steps=600).state
    state = settle(model, step(model, running, UserStep(0)), max_steps=2000, avoid=(UserStep,)).state
    assert state.store.get(ObjectKey("namespaces", "", "team-a")) is None
    state = _after(model, state, 1)
    assert state.workload_errors.get(1) == '404 NotFound: deployments.apps "web" not found'


def test_a_controllers_pod_is_waited_for_in_a_live_namespace_not_in_a_terminating_one(tmp_path: Path) -> None:
    """`wait: false` (`kubectl delete namespace team-a --wait=false`): the next step runs while the
    namespace is Terminating (with kubectl's default --wait it would run only once team-a is gone)."""
    model = _model(tmp_path, TEAM_A + DB.replace("NS", "team-a"),
                   "  - delete: {kind: Namespace, name: team-a, wait: false}\n"
                   "  - delete: {kind: Pod, name: db-0, namespace: team-a}\n")
    (tmp_path / "live").mkdir()
    waiting = _model(tmp_path / "live", DB.replace("NS", "default"), "  - delete: {kind: Pod, name: db-0}\n")
    assert UserStep(0) not in actions(waiting, initial_state(waiting))  # the StatefulSet controller makes db-0
    state = step(model, initial_state(model), UserStep(0))  # before the StatefulSet controller made db-0
    namespace = state.store.get(ObjectKey("namespaces", "", "team-a"))
    assert namespace is not None and namespace.metadata.deletion_timestamp is not None
    assert state.store.get(ObjectKey("pods", "team-a", "db-0")) is None
    # NamespaceLifecycle refuses every create in team-a now: db-0 cannot appear, so the user does not wait
    state = _after(model, state, 1)
    assert state.workload_errors.get(1) == '404 NotFound: pods "db-0" not found'


def test_a_delete_of_a_custom_kind_whose_crd_is_gone_is_kubectls_error(tmp_path: Path) -> None:
    model = _model(tmp_path, CRD, "  - delete: {kind: CustomResourceDefinition, name: widgets.example.com}\n"
                                  "  - delete: {kind: Widget, name: w1}\n")
    state = _after(model, initial_state(model), 0)
    assert state.store.get(ObjectKey("customresourcedefinitions.apiextensions.k8s.io", "", "widgets.example.com")) \
        is None
    state = _after(model, state, 1)
    assert state.workload_errors.get(1) == "error: the server doesn't have a resource type \"Widget\""
