"""Replay verdicts and the `kubeprop replay` exit codes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubeprop.counterexamples.format import dumps, to_data, write
from kubeprop.counterexamples.format_records import Counterexample
from kubeprop.counterexamples.replay import Verdict, replay
from kubeprop.counterexamples.trace import TraceError, record
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.properties.cli.main import main
from kubeprop.properties.registry import select

REPO = Path(__file__).resolve().parents[2]
VARIANTS = REPO / "tests" / "model" / "data" / "variants"


def test_reproduces(rs_file: Path) -> None:
    result = replay(rs_file)
    assert result.verdict == Verdict.REPRODUCES
    assert result.violation is not None and "owns 3 active pods" in result.violation.message
    assert result.drift_step is None and len(result.states) == 6


def test_passes_on_the_correct_model(rs_file: Path) -> None:
    result = replay(rs_file, variant="correct")
    assert result.verdict == Verdict.PASSES and result.violation is None
    assert result.drift_step == 5  # only the violating state itself differs
    assert "now holds at step 5, whose state differs from the recorded one" in result.reason


def test_a_trace_cut_short_passes_saying_its_state_is_the_recorded_one(rs_counterexample: Counterexample,
                                                                       tmp_path: Path) -> None:
    """Trial 21 (u3 cases 13, 34, 36): a trace cut short (or emptied) before the violation PASSES,
    and no check can refuse it soundly (an initial-state violation is written with no step; a fixed
    property holds on the very state recorded). The reason says the state is the recorded one: what
    changed is the property's verdict on it, not the run a fixed model would change."""
    data = to_data(rs_counterexample)
    for cut in (3, 0):
        data["trace"] = data["trace"][:cut]
        data["violation"]["step"] = cut
        path = tmp_path / f"cut-{cut}.json"
        path.write_text(json.dumps(data))
        result = replay(path)
        assert result.verdict == Verdict.PASSES and result.drift_step is None
        assert result.reason.startswith(f"replicaset-no-overcreation now holds at step {cut}, in the very state the "
                                        "file records there (same fingerprint): its verdict on that state changed, "
                                        "not the run"), result.reason


def test_stale_after_a_parameter_change(rs_file: Path) -> None:
    result = replay(rs_file, parameters={"instantCaches": True})  # Deliver actions disappear
    assert result.verdict == Verdict.STALE
    assert "step 2 (trace[1] in the file): Deliver(component=controller-manager" in result.reason
    assert "no longer enabled" in result.reason


def test_stale_when_a_fingerprint_differs(rs_counterexample: Counterexample, tmp_path: Path) -> None:
    data = to_data(rs_counterexample)
    data["trace"][1]["fingerprint"] = "0" * 16
    path = tmp_path / "drift.json"
    path.write_text(json.dumps(data))
    result = replay(path)
    assert result.verdict == Verdict.STALE and result.drift_step == 2
    assert "the state after step 2 (trace[1] in the file) differs" in result.reason and "still fails" in result.reason
    assert "recorded 0000000000000000 in trace[1].fingerprint" in result.reason  # which recorded field


def test_stale_names_the_recorded_field_an_edit_changed(rs_counterexample: Counterexample, tmp_path: Path) -> None:
    # the user trial: a component renamed by hand said only "(the model changed)"
    data = to_data(rs_counterexample)
    data["trace"][1]["action"]["component"] = "kubelet/node-x"
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    result = replay(path)
    assert result.verdict == Verdict.STALE
    assert result.reason == ("step 2 (trace[1] in the file): Deliver(component=kubelet/node-x, "
                             "resource=replicasets.apps, revision=11) is no longer enabled; the nearest enabled "
                             "action, Deliver(component=controller-manager, "
                             "resource=replicasets.apps, revision=11), differs in trace[1].action.component (the "
                             "model changed, or the file was edited)")


def test_path_mode_notices_a_changed_scenario(tmp_path: Path, rs_trace: Callable[[ClusterModel], Any]) -> None:
    shutil.copytree(VARIANTS / "web", tmp_path / "web")
    shutil.copy(VARIANTS / "web.yaml", tmp_path / "web.yaml")
    model = build_model(load_scenario(tmp_path / "web.yaml"), variant="rs-no-expectations")
    trace, violation = rs_trace(model)
    path = write(record(model, trace, violation, mode="path"), tmp_path / "out")
    assert json.loads(path.read_text())["scenario"]["mode"] == "path"
    assert replay(path).verdict == Verdict.REPRODUCES
    with (tmp_path / "web" / "app.yaml").open("a") as f:
        f.write("\n# a comment changes the content hash\n")
    result = replay(path)
    assert result.verdict == Verdict.STALE and "changed since the file was written" in result.reason


def test_record_refuses_a_trace_where_the_property_holds(rs_counterexample: Counterexample) -> None:
    model = build_model(load_scenario(VARIANTS / "web.yaml"), variant="correct")
    with pytest.raises(TraceError, match="holds at step 5"):
        record(model, rs_counterexample.actions, None, prop=select(["replicaset-no-overcreation"])[0])


def test_cli_exit_codes(rs_counterexample: Counterexample, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reproduces = write(rs_counterexample, tmp_path)
    data = to_data(rs_counterexample)
    data["model"]["variant"] = "correct"
    passes = tmp_path / "passes.json"
    passes.write_text(json.dumps(data))
    data["model"]["parameters"] = {"instantCaches": True}
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps(data))
    assert main(["replay", str(passes)]) == 0
    assert main(["replay", str(reproduces)]) == 1
    assert main(["replay", str(stale)]) == 3
    assert main(["replay", str(stale), str(reproduces)]) == 1
    assert main(["replay", str(passes), str(tmp_path / "missing.json")]) == 2
    capsys.readouterr()
    assert main(["replay", "--json", str(reproduces), str(passes)]) == 1
    out = json.loads(capsys.readouterr().out)
    assert [r["verdict"] for r in out["results"]] == ["REPRODUCES", "PASSES"]
    assert out["results"][0]["steps"][5]["changes"][0]["kind"] == "created"


def test_cli_expect_flag(rs_counterexample: Counterexample, tmp_path: Path) -> None:
    fixed = next(p for p in sorted((REPO / "counterexamples" / "corpus").glob("replicaset-no-overcreation-*.json"))
                 if json.loads(p.read_text())["expectation"] == "passes")
    data = json.loads(fixed.read_text())
    data["expectation"] = "reproduces"  # the trace on the correct model: PASSES
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(data))
    right = tmp_path / "right.json"
    right.write_text(dumps(rs_counterexample).replace('"kind": "Counterexample",',
                                                      '"kind": "Counterexample",\n  "expectation": "reproduces",'))
    assert main(["replay", "--expect", str(right)]) == 0
    assert main(["replay", "--expect", str(right), str(wrong)]) == 1
    flipped = to_data(rs_counterexample)
    flipped["expectation"] = "passes"  # under the bug variant: contradicts itself (test_passes_rule)
    (tmp_path / "flipped.json").write_text(json.dumps(flipped))
    assert main(["replay", "--expect", str(right), str(tmp_path / "flipped.json")]) == 2


def test_corpus_files_meet_their_expectations() -> None:
    files = sorted((REPO / "counterexamples" / "corpus").glob("*.json"))
    assert len(files) >= 6
    results = [replay(f) for f in files]
    assert all(r.meets_expectation for r in results), [(r.file, r.verdict) for r in results]
    assert {r.verdict for r in results} == {Verdict.REPRODUCES, Verdict.PASSES}
