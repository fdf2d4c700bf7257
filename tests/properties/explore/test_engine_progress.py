"""Every engine reports how far it got while it runs (issue 11, item 4: `kubeprop check --engine
walk` printed nothing for a minute), and reporting changes nothing of what it finds. The reports
are forced (`progress.ENGINE_EVERY` 0); no test here reads the wall clock's value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.explore import progress as progress_module
from kubeprop.properties.explore.discoveries import discover
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.explore.progress import EngineProgress, Found, Ticker
from kubeprop.properties.explore.runner import run_engine

WEB = Path(__file__).parents[2] / "model" / "data" / "catalogue" / "web.yaml"
CONFIG = EngineConfig(seed=2, runs=8, max_depth=20, max_states=300, workers=1, budget_seconds=120.0,
                      convergence=False, long_runs=False)


def _figures(result: Any) -> tuple[Any, ...]:
    s = result.stats
    return (result.exit_reason, result.violation, result.trace, s.steps, s.runs, getattr(s, "distinct", None))


@pytest.mark.parametrize(("engine", "workers"), [
    ("walk", 1), ("walk", 2), ("pct", 1), ("hypothesis", 1), ("around", 1), ("perturb", 1), ("faults", 1),
    ("lasso", 1),
])
def test_every_engine_reports_its_progress_and_finds_the_same(engine: str, workers: int,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "ENGINE_EVERY", 0.0)
    model = build_model(load_scenario(WEB))
    start = initial_state(model)
    config = attrs.evolve(CONFIG, workers=workers)
    if engine == "lasso":  # (fewer stems, shorter fair runs: the test stays cheap)
        config = attrs.evolve(config, max_states=30, settle_steps=300)
    if engine == "hypothesis":
        config = attrs.evolve(config, runs=4)
    seen: list[Any] = []
    watched = run_engine(engine, model, start, attrs.evolve(config, progress=seen.append))
    plain = run_engine(engine, model, start, config)
    assert _figures(watched) == _figures(plain)
    reports = [p for p in seen if isinstance(p, EngineProgress)]
    assert reports, f"{engine} reported nothing"
    steps = [p.steps for p in reports]
    assert steps == sorted(steps) and steps[-1] <= watched.stats.steps
    if engine in ("walk", "pct", "hypothesis", "lasso", "perturb"):
        assert all(p.runs is not None and p.runs <= max(1, watched.stats.runs) + 1 for p in reports)
    if engine in ("around", "perturb", "faults"):
        assert all(p.distinct is not None and p.depth is not None for p in reports)


def test_a_search_that_finds_a_violation_says_so_before_the_next_one_starts() -> None:
    """`discover` runs the engine again for the properties not yet violated: a `Found` comes between."""
    seen: list[Any] = []

    def run(config: EngineConfig) -> Any:
        left = [getattr(p, "name", p) for p in config.properties or ()]
        config.progress(EngineProgress(10, 1.0, 1))  # type: ignore[misc]
        violation = attrs.make_class("V", ["property"])(left[0]) if len(left) > 1 else None
        return attrs.make_class("R", ["violation", "stats"])(violation, attrs.make_class("S", ["steps"])(40))

    config = EngineConfig(properties=("node-not-overcommitted", "replicaset-no-overcreation", "schedulable-pods-bound"),
                          budget_seconds=None, progress=seen.append)
    results = discover(run, config)
    assert len(results) == 3
    found = [p for p in seen if isinstance(p, Found)]
    assert [f.property for f in found] == ["node-not-overcommitted", "replicaset-no-overcreation"]
    assert all(f.steps == 40 for f in found)
    assert [type(p).__name__ for p in seen] == ["EngineProgress", "Found", "EngineProgress", "Found", "EngineProgress"]


class CountingClock:
    """A fake `time.perf_counter`: `now` moves only when the test moves it; `reads` counts the reads."""

    def __init__(self) -> None:
        self.now, self.reads = 100.0, 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now


def test_the_ticker_reads_the_clock_at_most_once_every_stride_steps_and_reports_once_a_second() -> None:
    clock = CountingClock()
    reported: list[int] = []
    ticker = Ticker(reported.append, every=1.0, stride=32, clock=clock)
    for steps in range(1, 1001):
        clock.now += 0.01  # a step takes 10 ms
        ticker.tick(steps, lambda steps=steps: steps)  # type: ignore[misc]
    assert clock.reads == 1 + 1000 // 32  # once at the start, then once every 32 steps
    assert reported == [128, 256, 384, 512, 640, 768, 896]  # the first read a second or more after the last report
    silent = CountingClock()
    never = Ticker(None, clock=silent)
    assert not any(never.due(steps) for steps in range(1000)) and silent.reads == 0
