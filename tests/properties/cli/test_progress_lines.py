"""Progress in a CI log (trial 5, u3/14: 61 s of silence): `check` prints log lines on stderr when
it is not a terminal, and `gate` prints each case's line as it finishes; stdout is unchanged."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kubeprop.properties.cli import gate as gate_cmd
from kubeprop.properties.cli.live import LogLines
from kubeprop.properties.cli.main import main
from kubeprop.properties.explore.bfs import SearchStats


class FakeClock:
    """A `time.perf_counter` for the progress lines: it moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now

WEB = Path(__file__).resolve().parents[2] / "model" / "data" / "variants" / "web.yaml"
BFS = [str(WEB), "--engine", "bfs", "--max-depth", "3", "--budget", "30", "--property", "node-not-overcommitted"]


def test_check_prints_log_lines_when_not_on_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", *BFS, "--out", str(tmp_path)]) == 0
    quiet = capsys.readouterr()
    assert "kubeprop check: running bfs (budget " in quiet.err
    assert "kubeprop check: bfs done in " in quiet.err
    assert main(["check", *BFS, "--out", str(tmp_path), "--progress", "none"]) == 0
    pinned = capsys.readouterr()
    assert pinned.err == ""
    drop = [line for line in quiet.out.splitlines() if "time:" not in line]
    assert drop == [line for line in pinned.out.splitlines() if "time:" not in line]  # stdout is the same


def test_log_lines_come_at_most_every_few_seconds() -> None:
    clock = FakeClock()
    out = io.StringIO()
    lines = LogLines("bfs", 10.0, out, every=5.0, clock=clock)
    lines(SearchStats(10, 9, 2, 1.0))  # too early: nothing
    assert out.getvalue() == ""
    clock.now += 5.0
    lines(SearchStats(10, 9, 2, 1.0))
    clock.now += 4.0
    lines(SearchStats(10, 9, 2, 1.0))  # again too early
    assert out.getvalue().count("\n") == 1 and out.getvalue().startswith("  bfs: 5 of 10 s (5 s left), 10 states, "
                                                                         "9 distinct, depth 2, 9 distinct/s, ")
    lines.end()
    assert out.getvalue().splitlines()[-1] == "kubeprop check: bfs done in 9.0 s"


def test_gate_prints_each_case_as_it_finishes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The corpus cases are on stdout before the first check starts (its start line on stderr)."""
    seen: list[str] = []
    real = gate_cmd.check_cases

    def spy(*args: object, **kwargs: object) -> gate_cmd.CheckOutcome:
        seen.append(capsys.readouterr().out)  # what was printed before this check ran
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(gate_cmd, "check_cases", spy)
    config = tmp_path / "gate.yaml"
    config.write_text(f"checks:\n  - scenario: {WEB}\n    budget: 20\n    maxDepth: 3\n"
                      "    properties: [node-not-overcommitted]\n")
    assert main(["gate", "--config", str(config), "--out", str(tmp_path / "out")]) == 0
    rest = capsys.readouterr()
    assert seen and seen[0].count("ok   corpus :: ") >= 6
    assert "ok   corpus" not in rest.out and "gate: " in rest.out
    assert "kubeprop gate: running checks[0]: " not in rest.err  # it was printed before the check ran
