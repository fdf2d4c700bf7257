"""Shrinking a run by its departures from the fair run: the decomposition regenerates the run, and
shrinking gives a shorter run of the model that violates the same property."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run, run
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action, CrashComponent, Partition
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.properties.explore import shrink_choices as shrink_choices_module
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.explore.perturb import run_perturb
from kubeprop.properties.explore.shrink import Judge, shrink_trace
from kubeprop.properties.explore.shrink_choices import Outcome, Runs, decompose, shrink_choices
from kubeprop.properties.explore.shrink_clock import ShrinkClock
from kubeprop.properties.registry import select

WEB = Path(__file__).parents[2] / "model" / "data" / "catalogue" / "web.yaml"
PROPERTY = "pods-on-unknown-nodes-not-ready"


@pytest.fixture(scope="module")
def found() -> tuple[ClusterModel, tuple[Action, ...]]:
    """nodelifecycle-crash on web.yaml as `perturb` finds it: the whole fair run, a partition, the
    controller manager crashed a few steps later, and their effects (unshrunk)."""
    model = build_model(load_scenario(WEB), variant="nodelifecycle-crash")
    config = EngineConfig(properties=tuple(select([PROPERTY])), shrink=False, workers=1)
    result = run_perturb(model, initial_state(model), config)
    assert result.violation is not None and result.violation.property == PROPERTY
    return model, result.trace


@pytest.fixture(scope="module")
def by_choices(found: tuple[ClusterModel, tuple[Action, ...]]) -> Outcome | None:
    """`shrink_choices` on the found run (no bound), once for the tests that read it."""
    model, trace = found
    return shrink_choices(judge_of(model), trace, PROPERTY, None)


def judge_of(model: ClusterModel) -> Judge:
    return Judge(model, initial_state(model), (), select([PROPERTY]))  # a convergence property


def test_the_fair_run_has_no_departures() -> None:
    model = build_model(load_scenario(WEB))
    trace = fair_run(model, initial_state(model)).trace
    choices = decompose(judge_of(model), trace)
    assert choices is not None and choices.departures == ()
    assert choices.users == sum(type(a).__name__ == "UserStep" for a in trace) > 0


def test_a_run_is_regenerated_from_its_choices(found: tuple[ClusterModel, tuple[Action, ...]]) -> None:
    model, trace = found
    judge = judge_of(model)
    choices = decompose(judge, trace)
    assert choices is not None
    kinds = [type(act) for _, act in choices.departures]
    assert kinds == [Partition, CrashComponent]  # what perturb placed; everything else is the fair run
    violation, shown = Runs(judge, None).run(choices)
    assert violation is not None and violation.property == PROPERTY
    assert shown == trace


def test_shrinking_choices_gives_a_shorter_run_of_the_model(found: tuple[ClusterModel, tuple[Action, ...]],
                                                            by_choices: Outcome | None) -> None:
    model, trace = found
    judge = judge_of(model)
    shorter = by_choices
    assert shorter is not None
    violation, shown = shorter
    assert violation is not None and violation.property == PROPERTY
    assert len(shown) < len(trace)
    run(model, initial_state(model), shown)  # every action enabled in turn
    assert judge(shown)[0] == violation
    # what shrank: the partition now comes before the whole workload has run
    before, after = decompose(judge, trace), decompose(judge, shown)
    assert before is not None and after is not None
    assert after.departures[0][0] < before.departures[0][0]


def test_a_run_longer_than_the_best_so_far_is_not_judged(found: tuple[ClusterModel, tuple[Action, ...]]) -> None:
    model, trace = found
    judge = judge_of(model)
    choices = decompose(judge, trace)
    assert choices is not None
    assert Runs(judge, None).run(choices, shorter_than=len(trace)) == (None, ())
    assert Runs(judge, None).run(choices, shorter_than=len(trace) + 1)[1] == trace


def test_departures_not_enabled_when_due_are_skipped(found: tuple[ClusterModel, tuple[Action, ...]]) -> None:
    model, trace = found
    judge = judge_of(model)
    choices = decompose(judge, trace)
    assert choices is not None
    early = attrs.evolve(choices, departures=((0, CrashComponent("no-such-component")), *choices.departures))
    assert Runs(judge, None).run(early)[1] == trace


def test_shrink_trace_starts_from_the_shrunk_choices(found: tuple[ClusterModel, tuple[Action, ...]],
                                                     by_choices: Outcome | None) -> None:
    model, trace = found
    judge = judge_of(model)
    assert by_choices is not None
    # cut at 5,000 replayed steps (a bound in steps, the same on any machine): the choices' shrinking
    # and a first stretch of delta debugging; from the unshrunk run that stretch ends longer than
    # the choices' run, so the bound keeps the check that shrink_trace starts from it
    violation, shrunk = shrink_trace(judge, trace, PROPERTY, max_steps=5_000)
    assert violation is not None and violation.property == PROPERTY
    assert len(shrunk) <= len(by_choices[1])
    run(model, initial_state(model), shrunk)


def test_many_departures_are_left_to_delta_debugging(found: tuple[ClusterModel, tuple[Action, ...]],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    model, trace = found
    monkeypatch.setattr(shrink_choices_module, "MAX_DEPARTURES", 1)  # the run has two
    assert shrink_choices(judge_of(model), trace, PROPERTY, None) is None
    assert decompose(judge_of(model), trace, most=1) is None


def test_a_state_judged_before_costs_no_steps(found: tuple[ClusterModel, tuple[Action, ...]]) -> None:
    """Within one shrinking (`Judge.verdicts`), a candidate ending in a state judged before gets
    that verdict without its fair continuations: only its replay counts on the clock. On
    nodelifecycle-crash's FeastFlow find a sixth of the candidates judged ended in such a state."""
    model, trace = found
    clock = ShrinkClock(None)
    judge = attrs.evolve(judge_of(model), meter=clock, verdicts={})
    first = judge(trace)
    judged = clock.spent
    assert first[0] is not None and first[0].property == PROPERTY and judged > len(first[1])  # a continuation
    assert judge(trace) == first and clock.spent - judged == len(first[1])  # the replay only
    again = attrs.evolve(judge_of(model), meter=ShrinkClock(None))  # no memory: judged again
    assert again(trace) == first and again.meter is not None and again.meter.spent == judged
