"""The Hypothesis engine finds the catalogue variants at small bounds and nothing on the correct
model; it is deterministic for a seed; its shrinking gives short traces; users can subclass the
machine."""

from __future__ import annotations

import attrs
import pytest
from engine_cases import CASES, DATA, assert_finds, case_setup
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import run
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.catalogue import REPLICASET_RACE
from kubeprop.properties.explore.discoveries import Unfinished
from kubeprop.properties.explore.engine import EngineConfig, allow
from kubeprop.properties.explore.stateful import (
    CI_PROFILE,
    ClusterMachine,
    PropertyViolated,
    find_with_hypothesis,
    machine_for,
)
from kubeprop.properties.registry import select

EXAMPLES = {"rs-no-expectations": 60, "endpoints-terminating": 60, "dual-scheduler": 150}
"""Hypothesis examples per case (tests/support/engine_cases.py)."""


def setup(variant: str, case: str, **overrides: object) -> tuple[ClusterModel, ClusterState, EngineConfig]:
    return case_setup(variant, case, EngineConfig(seed=1, runs=EXAMPLES[case], budget_seconds=None), **overrides)


@pytest.mark.parametrize("case", list(CASES))
def test_finds_variant_and_nothing_on_correct_model(case: str) -> None:
    model, start, config = setup(case, case)
    found = find_with_hypothesis(model, start, config)
    assert_finds(case, model, start, found)

    model, start, config = setup("correct", case)
    clean = find_with_hypothesis(model, start, config)
    assert (clean.exit_reason, clean.violation) == ("runs-done", None)
    assert config.runs is not None and clean.stats.runs >= config.runs and clean.stats.steps > 0


def test_same_seed_same_result() -> None:
    model, start, config = setup("rs-no-expectations", "rs-no-expectations", shrink=False)
    one = find_with_hypothesis(model, start, config)
    two = find_with_hypothesis(model, start, config)
    assert (one.violation, one.trace, one.stats.steps) == (two.violation, two.trace, two.stats.steps)


def test_hypothesis_shrinks_to_a_short_trace() -> None:
    model, start, config = setup("rs-no-expectations", "rs-no-expectations", shrink=False)
    found = find_with_hypothesis(model, start, config)
    assert found.violation is not None
    assert len(found.trace) <= 6 < config.max_depth  # Hypothesis' own shrinking (the shortest is 5)
    polished = find_with_hypothesis(model, start, attrs.evolve(config, shrink=True))
    assert len(polished.trace) == 5  # then delta debugging


