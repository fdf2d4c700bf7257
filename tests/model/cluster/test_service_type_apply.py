"""`kubectl apply` of a Service whose type changes from ClusterIP to ExternalName (audit13): the
update is admitted because PrepareForUpdate's dropTypeDependentFields clears the allocated
clusterIP (`pkg/registry/core/service/strategy.go`); the step was a 422 and
`workload-steps-succeed` a false alarm."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.api.objects import ObjectKey, Service
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.properties.registry import first_violation, select

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "service-type" / "scenario.yaml"


def test_applying_external_name_over_a_cluster_ip_service_succeeds() -> None:
    model = build_model(load_scenario(SCENARIO))
    state = settle(model, initial_state(model)).state
    assert UserStep(0) in actions(model, state)
    run = settle(model, step(model, state, UserStep(0)))
    assert not run.exhausted
    svc = run.state.store.get(ObjectKey("services", "default", "db"))
    assert isinstance(svc, Service)
    assert (svc.spec.type, svc.spec.external_name, svc.spec.cluster_ip) == ("ExternalName", "db.example.com", "")
    assert first_violation(model, run.state, select(["workload-steps-succeed"])) is None
