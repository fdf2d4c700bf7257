"""One front door (issue 13 item 5) and honest Raft verdicts (item 4): `kubeprop check` runs the Raft
model for a Raft variant or `--model raft`, with the common table, counterexample files that
`kubeprop replay` reads, variant bounds, vacuity and warnings; `kubeprop raft` applies the same."""

from __future__ import annotations

import json
import re
from pathlib import Path

import attrs
import pytest

from kubeprop.counterexamples import raft_trace
from kubeprop.counterexamples.format_read import load
from kubeprop.counterexamples.format_records import CounterexampleError
from kubeprop.counterexamples.replay import Verdict
from kubeprop.properties.cli.main import main


def test_check_variant_quorum_ceil_runs_the_raft_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--variant", "quorum-ceil", "--max-states", "5000", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert out.startswith("kubeprop check: Raft model, variant quorum-ceil")
    assert "bounds from variant quorum-ceil: servers=4, max-term=1, max-log=0" in out
    assert re.search(r"ElectionSafety +VIOLATED \(6 steps\)", out)
    assert re.search(r"Linearizable +vacuous", out) and "Linearizable: no client writes" in out
    (path,) = tmp_path.glob("ElectionSafety-*.json")
    data = json.loads(path.read_text())
    assert (data["schema"], data["model"]["system"], data["model"]["variant"]) == (2, "raft", "quorum-ceil")
    assert f"reproduce with: kubeprop replay {path}" in out
    assert main(["replay", str(path)]) == 1
    replayed = capsys.readouterr().out
    assert "REPRODUCES" in replayed and "s1 and s2 were both elected leader in term 1" in replayed
    with pytest.raises(CounterexampleError, match="a raft counterexample"):
        load(path)  # the cluster loader refuses it, naming the reader to use


def test_a_raft_file_round_trips_and_is_stale_on_another_rule(tmp_path: Path) -> None:
    main(["check", "--model", "raft", "--variant", "quorum-ceil", "--budget", "3", "--out", str(tmp_path)])
    (path,) = tmp_path.glob("ElectionSafety-*.json")
    ce = raft_trace.load(path)
    assert raft_trace.write(ce, tmp_path / "again.json").read_text() == path.read_text()
    assert raft_trace.replay(ce).verdict == Verdict.REPRODUCES
    majority = attrs.evolve(ce, config=attrs.evolve(ce.config, quorum="majority"))
    result = raft_trace.replay(majority)  # with a majority of 4, s1 is no leader after step 5
    assert result.verdict == Verdict.STALE and "differs from the recorded one" in result.reason


def test_model_and_variant_must_agree(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--model", "raft", "--variant", "rs-no-expectations"]) == 2
    assert "is a cluster variant" in capsys.readouterr().err
    assert main(["check", "--model", "cluster", "--variant", "follower-read"]) == 2
    assert "is a Raft variant" in capsys.readouterr().err
    assert main(["check", "--variant", "quorum-ceil", "--engine", "walk"]) == 2
    assert "bfs only" in capsys.readouterr().err


def test_raft_follower_read_is_found_at_its_own_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["raft", "--variant", "follower-read"]) == 1
    out = capsys.readouterr().out
    assert "bounds from variant follower-read: max-term=1, max-log=2, reads=1" in out
    assert re.search(r"invariant Linearizable +VIOLATED", out)


def test_raft_follower_read_without_reads_is_vacuous_not_holds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["raft", "--variant", "follower-read", "--reads", "0", "--max-depth", "6"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "invariant Linearizable" in line)
    assert "vacuous: follower-read changes only how linearizable reads are served" in line
    assert "holds" not in line
    assert "warning: follower-read changes only" in out


def test_quorum_ceil_on_three_members_warns(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["raft", "--variant", "quorum-ceil", "--servers", "3", "--max-depth", "5"]) == 0
    out = capsys.readouterr().out
    assert "warning: quorum-ceil on 3 members: ⌈3/2⌉ = 2 is the majority ⌊3/2⌋+1 too" in out
    assert re.search(r"invariant ElectionSafety +vacuous", out)


