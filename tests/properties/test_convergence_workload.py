"""Convergence judged between two of the user's steps says so (the third user trial).

An SRE's scenario drains a node, then uncordons it. Between the two steps the cluster settles with
a pod Pending: the Deployment's zone topology spread still counts the drained node's zone (upstream
`pkg/scheduler/framework/plugins/podtopologyspread/common.go`: nodeTaintsPolicy defaults to Ignore,
so a cordoned node's domain counts, with 0 pods), so the only other zone cannot take a second pod.
Real Kubernetes does the same while the node stays cordoned, and the check reports it — but the
message must say that it judged the cluster with the user stopped before `kubectl uncordon`, which
would have let the rollout complete."""

from __future__ import annotations

from pathlib import Path

from scenario_text import deployment_head

from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Quiesce, UserStep
from kubeprop.properties.convergence import settled_violation
from kubeprop.properties.registry import select

SCENARIO = """\
apiVersion: kubeprop.dev/v1alpha1
kind: Scenario
metadata: {name: spread-drain}
manifests: [web.yaml]
topology:
  nodes:
    - {name: node-a, allocatable: {cpu: "2", memory: 2Gi, pods: "10"}, labels: {topology.kubernetes.io/zone: a}}
    - {name: node-b, allocatable: {cpu: "2", memory: 2Gi, pods: "10"}, labels: {topology.kubernetes.io/zone: b}}
users:
  - {name: admin, clusterRoles: [cluster-admin]}
workload:
  - drain: {node: node-a}
  - uncordon: {node: node-a}
parameters: {instantCaches: true}
"""

WEB = deployment_head(2, "default") + """\
    spec:
      topologySpreadConstraints:
        - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule,
           labelSelector: {matchLabels: {app: web}}}
      containers:
        - {name: web, image: web:1, resources: {requests: {cpu: 100m, memory: 64Mi}}}
"""


def test_a_verdict_between_two_workload_steps_names_the_steps_not_taken(tmp_path: Path) -> None:
    (tmp_path / "scenario.yaml").write_text(SCENARIO)
    (tmp_path / "web.yaml").write_text(WEB)
    model = build_model(load_scenario(tmp_path / "scenario.yaml"))
    convergence = select(kind="convergence")
    state = settle(model, initial_state(model)).state
    assert settled_violation(model, state, convergence) is None  # one web pod in each zone
    drained = settle(model, step(model, state, UserStep(0))).state  # kubectl drain node-a, then quiet
    assert drained.workload_next == 1
    found = settled_violation(model, step(model, drained, Quiesce()), convergence)
    assert found is not None and found.property in ("deployments-complete", "workloads-ready")
    assert found.message.endswith("(judged with the user stopped before workload step 2 of 2: "
                                  "kubectl uncordon node-a)")
    uncordoned = settle(model, step(model, drained, UserStep(1))).state
    assert uncordoned.workload_next == 2
    assert settled_violation(model, step(model, uncordoned, Quiesce()), convergence) is None
