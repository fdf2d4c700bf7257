"""A slow property and the budget: no property call starts after the budget's cutoff (the overrun
is at most the call under way), its calls are counted and named, and a convergence property no run
got to judge reads "not judged", not "held".

The slowness is simulated: each call of a slow property moves the clock every engine reads
(`time.perf_counter`) on by `SECONDS` instead of sleeping, so the test is fast and its counts do
not depend on the machine's speed."""

from __future__ import annotations

import time
from pathlib import Path

import attrs
import pytest

from kubeprop.counterexamples.api import check
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.cli.check_table import CheckRun, table
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.explore.runner import run_engine
from kubeprop.properties.registry import CheckResult, Property, as_property, select

SCENARIO = Path(__file__).parents[2] / "model" / "data" / "exits" / "migrate-then-rollout.yaml"
"""Every object comes from the workload: the runs are long before anything settles."""
SECONDS = 100.0
"""What one call of a slow property costs on the simulated clock (far more than the real seconds
the rest of a test takes on a loaded machine, so that they never decide a count)."""


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The seconds added to `time.perf_counter` (the slow properties add to it)."""
    offset = [0.0]
    real = time.perf_counter
    monkeypatch.setattr(time, "perf_counter", lambda: real() + offset[0])
    return offset


def slow(name: str, offset: list[float], calls: list[str] | None = None) -> Property:
    def check_state(model: object, state: object) -> CheckResult:
        offset[0] += SECONDS
        if calls is not None:
            calls.append(name)
        return None

    return as_property(name, "Takes its time on every state.", "none", "safety", check_state)


def test_no_property_call_starts_after_the_budget(clock: list[float]) -> None:
    # Two slow properties: a state costs 200 s. The initial state is checked at 0-200 s; the first
    # step's state from 200 s: slow-a runs (200-300 s), then slow-b is due past the 250 s budget and
    # is refused. Before the cutoff the step ran to its end (400 s: two calls past the budget).
    model = build_model(load_scenario(SCENARIO))
    made: list[str] = []
    config = EngineConfig(seed=0, workers=1, budget_seconds=2.5 * SECONDS, max_depth=40,
                          properties=(slow("slow-a", clock, made), slow("slow-b", clock, made)))
    result = run_engine("walk", model, initial_state(model), config)
    assert (result.exit_reason, made) == ("time-bound", ["slow-a", "slow-b", "slow-a"])
    counted = {name: count for name, count, _ in result.stats.calls}
    assert counted == {"slow-a": 2, "slow-b": 1}
    assert result.stats.runs == 0 and result.stats.steps <= 1  # the walk cut inside its first step


def test_a_convergence_property_no_run_reached_is_not_judged(clock: list[float]) -> None:
    props = (*select(["workloads-ready", "jobs-finished", "persisted-objects-valid"]), slow("team-slow", clock))
    report = check(load_scenario(SCENARIO), props, engine="walk", budget=4.5 * SECONDS,
                   config=EngineConfig(workers=1, max_depth=40))
    run = CheckRun("migrate-then-rollout", (report,), props)
    shown = table(run)
    cells = dict(zip(shown.rows, (row[0] for row in shown.cells), strict=True))
    assert cells["workloads-ready"] == cells["jobs-finished"] == "not judged (no run's end reached)"
    assert cells["persisted-objects-valid"] == cells["team-slow"] == "held (bounded)"
    named = [w for w in shown.warnings if "property team-slow took" in w]
    assert len(named) == 1 and f"{SECONDS:.2f} s a call" in named[0], shown.warnings


def test_the_gate_does_not_pass_a_convergence_property_never_judged() -> None:
    from kubeprop.counterexamples.api import CheckReport
    from kubeprop.properties.cli.gate import _verdict
    from kubeprop.properties.cli.gate_config import CheckSpec
    from kubeprop.properties.explore.engine import EngineStats

    props = tuple(select(["workloads-ready", "persisted-objects-valid"]))
    report = CheckReport("walk", "time-bound", None, EngineStats(5.0, 3, calls=(("persisted-objects-valid", 4, 4.9),)),
                         properties=props)
    spec = CheckSpec(scenario=str(SCENARIO), engine="walk")
    never = _verdict(spec, report, "workloads-ready", None, False, 5.0, "suite", 5.0)
    assert (never.status, never.message) == ("failed", "inconclusive: not judged (no run's end reached) within the "
                                                       "budget (5 s)")
    assert _verdict(spec, report, "persisted-objects-valid", None, False, 5.0, "suite", 5.0).status == "passed"
    unknown = attrs.evolve(report, stats=EngineStats(5.0, 3, calls=None))  # (workers that do not say: as before)
    assert _verdict(spec, unknown, "workloads-ready", None, False, 5.0, "suite", 5.0).message == \
        "held, bounded (time-bound)"
