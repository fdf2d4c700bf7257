"""`endpoints-match-ready-pods` on a Service that publishes not-ready addresses: the Endpoints
controller lists its pods whatever their readiness (found by the generated campaign, seeds 3 and
5, where the property took such Endpoints for stale)."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.api.objects import Endpoints, ObjectKey, Service
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import settle
from kubeprop.model.controllers.podutil import is_pod_ready
from kubeprop.model.evolve import evolve
from kubeprop.model.kubelet.component import ProbeResult
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import first_violation, select

SCENARIO = Path(__file__).resolve().parent / "data" / "generated" / "publish-not-ready" / "scenario.yaml"
KEY = ObjectKey("endpoints", "default", "web")


def _never_ready() -> tuple[ClusterModel, ClusterState]:
    """The settled cluster whose pod's readiness probe never passes."""
    model = build_model(load_scenario(SCENARIO))
    run = settle(model, initial_state(model), avoid=(ProbeResult,))
    assert not run.exhausted
    pods = list(run.state.store.list("pods"))
    assert len(pods) == 1 and not is_pod_ready(pods[0]) and pods[0].status.pod_ip
    return model, run.state


def test_a_not_ready_pod_a_service_publishes_is_in_its_endpoints_and_the_property_holds() -> None:
    model, state = _never_ready()
    endpoints = state.store.get(KEY)
    assert isinstance(endpoints, Endpoints)
    assert [a.target_ref.name for s in endpoints.subsets for a in s.addresses if a.target_ref] == [
        next(iter(state.store.list("pods"))).metadata.name]
    assert first_violation(model, state, select(["endpoints-match-ready-pods"])) is None


def test_endpoints_without_the_published_pod_still_violate_it() -> None:
    model, state = _never_ready()
    endpoints = state.store.get(KEY)
    assert isinstance(endpoints, Endpoints)
    emptied = evolve(state, store=state.store.put(evolve(endpoints, subsets=()), "MODIFIED")[0])
    violation = first_violation(model, emptied, select(["endpoints-match-ready-pods"]))
    assert violation is not None and "published pods" in violation.message


def test_without_publishing_the_not_ready_pod_is_left_out_and_the_property_holds() -> None:
    model, state = _never_ready()
    service = state.store.get(ObjectKey("services", "default", "web"))
    assert isinstance(service, Service)
    endpoints = state.store.get(KEY)
    assert isinstance(endpoints, Endpoints)
    plain = evolve(service, spec=evolve(service.spec, publish_not_ready_addresses=False))
    store = state.store.put(plain, "MODIFIED")[0]
    quiet = evolve(state, store=store.put(evolve(endpoints, subsets=()), "MODIFIED")[0])
    assert first_violation(model, quiet, select(["endpoints-match-ready-pods"])) is None
