"""A known controller race is recognized only while the violation is the race's own (audit18a's
miss): once the race has happened, a later violation of the same property that something else
caused — a user's operator scaling a ReplicaSet past maxSurge, anything after the extra pod of a
timed-out create is gone — is not upstream's."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from kubeprop.model.cluster.compose import build_model
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action, Deliver, FailNextRequest, Quiesce, UserStep
from kubeprop.model.state.cluster import CONTROLLER_MANAGER
from kubeprop.properties.registry import Violation, first_violation, select
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


NODE_LOSS = Path(__file__).resolve().parents[1] / "model" / "data" / "variants" / "node-loss.yaml"
RS_SYNC = Reconcile(controller="replicaset", key="default/web-9b8d4d75")
TIMED_OUT_CREATE: tuple[Action, ...] = (
    SYNC, FailNextRequest(component=CONTROLLER_MANAGER, code=504),
    Deliver(component=CONTROLLER_MANAGER, resource="replicasets.apps", revision=10), RS_SYNC, RS_SYNC)
"""test_upstream_behaviour.py's timed-out create: the second sync, whose cache lacks the pod the
first one's timed-out create wrote, creates another."""


def test_a_timed_out_create_is_recognized_only_while_its_extra_pod_explains_the_violation() -> None:
    loaded = load_scenario(NODE_LOSS)
    faults = attrs.evolve(loaded.spec.faults, request_failure=1)
    model = build_model(attrs.evolve(loaded, spec=attrs.evolve(loaded.spec, faults=faults)),
                        parameters={"instantCaches": False})
    prop = select(["replicaset-no-overcreation"])
    violation = first_violation(model, states_of(model, TIMED_OUT_CREATE)[-1], prop)
    assert violation is not None and "owns 2 active pods, spec.replicas is 1" in violation.message
    found = match(model, violation, TIMED_OUT_CREATE)
    assert found is not None and found.name == "replicaset-create-timeout"
    # the pods reach the cache and the next sync deletes the extra pod: the race is over, and a
    # violation claimed of the ReplicaSet after it (another cause) is not the race's
    over = (*TIMED_OUT_CREATE, Deliver(component=CONTROLLER_MANAGER, resource="pods", revision=12),
            Deliver(component=CONTROLLER_MANAGER, resource="pods", revision=14), RS_SYNC)
    assert first_violation(model, states_of(model, over)[-1], prop) is None
    later = Violation("replicaset-no-overcreation", "made up", ("ReplicaSet default/web-9b8d4d75",))
    assert match(model, later, over) is None
