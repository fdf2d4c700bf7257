"""A corpus folder may hold Raft counterexample files beside cluster ones: the gate and the pytest
plugin replay each with its own reader, as `kubeprop replay` does, instead of failing a Raft file
as an unreadable cluster trace."""

from __future__ import annotations

import json
from pathlib import Path

from inner_pytest import PytestRun
from raft_records import two_leaders_in_term_1

from kubeprop.counterexamples import raft_trace
from kubeprop.counterexamples.replay import ReplayResult, Verdict
from kubeprop.counterexamples.replay_file import render_file_replay, replay_file
from kubeprop.properties.cli.gate_replay import corpus_case

REPO = Path(__file__).resolve().parents[2]
CLUSTER_FILE = next(p for p in sorted((REPO / "counterexamples" / "corpus").glob("*.json"))
                    if json.loads(p.read_text()).get("expectation", "reproduces") == "reproduces")


def _raft_file(where: Path, expectation: str | None = None) -> Path:
    """A recorded Raft trace: with the seed's ceil quorum, two of four members win term 1."""
    data = two_leaders_in_term_1()
    if expectation is not None:
        data["expectation"] = expectation
    where.write_text(json.dumps(data))
    return where


def test_each_kind_of_file_is_replayed_by_its_own_reader(tmp_path: Path) -> None:
    raft = replay_file(_raft_file(tmp_path / "raft.json"))
    assert isinstance(raft, raft_trace.RaftReplay) and raft.verdict == Verdict.REPRODUCES
    assert "ElectionSafety" in render_file_replay(raft)
    cluster = replay_file(CLUSTER_FILE)
    assert isinstance(cluster, ReplayResult) and cluster.verdict == Verdict.REPRODUCES


def test_a_raft_replay_spells_each_members_role_as_kubeprop_raft_does(tmp_path: Path) -> None:
    """The final states' roles read L (leader), C (candidate), F (follower), not the state's integers."""
    text = render_file_replay(replay_file(_raft_file(tmp_path / "raft.json")))
    roles = [line.split(":")[1].split()[0] for line in text.splitlines() if line.startswith("     s")]
    assert roles == ["L", "L", "F", "F"]


def test_the_gate_judges_a_raft_corpus_file_by_its_expectation(tmp_path: Path) -> None:
    assert corpus_case(_raft_file(tmp_path / "raft.json"), ()).status == "passed"
    assert corpus_case(_raft_file(tmp_path / "reproduces.json", "reproduces"), ()).status == "passed"
    flipped = corpus_case(_raft_file(tmp_path / "flipped.json", "passes"), ())
    assert flipped.status == "error" and "model.variant: quorum-ceil is a bug variant" in flipped.message


def test_a_raft_passes_file_with_a_bug_rule_under_variant_correct_is_refused(tmp_path: Path) -> None:
    """The configuration is what a Raft replay runs: renaming the variant leaves the bug in it."""
    data = two_leaders_in_term_1()
    data["model"]["variant"] = "correct"
    data["expectation"] = "passes"
    path = tmp_path / "renamed.json"
    path.write_text(json.dumps(data))
    case = corpus_case(path, ())
    assert case.status == "error", case.message
    assert "model.parameters: the configuration sets quorum=ceil (bug variant quorum-ceil)" in case.message
    del data["expectation"]
    path.write_text(json.dumps(data))
    assert raft_trace.replay(path).verdict == Verdict.REPRODUCES  # without the claim: replayed as any file


def test_the_pytest_plugin_replays_a_raft_corpus_file(tmp_path: Path, inner_pytest: PytestRun) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _raft_file(corpus / "raft.json")
    _raft_file(corpus / "flipped.json", "passes")
    done = inner_pytest(tmp_path, str(corpus), f"--kubeprop-corpus={corpus}")
    assert "1 failed, 1 passed" in done.stdout, done.stdout + done.stderr
    assert "model.variant: quorum-ceil is a bug variant" in done.stdout
