"""`kubeprop schedule`: exit codes and the shape of its output (golden-ish: key lines, not whole text)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_run import kubeprop

from kubeprop.properties.cli.main import main

VARIANTS = Path(__file__).parents[2] / "model" / "data" / "variants"


def _assert_worker_3_finding(out: str) -> None:
    """The explanation when worker-3 is gone (drained or removed): the pods that then do not fit
    need more CPU than the other workers have free."""
    assert "together they need 500m cpu" in out
    assert "worker-1 has 400m cpu free" in out and "worker-2 has 50m cpu free" in out


def test_feastflow_feasible_prints_a_placement_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "schedule")
    assert code == 0
    assert "FEASIBLE as given" in out
    assert "POD" in out and "default/postgres-0" in out and "default/feastflow-backend-2" in out
    assert "places every pod too" in out


def test_drain_worker_3_is_a_finding_with_its_explanation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "schedule", "--drain", "worker-3")
    assert code == 1
    assert "INFEASIBLE with worker-3 drained" in out
    _assert_worker_3_finding(out)
    assert "worker-3 excluded: node(s) were unschedulable" in out


def test_remove_worker_3_is_the_same_finding_without_the_node(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "schedule", "--remove", "worker-3")
    assert code == 1
    assert "Scenario feastflow: 6 pod(s) to place on 5 node(s)." in out
    assert "INFEASIBLE with worker-3 removed" in out
    _assert_worker_3_finding(out)
    assert "worker-3" not in out.split("Minimal explanation:")[1]


def test_fail_nodes_names_the_breaking_sets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "schedule", "--scale", "feastflow-backend=5", "--fail-nodes", "1")
    assert code == 1
    assert "INFEASIBLE after losing worker-1" in out and "INFEASIBLE after losing worker-3" in out
    assert "What-if: 6 set(s) of 1 node(s) tried, 2 break it, 0 unknown." in out


@pytest.mark.parametrize(("argv", "needle"), [
    (["--scale", "nope=3"], "--scale nope=3: matches no workload; valid: default/feastflow-backend"),
    (["--scale", "feastflow-backend"], "expected WORKLOAD=N"),
    (["--drain", "worker-9"], "--drain worker-9: no such node; valid: master-1"),
    (["--fail-nodes", "7"], "--fail-nodes 7: must be between 0 and 6"),
    (["--drain", "worker-1", "--fail-nodes", "6"], "--fail-nodes 6: must be between 0 and 5 (the nodes not drained"),
    (["--remove", "worker-9"], "--remove worker-9: no such node; valid: master-1"),
    (["--rlimit", "0"], "--rlimit 0: must be a positive number"),
])
def test_bad_flags_exit_2_with_a_clear_message(capsys: pytest.CaptureFixture[str], argv: list[str],
                                               needle: str) -> None:
    code, _, err = kubeprop(capsys, "schedule", *argv)
    assert code == 2
    assert needle in err and "Traceback" not in err


def test_unknown_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["schedule", "--no-such-flag"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --no-such-flag" in capsys.readouterr().err


def test_tiny_rlimit_is_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "schedule", "--rlimit", "1")
    assert code == 3
    assert "UNKNOWN as given: Z3 stopped after" in out and "--rlimit 1 per check" in out


def test_tainted_scenario_greedy_and_joint_agree(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "schedule", str(VARIANTS / "tainted.yaml"))
    assert code == 0 and "FEASIBLE as given" in out


def test_greedy_leaving_a_pod_pending_is_a_finding(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "schedule", str(Path(__file__).parent / "data" / "greedy"))
    assert code == 1
    assert "FINDING: the scheduler leaves a pod Pending although a placement exists." in out
    assert "default/c-0: 0/2 nodes are available: 2 Insufficient cpu." in out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("default/")]
    assert ["default/c-0", "<pending>", "node-2"] in rows or ["default/c-0", "<pending>", "node-1"] in rows


def test_an_explanation_says_each_line_once(capsys: pytest.CaptureFixture[str]) -> None:
    """Trial 12: three replicas, required anti-affinity on kubernetes.io/hostname, two nodes
    without the label: the core holds the term of two of the pods, which read alike; the
    explanation said the same line twice."""
    code, out, _ = kubeprop(capsys, "schedule", str(Path(__file__).parent / "data" / "antiaff-unlabeled"))
    assert code == 1
    lines = out.split("Minimal explanation:")[1].splitlines()
    assert lines.count("  - podAntiAffinity kubernetes.io/hostname of Deployment default/web rules out the rest") == 1
    assert len(lines) == len(set(lines))
