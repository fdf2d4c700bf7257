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


PORTS = Path(__file__).resolve().parents[1] / "model" / "data" / "endpoints-ports"


def _settled(name: str) -> tuple[ClusterModel, ClusterState]:
    """The audit's scenario (audit13) settled by the fair run."""
    model = build_model(load_scenario(PORTS / name / "scenario.yaml"))
    run = settle(model, initial_state(model))
    assert not run.exhausted
    return model, run.state


def test_a_ready_pod_without_the_named_target_port_is_not_wanted_in_the_endpoints() -> None:
    """syncService skips a pod when `podutil.FindPort` finds no port of the Service's named
    targetPort (`pkg/controller/endpoint/endpoints_controller.go`): the canary's Ready pod, which
    names no `http` port, is in no Endpoints, and the property holds. It reported
    `endpoints ['web-…'], Ready pods ['canary-…', 'web-…']`."""
    model, state = _settled("named-port")
    ready = sorted(p.metadata.name.split("-")[0] for p in state.store.list("pods") if is_pod_ready(p))
    assert ready == ["canary", "web"]
    endpoints = state.store.get(KEY)
    assert isinstance(endpoints, Endpoints)
    assert [a.target_ref.name.split("-")[0] for s in endpoints.subsets for a in s.addresses if a.target_ref] == ["web"]
    assert first_violation(model, state, select(["endpoints-match-ready-pods"])) is None


def test_an_external_name_service_with_a_selector_wants_no_endpoints() -> None:
    """syncService returns for a Service of type ExternalName (issues.k8s.io/105986), selector or
    not: no Endpoints, and the property holds. It reported `endpoints [], Ready pods ['web-…']`."""
    model, state = _settled("extname-selector")
    assert any(is_pod_ready(p) for p in state.store.list("pods"))
    assert state.store.get(KEY) is None
    assert first_violation(model, state, select(["endpoints-match-ready-pods"])) is None
