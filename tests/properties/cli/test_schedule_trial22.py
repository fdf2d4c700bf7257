"""`kubeprop schedule` on the twenty-second user trial's scenarios (tests/properties/cli/data/
schedule-trial22): a lost node's DaemonSet pod is not one to place (a false "unschedulable" before),
a drained node keeps its daemon pod, Immediate claims of a class the scenario ships are provisioned
as `kubeprop check` provisions them, and explanations name what they left out before. The whole
output of each run is a golden file (tests/properties/cli/golden/schedule_trial22_*.txt): to
update, run `KUBEPROP_UPDATE_GOLDEN=1 pytest tests/properties/cli/test_schedule_trial22.py` and
review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_run import kubeprop

from kubeprop.model.api.core import Node
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.provisioner_topology import ZONE_LABEL, immediate_zone
from kubeprop.model.scenario.load import load_scenario

DATA = Path(__file__).parent / "data" / "schedule-trial22"
GOLDEN = Path(__file__).parent / "golden"


def _run(capsys: pytest.CaptureFixture[str], golden: str, scenario: Path, *argv: str) -> tuple[int, str]:
    """`kubeprop schedule SCENARIO ARGV…`: its exit code and stdout, which must match the golden file."""
    code, out, _ = kubeprop(capsys, "schedule", str(scenario), "--progress", "none", *argv)
    path = GOLDEN / f"schedule_trial22_{golden}.txt"
    if os.environ.get("KUBEPROP_UPDATE_GOLDEN"):
        path.write_text(out)
    assert out == path.read_text()
    return code, out


def test_losing_a_node_takes_its_daemon_pod_with_it(capsys: pytest.CaptureFixture[str]) -> None:
    """Before: every node set "broke" on the lost node's own DaemonSet pod (exit 1), while --remove of
    the same node answered FEASIBLE. The DaemonSet controller makes no pod for a Node that is gone
    (`pkg/controller/daemon/daemon_controller.go`), and podgc deletes the pods of one
    (`pkg/controller/podgc/gc_controller.go` gcOrphaned)."""
    code, out = _run(capsys, "s14_fail_nodes", DATA / "s14-ds-failnodes", "--fail-nodes", "1")
    assert code == 0
    assert "What-if: 2 set(s) of 1 node(s) tried, 0 break it, 0 unknown." in out
    assert "agent-n1 (200m cpu)" not in out


def test_a_breaking_set_names_the_pods_that_break_it(capsys: pytest.CaptureFixture[str]) -> None:
    """s12: losing either node really breaks it, because the two web replicas (1400m) do not fit the
    other node's 1 cpu; the explanation names them, not the lost node's daemon pod."""
    code, out = _run(capsys, "s12_fail_nodes", DATA / "s12-drain-ds", "--fail-nodes", "1")
    assert code == 1
    for lost, other in (("n1", "n2"), ("n2", "n1")):
        explanation = out.split(f"INFEASIBLE after losing {lost}:")[1].split("INFEASIBLE")[0]
        assert "web-0, web-1 (700m cpu each)" in explanation and f"{lost} is down (what-if" in explanation
        assert f"{other} has" in explanation and "agent" not in explanation


def test_a_drained_node_keeps_its_daemon_pod(capsys: pytest.CaptureFixture[str]) -> None:
    """kubectl drain --ignore-daemonsets leaves the daemon pod on the cordoned node (it tolerates
    node.kubernetes.io/unschedulable); the other node still cannot hold both web replicas."""
    code, out = _run(capsys, "s12_drain", DATA / "s12-drain-ds", "--drain", "n1")
    assert code == 1
    assert "`kubectl drain n1 --ignore-daemonsets --delete-emptydir-data --force`" in out
    assert "  staying (mirror or DaemonSet pods): default/agent-n1" in out
    assert "web-0, web-1 (700m cpu each)" in out and "agent" not in out.split("Minimal explanation:")[1]


def test_a_down_node_a_filter_excludes_anyway_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    """The header names a1, a2 and b1 lost; the core needs only a1 and a2 down (b1's nodeSelector
    excludes it anyway), and the explanation now says so instead of leaving b1 out."""
    code, out = _run(capsys, "s3_fail_nodes_3", DATA / "s3-nap-honor", "--fail-nodes", "3")
    assert code == 1
    assert "INFEASIBLE after losing a1, a2, b1" in out
    assert "b1 excluded: node(s) didn't match Pod's node affinity/selector" in out


def test_a_lost_node_takes_its_bound_pods_with_it(capsys: pytest.CaptureFixture[str]) -> None:
    """A bare pod bound to n1 repels web from zone a by anti-affinity. Losing n1 and n2 deletes it
    with its Node (podgc gcOrphaned), so web fits n3 in zone a; before, the what-if (a literal on one
    solver) still counted it and that set "broke" too. Losing n2 and n3 really breaks it."""
    code, out = _run(capsys, "lost_bound_pod", DATA / "lost-bound-pod", "--fail-nodes", "2")
    assert code == 1
    assert "INFEASIBLE after losing n1, n2" not in out and "INFEASIBLE after losing n2, n3" in out
    assert "What-if: 3 set(s) of 2 node(s) tried, 1 break it, 0 unknown." in out


def test_a_set_losing_a_bound_pod_is_explained_without_it(capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    """The same with web asking for more than n3 holds: losing n1 and n2 breaks it on resources, and
    the explanation, from the problem with n1 and n2 removed, says they are gone with their pods."""
    text = (DATA / "lost-bound-pod" / "all.yaml").read_text().replace("cpu: 200m", "cpu: 1500m")
    (tmp_path / "all.yaml").write_text(text.replace('name: n2, labels: {topology.kubernetes.io/zone: b}}\n'
                                                    'status: {allocatable: {cpu: "1"',
                                                    'name: n2, labels: {topology.kubernetes.io/zone: b}}\n'
                                                    'status: {allocatable: {cpu: "2"'))
    code, out, _ = kubeprop(capsys, "schedule", str(tmp_path), "--fail-nodes", "2", "--progress", "none")
    assert code == 1
    explanation = out.split("INFEASIBLE after losing n1, n2:")[1].split("INFEASIBLE")[0]
    assert "web-0 (1500m cpu)" in explanation and "n3 has 1 cpu free" in explanation
    assert "  - n1 is down (what-if: its Node deleted, with the pods bound there)" in explanation
    assert "  - n2 is down (what-if: its Node deleted, with the pods bound there)" in explanation
    assert "loner" not in explanation


def test_min_domains_explanation_counts_the_domains(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "s2_min_domains", DATA / "s2-mindomains")
    assert code == 1
    assert ("topology.kubernetes.io/zone has 2 eligible domain(s) (a, b), fewer than minDomains=3, so the global "
            "minimum counts as 0: no domain may hold more than maxSkew=1 matching pod(s)") in out


def test_symmetric_anti_affinity_names_the_bound_pod(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "s13_symmetric_anti", DATA / "s13-symanti")
    assert code == 1
    assert "podAntiAffinity of bound pod(s): default/loner on n1 (topologyKey kubernetes.io/hostname)" in out


def _zones(scenario: Path) -> dict[str, str]:
    """The zone of each `wal` claim's volume as `kubeprop check`'s provisioner picks it
    (`provisioner_topology.immediate_zone`), by pod."""
    nodes = [n for n in initial_state(build_model(load_scenario(scenario))).store.list("nodes") if isinstance(n, Node)]
    out = {}
    for pod in ("pg-0", "pg-1", "pg-2"):
        term = immediate_zone(f"wal-{pod}", (), nodes)
        assert term is not None
        out[pod] = dict(term)[ZONE_LABEL]
    return out


def test_immediate_claims_of_a_shipped_class_follow_their_volumes(capsys: pytest.CaptureFixture[str]) -> None:
    """Before: "Claims ignored … placed as if it had no claims" for the Immediate ebs.csi.aws.com
    class; now each pod goes to the zone its volume is provisioned in, as in `kubeprop check`."""
    scenario = DATA / "pg-immediate" / "scenario.yaml"
    code, out = _run(capsys, "pg_immediate", scenario)
    assert code == 0 and "Claims ignored" not in out
    node_zone = {"w1": "a", "w2": "b", "w3": "c"}
    for pod, zone in _zones(scenario).items():
        placed = next(line.split()[1] for line in out.splitlines() if line.strip().startswith(f"default/{pod} "))
        assert node_zone[placed] == zone, (pod, placed, zone)


def test_an_immediate_volume_in_a_full_zone_is_a_finding(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The zone pg-0's wal volume lands in has no room for it: infeasible (before: placed elsewhere,
    its claim ignored)."""
    zone = _zones(DATA / "pg-immediate" / "scenario.yaml")["pg-0"]
    node = {"a": "w1", "b": "w2", "c": "w3"}[zone]
    text = (DATA / "pg-immediate" / "scenario.yaml").read_text()
    line = next(x for x in text.splitlines() if f"name: {node}," in x)
    (tmp_path / "scenario.yaml").write_text(text.replace(line, line.replace('cpu: "2"', "cpu: 100m")))
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "db.yaml").write_text((DATA / "pg-immediate" / "manifests" / "db.yaml").read_text())
    code, out, _ = kubeprop(capsys, "schedule", str(tmp_path / "scenario.yaml"), "--progress", "none")
    assert code == 1 and "Claims ignored" not in out
    assert "INFEASIBLE as given" in out and "pg-0 (200m cpu, 256Mi memory)" in out
    assert "volume node affinity conflict" in out