def test_check_raft_on_a_scenario_names_its_members(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--model", "raft", "--max-depth", "4", "--property", "ElectionSafety", "--budget", "20",
                 "--out", str(tmp_path), "--exhaustive"])
    out = capsys.readouterr().out
    assert "Raft: 3 members (etcd-1, etcd-2, etcd-3)" in out
    assert re.search(r"ElectionSafety +held \(bounded\)", out)
    assert code == 3  # --exhaustive and the depth bound cut the search


def test_ctrl_c_keeps_the_raft_checks_finds(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The user trial: a Ctrl-C ended the Raft check with no table and no file, whatever it had
    found. Here the interrupt lands in the search after the first find (ElectionSafety)."""
    from kubeprop.properties.explore import raft

    searches: list[int] = []
    real = raft.explore

    def interrupted_after_one(*args: object, **kwargs: object) -> raft.RaftRun:
        searches.append(1)
        if len(searches) > 1:
            raise KeyboardInterrupt
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(raft, "explore", interrupted_after_one)
    assert main(["check", "--variant", "quorum-ceil", "--budget", "30", "--out", str(tmp_path)]) == 130
    shown = capsys.readouterr()
    assert re.search(r"ElectionSafety +VIOLATED \(6 steps\)", shown.out), shown.out
    assert re.search(r"LogMatching +interrupted\n", shown.out)
    assert "bfs: interrupted before it finished; 1 violation it found before the interrupt, listed above" in shown.out
    (path,) = tmp_path.glob("ElectionSafety-*.json")
    assert f"reproduce with: kubeprop replay {path}" in shown.out
    assert "interrupted (exit 130)" in shown.err


@pytest.mark.parametrize(("variant", "bounds", "bounded", "steps"), [
    ("transfer-no-log-check", "max-term=2, max-log=2, max-msgs=2, no-lose=True, script=transfer, no-pre-vote=True, "
     "no-check-quorum=True, transfers=1", "leader transfers ≤ 1", 16),
    ("conf-change-no-pending-guard", "max-term=2, max-log=4, max-msgs=2, no-lose=True, script=conf, "
     "no-pre-vote=True, no-check-quorum=True, conf-changes=2", "membership changes ≤ 2", 14),
])
def test_a_scripted_variant_is_found_and_replays(tmp_path: Path, capsys: pytest.CaptureFixture[str], variant: str,
                                                 bounds: str, bounded: str, steps: int) -> None:
    code = main(["check", "--variant", variant, "--property", "LeaderCompleteness", "--budget", "30",
                 "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert f"bounds from variant {variant}: {bounds}" in out
    assert bounded in out and re.search(rf"LeaderCompleteness +VIOLATED \({steps} steps\)", out)
    (path,) = tmp_path.glob("LeaderCompleteness-*.json")
    assert main(["replay", str(path)]) == 1
    assert "REPRODUCES" in capsys.readouterr().out


def test_the_transfer_variant_on_two_members_is_vacuous(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["raft", "--variant", "transfer-no-log-check", "--servers", "2", "--max-depth", "2"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"invariant LeaderCompleteness +vacuous: transfer-no-log-check changes only", out)
    assert main(["raft", "--from", "transfer", "--max-depth", "2"]) == 2
    assert "needs --transfers 1 or more" in capsys.readouterr().err


def test_the_conf_script_needs_two_changes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["raft", "--variant", "conf-change-no-pending-guard", "--conf-changes", "1", "--max-depth", "2"]) == 2
    assert "needs --conf-changes 2 or more (got 1)" in capsys.readouterr().err
    assert main(["raft", "--from", "conf", "--max-depth", "2"]) == 2
    assert "needs --conf-changes 2 or more" in capsys.readouterr().err
