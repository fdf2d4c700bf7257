"""`kubeprop schedule`'s pods go through the model's own API server admission, as the pods the
model's controllers create do. Regression of the tenth user trial (s1, s1c): the workload pods were
built without the Priority admission plug-in, so every pod had priority 0, the scheduler's queue
ran in name order (upstream `pkg/scheduler/framework/plugins/queuesort/priority_sort.go` sorts by
priority first) and `schedule` printed a false FINDING where the explicit model's scheduler
places (or preempts for) the critical pods."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_run import kubeprop
from user_modules import user_folder

from kubeprop.model.api.core import Node
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.decide import build_node_infos, pod_key
from kubeprop.properties.scheduling.workloads import Desired, desired_pods, greedy

DATA = Path(__file__).parent / "data" / "priority"
CAPACITY, CAPACITY_1500M, UNKNOWN_CLASS = DATA / "capacity.yaml", DATA / "capacity-1500m.yaml", DATA / "unknown-class"


def _desired(path: Path) -> tuple[Desired, list[Node]]:
    model = build_model(load_scenario(path))
    state = initial_state(model)
    return desired_pods(state.store, model.api), [n for n in state.store.list("nodes") if isinstance(n, Node)]


def test_workload_pods_carry_the_priority_the_plugin_computes() -> None:
    desired, _ = _desired(CAPACITY)
    admitted = {pod_key(p): (p.spec.priority_class_name, p.spec.priority, p.spec.preemption_policy)
                for p in desired.pending}
    assert admitted == {
        "default/web-0": ("critical", 100000, "PreemptLowerPriority"),
        "default/web-1": ("critical", 100000, "PreemptLowerPriority"),
        "default/polite-0": ("polite", 50000, "Never"),
        "default/batch-0": ("batch-low", 10, "PreemptLowerPriority"),  # the globalDefault class, named
        "default/batch-1": ("batch-low", 10, "PreemptLowerPriority"),
    }
    assert not desired.refused


def test_default_toleration_seconds_is_the_scenarios_configured_plugin() -> None:
    desired, _ = _desired(CAPACITY)  # parameters: defaultTolerationSeconds: 60
    for pod in desired.pending:
        seconds = {t.key: t.toleration_seconds for t in pod.spec.tolerations if t.effect == "NoExecute"}
        assert seconds == {"node.kubernetes.io/not-ready": 60, "node.kubernetes.io/unreachable": 60}


def test_the_queue_runs_by_priority_so_greedy_places_every_pod() -> None:
    desired, nodes = _desired(CAPACITY)
    result = greedy(build_node_infos(nodes, desired.bound), desired.pending)
    assert not result.pending
    assert {result.placement["default/web-0"], result.placement["default/web-1"]} == {"n1", "n2"}


def test_trial_capacity_planner_has_no_false_finding(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "schedule", str(CAPACITY))
    assert code == 0, out
    assert "FEASIBLE as given" in out and "places every pod too" in out and "FINDING" not in out


def test_trial_drain_at_1500m_has_no_false_finding(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "schedule", str(CAPACITY_1500M), "--drain", "n1")
    assert code == 0, out
    assert "FEASIBLE with n1 drained" in out and "places every pod too" in out and "FINDING" not in out


def test_trial_drain_at_1_cpu_stays_a_real_capacity_shortfall(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "schedule", str(CAPACITY), "--drain", "n1")
    assert code == 1
    assert "INFEASIBLE with n1 drained" in out and "together they need 1200m cpu" in out


def test_pods_the_api_server_refuses_are_a_finding_not_placed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "schedule", str(UNKNOWN_CLASS))
    assert code == 1
    assert "Scenario unknown-class: 1 pod(s) to place on 1 node(s)." in out
    assert ("FINDING: the API server refuses pod(s) a controller would create (they never exist, so are not "
            "placed):\n"
            '  default/web-0: 403 Forbidden: pods "web-0" is forbidden: no PriorityClass with name gold was found\n'
            '  default/web-1: 403 Forbidden: pods "web-1" is forbidden: no PriorityClass with name gold was found\n'
            "FEASIBLE as given") in out
    assert "default/ok-0  n1" in out


REFUSED = Path(__file__).parents[2] / "model" / "data" / "refused"


def test_a_scenario_quota_counts_the_pods_created_before(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The scenario's ResourceQuota plug-in (one pod in team-a) admits web-0 and refuses web-1, as
    it refuses the model's ReplicaSet controller (tests/properties/test_convergence_refused.py)."""
    with user_folder(monkeypatch, REFUSED):
        code, out, _ = kubeprop(capsys, "schedule", str(REFUSED / "quota.yaml"))
    assert code == 1
    assert "Scenario refused-quota: 1 pod(s) to place on 1 node(s)." in out
    assert ('  team-a/web-1: 403 Forbidden: pods "web-1" is forbidden: exceeded quota: team-a-quota, requested: '
            "pods=1, used: pods=1, limited: pods=1\n") in out
    assert "team-a/web-0  worker-1" in out
