"""The portfolio's lanes carry each member's search on past known upstream behaviour back to the
calling process (`lanes.carry_back`, `SearchPast.part`): a member that used up its recognitions in
a forked lane stops the property as in one lane, and its counts are those of its turns before the
deciding find, with 1 or 2 lanes alike. The members are fakes that ask the real `SearchPast` about
the Deployment controller's stale ReplicaSet lister on restore.yaml at every step."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from restore_traces import RACE

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.engine import (
    ActiveTimer,
    EngineConfig,
    EngineResult,
    EngineStats,
    ExitReason,
    Sliced,
    SliceGen,
    Slicer,
    excused,
)
from kubeprop.properties.explore.lanes import assign
from kubeprop.properties.explore.portfolio import TURN, Member, run_portfolio
from kubeprop.properties.registry import Violation, first_violation, select
from kubeprop.properties.upstream_behaviour_search import SearchPast
from kubeprop.properties.upstream_twin import states_of

RESTORE = Path(__file__).parents[2] / "model" / "data" / "variants" / "restore.yaml"
SURGE = "rollout-surge-bound"


def _steps(name: str, config: EngineConfig, find_at: int | None, race: Violation | None) -> SliceGen:
    """A member that takes steps until stopped (or `FINISH`), asking its excuse about `race` (the
    stale lister's violation at the end of RACE) at each step when given one, and finding a
    violation of its own at step `find_at`."""
    slicer = Slicer(ActiveTimer(), (yield))
    taken = 0
    while not slicer.stopped:
        taken += 1
        if race is not None:
            assert excused(config.excuse, race, lambda: RACE) is None  # known upstream (or unjudged past the cap)
        stats = EngineStats(slicer.timer.seconds(), taken)
        if taken == find_at:
            return EngineResult(name, ExitReason.VIOLATION, Violation(name, f"step {taken}"), (), stats)
        if find_at is None and taken == FINISH:
            return EngineResult(name, ExitReason.RUNS_DONE, stats=stats)
        yield from slicer.pause(taken)
    return EngineResult(name, ExitReason.TIME_BOUND, stats=EngineStats(slicer.timer.seconds(), taken))


FINISH = 4 * TURN
"""Steps after which a member that finds nothing finishes."""


def _member(name: str, weight: float, find_at: int | None, race: Violation | None) -> Member:
    def start(model: ClusterModel, begin: ClusterState, config: EngineConfig) -> Sliced:
        return Sliced(_steps(name, config, find_at, race))

    return Member(name, start, weight)


def _race() -> tuple[ClusterModel, Violation]:
    model = build_model(load_scenario(RESTORE), parameters={"instantCaches": False})
    violation = first_violation(model, states_of(model, RACE)[-1], select([SURGE]))
    assert violation is not None
    return model, violation


@pytest.mark.parametrize("lanes", [1, 2])
def test_a_member_that_used_up_its_recognitions_in_a_forked_lane_stops_the_property(lanes: int) -> None:
    model, race = _race()
    members = (_member("heavy", 8.0, None, None), _member("racer", 1.0, None, race))
    assert [[m.name for _, m in lane] for lane in assign(members, 2)] == [["heavy"], ["racer"]]
    search = SearchPast(model, select([SURGE]), limit=3)
    result = run_portfolio(model, initial_state(model), EngineConfig(workers=lanes, budget_seconds=60, excuse=search),
                           members)
    assert result.exit_reason == "runs-done" and len(result.stats.lanes) == lanes
    assert search.stopped(SURGE)  # the racer's lane ran in a worker with 2 lanes: carried back
    assert search.parts["racer"].recognised == {SURGE: 3} and search.passed_over(SURGE) == FINISH
    assert not multiprocessing.active_children()


@pytest.mark.parametrize("lanes", [1, 2])
def test_the_counts_are_those_of_the_turns_before_the_deciding_find(lanes: int) -> None:
    """`heavy` (index 0) finds in its third turn, round 2; `racer` (index 1) has then taken its turns
    of rounds 0 and 1 — with 2 lanes its lane may run round 2's turn too before it hears of the
    find, and that turn is not counted."""
    model, race = _race()
    members = (_member("heavy", 8.0, 3 * 8 * TURN - 5, None), _member("racer", 1.0, None, race))
    search = SearchPast(model, select([SURGE]), limit=3)
    result = run_portfolio(model, initial_state(model), EngineConfig(workers=lanes, budget_seconds=60, excuse=search),
                           members)
    assert result.violation is not None and result.violation.property == "heavy"
    assert search.passed_over(SURGE) == 2 * TURN and search.stopped(SURGE)
    assert not multiprocessing.active_children()
