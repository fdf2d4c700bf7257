"""The budget is a hard limit for shrinking too (trial 11, u2-gate/absurd: a find made 1 s before the
end of a 45 s budget was replayed for 20 s and judged for 36 s more — "portfolio done in 99.2 s" —
since nothing read the clock inside a test, and the first test always ran: `_Tests.longest` started
at 0). Time here is an injected clock that moves on only when the model takes a step, as on a
scenario whose steps are slow: never the wall clock."""

from __future__ import annotations

import types
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore import shrink as shrink_module
from kubeprop.properties.explore import shrink_choices as choices_module
from kubeprop.properties.explore import shrink_clock as clock_module
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.explore.shrink import Judge, _Budget, _Tests, shrink_within
from kubeprop.properties.explore.shrink_clock import ShrinkClock, TimeUp
from kubeprop.properties.registry import Violation, select

DATA = Path(__file__).parents[2] / "model" / "data" / "variants"
PROPERTY = "replicaset-no-overcreation"
STEP = 1.0
"""Seconds of the injected clock a model step takes."""


class StepClock:
    """A `time.perf_counter` that reads the same until the model takes a step (`STEP` seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now

    def stepping(self, real: Callable[[ClusterModel, ClusterState, Action], ClusterState]
                 ) -> Callable[[ClusterModel, ClusterState, Action], ClusterState]:
        def slow(model: ClusterModel, state: ClusterState, act: Action) -> ClusterState:
            self.now += STEP
            return real(model, state, act)
        return slow


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> StepClock:
    """Shrinking's clock (`shrink`, `shrink_clock`) made a `StepClock`, and its steps slow."""
    injected = StepClock()
    reading = types.SimpleNamespace(perf_counter=injected.perf_counter)
    monkeypatch.setattr(clock_module, "time", reading)
    monkeypatch.setattr(shrink_module, "time", reading)
    monkeypatch.setattr(shrink_module, "step", injected.stepping(step))
    monkeypatch.setattr(choices_module, "step", injected.stepping(step))
    return injected


def _find() -> tuple[Judge, tuple[Action, ...], Violation]:
    """A padded trace of rs-no-expectations' over-creation (10 actions; 5 once shrunk), its judge
    (safety only: no fair continuation, whose steps the injected clock would not see) and its
    violation."""
    model = build_model(load_scenario(DATA / "web.yaml"), variant="rs-no-expectations",
                        parameters={"instantCaches": False})
    state, trace = initial_state(model), []
    for wanted in ("Reconcile(controller=deployment", "Deliver(component=controller-manager, resource=replicasets",
                   "Reconcile(controller=replicaset", "Deliver(component=controller-manager, resource=pods",
                   "Reconcile(controller=replicaset"):
        for _ in range(2):  # harmless padding: events delivered to other components
            pad = next((a for a in actions(model, state) if str(a).startswith("Deliver(") and
                        "controller-manager" not in str(a)), None)
            if pad is not None:
                trace.append(pad)
                state = step(model, state, pad)
        act = next(a for a in actions(model, state) if str(a).startswith(wanted))
        trace.append(act)
        state = step(model, state, act)
    judge = Judge(model, initial_state(model), select(kind="safety"))
    violation, shown = judge(trace)
    assert violation is not None and violation.property == PROPERTY and len(shown) == 10
    return judge, shown, violation


def _config() -> EngineConfig:
    """A 100 s budget that shrinking may take all of, and no step bound: only the clock stops it."""
    return EngineConfig(budget_seconds=100.0, shrink_share=1.0, max_shrink_steps=None)


def test_a_replay_still_running_at_the_deadline_is_abandoned(clock: StepClock) -> None:
    """3 s left and a replay of the find costs 9: shrinking ends within one step of the deadline
    with the find as it was (the old code replayed it whole, 11 s in all, before it looked)."""
    judge, trace, violation = _find()
    began = clock.now - 97.0  # 3 s of the 100 s budget left
    shrunk = shrink_within(judge, trace, PROPERTY, _config(), began, known=violation)
    assert clock.now - (began + 100.0) <= STEP  # at most one step past the deadline
    assert shrunk.cut is not None and shrunk.bound is None
    assert (shrunk.violation, shrunk.trace) == (violation, trace)  # the counterexample as found stands


def test_with_time_enough_it_shrinks_to_the_end(clock: StepClock) -> None:
    """The same find with the budget's whole 100 s left: shrunk to its 5 actions, not cut."""
    judge, trace, violation = _find()
    shrunk = shrink_within(judge, trace, PROPERTY, _config(), clock.now, known=violation)
    assert shrunk.cut is None and len(shrunk.trace) == 5 and shrunk.violation == violation


def test_the_first_test_is_not_begun_when_it_would_end_past_the_deadline(clock: StepClock) -> None:
    """Before its first test, a shrinking does not know what a test costs: it takes replaying the
    find as the estimate (a test replays no more), and gives the time back rather than start one
    the deadline would stop."""
    judge, trace, _ = _find()
    meter = ShrinkClock(clock.now + len(trace) + 3.0)  # time for the replay of the find and 3 steps more
    tests = _Tests(attrs.evolve(judge, meter=meter), trace, PROPERTY, meter, [])
    spent = meter.spent
    with pytest.raises(_Budget):
        tests.fails(trace[1:])
    assert meter.spent == spent and meter.cut  # no step of it taken, and the clock says why it stopped


def test_a_step_counted_past_the_deadline_ends_the_test() -> None:
    import time

    late = ShrinkClock(time.perf_counter() - 1.0)
    with pytest.raises(TimeUp):
        late.spend(1)
    assert late.cut and late.spent == 1
    ShrinkClock(time.perf_counter() + 600.0).spend(1)  # in time: no exception
