"""A known controller race is recognized only while the violation is the race's own (audit18a's
miss): once the race has happened, a later violation of the same property that something else
caused — a user's operator scaling a ReplicaSet past maxSurge — is the user's, not upstream's."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.model.cluster.compose import build_model
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action, Deliver, Quiesce, UserStep
from kubeprop.model.state.cluster import CONTROLLER_MANAGER
from kubeprop.properties.registry import first_violation, select
from kubeprop.properties.upstream_behaviour import match, states_of

UPSTREAM_SEARCH = Path(__file__).resolve().parent / "data" / "upstream_search"
SYNC = Reconcile(controller="deployment", key="default/web")
OPERATOR = Reconcile(controller="warm-operator", key="default/web")
WARM_RACE: tuple[Action, ...] = (
    Quiesce(), UserStep(0), SYNC, Deliver(component=CONTROLLER_MANAGER, resource="deployments.apps", revision=11),
    SYNC)
"""warm.yaml's stale-lister race (test_upstream_behaviour.py RACE, after the operator's quiet start)."""
WARM_AFTER: tuple[Action, ...] = (
    Deliver(component=CONTROLLER_MANAGER, resource="deployments.apps", revision=14),
    Deliver(component=CONTROLLER_MANAGER, resource="replicasets.apps", revision=12),
    Deliver(component=CONTROLLER_MANAGER, resource="replicasets.apps", revision=13),
    OPERATOR, SYNC, Deliver(component=CONTROLLER_MANAGER, resource="replicasets.apps", revision=15), OPERATOR)
"""The caches catch up, a Deployment sync stamps revision 2 on the new ReplicaSet, and the user's
operator (warm_operator.py) scales it from 2 to 4 — past maxSurge on its own account."""


@pytest.fixture(autouse=True)
def _operator_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(UPSTREAM_SEARCH))


def _surge(trace: tuple[Action, ...]) -> tuple[object, object]:
    model = build_model(load_scenario(UPSTREAM_SEARCH / "warm.yaml"))
    violation = first_violation(model, states_of(model, trace)[-1], select(["rollout-surge-bound"]))
    assert violation is not None
    found = match(model, violation, trace)
    return violation.message, found.name if found is not None else None


def test_a_users_scale_up_after_the_stale_lister_race_is_not_the_race() -> None:
    """audit18a's miss (search_miss.py): walk and BFS reported "no violation beyond known upstream
    behaviour" on warm.yaml, whose operator has the bug, as the race excused its write."""
    message, name = _surge(WARM_RACE)
    assert "hold 2+2 = 4" in message and name == "deployment-stale-replicaset-lister"
    message, name = _surge((*WARM_RACE, *WARM_AFTER[:-1]))  # the race's own over-surge, caches caught up
    assert "hold 2+2 = 4" in message and name == "deployment-stale-replicaset-lister"
    message, name = _surge((*WARM_RACE, *WARM_AFTER))
    assert "hold 4+2 = 6" in message and name is None
