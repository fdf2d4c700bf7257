"""The live progress line of `kubeprop check` on a terminal (`properties/cli/live.py`)."""

from __future__ import annotations

import io
import os

import pytest

from kubeprop.properties.cli.live import LiveLine
from kubeprop.properties.explore.bfs import SearchStats
from kubeprop.properties.explore.progress import PortfolioProgress


def test_the_line_is_rewritten_in_place_and_keeps_the_finds_of_earlier_discoveries(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.get_terminal_size", lambda fallback: os.terminal_size((200, 24)))
    out = io.StringIO()
    line = LiveLine("portfolio", 60.0, out)
    line(PortfolioProgress(3, 12_345, 2, ("replicaset-no-overcreation",)))
    line(PortfolioProgress(0, 800, 2))  # the next discovery's portfolio: its own rounds and steps
    line.end()
    first, second = out.getvalue().split("\r")[1:]
    assert first.startswith("  portfolio: 0 of 60 s, round 3, 12,345 steps on 2 lanes; found so far: "
                            "replicaset-no-overcreation")
    assert second.rstrip("\n").rstrip().endswith("round 0, 800 steps on 2 lanes; found so far: "
                                                 "replicaset-no-overcreation")
    assert len(second.rstrip("\n")) >= len(first)  # padded over the longer line before it
    assert out.getvalue().endswith("\n")


def test_the_line_fits_the_terminal_and_shows_the_bfs_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.get_terminal_size", lambda fallback: os.terminal_size((40, 24)))
    out = io.StringIO()
    line = LiveLine("bfs", 10.0, out)
    line(SearchStats(1_000, 400, 3, 2.0))
    assert out.getvalue() == "\r  bfs: 1,000 states, 400 distinct, dept"
    line.end()
    LiveLine("bfs", 10.0, out).end()  # nothing written, nothing ended
    assert out.getvalue().count("\n") == 1
