"""`CrashDuringReconcile`: the controller manager dying between two requests of one reconcile —
enabled only where a reconcile would send more than one request and the budget allows a component
crash; the requests before the crash are written, the others never are, and the restarted
controller rebuilds from what was written."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from kubeprop.model.api.objects import ApiObject, ConfigMap, ObjectKey, Service, decode_object
from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.footprint import Footprints
from kubeprop.model.controllers.base import Memoryless, Reconcile, Reconciliation
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import CrashComponent, CrashDuringReconcile, RestartComponent
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState
from kubeprop.model.state.informer import ObjectView

WEB = Path(__file__).parents[2] / "model" / "data" / "catalogue" / "web.yaml"
KEY = "default/web"


@attrs.frozen
class Pair(Memoryless):
    """Creates two ConfigMaps for every Service, `<name>-a` then `<name>-b`, those missing from its cache."""

    name: str = "pair"
    watches: tuple[str, ...] = ("services", "configmaps")
    identity: str = "system:kube-controller-manager"

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        return (f"{obj.metadata.namespace}/{obj.metadata.name}",) if isinstance(obj, Service) else ()

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        namespace, _, name = key.rpartition("/")
        missing = [f"{name}-{x}" for x in "ab" if view.get(ObjectKey("configmaps", namespace, f"{name}-{x}")) is None]
        return Reconciliation(tuple(Request(verb="create", user=self.identity, obj=decode_object(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n, "namespace": namespace}}))
            for n in missing), memory)


def _model(crashes: int) -> ClusterModel:
    model = build_model(load_scenario(WEB), controllers=(Pair(),))
    spec = model.scenario.spec
    scenario = attrs.evolve(model.scenario, spec=attrs.evolve(spec, faults=attrs.evolve(spec.faults,
                                                                                        component_crash=crashes)))
    return attrs.evolve(model, scenario=scenario)


def _crashes(model: ClusterModel, state: ClusterState) -> list[CrashDuringReconcile]:
    return [a for a in actions(model, state) if isinstance(a, CrashDuringReconcile)]


def _pair(state: ClusterState) -> list[str]:
    return sorted(o.metadata.name for o in state.store.list("configmaps", "default") if isinstance(o, ConfigMap)
                  and o.metadata.name.startswith("web-"))


def test_enabled_between_the_requests_of_a_reconcile_that_sends_several() -> None:
    model = _model(crashes=1)
    start = initial_state(model)
    assert Reconcile("pair", KEY) in actions(model, start)
    assert CrashDuringReconcile("pair", KEY, 1) in _crashes(model, start)
    assert not any(a.controller == "pair" and a.sent != 1 for a in _crashes(model, start))  # two requests: one point


def test_not_enabled_without_a_component_crash_in_the_budget() -> None:
    model = _model(crashes=0)
    assert _crashes(model, initial_state(model)) == []


def test_the_first_requests_are_written_then_the_controller_manager_is_down() -> None:
    model = _model(crashes=1)
    crashed = step(model, initial_state(model), CrashDuringReconcile("pair", KEY, 1))
    assert _pair(crashed) == ["web-a"]
    assert CONTROLLER_MANAGER in crashed.down and CONTROLLER_MANAGER not in crashed.informers
    assert crashed.faults.component_crash == 1
    assert _crashes(model, crashed) == [] and not any(isinstance(a, CrashComponent) for a in actions(model, crashed))
    restarted = step(model, crashed, RestartComponent(CONTROLLER_MANAGER))
    for _ in range(20):  # the restarted controller lists both resources and creates only what is missing
        if Reconcile("pair", KEY) in actions(model, restarted):
            break
        restarted = step(model, restarted, actions(model, restarted)[0])
    assert _pair(step(model, restarted, Reconcile("pair", KEY))) == ["web-a", "web-b"]


def test_its_footprint_is_the_reconciles_and_the_crashs() -> None:
    model = _model(crashes=1)
    footprints = Footprints(model)
    during = footprints.of(CrashDuringReconcile("pair", KEY, 1))
    for part in (footprints.of(Reconcile("pair", KEY)), footprints.of(CrashComponent(CONTROLLER_MANAGER))):
        assert part.reads <= during.reads and part.writes <= during.writes