@pytest.mark.parametrize("where", ["hypothesis", "delta debugging"])
def test_ctrl_c_while_shrinking_keeps_the_find_unshrunk(where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user trial: a Ctrl-C in Hypothesis' own shrinking lost the find; now it goes with the
    interrupt (`Unfinished`) as the last failing example ran, and so it does in delta debugging."""
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    target = ("hypothesis.internal.conjecture.shrinker.Shrinker.shrink" if where == "hypothesis"
              else "kubeprop.properties.explore.stateful.shrink_within")
    monkeypatch.setattr(target, interrupted)
    model, start, config = setup("rs-no-expectations", "rs-no-expectations", shrink=where != "hypothesis")
    with pytest.raises(Unfinished) as caught:
        find_with_hypothesis(model, start, config)
    [found] = caught.value.unshrunk
    assert found.exit_reason == "violation" and found.violation.property == "replicaset-no-overcreation"
    assert run_violates(model, start, found.trace, found.violation.property)


def run_violates(model: ClusterModel, start: ClusterState, trace: tuple[object, ...], name: str) -> bool:
    """Whether the trace, replayed from `start`, ends in a state `name` rejects."""
    [prop] = select((name,))
    return prop(model, run(model, start, trace)) is not None


def test_convergence_is_checked_in_teardown() -> None:
    model = build_model(load_scenario(DATA / "tight.yaml"))  # room for one of the two pods
    config = EngineConfig(seed=1, max_depth=3, properties=("workloads-ready",), runs=5)
    found = find_with_hypothesis(model, initial_state(model), config)
    assert found.violation is not None and found.violation.property == "workloads-ready"
    assert type(found.trace[-1]).__name__ == "Quiesce"
    run(model, initial_state(model), found.trace)


def test_ci_profile_is_registered() -> None:
    profile = settings.get_profile(CI_PROFILE)
    assert profile.derandomize and profile.database is None and profile.deadline is None
    assert not profile.print_blob and Phase.explain not in profile.phases


# The subclassing pattern of docs/engines.md: a user's own scenario and properties.
class WebReplicaSetMachine(ClusterMachine):
    model = build_model(load_scenario(DATA / "web.yaml"), parameters={"instantCaches": False})
    properties = select(["replicaset-no-overcreation"])
    action_filter = staticmethod(REPLICASET_RACE)


WebReplicaSetMachine.TestCase.settings = settings(settings.get_profile(CI_PROFILE), max_examples=30,
                                                  stateful_step_count=10)
TestWebReplicaSet = WebReplicaSetMachine.TestCase


def test_subclass_on_a_buggy_variant_fails() -> None:
    buggy = machine_for(build_model(load_scenario(DATA / "web.yaml"), variant="rs-no-expectations"),
                        select(["replicaset-no-overcreation"]), action_filter=REPLICASET_RACE)
    with pytest.raises(PropertyViolated, match="replicaset-no-overcreation"):
        run_state_machine_as_test(buggy, settings=settings(settings.get_profile(CI_PROFILE), max_examples=60,
                                                           stateful_step_count=12, report_multiple_bugs=False))


def test_machine_without_model_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="model is not set"):
        ClusterMachine()


def test_time_budget_is_checked_between_batches() -> None:
    model, start, config = setup("correct", "rs-no-expectations", runs=120)
    assert find_with_hypothesis(model, start, attrs.evolve(config, budget_seconds=0.0)).exit_reason == "time-bound"
    budgeted = attrs.evolve(config, budget_seconds=600.0)
    one, two = find_with_hypothesis(model, start, budgeted), find_with_hypothesis(model, start, budgeted)
    assert one.exit_reason == two.exit_reason == "runs-done"
    assert one.stats.steps == two.stats.steps and one.stats.runs >= 120


def test_a_falsifying_example_prints_the_actions(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 14: the rule draws the action itself (`sampled_from`), so Hypothesis' report of a
    falsifying example names each action taken, not an index into the enabled ones."""
    from hypothesis import Verbosity, settings
    from hypothesis.stateful import run_state_machine_as_test

    from kubeprop.model.cluster.compose import build_model
    from kubeprop.model.scenario.load import load_scenario
    from kubeprop.properties.explore.stateful import CI_PROFILE, PropertyViolated, machine_for
    from kubeprop.properties.registry import select

    path = DATA / "tainted.yaml"
    model = build_model(load_scenario(path), variant="scheduler-ignores-taints", parameters={"instantCaches": True})
    machine = machine_for(model, tuple(select(["bindings-respect-hard-constraints"])),
                          action_filter=allow("Reconcile", "Schedule", "Bind"), check_convergence=False)
    chosen = settings(settings.get_profile(CI_PROFILE), max_examples=200, stateful_step_count=12,
                      verbosity=Verbosity.normal)
    with pytest.raises(PropertyViolated) as failed:
        run_state_machine_as_test(machine, settings=chosen)
    printed = capsys.readouterr().out + "\n".join(getattr(failed.value, "__notes__", []))
    assert "Schedule(" in printed and "Bind(" in printed, printed


@pytest.mark.parametrize("budget_from", [1, 3, 7, 12, 20, 33])
def test_a_budget_ending_between_examples_is_time_up_not_an_error(budget_from: int,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The deadline can pass at any check of an example, also at the first (its initial invariant
    check, before any draw), where an earlier example with the same choices went on: Hypothesis
    calls that inconsistent data generation (`Flaky`). With the time up, the engine reports
    `time-bound`, whichever check saw it."""
    from kubeprop.properties.explore import stateful

    checks = {"n": 0}

    def out_of_time_after(self: ClusterMachine) -> bool:
        checks["n"] += 1
        return checks["n"] >= budget_from

    monkeypatch.setattr(ClusterMachine, "out_of_time", out_of_time_after)
    monkeypatch.setattr(stateful, "out_of_time", lambda deadline: checks["n"] >= budget_from)
    model = build_model(load_scenario(DATA / "web.yaml"))
    result = find_with_hypothesis(model, initial_state(model), EngineConfig(max_depth=3, budget_seconds=60.0,
                                                                            workers=1))
    assert result.exit_reason == "time-bound"
