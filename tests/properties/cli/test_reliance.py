"""Trial 9: a violation that needs no bug shows it. Under each violation `kubeprop check` and
`kubeprop replay` say what the run relies on besides the control plane, computed from its trace:
the faults (kind, target, step), the application's failing probes and containers, and time passing
while the application's own progress was due (an init container still running when a rollout's
timeout passes).

Regenerate the golden files after an intended change with
`KUBEPROP_UPDATE_GOLDEN=1 pytest tests/properties/cli/test_reliance.py`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import attrs
import pytest

from kubeprop.counterexamples.format_read import load as load_counterexample
from kubeprop.counterexamples.reliance import _waited_on, reliance, reliance_line
from kubeprop.counterexamples.replay import replay
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.workload_wait import CommandWait
from kubeprop.model.kubelet.actions import ContainerExit, ProbeResult, StopGracefully
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.schema import DeleteStep, ScaleStep, WorkloadStep
from kubeprop.model.scenario.schema_addons import DrainStep, NodeStep
from kubeprop.model.state.actions import Action, CrashComponent, FailNextRequest, Quiesce, Tick, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.cli.main import main

DATA = Path(__file__).parent / "data" / "slow-init"
GOLDEN = Path(__file__).parent / "golden"
RELIES = ("relies on: fault Partition worker-1 at step 9; 300 s pass while init container migrate of pods "
          "default/shop-d7469bbdb-sjrzf, default/shop-9cd9bf5f-tpl4p have not finished")


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("KUBEPROP_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"re-run with KUBEPROP_UPDATE_GOLDEN=1 to accept changes to {path}"


def _without_timing(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if "time:" not in line) + "\n"


def test_check_says_a_timeout_relies_on_an_init_container_still_running(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No fault: the rollout's 30 s pass while the pod's init container could have finished. (Seed 1:
    since the walks go on where their kinds run out, seed 0's first find is another timeout, after the
    init container exited with an error twice and its back-off — a cause of its own.)"""
    code = main(["check", str(DATA / "scenario.yaml"), "--property", "workload-steps-succeed", "--engine", "walk",
                 "--budget", "60", "--seed", "1", "--out", str(tmp_path)])
    out = _without_timing(capsys.readouterr().out).replace(str(tmp_path), "OUT")
    assert code == 1
    _golden("check_slow_init_relies.txt", out)
    assert ("  relies on: no fault; 30 s pass while init container migrate of pod default/shop-7f9d6985b-tpl4p "
            "has not finished\n") in out


def test_replay_says_a_timeout_relies_on_a_fault_and_init_containers_still_running(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Trial 9's chart (s1-helm, no componentCrash budget): one partition, then the rollout's 300 s
    pass while the pods' `migrate` init containers could have finished."""
    source = DATA / "partition-and-init-containers.json"
    assert main(["replay", str(source)]) == 1  # (1: it reproduces)
    out = capsys.readouterr().out
    tail = out[out.index("\nviolation at step"):].replace(str(source), "FILE")
    _golden("replay_partition_relies.txt", tail)
    assert (f"  {RELIES}\n") in tail


def test_the_line_names_faults_by_kind_target_and_step_and_failing_probes_by_kind() -> None:
    """Without a `Tick` the line reads the actions alone (no state is looked at)."""
    model = build_model(load_scenario(DATA / "scenario.yaml"))
    trace = (UserStep(0), CrashComponent("controller-manager"), FailNextRequest("scheduler", 500),
             ProbeResult("worker-1", "default/a", "shop", "liveness", False),
             ProbeResult("worker-1", "default/b", "shop", "liveness", False),
             ProbeResult("worker-1", "default/a", "shop", "readiness", True),
             ProbeResult("worker-1", "default/a", "shop", "readiness", False),
             ContainerExit("worker-1", "default/a", "migrate", 1),
             ContainerExit("worker-1", "default/b", "migrate", 42),
             ContainerExit("worker-1", "default/c", "migrate", 0),
             CrashComponent("controller-manager"), Quiesce())
    states = [object()] * (len(trace) + 1)
    line = reliance_line(reliance(model, states, trace))  # type: ignore[arg-type]
    assert line == ("relies on: fault CrashComponent controller-manager 2 times, at steps 2, 11; "
                    "fault FailNextRequest scheduler (500) at step 3; "
                    "2 failing liveness probes (container shop of pods default/a, default/b); "
                    "1 failing readiness probe (container shop of pod default/a); "
                    "1 container exit with an error (container migrate of pod default/a); "
                    "1 container exit with code 42 (container migrate of pod default/b)")


def test_the_line_names_a_failing_exit_on_sigterm_with_its_code() -> None:
    """A deleted pod's containers dying of SIGTERM (`StopGracefully` with exit 143) are the
    application's behaviour, named with the code — not an "environment" step; an exit 0 is progress."""
    model = build_model(load_scenario(DATA / "scenario.yaml"))
    trace = (UserStep(0), StopGracefully("worker-1", "default/a", 143), StopGracefully("worker-1", "default/b", 143),
             StopGracefully("worker-1", "default/c", 0), Quiesce())
    line = reliance_line(reliance(model, [object()] * (len(trace) + 1), trace))  # type: ignore[arg-type]
    assert line == "relies on: no fault; 2 exits on SIGTERM with code 143 (pods default/a, default/b)"


def test_a_run_of_the_control_plane_alone_says_so() -> None:
    model = build_model(load_scenario(DATA / "scenario.yaml"))
    found = reliance(model, [initial_state(model)] * 2, (UserStep(0),))
    assert found.none
    assert reliance_line(found).startswith("relies on: the control plane alone (no fault")


def test_replay_json_carries_the_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "--json", str(DATA / "partition-and-init-containers.json")]) == 1
    result = json.loads(capsys.readouterr().out)["results"][0]
    assert result["violation"]["reliesOn"] == RELIES


