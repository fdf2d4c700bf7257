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

import pytest

from kubeprop.counterexamples.reliance import reliance, reliance_line
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.kubelet.actions import ContainerExit, ProbeResult
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import CrashComponent, FailNextRequest, Quiesce, UserStep
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
    """No fault: the rollout's 30 s pass while the pod's init container could have finished."""
    code = main(["check", str(DATA / "scenario.yaml"), "--property", "workload-steps-succeed", "--engine", "walk",
                 "--budget", "60", "--out", str(tmp_path)])
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
             ContainerExit("worker-1", "default/a", "migrate", False),
             CrashComponent("controller-manager"), Quiesce())
    states = [object()] * (len(trace) + 1)
    line = reliance_line(reliance(model, states, trace))  # type: ignore[arg-type]
    assert line == ("relies on: fault CrashComponent controller-manager 2 times, at steps 2, 9; "
                    "fault FailNextRequest scheduler (500) at step 3; "
                    "2 failing liveness probes (container shop of pods default/a, default/b); "
                    "1 failing readiness probe (container shop of pod default/a); "
                    "1 container exit with an error (container migrate of pod default/a)")


def test_a_run_of_the_control_plane_alone_says_so() -> None:
    model = build_model(load_scenario(DATA / "scenario.yaml"))
    found = reliance(model, [object()] * 2, (UserStep(0),))  # type: ignore[list-item]
    assert found.none
    assert reliance_line(found).startswith("relies on: the control plane alone (no fault")


def test_replay_json_carries_the_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "--json", str(DATA / "partition-and-init-containers.json")]) == 1
    result = json.loads(capsys.readouterr().out)["results"][0]
    assert result["violation"]["reliesOn"] == RELIES
