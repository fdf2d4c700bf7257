"""StatefulSet `rollingUpdate.maxUnavailable` follows the MaxUnavailableStatefulSet feature gate
(parameter `maxUnavailableStatefulSet`: off in v1.33, on by default from v1.35). Gate off: the
API server drops the field unless the stored set uses it (`pkg/registry/apps/statefulset/
strategy.go` dropStatefulSetDisabledFields) and the controller ignores it; gate on: the defaults
set it to 1 (`pkg/apis/apps/v1/defaults.go`) and the controller deletes up to maxUnavailable
outdated pods at once (`stateful_set_control.go` updateStatefulSetAfterInvariantEstablished)."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from api_harness import feastflow

from kubeprop.model.api.apps import RollingUpdateStatefulSetStrategy, StatefulSetUpdateStrategy
from kubeprop.model.api.feature_gates import MAX_UNAVAILABLE, dropped_by_gates
from kubeprop.model.api.objects import ObjectKey, Pod, StatefulSet
from kubeprop.model.api.server import Request, Response, handle
from kubeprop.model.api.store import Store
from kubeprop.model.cluster import build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.scenario.load import ADMIN, load_scenario

DATA = Path(__file__).parents[1] / "data"
API = feastflow()
GATE_ON = attrs.evolve(API.config, max_unavailable_stateful_set=True)


def _sts(store: Store) -> StatefulSet:
    obj = store.get(ObjectKey("statefulsets.apps", "default", "postgres"))
    assert isinstance(obj, StatefulSet)
    return obj


def _with_strategy(store: Store, max_unavailable: int | str | None) -> StatefulSet:
    current = _sts(store)
    strategy = StatefulSetUpdateStrategy(type="RollingUpdate", rolling_update=RollingUpdateStatefulSetStrategy(
        partition=0, max_unavailable=max_unavailable))
    return attrs.evolve(current, spec=attrs.evolve(current.spec, update_strategy=strategy))


def _update(store: Store, obj: StatefulSet, gate: bool) -> tuple[Store, Response]:
    result = handle(store, Request(verb="update", user=ADMIN, obj=obj), GATE_ON if gate else API.config, 1)
    return result.store, result.response


def _max_unavailable(store: Store) -> object:
    rolling = _sts(store).spec.update_strategy.rolling_update
    assert rolling is not None
    return rolling.max_unavailable


def test_gate_off_drops_the_field_before_validation() -> None:
    for value in (2, 0):  # 0 is invalid, but a dropped field is never validated
        store, response = _update(API.base, _with_strategy(API.base, value), gate=False)
        assert response.ok, response.message
        assert _max_unavailable(store) is None
        assert dropped_by_gates(_with_strategy(API.base, value), _sts(store)) == (MAX_UNAVAILABLE,)


def test_gate_on_keeps_validates_and_defaults_the_field() -> None:
    store, response = _update(API.base, _with_strategy(API.base, "50%"), gate=True)
    assert response.ok and _max_unavailable(store) == "50%"
    _, response = _update(API.base, _with_strategy(API.base, 0), gate=True)
    assert response.code == 422
    assert "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: cannot be 0" in response.message
    store, response = _update(API.base, _with_strategy(API.base, None), gate=True)
    assert response.ok and _max_unavailable(store) == 1


def test_gate_off_keeps_a_field_the_stored_set_already_uses() -> None:
    """maxUnavailableInUse: a set written while the gate was on keeps its value."""
    store, _ = _update(API.base, _with_strategy(API.base, 2), gate=True)
    current = _sts(store)
    store, response = _update(store, attrs.evolve(current, spec=attrs.evolve(current.spec, replicas=3)), gate=False)
    assert response.ok and _max_unavailable(store) == 2


def _variant(tmp_path: Path, parameters: str) -> Path:
    """The canary scenario with 3 replicas, partition 0, maxUnavailable 2 and `parameters`."""
    (tmp_path / "m").mkdir()
    text = (DATA / "sts-canary" / "web.yaml").read_text()
    for old, new in (("replicas: 2", "replicas: 3"), ("{partition: 1}", "{partition: 0, maxUnavailable: 2}")):
        assert old in text
        text = text.replace(old, new)
    (tmp_path / "m" / "web.yaml").write_text(text)
    scenario = (DATA / "sts-canary.yaml").read_text().replace("manifests: [sts-canary]", "manifests: [m]")
    scenario = scenario.replace("  - delete: {kind: Pod, name: web-0}\n", "") + parameters
    (tmp_path / "scenario.yaml").write_text(scenario)
    return tmp_path / "scenario.yaml"


@pytest.mark.parametrize(("gate", "at_once"), [(False, 1), (True, 2)])
def test_the_controller_deletes_up_to_max_unavailable_pods_at_once(tmp_path: Path, gate: bool, at_once: int) -> None:
    parameters = "parameters:\n  maxUnavailableStatefulSet: true\n" if gate else ""
    model = build_model(load_scenario(_variant(tmp_path, parameters)))
    state = initial_state(model)
    run = fair_run(model, state)
    assert not run.exhausted
    most = 0
    for action in run.trace:
        state = step(model, state, action)
        pods = [p for p in state.store.list("pods", "default") if isinstance(p, Pod)]
        most = max(most, sum(1 for p in pods if p.metadata.deletion_timestamp is not None))
    assert most == at_once
    images = sorted(p.spec.containers[0].image for p in state.store.list("pods", "default") if isinstance(p, Pod))
    assert images == ["web:2"] * 3
    web = state.store.get(ObjectKey("statefulsets.apps", "default", "web"))
    assert isinstance(web, StatefulSet) and web.status.current_revision == web.status.update_revision