# -- trial 10: the wait a timeout needs, and the user's destructive steps ---------------------------

TRIAL10 = Path(__file__).parent / "data" / "trial10-reliance"


def _replay_tail(capsys: pytest.CaptureFixture[str], source: Path, golden: str) -> str:
    assert main(["replay", str(source)]) == 1  # (1: it reproduces)
    out = capsys.readouterr().out
    tail = out[out.index("\nviolation at step"):].replace(str(source), "FILE")
    _golden(golden, tail)
    return tail


def test_a_paused_rollout_timing_out_does_not_blame_another_workloads_probe(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Trial 10 s2b: `kubectl rollout status --timeout=60s` on a Deployment applied paused, which
    never gets a ReplicaSet. The line blamed db-0's readiness probe (a StatefulSet's pod the command
    does not wait on); it now counts only the progress the command waits on, and says none was due."""
    tail = _replay_tail(capsys, TRIAL10 / "paused-rollout-status.json", "replay_paused_rollout_relies.txt")
    assert "db-0" not in tail
    assert ("  relies on: the control plane alone (no fault, no failing probe or container, no time waited out on "
            "the application); user step 2 (kubectl rollout status deployment/web -n default --timeout=60s) timed "
            "out, and no progress of the application it waits on was due: nothing the application did would have made "
            "it return\n") in tail


def test_a_violation_after_kubectl_delete_node_names_that_step(capsys: pytest.CaptureFixture[str]) -> None:
    """Trial 10 s2c: a StatefulSet pod runs on two nodes after the user deletes the live Node w3
    (the pod garbage collector force-deletes its pods while kubelet w3 still runs them). The line said
    "the control plane alone"; the finding needs the user's delete."""
    tail = _replay_tail(capsys, TRIAL10 / "delete-node.json", "replay_delete_node_relies.txt")
    assert "  relies on: no fault; user step 4 (kubectl delete node w3) at step 207\n" in tail


def _slow_init_run() -> tuple[ClusterModel, list[ClusterState], tuple[Action, ...]]:
    ce = load_counterexample(DATA / "partition-and-init-containers.json")
    result = replay(ce)
    return result.model, list(result.states[: ce.violation.step + 1]), tuple(ce.actions)


def test_a_timed_out_command_waits_on_the_pods_its_object_controls() -> None:
    """The slow-init rollout's pods belong to Deployment shop through their ReplicaSets: a command
    on shop waits on their init containers, a command on another object does not."""
    model, states, trace = _slow_init_run()
    ticks = [i for i, act in enumerate(trace[: len(states) - 1]) if isinstance(act, Tick)]
    before = states[ticks[0]]
    due = [a for a in actions(model, before) if type(a).__name__ == "ContainerExit"]
    assert due
    on_shop = CommandWait(0, "deployments.apps", "default", "shop", "", None)
    on_other = CommandWait(0, "deployments.apps", "default", "other", "", None)
    assert all(_waited_on(before.store, a, on_shop) for a in due)
    assert not any(_waited_on(before.store, a, on_other) for a in due)
    assert _waited_on(before.store, Tick(10), on_other)  # progress of no pod always counts


def test_user_steps_named_are_the_destructive_and_environment_ones() -> None:
    scenario = load_scenario(DATA / "scenario.yaml")
    steps = (WorkloadStep(delete=DeleteStep(kind="pod", name="a")), WorkloadStep(drain=DrainStep(node="n1")),
             WorkloadStep(cordon=NodeStep(node="n1")), WorkloadStep(uncordon=NodeStep(node="n1")),
             WorkloadStep(scale=ScaleStep(deployment="default/shop", replicas=0)))
    model = build_model(attrs.evolve(scenario, spec=attrs.evolve(scenario.spec, workload=steps)))
    trace = tuple(UserStep(i) for i in range(len(steps)))
    found = reliance(model, [initial_state(model)] * (len(trace) + 1), trace)
    assert found.steps == ("user step 1 (kubectl delete pod a -n default) at step 1",
                           "user step 2 (kubectl drain n1 --ignore-daemonsets) at step 2",
                           "user step 3 (kubectl cordon n1) at step 3")
    assert reliance_line(found) == ("relies on: no fault; user step 1 (kubectl delete pod a -n default) at step 1; "
                                    "user step 2 (kubectl drain n1 --ignore-daemonsets) at step 2; "
                                    "user step 3 (kubectl cordon n1) at step 3")


def test_a_drain_that_timed_out_counts_only_the_pods_it_evicts() -> None:
    """trial18's game-day SRE: node-a crashed, and `kubectl drain node-a --timeout=300s` timed out
    waiting for its pods, which nothing removes while the node is down. The line named readiness
    probes of pods on other nodes ("300 s pass while the readiness probe of … have not passed"),
    which cannot make a drain return; now only progress of the pods it evicts or waits for counts,
    and with none due the line says so."""
    folder = Path(__file__).parent / "data" / "drain-crash"
    model = build_model(load_scenario(folder / "scenario.yaml"))
    trace = load_counterexample(folder / "drain-timeout.json").actions
    states = [initial_state(model)]
    for act in trace:
        assert act in actions(model, states[-1]), act
        states.append(step(model, states[-1], act))
    line = reliance_line(reliance(model, states, trace))
    assert "probe" not in line, line
    assert line.endswith("user step 1 (kubectl drain node-a --ignore-daemonsets --timeout=300s) timed out, and no "
                         "progress of the pods it evicts was due: nothing the application did would have made it "
                         "return"), line
    assert "fault CrashNode node-a at step 10" in line
