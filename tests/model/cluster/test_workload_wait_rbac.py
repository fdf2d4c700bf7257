"""`kubectl rollout status` and `kubectl wait` watch the object through a ListWatch, against upstream
`staging/src/k8s.io/kubectl/pkg/cmd/rollout/rollout_status.go` Run and `staging/src/k8s.io/kubectl/
pkg/cmd/wait/condition.go` getObjAndCheckCondition, `wait.go` IsDeleted (v1.33): after the
builder's GET, `watchtools.UntilWithSync` LISTs and WATCHes with `fieldSelector=metadata.name=NAME`.

User trial 10 (s2f), missed: both commands succeeded in the model for a user who may only GET the
Deployment. Upstream the LIST is 403, the reflector logs it and retries it, and the command never
sees the object: it fails at its timeout (or waits for ever without one)."""

from __future__ import annotations

import shutil
from pathlib import Path

from kubeprop.model.api.server import Request, handle
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.cluster.workload_wait import command_wait
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.properties.registry import first_violation, select

DATA = Path(__file__).parents[1] / "data" / "waits-rbac"
REFUSED = ('failed to list *unstructured.Unstructured: deployments.apps "web" is forbidden: User "viewer" cannot '
           'list resource "deployments" in API group "apps" in the namespace "default"')


def _model(tmp: Path, workload: str = "") -> ClusterModel:
    if not workload:
        return build_model(load_scenario(DATA / "scenario.yaml"))
    shutil.copytree(DATA / "web", tmp / "web")
    text = (DATA / "scenario.yaml").read_text().split("workload:\n")[0]
    (tmp / "scenario.yaml").write_text(text + "workload:\n" + workload + "parameters: {instantCaches: true}\n")
    return build_model(load_scenario(tmp / "scenario.yaml"))


def test_a_user_who_may_only_get_times_out_in_both_commands() -> None:
    """The trial's scenario: each command waits for its whole timeout on the model clock, then fails
    with the reflector's refused LIST and kubectl's timeout error (the old model: both succeeded)."""
    model = _model(Path())
    state = step(model, initial_state(model), UserStep(0))
    wait = command_wait(state)
    assert wait is not None and wait.deadline == 120 and state.workload_next == 0
    result = fair_run(model, state)
    assert not result.exhausted
    errors = dict(result.state.workload_errors)
    assert errors == {0: f"{REFUSED}; error: timed out waiting for the condition",
                      1: f"{REFUSED}; error: timed out waiting for the condition on deployments/web"}
    assert result.state.clock >= 180  # 120 s, then 60 s, waited out
    found = first_violation(model, result.state, select(["workload-steps-succeed"]))
    assert found is not None and REFUSED in found.message


def test_the_list_carries_the_name_so_resource_names_allow_it(tmp_path: Path) -> None:
    """requestinfo.go sets the attributes' name from `metadata.name=web`: a Role with `resourceNames:
    [web]` and list/watch lets both commands see the Deployment (and returns only it)."""
    model = _model(tmp_path, "  - rolloutStatus: {deployment: default/web, timeoutSeconds: 120}\n    as: watcher\n"
                             "  - wait: {kind: deployment, name: web, for: condition=Available, timeoutSeconds: 60}\n"
                             "    as: watcher\n")
    result = fair_run(model, initial_state(model))
    assert not result.exhausted and dict(result.state.workload_errors) == {}
    assert result.state.workload_next == 2
    listing = Request(verb="list", user="admin", resource="deployments.apps", namespace="default", name="web")
    response = handle(result.state.store, listing, model.api, result.state.clock).response
    assert [o.metadata.name for o in response.items] == ["web"]
    nothing = handle(result.state.store, Request(verb="list", user="admin", resource="deployments.apps",
                                                 namespace="default", name="nope"), model.api, 0).response
    assert nothing.ok and nothing.items == ()


def test_wait_with_timeout_zero_only_gets(tmp_path: Path) -> None:
    """`--timeout=0`: one GET and a check (getObjAndCheckCondition), no LIST: the viewer's GET is enough."""
    model = _model(tmp_path, "  - wait: {kind: deployment, name: web, for: condition=Available, timeoutSeconds: 0}\n"
                             "    as: viewer\n")
    state = step(model, initial_state(model), UserStep(0))
    assert state.workload_errors.get(0) == "error: condition not met for deployments/web"


def test_without_a_timeout_rollout_status_never_returns_and_finish_says_why(tmp_path: Path) -> None:
    model = _model(tmp_path, "  - rolloutStatus: {deployment: default/web}\n    as: viewer\n")
    result = fair_run(model, initial_state(model))
    assert not result.exhausted and UserStep(0) not in result.trace
    assert UserStep(0) not in actions(model, result.state)
    found = first_violation(model, result.state, select(["workload-steps-finish"]))
    assert found is not None
    assert found.message == ("workload step 1 of 1 (kubectl rollout status deployment/web -n default --as viewer) "
                             f"never returns: kubectl's watch never sees Deployment default/web: {REFUSED}, and its "
                             "reflector retries the LIST for ever")


def test_wait_for_delete_does_not_see_the_deletion(tmp_path: Path) -> None:
    """IsDeleted's GET finds the object, then the watch's LIST is refused: the deletion is never
    seen, and the command fails at its timeout (the old model returned once the object was gone)."""
    model = _model(tmp_path, "  - delete: {kind: deployment, name: web, propagationPolicy: Foreground, wait: false}\n"
                             "  - wait: {kind: deployment, name: web, for: delete, timeoutSeconds: 30}\n"
                             "    as: viewer\n")
    state = step(model, initial_state(model), UserStep(0))  # Terminating while the GC removes its ReplicaSet
    state = step(model, state, UserStep(1))
    waiting = command_wait(state)
    assert waiting is not None and waiting.deadline == 30
    result = fair_run(model, state)
    assert result.state.store.get(waiting.key) is None  # gone meanwhile
    assert result.state.workload_errors.get(1) == f"{REFUSED}; error: timed out waiting for the condition on " \
                                                  "deployments/web"
