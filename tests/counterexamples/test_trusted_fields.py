"""Fields every writer fixes are checked, not trusted, by the reader (trial 11, the CI gate user's
hostile corpus): a `passes` regression file with only `violation.step` changed from 5 to 0 replayed
as "PASSES, expected PASSES" — judged on its initial state, with no fingerprint checked — and the
gate stayed green. Every writer records the violation in the state after the trace's last action,
so another step is bad input; and a file PASSES only if its property holds on every state of its
trace, so a trace edited to go on past the violation (until the property holds again) does not."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from raft_records import two_leaders_in_term_1

from kubeprop.counterexamples import raft_trace
from kubeprop.counterexamples.format import load, write
from kubeprop.counterexamples.format_records import CONTINUATION_START, CounterexampleError
from kubeprop.counterexamples.replay import Verdict, replay
from kubeprop.counterexamples.trace import record
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.raft.state import RaftAction, RaftConfig
from kubeprop.model.raft.system import initial_state as raft_initial_state
from kubeprop.model.raft.system import step as raft_step
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.properties.cli.gate_replay import corpus_case
from kubeprop.properties.cli.main import main
from kubeprop.properties.raft import select_checks
from kubeprop.properties.registry import Violation, select

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "counterexamples" / "corpus"


def _rs_corpus_file(expectation: str) -> Path:
    """The corpus's replicaset-no-overcreation file with this expectation (its name holds a
    fingerprint, which moves when the model's state does)."""
    [path] = [p for p in sorted(CORPUS.glob("replicaset-no-overcreation-*.json"))
              if json.loads(p.read_text()).get("expectation") == expectation]
    return path


FIXED = _rs_corpus_file("passes")
"""The corpus's `passes` file: the rs-no-expectations trace on the correct model (5 actions)."""
WEB = REPO / "tests" / "model" / "data" / "variants" / "web.yaml"


