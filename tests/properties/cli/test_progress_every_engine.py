"""Progress of every engine on stderr (issue 11, item 4: `kubeprop check --engine bfs --budget 60`
said "running bfs (budget 59.1 s)…" and then nothing for a minute, and so did walk, hypothesis,
around, perturb, pct and lasso): a line every `LOG_EVERY` seconds with the budget used and left,
how far the engine got, its steps per second and the properties found so far. The lines' format
is pinned with a fake clock, never the wall clock."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from kubeprop.properties.cli import live
from kubeprop.properties.cli.live import LiveLine, LogLines
from kubeprop.properties.cli.main import main
from kubeprop.properties.explore import progress as progress_module
from kubeprop.properties.explore.bfs import SearchStats
from kubeprop.properties.explore.progress import EngineProgress, Found

WEB = Path(__file__).resolve().parents[2] / "model" / "data" / "variants" / "web.yaml"


class FakeClock:
    """A `time.perf_counter` that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_single_engines_log_lines_golden() -> None:
    """Every 5 s (not sooner), runs, steps and steps/s; after a violation the next search is
    labelled and its steps added to the earlier ones', the property listed as found."""
    clock = FakeClock()
    out = io.StringIO()
    lines = LogLines("walk", 60.0, out, clock=clock)
    for seconds, progress in [
        (1.0, EngineProgress(500, 1.0, 7)),  # too early
        (5.2, EngineProgress(2_400, 5.0, 31)),
        (6.0, EngineProgress(2_900, 5.8, 36)),  # too early
        (8.0, Found("replicaset-no-overcreation", 3_000)),
        (11.0, EngineProgress(800, 2.0, 9)),
        (61.5, EngineProgress(9_000, 52.0, 101)),
    ]:
        clock.now = 1_000.0 + seconds
        lines(progress)
    lines.end()
    assert out.getvalue() == (
        "  walk: 5 of 60 s (55 s left), 31 runs, 2,400 steps, 480 steps/s\n"
        "  walk: 11 of 60 s (49 s left), search 2 (for the properties not yet violated), 9 runs, 3,800 steps in all, "
        "400 steps/s; found so far: replicaset-no-overcreation\n"
        "  walk: 62 of 60 s (0 s left), search 2 (for the properties not yet violated), 101 runs, 12,000 steps in "
        "all, 173 steps/s; found so far: replicaset-no-overcreation\n"
        "kubeprop check: walk done in 61.5 s\n")


def test_the_searches_lines_show_states_and_depth_golden() -> None:
    clock = FakeClock()
    out = io.StringIO()
    lines = LogLines("around", 30.0, out, every=0.0, clock=clock)
    clock.now += 12.0
    lines(EngineProgress(25_734, 10.2, None, 22_610, 516))
    lines(Found("deployments-complete", 26_000))
    clock.now += 6.0
    lines(SearchStats(1_000, 400, 3, 2.0))  # a BFS's counters after a violation: states in all
    text = out.getvalue().splitlines()
    assert text[0] == "  around: 12 of 30 s (18 s left), 25,734 steps, 22,610 distinct, depth 516, 2,523 steps/s"
    assert text[1].startswith("  around: 18 of 30 s (12 s left), search 2 (for the properties not yet violated), "
                              "27,000 states in all, 400 distinct, depth 3, 200 distinct/s, ")
    assert text[1].endswith(" MB; found so far: deployments-complete")


def test_the_live_line_shows_every_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.get_terminal_size", lambda fallback: os.terminal_size((200, 24)))
    clock = FakeClock()
    out = io.StringIO()
    line = LiveLine("hypothesis", 20.0, out, clock=clock)
    clock.now += 3.0
    line(EngineProgress(4_256, 3.0, 54))
    line(Found("node-not-overcommitted", 4_300))  # said by the next line, not a line of its own
    clock.now += 1.0
    line(EngineProgress(100, 0.5, 2))
    line.end()
    first, second = out.getvalue().split("\r")[1:]
    assert first.rstrip() == "  hypothesis: 3 of 20 s (17 s left), 54 runs, 4,256 steps, 1,419 steps/s"
    assert second.rstrip() == ("  hypothesis: 4 of 20 s (16 s left), search 2 (for the properties not yet violated), "
                               "2 runs, 4,400 steps in all, 200 steps/s; found so far: node-not-overcommitted")


@pytest.mark.parametrize("engine", ["walk", "pct", "perturb"])
def test_check_prints_each_engines_progress_and_the_same_report(engine: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(progress_module, "ENGINE_EVERY", 0.0)
    monkeypatch.setattr(live, "LOG_EVERY", 0.0)
    args = [str(WEB), "--engine", engine, "--runs", "6", "--max-depth", "20", "--max-states", "300", "--budget", "60",
            "--workers", "1", "--property", "node-not-overcommitted", "--out", str(tmp_path)]
    assert main(["check", *args, "--progress", "lines"]) == 0
    shown = capsys.readouterr()
    assert main(["check", *args, "--progress", "none"]) == 0
    quiet = capsys.readouterr()
    assert f"\n  {engine}: " in shown.err and " s left), " in shown.err and " steps/s" in shown.err
    assert quiet.err == ""
    drop = [line for line in shown.out.splitlines() if "time:" not in line and "steps/s" not in line]
    assert drop == [line for line in quiet.out.splitlines() if "time:" not in line and "steps/s" not in line]
