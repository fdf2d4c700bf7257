"""`kubeprop check --metrics`: the worst value of each metric after the property table."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.counterexamples.replay import Verdict, replay
from kubeprop.properties.cli.main import main

DATA = Path(__file__).resolve().parents[2] / "model" / "data" / "variants"
ROLLOUT = DATA.parent / "waits" / "api-rollout.yaml"
HOLDING = ("--property", "persisted-objects-valid", "--property", "rollout-surge-bound")
"""Properties the walks do not violate here: the metrics are the subject. (Since the walks go on where
their kinds run out they reach the rollout past a node crash, where the 60 s progress deadline fails
`workload-steps-succeed` as upstream: a fault in the trace, bench_false_alarms' INTENDED_WITH_CAUSE.)"""
"""A rollout whose walks let model time pass within a run (a pod waits for room while an old one
terminates): since the clock waits for prompt work, node-loss.yaml's walks of 40 steps pass none,
and a worst case of 0 s writes no file."""


def test_check_metrics_prints_the_worst_values_with_their_traces(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(DATA / "web.yaml"), "--engine", "bfs", "--variant", "rs-no-expectations",
                 "--property", "replicaset-no-overcreation", "--max-depth", "6", "--budget", "60", "--metrics",
                 "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    section = out[out.index("metrics: worst over 2 trace(s)"):].splitlines()
    rows = {line.split()[0] + (" " + line.split()[1] if line.startswith("apiserver") else ""): line
            for line in section[2:]}
    assert {"pod-scheduling-latency", "pod-startup-latency", "workqueue-depth", "watch-lag-events"} <= set(rows)
    lines = rows.values()
    assert any("the fair run" in line for line in lines) and any("trace 1 (5)" in line for line in lines)
    assert rows["apiserver-requests 429"].split()[2] == "0"


def test_check_without_metrics_prints_no_metrics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", str(DATA / "web.yaml"), "--engine", "bfs", "--property", "replicaset-no-overcreation",
          "--max-depth", "2", "--budget", "30", "--out", str(tmp_path)])
    assert "metrics:" not in capsys.readouterr().out


def test_check_metrics_covers_every_run_the_walks_explored(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(ROLLOUT), "--engine", "walk", "--runs", "6", "--workers", "2",
                 "--max-depth", "80", "--budget", "120", "--metrics", "--out", str(tmp_path), *HOLDING])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "metrics: worst over 1 trace(s) and 6 explored run(s)" in out
    assert "explored run " in out[out.index("metrics: worst over"):]
    files = sorted(tmp_path.glob("*-within-*s-*.json"))  # the worst cases of the state time metrics
    assert files and all("worst case: " in out and f"replay with: kubeprop replay {f}" in out for f in files)
    for path in files:
        assert replay(path).verdict == Verdict.REPRODUCES


def test_a_worst_case_file_that_cannot_be_written_is_reported_not_recorded(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import kubeprop.counterexamples.format as format_
    from kubeprop.counterexamples.output import OutputError

    def refuse(ce: object, where: Path) -> Path:
        raise OutputError(f"cannot write {where}/x.json: it is a symbolic link")

    monkeypatch.setattr(format_, "write", refuse)
    code = main(["check", str(ROLLOUT), "--engine", "walk", "--runs", "6", "--workers", "2",
                 "--max-depth", "80", "--budget", "120", "--metrics", "--out", str(tmp_path), *HOLDING])
    out = capsys.readouterr().out
    assert code == 0, out  # the figures stand; only the files are missing
    assert f"not recorded: cannot write {tmp_path}/x.json: it is a symbolic link" in out