def _edited(tmp_path: Path, data: dict[str, Any], name: str = "edited.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("step", [0, 3, 4])
def test_a_violation_step_before_the_end_of_the_trace_is_bad_input(tmp_path: Path, step: int) -> None:
    data = json.loads(FIXED.read_text())
    assert data["expectation"] == "passes" and len(data["trace"]) == 5
    data["violation"]["step"] = step
    path = _edited(tmp_path, data)
    with pytest.raises(CounterexampleError) as info:
        load(path)
    assert [(p.field, p.message) for p in info.value.problems] == [
        ("violation.step", f"{step} is not the end of the trace (5 actions): must be 5, the state after the last "
                           "action, where every writer records the violation")]
    case = corpus_case(path, ())
    assert case.status == "error" and "violation.step: " in case.message  # the gate fails, naming the field


def test_kubeprop_replay_expect_says_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(FIXED.read_text())
    data["violation"]["step"] = 0
    assert main(["replay", "--expect", str(_edited(tmp_path, data))]) == 2
    assert "violation.step: 0 is not the end of the trace (5 actions): must be 5" in capsys.readouterr().err


def test_the_corpus_file_itself_still_passes() -> None:
    assert replay(FIXED).verdict == Verdict.PASSES


def test_a_passes_file_whose_trace_goes_on_past_the_violation_is_not_passed(
        tmp_path: Path, rs_trace: Callable[[ClusterModel], tuple[tuple[Action, ...], Violation]]) -> None:
    """The rs-no-expectations violation (step 5), then the fair run until the ReplicaSet controller
    has deleted the extra pod: the property holds at its last state but not at step 5 of its trace.
    (Recorded under the bug variant, the file cannot expect `passes` at all — that is refused as
    bad input, test_passes_rule — so it expects nothing: the verdict alone is judged here.)"""
    model = build_model(load_scenario(WEB), variant="rs-no-expectations")
    trace, violation = rs_trace(model)
    prop = select(["replicaset-no-overcreation"])[0]
    state = initial_state(model)
    for act in trace:
        state = step(model, state, act)
    extra = []
    for act in settle(model, state, max_steps=200).trace:
        state = step(model, state, act)
        extra.append(act)
        if prop(model, state) is None:
            break
    assert extra and prop(model, state) is None
    ce = record(model, (*trace, *extra), violation, prop=prop, verify=False)
    result = replay(write(ce, tmp_path))
    assert result.verdict == Verdict.STALE, result.reason
    assert (f"replicaset-no-overcreation holds at step {len(trace) + len(extra)}, where the file records its "
            "violation, but fails before it, at step 5 (trace[4] in the file): ReplicaSet default/web-9b8d4d75 owns "
            "3 active pods") in result.reason


def test_a_continuation_start_counts_only_for_a_convergence_file(tmp_path: Path) -> None:
    """`engine.options.continuationStart` is what a writer records for a convergence violation only;
    in a safety file it must not make replay word the trace as a fair continuation."""
    ce = load(_rs_corpus_file("reproduces"))
    forged = attrs.evolve(ce, engine=attrs.evolve(ce.engine, options=FrozenMap({CONTINUATION_START: 2})))
    assert forged.continuation_start is None
    result = replay(write(forged, tmp_path))
    assert result.verdict == Verdict.REPRODUCES and "fair continuation" not in result.reason


def test_a_raft_file_step_and_initial_fingerprint_are_checked(tmp_path: Path) -> None:
    data = two_leaders_in_term_1()
    length = len(data["trace"])
    short = json.loads(json.dumps(data))
    short["violation"]["step"] = length - 1
    with pytest.raises(CounterexampleError, match=f"violation.step: {length - 1} is not the end of the trace"):
        raft_trace.load(_edited(tmp_path, short, "short.json"))
    drifted = json.loads(json.dumps(data))
    drifted["initial"]["fingerprint"] = "0" * 16
    result = raft_trace.replay(_edited(tmp_path, drifted, "drifted.json"))
    assert result.verdict == Verdict.STALE and "initial.fingerprint" in result.reason


def test_a_raft_passes_file_is_judged_on_every_state(tmp_path: Path) -> None:
    """The seed's claim AllReplicasBeforeAck fails when s1 acknowledges a write s3 does not have
    (step 10), and holds again once s3 has it (step 12): a file whose trace runs on to step 12 does
    not pass."""
    config = RaftConfig(max_term=1, max_log=2, history=True)
    [claim] = select_checks(["AllReplicasBeforeAck"])
    found = (RaftAction("Timeout", 0), RaftAction("Receive", msg=(6, 0, 1, 1, 0, 0)),
             RaftAction("Receive", msg=(7, 1, 0, 1, 1)), RaftAction("Receive", msg=(0, 0, 1, 1, 0, 0)),
             RaftAction("Receive", msg=(1, 1, 0, 1, 1)), RaftAction("ClientWrite", 0, arg=1),
             RaftAction("SendAppend", 0, 1, 2), RaftAction("Receive", msg=(2, 0, 1, 1, 0, 0, ((1, 0), (1, 1)), 0)),
             RaftAction("Receive", msg=(3, 1, 0, 1, 1, 2, 0)), RaftAction("ClientAck", 0, arg=1))
    after = (RaftAction("SendAppend", 0, 2, 2), RaftAction("Receive", msg=(2, 0, 2, 1, 0, 0, ((1, 0), (1, 1)), 2)))
    ce = raft_trace.record(config, None, claim, found)
    states = [raft_initial_state(config)]
    for act in (*found, *after):
        states.append(raft_step(config, states[-1], act))
    assert claim(config, states[-1]) is None
    fingerprints = tuple(raft_trace.state_fingerprint(s) for s in states)
    longer = attrs.evolve(ce, actions=(*found, *after), fingerprints=fingerprints,
                          violation=attrs.evolve(ce.violation, step=len(found) + len(after)), expectation="passes")
    result = raft_trace.replay(raft_trace.write(longer, tmp_path))
    assert result.verdict == Verdict.STALE, result.reason
    assert "AllReplicasBeforeAck holds at step 12, where the file records its violation, but fails before it, at " \
           "step 10 (trace[9] in the file): 'put k=v1' was acknowledged to the client while s3 did not have it" \
           in result.reason
