"""Searching on past known upstream behaviour (properties/upstream_behaviour_search.py): a property
whose violation is known upstream behaviour is searched on, past every violation such behaviour
explains, for a violation of the user's."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest
from restore_traces import RACE, SETTLES_AFTER_RESTORE

from kubeprop.model.cluster.compose import actions, build_model
from kubeprop.model.cluster.restore import RestoreEtcd
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.discoveries import SETTLES, SearchOn, discover
from kubeprop.properties.explore.engine import EngineConfig, EngineResult, EngineStats, excused
from kubeprop.properties.registry import Violation, first_violation, select
from kubeprop.properties.upstream_behaviour_search import SearchedOn, SearchPast, searchable, searched_on
from kubeprop.properties.upstream_twin import states_of

DATA = Path(__file__).resolve().parents[1] / "model" / "data" / "variants"
RESTORE = DATA / "restore.yaml"
SURGE = "rollout-surge-bound"


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
    assert searchable("settles")  # etcd-restore-reissues-endpoints-version names it
    assert not searchable("workloads-ready-unknown-name")


def test_a_known_upstream_livelock_is_passed_over_once_settles_is_searched_on() -> None:
    """The Endpoints controller requeueing for ever after a restore without --bump-revision
    (test_upstream_behaviour.py SETTLES_AFTER_RESTORE) is passed over; the same trace without the
    restore settles, and a livelock there would be the user's."""
    model = build_model(load_scenario(RESTORE))
    livelock = Violation(SETTLES, "the cluster did not settle within 5000 steps")
    search = SearchPast(model, (), settles=True)
    assert SETTLES in search.names
    assert excused(search, livelock, lambda: SETTLES_AFTER_RESTORE) is None
    without = tuple(act for act in SETTLES_AFTER_RESTORE if not isinstance(act, RestoreEtcd))
    assert excused(search, livelock, lambda: without) is livelock
    assert search.recognised == {SETTLES: 2} and search.passed == {SETTLES: 1}
    assert excused(SearchPast(model, ()), livelock, lambda: SETTLES_AFTER_RESTORE) is livelock  # not searched on


def test_each_member_counts_its_own_recognitions_and_the_report_sees_every_part() -> None:
    model, race, violation, end = _race()
    search = SearchPast(model, select([SURGE]), limit=1)
    walk, pct = search.part("walk"), search.part("pct")
    assert walk.names == {SURGE} and search.part("walk") is walk
    assert walk(violation, race, end) is None and walk.recognised == {SURGE: 1} and not pct.recognised
    assert search.stopped(SURGE) and not search.recognised  # a member's cap is the report's
    assert pct(violation, race, end) is None and pct.recognised == {SURGE: 1}  # its own limit
    assert search.passed_over(SURGE) == 2
    search.take("pct", ({SURGE: 0}, {SURGE: 5}))  # as a forked lane left it
    assert pct.recognised == {SURGE: 0} and search.passed_over(SURGE) == 6
    search.searching(select([SURGE]), settles=True)
    assert search.part("walk").names == {SURGE, SETTLES} and search.part("walk").recognised == {SURGE: 1}
    line = searched_on([EngineResult("fake", "violation", violation, race, EngineStats(1.0, 3)),
                        EngineResult("fake", "time-bound", stats=EngineStats(1.0, 9))], lambda r: True, search)[0]
    assert line.stopped and line.passed == 6 and "stopped after 1 recognitions" in line.line()


def _fake(finds: list[tuple[str, str]], configs: list[EngineConfig]) -> Any:
    """An engine that reports the next of `finds` (property, message) whose property is selected
    (`settles`: a convergence property is) and that its configuration's excuse does not pass over."""
    def run(config: EngineConfig) -> EngineResult:
        configs.append(config)
        names = [p.name for p in select(config.properties)]
        if any(p.kind == "convergence" for p in select(config.properties)):
            names.append(SETTLES)
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

    def searching(self, properties: Sequence[Any], settles: bool = False) -> _Known:
        self.names = frozenset(p.name for p in properties) | ({SETTLES} if settles else set())
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


def test_discover_keeps_the_convergence_properties_past_a_known_upstream_livelock() -> None:
    """A `settles` violation known upstream no longer ends the search for the convergence
    properties: the next runs judge them, past every livelock the excuse passes over."""
    configs: list[EngineConfig] = []
    known = _Known()
    hooks = SearchOn(lambda r: r.violation.message == "race", known.searching)
    config = EngineConfig(properties=("workloads-ready", "node-not-overcommitted"))
    results = discover(_fake([(SETTLES, "race"), ("workloads-ready", "1 ready of 2")], configs), config,
                       search_on=hooks)
    assert [(r.violation.property, r.violation.message) for r in results[:2]] == [
        (SETTLES, "race"), ("workloads-ready", "1 ready of 2")]
    assert [p.name for p in select(configs[1].properties)] == ["workloads-ready", "node-not-overcommitted"]
    assert configs[1].excuse is known and SETTLES in known.names
    # the user's livelock past it ends the convergence properties' search as before
    configs.clear()
    results = discover(_fake([(SETTLES, "race"), (SETTLES, "mine")], configs), config, search_on=hooks)
    assert [r.violation.message for r in results[:2]] == ["race", "mine"]
    assert [p.name for p in select(configs[-1].properties)] == ["node-not-overcommitted"]


def _livelock_engine(model: ClusterModel, start: ClusterState, config: EngineConfig) -> EngineResult:
    """A stand-in engine whose one run is SETTLES_AFTER_RESTORE, ending in the Endpoints controller's
    livelock (while a convergence property is selected), then nothing: it asks its excuse as an
    engine does at a convergence verdict."""
    if not config.convergence_properties():
        return EngineResult("livelock", "runs-done", stats=EngineStats(0.1, 1))
    livelock = Violation(SETTLES, "the cluster did not settle within 5000 steps")
    found = excused(config.excuse, livelock, lambda: SETTLES_AFTER_RESTORE)
    if found is None:
        return EngineResult("livelock", "runs-done", stats=EngineStats(0.1, 40))
    return EngineResult("livelock", "violation", found, SETTLES_AFTER_RESTORE, EngineStats(0.1, 24))


def test_check_searches_on_past_the_known_livelock_for_the_convergence_properties(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`check` records the livelock as known upstream behaviour and runs again for the convergence
    properties, past it, instead of dropping them; the table judges them."""
    from kubeprop.counterexamples.api import check
    from kubeprop.properties.cli.check_table import _cell
    from kubeprop.properties.explore.runner import ENGINES

    monkeypatch.setitem(ENGINES, "livelock", _livelock_engine)
    report = check(RESTORE, ["workloads-ready", "node-not-overcommitted"], engine="livelock", all_discoveries=True,
                   budget=60)
    assert [(d.violation.property, d.upstream and d.upstream.name) for d in report.found] == [
        (SETTLES, "etcd-restore-reissues-endpoints-version")]
    (searched,) = report.searched_on
    assert (searched.property, searched.steps, searched.found) == (SETTLES, 40, False)
    assert "no violation of settles beyond known upstream behaviour" in searched.line()
    # judged past the livelock: no longer "not judged (no settle)" (the stand-in is not listed as
    # an engine that judges convergence, hence "not checked")
    assert _cell(report, select(["workloads-ready"])[0], vacuous=False) == "not checked"
