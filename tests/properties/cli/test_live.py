"""The live progress line of `kubeprop check` on a terminal (`properties/cli/live.py`)."""

from __future__ import annotations

import io
import os

import pytest

from kubeprop.properties.cli.live import LiveLine, LogLines
from kubeprop.properties.explore.bfs import SearchStats
from kubeprop.properties.explore.progress import PortfolioProgress
from kubeprop.properties.explore.shrink_clock import ShrinkProgress


def test_the_line_is_rewritten_in_place_and_keeps_the_finds_of_earlier_discoveries(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.get_terminal_size", lambda fallback: os.terminal_size((200, 24)))
    out = io.StringIO()
    line = LiveLine("portfolio", 60.0, out, clock=lambda: 7.0)
    line(PortfolioProgress(3, 12_345, 2, ("replicaset-no-overcreation",), started=1.0))
    line(PortfolioProgress(0, 800, 2, started=2.0))  # the next discovery's portfolio: its own rounds and steps
    line.end()
    first, second = out.getvalue().split("\r")[1:]
    assert first.startswith("  portfolio: 0 of 60 s (60 s left), round 3, 12,345 steps on 2 lanes; found so far: "
                            "replicaset-no-overcreation")
    # trial 10: "round 17, 17,247 steps" then "round 1, 1,517 steps": now labelled, and the steps add up
    assert second.rstrip("\n").rstrip().endswith("search 2 (for the properties not yet violated), round 0, "
                                                 "13,145 steps in all on 2 lanes; found so far: "
                                                 "replicaset-no-overcreation")
    assert len(second.rstrip("\n")) >= len(first)  # padded over the longer line before it
    assert out.getvalue().endswith("\n")


def test_log_lines_go_on_while_a_find_is_shrunk_and_their_counters_never_go_back() -> None:
    """Trial 10 (s2c): no progress line for two minutes while a find was shrunk; (s1) the counters
    went back when the search for the other properties began. Every report is taken in, printed
    or not, so a search that printed nothing before its find still counts as one."""
    out = io.StringIO()
    lines = LogLines("portfolio", 115.0, out, every=0.0, clock=lambda: 3.0)
    lines(ShrinkProgress("one-running-pod-per-identity", 522, 391, 4_941, 8.2, 56.0))
    lines(PortfolioProgress(1, 1_885, 2, started=5.0))
    lines(PortfolioProgress(6, 6_691, 2, started=5.0))
    lines(PortfolioProgress(1, 900, 2, started=9.0))
    text = out.getvalue().splitlines()
    assert text[0].endswith("shrinking the find of one-running-pod-per-identity: 522 → 391 actions so far, "
                            "4,941 steps replayed in 8 s, at most 56 s")
    assert text[1].endswith("search 2 (for the properties not yet violated), round 1, 1,885 steps in all on 2 lanes")
    assert text[2].endswith("search 2 (for the properties not yet violated), round 6, 6,691 steps in all on 2 lanes")
    assert text[3].endswith("search 3 (for the properties not yet violated), round 1, 7,591 steps in all on 2 lanes")


def test_the_line_fits_the_terminal_and_shows_the_bfs_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.get_terminal_size", lambda fallback: os.terminal_size((40, 24)))
    out = io.StringIO()
    line = LiveLine("bfs", 10.0, out, clock=lambda: 5.0)
    line(SearchStats(1_000, 400, 3, 2.0))
    assert out.getvalue() == "\r  bfs: 0 of 10 s (10 s left), 1,000 sta"
    line.end()
    LiveLine("bfs", 10.0, out).end()  # nothing written, nothing ended
    assert out.getvalue().count("\n") == 1
