"""`kubectl rollout restart` as a workload step (`rolloutRestart`, `kubeprop.model.cluster.workload_restart`)
against upstream `staging/src/k8s.io/kubectl/pkg/polymorphichelpers/objectrestarter.go` and
`staging/src/k8s.io/kubectl/pkg/cmd/rollout/rollout_restart.go`: the pod template's
`kubectl.kubernetes.io/restartedAt` annotation gets the current time (RFC 3339), which rolls the
pods out again; a paused Deployment is refused; and the step's fields as a scenario writes them."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_run import kubeprop
from cluster_harness import stored
from scenario_text import workload_head

from kubeprop.model.api.apps import DaemonSet, ReplicaSet
from kubeprop.model.api.cron_schedule import to_rfc3339
from kubeprop.model.api.objects import Deployment, ObjectKey, Pod
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.workload_commands import describe
from kubeprop.model.cluster.workload_restart import RESTARTED_AT_ANNOTATION
from kubeprop.model.scenario.load import ScenarioError, load_scenario
from kubeprop.model.scenario.schema import RolloutRestartStep, WorkloadStep
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState

WEB = ObjectKey("deployments.apps", "default", "web")


def _web_yaml(paused: bool = False) -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: default}}
spec:
  replicas: 2
  paused: {str(paused).lower()}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: web, image: web:1, resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}}}]
"""


def _model(tmp: Path, steps: str, paused: bool = False) -> ClusterModel:
    (tmp / "m").mkdir(exist_ok=True)
    (tmp / "m" / "web.yaml").write_text(_web_yaml(paused))
    (tmp / "scenario.yaml").write_text(workload_head("restart") + steps)
    return build_model(load_scenario(tmp / "scenario.yaml"), parameters={"instantCaches": True})


def _settled(model: ClusterModel) -> ClusterState:
    return settle(model, initial_state(model), max_steps=600).state


def _restart(model: ClusterModel, state: ClusterState, index: int = 0) -> ClusterState:
    assert UserStep(index) in actions(model, state)
    return step(model, state, UserStep(index))


def _pod_hashes(state: ClusterState) -> set[str]:
    return {p.metadata.labels["pod-template-hash"] for p in state.store.list("pods")
            if isinstance(p, Pod) and p.metadata.deletion_timestamp is None}


def test_a_restart_stamps_the_template_with_the_model_time_and_rolls_the_pods(tmp_path: Path) -> None:
    model = _model(tmp_path, "  - rolloutRestart: {deployment: default/web}\n")
    before = _settled(model)
    old = _pod_hashes(before)
    assert len(old) == 1 and len(list(before.store.list("pods"))) == 2
    restarted = _restart(model, before)
    web = stored(restarted, WEB, Deployment)
    assert dict(restarted.workload_errors) == {}
    assert web.spec.template.metadata.annotations[RESTARTED_AT_ANNOTATION] == to_rfc3339(before.clock)
    assert web.metadata.generation == stored(before, WEB, Deployment).metadata.generation + 1
    after = settle(model, restarted, max_steps=1500).state
    new = _pod_hashes(after)
    assert new and new.isdisjoint(old), "the restart rolled every pod to a new template"
    replica_sets = [r for r in after.store.list("replicasets.apps") if isinstance(r, ReplicaSet)]
    assert len(replica_sets) == 2


def test_a_paused_deployment_is_refused_as_kubectl_refuses_it(tmp_path: Path) -> None:
    model = _model(tmp_path, "  - rolloutRestart: {deployment: default/web}\n", paused=True)
    before = _settled(model)
    after = _restart(model, before)
    assert dict(after.workload_errors) == {
        0: 'error: deployments.apps "web" can\'t restart paused deployment (run rollout resume first)'}
    assert after.store.revision == before.store.revision and after.workload_next == 1
    assert RESTARTED_AT_ANNOTATION not in stored(after, WEB, Deployment).spec.template.metadata.annotations


def test_a_second_restart_in_the_same_second_is_an_empty_patch(tmp_path: Path) -> None:
    model = _model(tmp_path, "  - rolloutRestart: {deployment: default/web}\n"
                             "  - rolloutRestart: {deployment: default/web}\n")
    once = _restart(model, _settled(model))
    twice = _restart(model, once, 1)
    assert dict(twice.workload_errors) == {1: "error: failed to create patch for web: empty patch"}
    assert twice.store.revision == once.store.revision


def test_the_command_line() -> None:
    assert describe(WorkloadStep(rollout_restart=RolloutRestartStep(deployment="shop/web"))) == (
        "kubectl rollout restart deployment/web -n shop")
    assert describe(WorkloadStep(rollout_restart=RolloutRestartStep(daemonset="agent"), as_="dev")) == (
        "kubectl rollout restart daemonset/agent -n default --as dev")


BAD = """\
  - rolloutRestart: {deployment: default/web, statefulset: default/db}
  - rolloutRestart: {deployment: default/nope}
  - rolloutRestart: {replicaset: default/web}
  - rolloutRestart: {}
"""


def test_bad_restart_steps_are_refused_each_naming_its_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "web.yaml").write_text(_web_yaml())
    path = tmp_path / "scenario.yaml"
    path.write_text(workload_head("bad-restart") + BAD)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [f"{p.line}: {p.field}: {p.message}" for p in info.value.problems] == [
        "9: workload[0].rolloutRestart: exactly one of deployment, statefulset, daemonset",
        "9: workload[0].rolloutRestart.statefulset: no StatefulSet 'default/db' in the manifests or an earlier "
        "apply step; defined: (none)",
        "10: workload[1].rolloutRestart.deployment: no Deployment 'default/nope' in the manifests or an earlier "
        "apply step; defined: default/web",
        "11: workload[2].rolloutRestart.replicaset: unknown field; valid fields are: daemonset, deployment, "
        "statefulset",
        "12: workload[3].rolloutRestart: exactly one of deployment, statefulset, daemonset",
    ]
    code, _, err = kubeprop(capsys, "validate", str(path))
    assert code == 2 and "rolloutRestart" in err and "Traceback" not in err


DAEMONS = """apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: default}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}, annotations: {team: infra}}
    spec:
      containers: [{name: agent, image: agent:1}]
"""


def test_a_daemonset_restart_keeps_the_templates_other_annotations(tmp_path: Path) -> None:
    """The strategic merge patch adds one annotation: the others stay (objectrestarter.go sets only
    `restartedAt` on the template it read)."""
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "agent.yaml").write_text(DAEMONS)
    (tmp_path / "scenario.yaml").write_text(workload_head("restart-ds") + "  - rolloutRestart: {daemonset: agent}\n")
    model = build_model(load_scenario(tmp_path / "scenario.yaml"), parameters={"instantCaches": True})
    after = _restart(model, _settled(model))
    agent = stored(after, ObjectKey("daemonsets.apps", "default", "agent"), DaemonSet)
    assert dict(after.workload_errors) == {}
    assert dict(agent.spec.template.metadata.annotations) == {"team": "infra",
                                                              RESTARTED_AT_ANNOTATION: to_rfc3339(after.clock)}
