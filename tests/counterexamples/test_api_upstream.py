"""`check` goes on past a violation that is known upstream behaviour, as `kubeprop check` does.

The user trial: the API stopped at the first violation even when it was a known upstream race
(`kubeprop.properties.upstream_behaviour`), so the caller's own property was never searched for,
while the CLI lists the race apart and keeps searching. A scripted engine makes the order fixed:
its first run finds the deployment-stale-replicaset-lister race (rollout-surge-bound), a run
without that property finds the caller's own property violated.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import kubeprop.counterexamples as cx
from kubeprop.counterexamples.api import ENGINES, check, register_engine
from kubeprop.model.api.apps import Deployment
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.state.actions import Action, Deliver, UserStep
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState
from kubeprop.properties.explore.engine import EngineConfig, EngineResult, ExitReason
from kubeprop.properties.registry import Property, Violation, as_property, first_violation
from kubeprop.properties.upstream_behaviour import states_of

RESTORE = Path(__file__).resolve().parents[1] / "model" / "data" / "variants" / "restore.yaml"
SYNC = Reconcile(controller="deployment", key="default/web")
RACE: tuple[Action, ...] = (UserStep(0), SYNC, Deliver(component=CONTROLLER_MANAGER, resource="deployments.apps",
                                                       revision=11), SYNC)
"""tests/properties/test_upstream_behaviour.py's RACE: the new ReplicaSet created at full size from a stale lister."""
ROLLED: tuple[Action, ...] = (UserStep(0),)


def _rolled(model: ClusterModel, state: ClusterState) -> str | None:
    """The caller's own property: no Deployment's spec ever changes (fails once `kubectl set image` ran)."""
    changed = [o.metadata.name for o in state.store.objects.values()
               if isinstance(o, Deployment) and o.metadata.generation > 1]
    return f"Deployment {changed[0]} changed" if changed else None


MINE = as_property("deployments-unchanged", "No Deployment's spec changes.", "-", "safety", _rolled)


def _found(model: ClusterModel, trace: tuple[Action, ...], prop: Property) -> EngineResult:
    violation: Violation | None = first_violation(model, states_of(model, trace)[-1], [prop])
    assert violation is not None
    return EngineResult("scripted", ExitReason.VIOLATION, violation, trace)


@pytest.fixture
def runs() -> Iterator[list[list[str]]]:
    """The scripted engine, registered; yields the property names each of its runs was given."""
    seen: list[list[str]] = []

    def scripted(model: ClusterModel, start: ClusterState, config: EngineConfig) -> EngineResult:
        props = [p for p in config.properties or () if isinstance(p, Property)]
        seen.append([p.name for p in props])
        surge = next((p for p in props if p.name == "rollout-surge-bound"), None)
        if surge is not None:
            return _found(model, RACE, surge)
        return _found(model, ROLLED, MINE)

    register_engine("scripted", scripted)
    try:
        yield seen
    finally:
        del ENGINES["scripted"]


def _check(**kwargs: bool) -> cx.CheckReport:
    return check(RESTORE, ["rollout-surge-bound", MINE], engine="scripted", budget=30.0,
                 parameters={"instantCaches": False}, **kwargs)


SEARCHED_ON = [["rollout-surge-bound", "deployments-unchanged"], ["deployments-unchanged", "rollout-surge-bound"],
               ["deployments-unchanged"]]
"""The runs: the second searches on past the race (upstream17); this engine does not ask its
`EngineConfig.excuse` and reports the race again, which ends the search for rollout-surge-bound
(and is listed once)."""


def test_a_known_upstream_violation_does_not_end_the_search(runs: list[list[str]]) -> None:
    report = _check()
    assert runs == SEARCHED_ON
    assert [d.violation.property for d in report.found] == ["rollout-surge-bound", "deployments-unchanged"]
    upstream, mine = report.found
    assert upstream.upstream is not None and upstream.upstream.name == "deployment-stale-replicaset-lister"
    assert mine.upstream is None
    # the report's own violation is the one not known upstream
    assert report.violation is not None and report.violation.property == "deployments-unchanged"
    cx.assert_discovery(report, "deployments-unchanged")
    cx.assert_discovery(report, "rollout-surge-bound")


def test_stop_at_upstream_stops_at_the_first_violation(runs: list[list[str]]) -> None:
    report = _check(stop_at_upstream=True)
    assert len(runs) == 1
    (only,) = report.found
    assert only.violation.property == "rollout-surge-bound" and only.upstream is not None
    assert report.violation == only.violation
    with pytest.raises(AssertionError, match="known upstream behaviour:\ndeployment-stale-replicaset-lister"):
        cx.assert_no_discovery(report)


def test_all_discoveries_marks_the_upstream_ones(runs: list[list[str]]) -> None:
    report = _check(all_discoveries=True)
    assert [(d.violation.property, d.upstream is not None) for d in report.found] == [
        ("rollout-surge-bound", True), ("deployments-unchanged", False)]


def test_a_variants_violation_it_plays_no_part_in_does_not_end_the_search(runs: list[list[str]]) -> None:
    """Issue 11: the race replays on rs-no-expectations' correct twin, so it is upstream there too
    and the search goes on (for the variant's own bug: tests/properties/test_upstream_twin.py)."""
    report = check(RESTORE, ["rollout-surge-bound", MINE], engine="scripted", budget=30.0,
                   parameters={"instantCaches": False}, variant="rs-no-expectations")
    assert runs == SEARCHED_ON
    upstream, mine = report.found
    assert upstream.upstream is not None and upstream.upstream.name == "deployment-stale-replicaset-lister"
    assert mine.upstream is None
    assert report.violation is not None and report.violation.property == "deployments-unchanged"