def test_a_shared_wffc_claim_of_a_shipped_class_gets_one_zonal_volume(capsys: pytest.CaptureFixture[str]) -> None:
    """Two replicas share a WaitForFirstConsumer claim of an ebs.csi.aws.com class: its one volume is
    provisioned in the zone of the node the first is assumed onto (as `kubeprop check`'s provisioner
    makes it), and neither zone's one node holds both (before: "reaches every node", feasible)."""
    code, out = _run(capsys, "wffc_shared_csi", DATA / "wffc-shared-csi")
    assert code == 1
    assert "the claim default/data (one volume for all its pods) rules out the rest" in out


@pytest.mark.parametrize(("argv", "needle"), [
    (["--scale", "web=3", "--scale", "web=4"], "--scale web=4: web is already scaled to 3 by an earlier --scale"),
    (["--scale", "web=3", "--scale", "default/web=4"],
     "--scale default/web=4: default/web is already scaled to 3 by --scale web=3"),
    (["--rlimit", "99999999999999999999999"],
     "must be a positive whole number of Z3 resource units up to 9,223,372,036,854,775,807"),
])
def test_flags_given_twice_or_out_of_range(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    try:
        code, _, err = kubeprop(capsys, "schedule", str(DATA / "s14-ds-failnodes"), *argv)
    except SystemExit as stop:  # argparse's own usage errors
        code, err = int(str(stop.code)), capsys.readouterr().err
    assert code == 2
    assert needle in err and "Traceback" not in err
    assert "-9,223" not in err
