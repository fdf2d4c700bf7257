"""Searching on past known upstream behaviour (properties/upstream_behaviour_search.py): a property
whose violation is known upstream behaviour is searched on, past every violation such behaviour
explains, for a violation of the user's."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from kubeprop.model.cluster.compose import actions, build_model
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action, Deliver, UserStep
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState
from kubeprop.properties.explore.discoveries import SearchOn, discover
from kubeprop.properties.explore.engine import EngineConfig, EngineResult, EngineStats, excused
from kubeprop.properties.registry import Violation, first_violation, select
from kubeprop.properties.upstream_behaviour_search import SearchedOn, SearchPast, searchable
from kubeprop.properties.upstream_twin import states_of

DATA = Path(__file__).resolve().parents[1] / "model" / "data" / "variants"
RESTORE = DATA / "restore.yaml"
SURGE = "rollout-surge-bound"
SYNC = Reconcile(controller="deployment", key="default/web")
RACE: tuple[Action, ...] = (UserStep(0), SYNC, Deliver(component=CONTROLLER_MANAGER, resource="deployments.apps",
                                                       revision=11), SYNC)
"""`kubectl set image` before the Deployment controller's first sync, whose ReplicaSet write has not
reached its cache when it syncs the rollout (as in test_upstream_behaviour.py)."""


def _race() -> tuple[ClusterModel, tuple[Action, ...], Violation, ClusterState]:
    """The Deployment controller's stale ReplicaSet lister on restore.yaml
    (tests/properties/test_upstream_behaviour.py RACE), found the way an engine finds it."""
    model = build_model(load_scenario(RESTORE), parameters={"instantCaches": False})
    end = states_of(model, RACE)[-1]
    violation = first_violation(model, end, select([SURGE]))
    assert violation is not None
    return model, RACE, violation, end


def test_the_race_is_passed_over_and_a_violation_no_entry_recognises_is_kept() -> None:
    model, race, violation, end = _race()
    search = SearchPast(model, select([SURGE]))
    assert search(violation, race, end) is None  # known upstream behaviour: go on past it
    assert (search.recognised, search.passed) == ({SURGE: 1}, {SURGE: 1})
    mine = Violation(SURGE, "a user's operator scaled it up", ("Deployment default/web",))
    assert search(mine, race[:2], end) is mine  # no stale sync on this trace: the user's
    assert search.recognised == {SURGE: 2} and not search.stopped(SURGE)


def test_the_same_violation_one_action_past_a_recognised_one_costs_no_replay() -> None:
    model, race, violation, end = _race()
    search = SearchPast(model, select([SURGE]))
    assert search(violation, race, end) is None
    later = (*race, actions(model, end)[0])  # one more action, the violation unchanged: no replay
    assert search(violation, later, end) is None
    assert search.recognised == {SURGE: 1} and search.passed == {SURGE: 2}
    other = attrs.evolve(violation, message="another count")  # not the same violation: judged again
    assert search(other, (*race, actions(model, end)[1]), end) is None
    assert search.recognised == {SURGE: 2}


def test_past_its_limit_a_property_is_passed_over_unjudged_and_the_report_says_so() -> None:
    model, race, violation, end = _race()
    search = SearchPast(model, select([SURGE]), limit=1)
    assert search(violation, race, end) is None
    mine = Violation(SURGE, "a user's operator scaled it up", ("Deployment default/web",))
    assert search(mine, race[:2], end) is None  # never reported unjudged: the search for it ended
    assert search.stopped(SURGE) and search.recognised == {SURGE: 1}
    line = SearchedOn(SURGE, 10, "time-bound", False, 2, True).line()
    assert "no violation of rollout-surge-bound beyond known upstream behaviour" in line and "stopped after" in line


def test_a_state_violating_two_properties_searched_on_reports_the_second_when_the_first_is_known() -> None:
    model, race, violation, end = _race()
    other = Violation("node-not-overcommitted", "made up", ())

    class Second:
        name, kind, reads = "node-not-overcommitted", "safety", None

        def check(self, model: ClusterModel, state: ClusterState) -> Violation:
            return other

    search = SearchPast(model, (*select([SURGE]), Second()))  # type: ignore[arg-type]
    assert search(violation, race, end) is other  # not recognised (no entry knows it for this trace)


def test_only_properties_some_entry_names_are_searched_on() -> None:
    assert searchable(SURGE) and searchable("job-pods-counted")
    assert not searchable("settles")  # stands for every convergence property at once
    assert not searchable("workloads-ready-unknown-name")


def _fake(finds: list[tuple[str, str]], configs: list[EngineConfig]) -> Any:
    """An engine that reports the next of `finds` (property, message) whose property is selected
    and that its configuration's excuse does not pass over."""
    def run(config: EngineConfig) -> EngineResult:
        configs.append(config)
        names = [p.name for p in select(config.properties)]
        for prop, message in finds:
            found = excused(config.excuse, Violation(prop, message) if prop in names else None, lambda: (), None)
            if found is not None:
                return EngineResult("fake", "violation", found, (), EngineStats(1.0, 10))
        return EngineResult("fake", "time-bound", stats=EngineStats(1.0, 7))
    return run


@attrs.define
class _Known:
    """A stand-in for `SearchPast`: violations whose message is "race" are known upstream behaviour."""

    names: frozenset[str] = frozenset()

    def __call__(self, found: Violation, trace: Sequence[Action], state: ClusterState | None) -> Violation | None:
        return None if found.message == "race" else found

    def searching(self, properties: Sequence[Any]) -> _Known:
        self.names = frozenset(p.name for p in properties)
        return self


def test_discover_goes_on_for_a_property_past_its_known_upstream_violation() -> None:
    configs: list[EngineConfig] = []
    known = _Known()
    hooks = SearchOn(lambda r: r.violation.message == "race", known.searching)
    config = EngineConfig(properties=(SURGE, "node-not-overcommitted"))
    results = discover(_fake([(SURGE, "race"), (SURGE, "mine")], configs), config, search_on=hooks)
    assert [(r.violation.property, r.violation.message) for r in results[:2]] == [(SURGE, "race"), (SURGE, "mine")]
    assert results[2].violation is None and len(results) == 3  # then node-not-overcommitted alone
    assert configs[0].excuse is None
    assert [p.name for p in select(configs[1].properties)] == ["node-not-overcommitted", SURGE]  # searched on last
    assert configs[1].excuse is known and known.names == {SURGE}


def test_without_a_users_violation_the_search_on_ends_with_the_engine() -> None:
    configs: list[EngineConfig] = []
    hooks = SearchOn(lambda r: r.violation.message == "race", _Known().searching)
    results = discover(_fake([(SURGE, "race")], configs), EngineConfig(properties=(SURGE,)), search_on=hooks)
    assert [r.exit_reason for r in results] == ["violation", "time-bound"] and len(configs) == 2
    # an engine that reports a known one again (it did not ask its excuse) ends the search for it
    def again(config: EngineConfig) -> EngineResult:
        configs.append(config)
        return EngineResult("fake", "violation", Violation(SURGE, "race"), (), EngineStats(1.0, 1))
    configs.clear()
    assert len(discover(again, EngineConfig(properties=(SURGE,)), search_on=hooks)) == 2 and len(configs) == 2
