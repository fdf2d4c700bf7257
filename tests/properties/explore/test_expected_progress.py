"""Progress while the portfolio follows the run a user expects, before its lanes start (trial 11,
u2-gate/absurd: that run took 17–38 s of a 45 s budget with no progress line at all). The clock is
injected: one that moves on a second each time it is read, never the wall clock."""

from __future__ import annotations

import io
import types
from pathlib import Path
from typing import Any

import pytest

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.cli.live import LogLines
from kubeprop.properties.explore import expected as expected_module
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.explore.expected import compute
from kubeprop.properties.explore.progress import ExpectedProgress

DB = Path(__file__).parents[2] / "model" / "data" / "catalogue" / "db.yaml"


class ReadClock:
    """A `time.perf_counter` that moves on one second each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 1.0
        return self.now


def test_following_the_expected_run_reports_how_far_it_got(monkeypatch: pytest.MonkeyPatch) -> None:
    model = build_model(load_scenario(DB))
    monkeypatch.setattr(expected_module, "time", types.SimpleNamespace(perf_counter=ReadClock().perf_counter))
    seen: list[Any] = []
    run = compute(model, initial_state(model), EngineConfig(workers=1, progress=seen.append), None)
    assert run.complete and len(run.states) > 20
    depths = [p.depth for p in seen if isinstance(p, ExpectedProgress)]
    assert len(depths) == len(seen) >= len(run.states) - 2  # a report after every step: each took a "second"
    assert depths == sorted(depths) and depths[-1] == len(run.states) - 1
    monkeypatch.undo()
    assert compute(model, initial_state(model), EngineConfig(workers=1), None).states == run.states  # the same run


def test_its_log_line_says_what_the_portfolio_is_doing() -> None:
    out = io.StringIO()
    LogLines("portfolio", 45.0, out, every=0.0, clock=lambda: 12.0)(ExpectedProgress(2_345))
    assert out.getvalue() == ("  portfolio: 0 of 45 s (45 s left), following the run a user expects (the searches "
                              "around it start from there): 2,345 steps so far\n")
