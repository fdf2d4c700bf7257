"""Pods naming a scheduler the scenario does not run (user trial 7: `volcano`, `my-scheduler`).

Upstream a kube-scheduler takes only the pods a profile of its serves (`pkg/scheduler/
eventhandlers.go` responsibleForPod), so they stay Pending; every scheduler of the model, the
dual-scheduler variant's two included, runs the default profile alone. `schedulable-pods-bound`
leaves them out (before, it reported them: "Pending although worker-1 ... could take it"), and
`kubeprop schedule` leaves them out and says so. Their workloads do not complete — true of a cluster
without that scheduler — and the violation says why (docs/properties.md); `validate` and `check`
name their pod templates in a note."""

from __future__ import annotations

from pathlib import Path

import pytest
from cluster_harness import settled

from kubeprop.model.api.objects import Pod
from kubeprop.model.cluster.compose import actions
from kubeprop.model.scheduler.component import Schedule
from kubeprop.properties.cli.main import main
from kubeprop.properties.registry import first_violation, select

DATA = Path(__file__).parents[1] / "model" / "data" / "schedname"
VOLCANO = ('schedulerName "volcano" is served by no scheduler in the scenario: a pod naming it stays Pending '
           "unless that scheduler runs; kubeprop does not model it")


@pytest.mark.parametrize("variant", [{}, {"schedulerInstances": 2, "leaderElection": False}])
def test_the_default_schedulers_bind_their_pods_and_leave_the_others_pending(variant: dict[str, object]) -> None:
    model, state = settled(DATA, **variant)
    pods = {p.metadata.name: p for p in state.store.list("pods") if isinstance(p, Pod)}
    assert sorted(p.spec.scheduler_name for p in pods.values() if not p.spec.node_name) == ["my-scheduler", "volcano"]
    assert sum(1 for p in pods.values() if p.spec.node_name) == 2  # web's two replicas
    assert not [a for a in actions(model, state) if isinstance(a, Schedule)]
    assert first_violation(model, state, select(["schedulable-pods-bound"])) is None


def test_the_workload_of_an_unserved_scheduler_does_not_complete_and_says_why() -> None:
    model, state = settled(DATA)
    found = first_violation(model, state, select(["deployments-complete"]))
    assert found is not None and found.message.startswith("Deployment default/batch: updated 1, total 1, available 0")
    assert found.message.endswith(f"is Pending: its {VOLCANO}")
    ready = first_violation(model, state, select(["workloads-ready"]))
    assert ready is not None and ready.message.endswith(f"is Pending: its {VOLCANO}")


def test_validate_notes_each_pod_template_of_an_unserved_scheduler(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", str(DATA)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("    note: schedulerName ") == 2 and f"    note: {VOLCANO}" in out
    lines = out.splitlines()
    assert lines[lines.index(next(line for line in lines if "Deployment default/batch" in line)) + 1] == \
        f"    note: {VOLCANO}"


def test_check_names_them_once_in_its_header(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["check", str(DATA), "--engine", "walk", "--budget", "3", "--out", str(tmp_path),
                 "--property", "schedulable-pods-bound"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert out.splitlines()[1].startswith("note: pods for a scheduler the scenario does not run: Pod "
                                          "default/other-scheduler (my-scheduler), Deployment default/batch "
                                          "(volcano). They stay Pending unless that scheduler runs")
    assert out.count("pods for a scheduler") == 1


def test_schedule_leaves_them_out_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["schedule", str(DATA)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("Scenario schedname: 2 pod(s) to place (2 more for schedulers the scenario does not run: "
                          "left out) on 3 node(s).\n")
    assert f"Left out: default/batch-0: {VOLCANO}." in out
    assert "default/other-scheduler" not in out.split("FEASIBLE")[1]
    assert "default/web-0" in out and "default/web-1" in out
