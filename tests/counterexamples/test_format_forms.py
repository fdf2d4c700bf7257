"""Files of earlier kubeprops replay: a `ContainerExit` written with `success` (before 0.2.0) is read
as its exit code (`kubeprop.counterexamples.format_forms`), without rewriting the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubeprop.counterexamples.format import dumps
from kubeprop.counterexamples.format_forms import current_forms
from kubeprop.counterexamples.format_read import load
from kubeprop.counterexamples.render import render_text
from kubeprop.counterexamples.replay import Verdict, replay
from kubeprop.counterexamples.trace import record
from kubeprop.model.cluster import actions, build_model, initial_state
from kubeprop.model.cluster.drive import fair_run, run
from kubeprop.model.kubelet.actions import ContainerExit
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.cli.main import main
from kubeprop.properties.registry import select

REPO = Path(__file__).resolve().parents[2]
JOB_FILES = REPO / "tests" / "model" / "data" / "job"
POLICY = REPO / "tests" / "model" / "data" / "exits" / "policy.yaml"


@pytest.mark.parametrize(("name", "verdict"), [("suspend-finished-pod.json", Verdict.PASSES),
                                               ("scale-down-finished-pod.json", Verdict.PASSES),
                                               ("suspend-crash-released.json", Verdict.REPRODUCES)])
def test_the_recorded_files_written_with_success_replay_as_recorded(name: str, verdict: Verdict,
                                                                    tmp_path: Path) -> None:
    """The tests' recorded files (tests/properties/test_jobs.py, test_upstream_behaviour_jobs.py),
    first recorded in the old form and re-recorded in the twenty-sixth round (their initial state
    had drifted: STALE), written back in the old form: read as exit code 0, they replay as the file
    does, as recorded (no fingerprint drifts)."""
    path = tmp_path / name
    path.write_text(_old_form((JOB_FILES / name).read_text()))
    written = [e["action"] for e in json.loads(path.read_text())["trace"]]
    assert [a["success"] for a in written if a["action"] == "ContainerExit"] == [True]  # the old form
    ce = load(path)
    assert [a.exit_code for a in ce.actions if isinstance(a, ContainerExit)] == [0]
    assert ce.actions == load(JOB_FILES / name).actions
    result = replay(path)
    assert (result.verdict, result.drift_step, result.meets_expectation) == (verdict, None, True)
    assert len(result.states) == len(ce.actions) + 1


def _old_form(text: str) -> str:
    """A file as kubeprop wrote it before 0.2.0: each `ContainerExit` with `success`."""
    data = json.loads(text)
    for entry in data["trace"]:
        act = entry["action"]
        if act["action"] == "ContainerExit":
            act["success"] = act.pop("exit_code") == 0
    return json.dumps(data, indent=2)


@pytest.mark.parametrize("code", [1, 0])
def test_a_file_written_with_success_replays_with_exit_1_or_0(code: int, tmp_path: Path) -> None:
    """A run of the Job whose container exits `code` (then the run a user expects), written in the old
    form, replays as recorded (the property held, as recorded: PASSES; no fingerprint drifts); the
    step reads as the exit code in the replay's text."""
    model = build_model(load_scenario(POLICY))
    start = initial_state(model)
    expected = fair_run(model, start).trace
    at = next(i for i, a in enumerate(expected) if isinstance(a, ContainerExit))
    state = run(model, start, expected[:at])
    (exit_,) = [a for a in actions(model, state) if isinstance(a, ContainerExit) and a.exit_code == code]
    trace = (*expected[:at], exit_, *fair_run(model, run(model, state, [exit_])).trace)
    ce = record(model, trace, prop=select(["job-pods-counted"])[0], verify=False, expectation="passes")
    path = tmp_path / "old.json"
    path.write_text(_old_form(dumps(ce)))
    assert '"success": ' in path.read_text() and '"exit_code"' not in path.read_text()
    result = replay(path)
    assert result.verdict == Verdict.PASSES and result.drift_step is None
    assert result.counterexample.actions == ce.actions
    assert f"exit_code={code})" in render_text(result)


def _exit(success: bool) -> dict[str, Any]:
    return {"action": "ContainerExit", "node": "n", "pod": "default/p", "container": "c", "success": success}


def test_success_false_is_143_while_the_container_is_killed_for_a_failed_probe() -> None:
    """The old model's one failing exit: 143 for a container being killed for a failed liveness or
    startup probe (it exits on SIGTERM), 1 otherwise — once it exited or restarted, or its pod started
    again, the kill is over."""
    probe = {"action": "ProbeResult", "node": "n", "pod": "default/p", "container": "c", "probe": "liveness",
             "success": False}
    ready = {**probe, "probe": "readiness"}
    restart = {"action": "RestartContainer", "node": "n", "pod": "default/p", "container": "c"}
    other = {**probe, "container": "d"}

    def codes(trace: list[dict[str, Any]]) -> list[int]:
        return [a["exit_code"] for a in current_forms(trace) if a["action"] == "ContainerExit"]

    assert codes([_exit(False), _exit(True)]) == [1, 0]
    assert codes([probe, _exit(False), restart, _exit(False)]) == [143, 1]
    assert codes([probe, _exit(True), _exit(False)]) == [0, 1]
    assert codes([{**probe, "probe": "startup"}, _exit(False)]) == [143]
    assert codes([ready, _exit(False)]) == [1]  # a readiness failure kills nothing
    assert codes([other, _exit(False)]) == [1]  # another container's kill
    assert codes([probe, {"action": "StartPod", "node": "n", "pod": "default/p"}, _exit(False)]) == [1]
    new = {"action": "ContainerExit", "node": "n", "pod": "default/p", "container": "c", "exit_code": 42}
    assert current_forms([new, "junk"]) == [new, "junk"]  # the current form, and what the reader reports


@pytest.mark.parametrize("field", ["node", "pod", "container"])
@pytest.mark.parametrize("value", [["x"], {"a": 1}])
def test_an_old_form_naming_its_container_by_a_list_or_map_is_bad_input(field: str, value: object,
                                                                         tmp_path: Path) -> None:
    """trial18: a `ContainerExit` or `ProbeResult` whose node, pod or container is a list or map ended
    the read as an internal error (TypeError: unhashable type, exit 4); it is the file's problem, named
    at its field (exit 2)."""
    probe = {"action": "ProbeResult", "node": "n", "pod": "default/p", "container": "c", "probe": "liveness",
             "success": False}
    for trace in ([{**_exit(False), field: value}], [{**probe, field: value}, _exit(False)]):
        forms = current_forms(trace)
        assert forms[-1]["exit_code"] == 1  # never counted as being killed
    path = tmp_path / "hostile.json"
    data = json.loads((JOB_FILES / "suspend-finished-pod.json").read_text(encoding="utf-8"))
    exits = [i for i, entry in enumerate(data["trace"]) if entry["action"]["action"] == "ContainerExit"]
    data["trace"][exits[0]]["action"] = {**_exit(False), field: value}
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["replay", str(path)]) == 2
