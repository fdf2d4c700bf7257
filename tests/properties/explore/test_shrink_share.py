"""Shrinking takes a bounded share of the budget while other properties remain to be searched for
(trial 10, s2c: a find made 2.1 s into a 115 s budget was shrunk for 112 s, five of the portfolio's
members never started and sixteen properties read "held (bounded)" on the fair run alone), and
reports its progress as it goes (no progress line for two minutes there)."""

from __future__ import annotations

import time
import types
from pathlib import Path
from typing import Any

import pytest

from kubeprop.counterexamples.api import CheckReport, _discovery, check
from kubeprop.counterexamples.format_read import load
from kubeprop.counterexamples.replay import replay
from kubeprop.model.cluster.compose import initial_state
from kubeprop.properties.cli.check_table import _unshrunk
from kubeprop.properties.explore import shrink as shrink_module
from kubeprop.properties.explore import shrink_clock as clock_module
from kubeprop.properties.explore.discoveries import discover
from kubeprop.properties.explore.engine import EngineConfig, EngineResult, EngineStats, ExitReason
from kubeprop.properties.explore.shrink import Judge, shrink_within
from kubeprop.properties.explore.shrink_clock import SHRINK_SHARE, ShrinkProgress
from kubeprop.properties.registry import Violation

CATALOGUE = Path(__file__).parents[2] / "model" / "data" / "catalogue"
FLAP, VARIANT, PROPERTY = CATALOGUE / "web-flap.yaml", "endpoints-stale-cache", "endpoints-match-ready-pods"


class SlowClock:
    """A `time.perf_counter` that moves on `per_call` seconds each time it is read."""

    def __init__(self, per_call: float) -> None:
        self.now = time.perf_counter()
        self.per_call = per_call

    def perf_counter(self) -> float:
        self.now += self.per_call
        return self.now


@pytest.fixture(scope="module")
def unshrunk() -> CheckReport:
    """The catalogue's stale-cache find as the portfolio made it (529 steps), not shrunk."""
    report = check(FLAP, variant=VARIANT, budget=600, config=EngineConfig(workers=1, shrink=False))
    assert report.violation is not None and report.violation.property == PROPERTY
    return report


def _shrunk(report: CheckReport, monkeypatch: pytest.MonkeyPatch, share: float,
            seen: list[Any] | None = None) -> Any:
    """`shrink_within` of the find on a slow clock, a 4 s budget (by that clock) and `share`.
    (Every step shrinking counts reads the clock since it is a hard limit: 2 ms a read leaves the
    share room for a few hundred steps.)"""
    clock = SlowClock(0.002)
    slow = types.SimpleNamespace(perf_counter=clock.perf_counter)
    monkeypatch.setattr(clock_module, "time", slow)
    monkeypatch.setattr(shrink_module, "time", slow)
    model = report.model
    config = EngineConfig(budget_seconds=4.0, properties=report.properties, shrink_share=share,
                          progress=None if seen is None else seen.append)
    judge = Judge.for_config(model, initial_state(model), config)
    shrunk = shrink_within(judge, report.trace, PROPERTY, config, clock.perf_counter(), known=report.violation)
    monkeypatch.undo()
    return shrunk


def test_shrinking_takes_its_share_of_the_budget_left_says_so_and_the_file_replays(
        unshrunk: CheckReport, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[Any] = []
    shrunk = _shrunk(unshrunk, monkeypatch, SHRINK_SHARE, seen)
    assert shrunk.cut is not None and shrunk.shared and shrunk.cut <= 4.0 * SHRINK_SHARE + 0.1, shrunk.cut
    assert shrunk.violation is not None and shrunk.violation.property == PROPERTY
    assert len(shrunk.trace) < len(unshrunk.trace)  # it got somewhere, just not to the end
    # its progress, about once a second (of the slow clock): how far it got, and its time bound
    reports = [p for p in seen if isinstance(p, ShrinkProgress)]
    assert len(reports) >= 1 and all(p.property == PROPERTY and p.found == len(unshrunk.trace) for p in reports)
    assert reports[-1].shortest <= reports[0].shortest <= len(unshrunk.trace)
    assert reports[0].limit is not None and abs(reports[0].limit - 4.0 * SHRINK_SHARE) < 0.1
    # the report and the file say it stopped, and why there; the file replays as recorded
    result = EngineResult("perturb", ExitReason.VIOLATION, shrunk.violation, shrunk.trace,
                          shrunk.stats(EngineStats(1.0, 1)))
    found = _discovery(unshrunk.model, result, EngineConfig(properties=unshrunk.properties), 0, tmp_path)
    line = (f"shrinking stopped at its time bound ({shrunk.cut:.1f} s, 50% of the budget left when it began: the "
            "rest went to searching for the other properties): a larger --budget, or a faster or quieter machine, "
            "may shrink it further (the violation is the same)")
    assert found.path is not None and _unshrunk(found) == (line,) and load(found.path).note == line
    assert replay(found.path).verdict.value == "REPRODUCES"


def test_alone_shrinking_may_take_all_that_is_left(unshrunk: CheckReport, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _shrunk(unshrunk, monkeypatch, 1.0)
    assert not whole.shared and (whole.cut is None or whole.cut > 4.0 * SHRINK_SHARE + 0.1)


def _fake_run(configs: list[EngineConfig]) -> Any:
    """An engine that finds a violation of the first property left, recording its configuration."""
    def run(config: EngineConfig) -> EngineResult:
        configs.append(config)
        first = config.properties[0] if config.properties else ""
        name = first if isinstance(first, str) else first.name
        return EngineResult("fake", ExitReason.VIOLATION, Violation(name, "m"), (), EngineStats(0.0, 1))
    return run


def test_discover_gives_shrinking_a_share_only_while_other_properties_remain() -> None:
    configs: list[EngineConfig] = []
    names = ("node-not-overcommitted", "endpoints-ready-pods", "replicaset-no-overcreation")
    results = discover(_fake_run(configs), EngineConfig(properties=names, budget_seconds=60.0))
    assert [r.violation.property for r in results if r.violation is not None] == list(names)
    assert [c.shrink_share for c in configs] == [SHRINK_SHARE, SHRINK_SHARE, 1.0]  # the last: nothing after it
    configs.clear()  # stopping at the first violation (`kubeprop check --first`): nothing else is searched for
    discover(_fake_run(configs), EngineConfig(properties=names, budget_seconds=60.0), stop=lambda r: True)
    assert [c.shrink_share for c in configs] == [1.0]
