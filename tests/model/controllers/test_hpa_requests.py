"""The HPA's pod requests and container metrics, as upstream computes them.

`pkg/controller/podautoscaler/replica_calculator.go` calculatePodRequests (v1.33): the requests of
the containers and the restartable init containers (kubernetes PR #120001), "missing request for
%s in container %s of Pod %s", a ContainerResource metric's container the pod lacks summing 0
(an error from v1.35, PR #133415: `hpaContainerNotFoundError`); `metrics/client.go`
getContainerMetrics: "container %s not present in metrics for pod %s/%s".
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Pod
from kubeprop.model.api.pod import Container, PodSpec, ResourceRequirements
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import settle
from kubeprop.model.controllers import hpa_calc as calc
from kubeprop.model.controllers.hpa import _samples, pod_request
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.metrics import pod_metric

DATA = Path(__file__).parents[1] / "data" / "hpa"


def _container(name: str, cpu: str | None, restart_policy: str = "") -> Container:
    requests = {"cpu": Quantity.parse(cpu)} if cpu else {}
    return Container(name=name, resources=ResourceRequirements(requests=requests), restart_policy=restart_policy)


def _pod(*inits: Container, app: str | None = "100m") -> Pod:
    return Pod(metadata=ObjectMeta(name="web-1", namespace="default"),
               spec=PodSpec(containers=(_container("app", app),), init_containers=inits))


def test_sidecars_requests_count_and_regular_init_containers_do_not() -> None:
    pod = _pod(_container("setup", "20m"), _container("proxy", "50m", "Always"))
    assert pod_request(pod, "cpu", "") == (150, "")
    assert pod_request(pod, "cpu", "proxy") == (50, "")
    assert pod_request(pod, "cpu", "setup") == (0, "")  # not counted: found in neither list


def test_a_missing_request_names_the_resource_the_container_and_the_pod() -> None:
    """The model said "missing request for resource in Pod web-1" (a literal "resource")."""
    assert pod_request(_pod(app=None), "cpu", "") == (None, "missing request for cpu in container app of Pod web-1")
    sidecar = _pod(_container("proxy", None, "Always"))
    assert pod_request(sidecar, "cpu", "") == (None, "missing request for cpu in container proxy of Pod web-1")
    assert pod_request(_pod(_container("setup", None)), "cpu", "") == (100, "")
    sample = calc.PodSample("web-1", "Running", None, 0, False, None, 100, "missing request for cpu in container "
                            "app of Pod web-1")
    with pytest.raises(calc.MetricsError, match=r"^missing request for cpu in container app of Pod web-1$"):
        calc._requests([sample])


def test_a_container_the_pod_lacks_sums_zero_until_v1_35() -> None:
    assert pod_request(_pod(), "cpu", "nope") == (0, "")
    assert pod_request(_pod(), "cpu", "nope", not_found_error=True) == (None, "container nope not found in Pod web-1")


def _settled():  # type: ignore[no-untyped-def]
    model = build_model(load_scenario(DATA / "linear.yaml"))
    return model, settle(model, initial_state(model), max_steps=3000, max_ticks=60).state


def test_container_metrics_of_a_pod_without_the_container_fail_the_metric() -> None:
    """getContainerMetrics: a pod with metrics but not the named container fails the whole metric
    (the model counted such a pod as missing its metric)."""
    model, state = _settled()
    pods = [p for p in state.store.list("pods", "default") if isinstance(p, Pod)]
    assert pods and all(pod_metric(model, state, p, "cpu") is not None for p in pods)
    first = sorted(pods, key=lambda p: p.metadata.name)[0]
    with pytest.raises(calc.MetricsError) as err:
        _samples(model, state, pods, "cpu", "nope")
    assert str(err.value) == ("unable to get metrics for resource cpu: failed to get container metrics: container nope "
                              f"not present in metrics for pod default/{first.metadata.name}")
    samples = _samples(model, state, pods, "cpu", "web")
    assert all(s.request == 100 and s.metric is not None for s in samples)


def test_a_sidecars_usage_is_in_the_pod_metrics() -> None:
    """metrics-server reports the running containers, a sidecar among them."""
    model, state = _settled()
    pod = next(p for p in state.store.list("pods", "default") if isinstance(p, Pod))
    sidecar = attrs.evolve(pod, spec=attrs.evolve(pod.spec, init_containers=(_container("proxy", "50m", "Always"),)))
    assert pod_metric(model, state, sidecar, "cpu", "proxy") == 0
    assert _samples(model, state, [sidecar], "cpu", "")[0].request == 150
